#include "cli/query_command.hpp"

#include "cli/client_support.hpp"
#include "cli/command_line.hpp"

namespace mxsync::cli {

int run_query(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  arguments parsed{args, {"json"}, {"config", "db"}};
  if (parsed.positional().size() != 1)
    throw usage_error("query needs one SELECT statement (quoted)");
  auto client = open_initialized_client(parsed);
  auto outcome = client->executeSelectQuery(parsed.positional()[0]);
  if (!outcome.ok() || parsed.flag("json"))
    return report_result("query", outcome, parsed.flag("json"), out, err);
  // Human: tab-separated columns with a header, as sqlite3 -header -separator '\t'.
  const auto& rows = outcome.value();
  if (!rows.empty()) {
    bool first = true;
    for (const auto& [column, value] : rows[0].items()) {
      out << (first ? "" : "\t") << column;
      first = false;
    }
    out << "\n";
  }
  for (const auto& row : rows) {
    bool first = true;
    for (const auto& [column, value] : row.items()) {
      out << (first ? "" : "\t") << (value.is_string() ? value.get<std::string>() : value.dump());
      first = false;
    }
    out << "\n";
  }
  out << "(" << rows.size() << " rows)\n";
  return exit_ok;
}

} // namespace mxsync::cli
