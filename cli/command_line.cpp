#include "cli/command_line.hpp"

#include <algorithm>

namespace mxsync::cli {

arguments::arguments(const std::vector<std::string>& args, const std::vector<std::string>& flags,
                     const std::vector<std::string>& options) {
  auto known = [](const std::vector<std::string>& list, const std::string& name) {
    return std::find(list.begin(), list.end(), name) != list.end();
  };
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& arg = args[i];
    if (arg.rfind("--", 0) != 0) {
      positional_.push_back(arg);
      continue;
    }
    auto name = arg.substr(2);
    std::optional<std::string> inline_value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (known(flags, name)) {
      if (inline_value)
        throw usage_error("option --" + name + " takes no value");
      flags_[name] = true;
    } else if (known(options, name)) {
      if (inline_value)
        values_[name] = *inline_value;
      else if (i + 1 < args.size())
        values_[name] = args[++i];
      else
        throw usage_error("option --" + name + " needs a value");
    } else {
      throw usage_error("unknown option --" + name);
    }
  }
}

std::optional<std::string> arguments::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end())
    return std::nullopt;
  return it->second;
}

std::string arguments::require(const std::string& name) const {
  auto value = get(name);
  if (!value || value->empty())
    throw usage_error("missing --" + name);
  return *value;
}

std::int64_t arguments::positive_number(const std::string& name) const {
  auto text = require(name);
  try {
    std::size_t used = 0;
    auto value = std::stoll(text, &used);
    if (used == text.size() && value > 0)
      return value;
  } catch (const std::exception&) {
  }
  throw usage_error("--" + name + " needs a positive number, not '" + text + "'");
}

} // namespace mxsync::cli
