// mxsync: the command line of the sync runtime.
#include "cli/command_line.hpp"
#include "cli/init_command.hpp"
#include "mxsync/error.hpp"

#include <iostream>
#include <string>
#include <vector>

namespace {

constexpr const char* usage = R"(usage: mxsync <command> [options]

commands:
  init   --config <sync-config.json> --db <device.db> [--json]
         create the device database (sync.init) and list its tables
  help   show this text

exit codes: 0 success, 1 the operation failed (the error code is printed), 2 usage error
)";

} // namespace

int main(int argc, char** argv) {
  using namespace mxsync::cli;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    (args.empty() ? std::cerr : std::cout) << usage;
    return args.empty() ? exit_usage : exit_ok;
  }
  auto command = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  try {
    if (command == "init")
      return run_init(rest, std::cout, std::cerr);
    std::cerr << "mxsync: unknown command '" << command << "'\n\n" << usage;
    return exit_usage;
  } catch (const usage_error& e) {
    std::cerr << "mxsync " << command << ": " << e.what() << "\n\n" << usage;
    return exit_usage;
  } catch (const mxsync::sync_exception& e) {
    std::cerr << "mxsync " << command << ": error " << e.code() << ": " << e.what();
    if (!e.error().info.is_null())
      std::cerr << "\n  " << e.error().info.dump();
    std::cerr << "\n";
    return exit_failure;
  } catch (const std::exception& e) {
    std::cerr << "mxsync " << command << ": " << e.what() << "\n";
    return exit_failure;
  }
}
