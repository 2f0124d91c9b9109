// Benchmark: the first sync of a new device against mxsync-server on loopback.
// The server's database is generated (mxsync-server generate), the device starts
// empty, and one session downloads everything. Prints rows/s, the time to the first
// batch, and the process's peak memory.
//
//   mxsync-bench-initial-sync [--rows-per-table N] [--batchsize N] [--chunksize KB]
//                             [--maxparallelchunks N] [--keep]

#include "mxsync/sync_client.hpp"
#include "support/process.hpp"
#include "support/server_process.hpp"

#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>
#include <string>

using namespace mxsync;
using clock_type = std::chrono::steady_clock;

namespace {

std::map<std::string, std::string> parse_args(int argc, char** argv) {
  std::map<std::string, std::string> out;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0)
      throw std::runtime_error("unexpected argument '" + arg + "'");
    arg = arg.substr(2);
    if (arg == "keep") {
      out[arg] = "1";
      continue;
    }
    if (i + 1 >= argc)
      throw std::runtime_error("--" + arg + " needs a value");
    out[arg] = argv[++i];
  }
  return out;
}

std::int64_t number(const std::map<std::string, std::string>& args, const std::string& key,
                    std::int64_t fallback) {
  auto it = args.find(key);
  return it == args.end() ? fallback : std::stoll(it->second);
}

long peak_rss_kb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

} // namespace

int main(int argc, char** argv) {
  try {
    auto args = parse_args(argc, argv);
    auto rows_per_table = number(args, "rows-per-table", 10000);
    auto dir = std::filesystem::temp_directory_path()
               / ("mxsync-bench-initial-sync-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto server_db = (dir / "server.db").string();
    auto device_db = (dir / "device.db").string();
    const std::string config = MXSYNC_BENCH_CONFIG;

    auto generate_start = clock_type::now();
    auto generated = test::run_command(std::string{MXSYNC_SERVER_BINARY} + " generate --config '" + config
                                       + "' --rows-per-table " + std::to_string(rows_per_table)
                                       + " --db '" + server_db + "' 2>&1");
    if (generated.exit_code != 0)
      throw std::runtime_error("mxsync-server generate failed: " + generated.output);
    std::cout << "server data: " << rows_per_table << " rows per table, generated in " << std::fixed
              << std::setprecision(1) << seconds_since(generate_start) << " s\n";

    test::server_process server{MXSYNC_SERVER_BINARY,
                                {"--config", config, "--db", server_db, "--user", "bench:bench"}};
    client_options options;
    options.config_path = config;
    options.database_path = device_db;
    sync_client device{std::move(options)};
    device.init().value_or_throw();

    session_config keys;
    keys.serverhost = "127.0.0.1";
    keys.serverport = server.port();
    keys.userid = "bench";
    keys.password = "bench";
    keys.batchsize = number(args, "batchsize", 500);
    if (args.count("chunksize"))
      keys.chunksize = number(args, "chunksize", 0);
    keys.maxparallelchunks = number(args, "maxparallelchunks", 1);
    std::atomic<std::int64_t> rows{0}, batches{0};
    std::atomic<double> first_batch{0};
    auto start = clock_type::now();
    keys.onbatchprocessingsuccess = [&](const nlohmann::json& context) {
      if (batches++ == 0)
        first_batch = seconds_since(start);
      rows += context["batchcontext"].value("batchrowsdownloaded", std::int64_t{0});
    };
    auto outcome = device.synchronize(keys);
    auto elapsed = seconds_since(start);
    if (!outcome.ok())
      throw std::runtime_error("sync failed: " + outcome.error().to_json().dump());
    device.flush();

    std::cout << "initial sync: " << rows.load() << " rows in " << batches.load() << " batches of "
              << keys.batchsize << ", " << std::setprecision(2) << elapsed << " s, "
              << std::setprecision(0) << static_cast<double>(rows.load()) / elapsed << " rows/s\n"
              << "first batch stored after " << std::setprecision(3) << first_batch.load() << " s\n"
              << "peak memory of the client process: " << peak_rss_kb() / 1024 << " MB\n"
              << "device database: " << std::filesystem::file_size(device_db) / (1024 * 1024)
              << " MB\n";
    if (!args.count("keep"))
      std::filesystem::remove_all(dir);
    else
      std::cout << "kept " << dir.string() << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "mxsync-bench-initial-sync: " << e.what() << "\n";
    return 1;
  }
}
