#include "cli/reset_command.hpp"

#include "cli/client_support.hpp"
#include "cli/command_line.hpp"

namespace mxsync::cli {

int run_reset(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  arguments parsed{args, {"json"}, {"config", "db", "scope"}};
  auto client = open_initialized_client(parsed);
  auto scope = parsed.get("scope");
  auto outcome = scope ? client->resetScope(*scope) : client->reset();
  if (!outcome.ok() || parsed.flag("json"))
    return report_result("reset", outcome, parsed.flag("json"), out, err);
  out << (scope ? "reset scope " + *scope : std::string{"reset every scope"}) << " of "
      << parsed.require("db") << "\n";
  return exit_ok;
}

} // namespace mxsync::cli
