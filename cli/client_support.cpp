#include "cli/client_support.hpp"

#include "cli/command_line.hpp"

namespace mxsync::cli {

std::unique_ptr<sync_client> open_initialized_client(const arguments& parsed) {
  client_options options;
  options.config_path = parsed.require("config");
  options.database_path = parsed.require("db");
  auto client = std::make_unique<sync_client>(std::move(options));
  client->init().value_or_throw();
  return client;
}

void print_error(const std::string& command, const sync_error& error, std::ostream& err) {
  err << "mxsync " << command << ": error " << error.code << ": " << valid_utf8(error.message);
  if (!error.info.is_null())
    err << "\n  " << valid_utf8(error.info).dump();
  err << "\n";
}

int report_result(const std::string& command, const result& outcome, bool as_json,
                  std::ostream& out, std::ostream& err) {
  if (!outcome.ok()) {
    if (as_json)
      out << outcome.error().to_json().dump(2) << "\n";
    else
      print_error(command, outcome.error(), err);
    return exit_failure;
  }
  // Rows and counts read best as indented JSON either way; --json changes only errors.
  out << outcome.value().dump(2) << "\n";
  return exit_ok;
}

} // namespace mxsync::cli
