#pragma once
// A small argument parser for the mxsync subcommands: --name value, --flag,
// with clear usage errors (exit code 2).

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace mxsync::cli {

/// Exit codes scripts can rely on.
enum exit_code : int { exit_ok = 0, exit_failure = 1, exit_usage = 2 };

class usage_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

class arguments {
public:
  /// `flags` are options without a value (e.g. "json"); every other option takes one.
  arguments(const std::vector<std::string>& args, const std::vector<std::string>& flags,
            const std::vector<std::string>& options);

  bool flag(const std::string& name) const { return flags_.count(name) > 0; }
  std::optional<std::string> get(const std::string& name) const;
  std::string require(const std::string& name) const;
  /// The option's value as a number above zero; anything else is a usage error.
  std::int64_t positive_number(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }

private:
  std::map<std::string, std::string> values_;
  std::map<std::string, bool> flags_;
  std::vector<std::string> positional_;
};

} // namespace mxsync::cli
