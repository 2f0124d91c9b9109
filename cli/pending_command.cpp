#include "cli/pending_command.hpp"

#include "cli/client_support.hpp"
#include "cli/command_line.hpp"

namespace mxsync::cli {

int run_pending(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  arguments parsed{args, {"json"}, {"config", "db"}};
  if (parsed.positional().size() != 1)
    throw usage_error("pending needs one of: upload, acknowledgement, deferred");
  const auto& kind = parsed.positional()[0];
  if (kind != "upload" && kind != "acknowledgement" && kind != "deferred")
    throw usage_error("pending needs upload, acknowledgement or deferred, not '" + kind + "'");
  auto client = open_initialized_client(parsed);
  auto outcome = kind == "upload"            ? client->getPendingUpload()
                 : kind == "acknowledgement" ? client->getPendingAcknowledgement()
                                             : client->getDeferredUpload();
  if (!outcome.ok() || parsed.flag("json"))
    return report_result("pending", outcome, parsed.flag("json"), out, err);
  // Human: a count per table, then the total.
  const auto& value = outcome.value();
  const auto per_table = value.value("totalData", nlohmann::json::object());
  for (const auto& [table, entry] : per_table.items())
    out << table << ": " << entry.value("count", 0) << "\n";
  out << "total " << kind << ": " << value.value("totalCount", 0) << "\n";
  return exit_ok;
}

} // namespace mxsync::cli
