#!/usr/bin/env bash
# Checks that the repository refers only to itself: no tracked file may cite a file outside it
# (spec/..., ../shared/..., shared/design.md, a bare design.md, fixtures/ without tests/) or a
# docs/*.md that does not exist. Protocol facts are cited as docs/protocol.md, the design as
# docs/architecture.md, recordings as tests/fixtures/.... Exempt: tests/fixtures/ (data), the
# source table of docs/protocol.md (section 0: public citations), and this script.
# Usage: scripts/check-references.sh   (prints each breach; exit 1 if there is any)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# One alternative per kind of outside reference (Perl regular expressions).
outside='(?<![\w./-])spec/[\w.-]+\.md'              # spec/protocol.md, spec/sync-application-api.md
outside+='|\.\./shared\b'                            # ../shared/...
outside+='|\bshared/(design|spec|fixtures)\b'        # shared/design.md and the like
outside+='|(?<![\w./-])design\.md'                   # design.md (the design is docs/architecture.md)
outside+='|(?<![\w./-])protocol\.md'                 # protocol.md without docs/
outside+='|(?<![\w./-])(\.\./)?fixtures/'            # fixtures/... without tests/

exempt=(':!tests/fixtures' ':!scripts/check-references.sh' ':!docs/protocol.md')
docs_ref='(?<![\w./-])docs/[\w.-]+\.md'

# Every tracked file but docs/protocol.md, as "file:line:text"; docs/protocol.md without its
# section 0 (the source table), in the same form.
tracked_lines() { # <Perl regular expression>
  git grep -nIP -- "$1" . "${exempt[@]}" || true
  if [ -f docs/protocol.md ]; then
    awk '/^## 0\./ { sources = 1; next } sources && /^## / { sources = 0 }
         !sources { printf "docs/protocol.md:%d:%s\n", NR, $0 }' docs/protocol.md |
      { grep -P -- "^docs/protocol\.md:[0-9]+:.*($1)" || true; }
  fi
}

breaches=0
while IFS= read -r hit; do
  [ -n "$hit" ] || continue
  printf '%s\n' "$hit"
  breaches=$((breaches + 1))
done < <(tracked_lines "$outside")

# docs/<name>.md must exist.
while IFS= read -r hit; do
  [ -n "$hit" ] || continue
  text=${hit#*:*:}
  while IFS= read -r doc; do
    [ -f "$doc" ] && continue
    printf '%s (%s does not exist)\n' "$hit" "$doc"
    breaches=$((breaches + 1))
  done < <(printf '%s\n' "$text" | grep -oP -- "$docs_ref" || true)
done < <(tracked_lines "$docs_ref")

if [ "$breaches" -gt 0 ]; then
  echo "check-references: $breaches reference(s) to files outside the repository or missing docs" >&2
  exit 1
fi
echo "check-references: every reference names a file in the repository"
