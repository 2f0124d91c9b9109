#include "cli/rollback_command.hpp"

#include "cli/client_support.hpp"
#include "cli/command_line.hpp"
#include "mxsync/sync_object.hpp"

namespace mxsync::cli {

int run_rollback(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  arguments parsed{args, {"json"}, {"config", "db", "object", "pk"}};
  if (parsed.get("pk") && !parsed.get("object"))
    throw usage_error("--pk needs --object");
  nlohmann::json pk;
  if (auto text = parsed.get("pk")) {
    pk = nlohmann::json::parse(*text, nullptr, false);
    if (pk.is_discarded())
      pk = *text; // a bare single-column key
  }
  auto client = open_initialized_client(parsed);
  auto outcome = !parsed.get("object") ? client->rollbackPendingLocalChanges()
                 : pk.is_null() ? client->object(*parsed.get("object")).rollbackPendingLocalChanges()
                                : client->object(*parsed.get("object")).rollbackPendingLocalChangesByPK(pk);
  return report_result("rollback", outcome, parsed.flag("json"), out, err);
}

} // namespace mxsync::cli
