// mxsync: the command line of the sync runtime.
#include "cli/command_line.hpp"
#include "cli/demo_command.hpp"
#include "cli/init_command.hpp"
#include "cli/object_command.hpp"
#include "cli/pending_command.hpp"
#include "cli/query_command.hpp"
#include "cli/reconcile_command.hpp"
#include "cli/reset_command.hpp"
#include "cli/rollback_command.hpp"
#include "cli/status_command.hpp"
#include "cli/stop_command.hpp"
#include "cli/sync_command.hpp"
#include "mxsync/error.hpp"

#include <iostream>
#include <map>
#include <string>
#include <vector>

namespace {

constexpr const char* usage = R"(usage: mxsync <command> [options]

commands (<db> is --config <sync-config.json> --db <device.db>):
  demo      [--rows N] [--keep] [--config <file>] [--server-binary <path>]
            start mxsync-server with generated data, sync a new device both ways, show both sides
  init      <db> [--json]                 create the device database (sync.init), list its tables
  sync      <db> [--session <keys.json>] [--server http://host:port/ | --host H --port P]
            [--user U --password P] [--batchsize N] [--uploadbatchsize N]
            [--status-interval ms] [--json]
            one sync session: live progress on a terminal, a summary at the end
  reconcile <db> (--scope S [--objects A,B] | --reconciliation <keys.json>) [--session <keys.json>]
            [--server URL | --host H --port P] [--user U --password P]
            [--downloadbatchsize N] [--bulkgetbatchsize N] [--json]
            sync.startReconciliation: delete rows the server lost, fetch the ones missing
  status    --db <device.db> [--json]     the actor tree of the sync running on that database
  stop      --db <device.db> [--timeout s] [--json]   stop that sync (it exits 0, "stopped")
  pending   upload|acknowledgement|deferred <db> [--json]
  rollback  <db> [--object O [--pk <key>]] [--json]   roll back pending local changes
  reset     <db> [--scope S] [--json]     sync.reset, or one scope's reset
  query     <db> "<select ...>" [--json]  sync.executeSelectQuery
  object    <Object> create|update|delete|get|find|mark-for-upload <db>
            [--values <json>] [--pk <key>] [--where <clause>] [--no-upload] [--json]
  help      show this text

exit codes: 0 success, 1 the operation failed (the error code is printed), 2 usage error
docs/cli.md has the details.
)";

} // namespace

int main(int argc, char** argv) {
  using namespace mxsync::cli;
  using runner = int (*)(const std::vector<std::string>&, std::ostream&, std::ostream&);
  const std::map<std::string, runner> commands{
    {"demo", run_demo},       {"init", run_init},         {"sync", run_sync},
    {"status", run_status},   {"stop", run_stop},         {"pending", run_pending},
    {"rollback", run_rollback}, {"reset", run_reset},     {"query", run_query},
    {"object", run_object},   {"reconcile", run_reconcile}};
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    (args.empty() ? std::cerr : std::cout) << usage;
    return args.empty() ? exit_usage : exit_ok;
  }
  auto command = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  try {
    auto found = commands.find(command);
    if (found != commands.end())
      return found->second(rest, std::cout, std::cerr);
    std::cerr << "mxsync: unknown command '" << command << "'\n\n" << usage;
    return exit_usage;
  } catch (const usage_error& e) {
    std::cerr << "mxsync " << command << ": " << e.what() << "\n\n" << usage;
    return exit_usage;
  } catch (const mxsync::sync_exception& e) {
    std::cerr << "mxsync " << command << ": error " << e.code() << ": " << e.what();
    if (!e.error().info.is_null())
      std::cerr << "\n  " << mxsync::valid_utf8(e.error().info).dump();
    std::cerr << "\n";
    return exit_failure;
  } catch (const std::exception& e) {
    std::cerr << "mxsync " << command << ": " << e.what() << "\n";
    return exit_failure;
  }
}
