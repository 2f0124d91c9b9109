#define CAF_SUITE session_crash
#include <caf/test/unit_test.hpp>

#include "persistence/sqlite.hpp"
#include "session/session_support.hpp"

#include <csignal>
#include <set>
#include <thread>

#include <spawn.h>
#include <sys/wait.h>

using namespace mxsync;
using namespace mxsync::test;
using json = nlohmann::json;

namespace {

/// `mxsync sync` in a child process, to be killed with SIGKILL.
class sync_process {
public:
  sync_process(const std::string& db, const sync_server& server, std::vector<std::string> extra) {
    std::vector<std::string> args{MXSYNC_CLI, "sync",     "--config", fixture_config,
                                  "--db",     db,         "--host",   "127.0.0.1",
                                  "--port",   server.process->port(), "--user", "testuser",
                                  "--password", "testpassword", "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
  }
  ~sync_process() { kill_now(); }

  bool running() {
    if (pid_ <= 0)
      return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    return true;
  }

  /// SIGKILL: no handler runs, nothing is flushed; true when it was still running.
  bool kill_now() {
    if (pid_ <= 0)
      return false;
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFSIGNALED(status);
  }

private:
  pid_t pid_ = -1;
};

std::int64_t query_int(const std::string& db, const std::string& sql) {
  try {
    db::connection connection{db, db::open_mode::read_only};
    return connection.query_int(sql).value_or(0);
  } catch (const std::exception&) {
    return 0; // not created yet, or busy
  }
}

/// Waits until `ready` or the process ended; false when it ended first.
template <class Ready>
bool wait_for(sync_process& process, Ready ready) {
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < until) {
    if (ready())
      return true;
    if (!process.running())
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return false;
}

std::set<std::string> order_ids(sync_client& device) {
  std::set<std::string> ids;
  auto rows = device.object("WorkOrder").getAll();
  for (const auto& row : rows.value())
    ids.insert(row["orderId"].get<std::string>());
  return ids;
}

} // namespace

CAF_TEST(a client killed in the middle of a download resumes without loss or repeats) {
  sync_server server{"crash-download"};
  for (int i = 0; i < 40; ++i)
    CAF_REQUIRE_EQUAL(server.admin("load", json{{"WorkOrder", work_orders("G" + std::to_string(i), 25)}}), 0);
  auto db = fresh_file("crash-download-device.db");
  {
    sync_process victim{db, server, {"--batchsize", "25"}};
    bool mid_way = wait_for(victim, [&] {
      return query_int(db, "select count(*) from WorkOrder") >= 100;
    });
    bool killed = victim.kill_now();
    CAF_CHECK(mid_way && killed); // the kill hit a running download
  }
  auto partial = query_int(db, "select count(*) from WorkOrder");
  CAF_CHECK_LESS(partial, 1000);
  client_options options;
  options.config_path = fixture_config;
  options.database_path = db;
  sync_client device{options};
  CAF_REQUIRE(device.init().ok());
  auto outcome = device.synchronize(server.session());
  if (!outcome.ok())
    CAF_FAIL(outcome.error().to_json().dump());
  CAF_CHECK_EQUAL(count_rows(device, "WorkOrder"), 1000);
  CAF_CHECK_EQUAL(order_ids(device).size(), 1000u);
}

CAF_TEST(a client killed in the middle of an upload resumes and the server applies each change once) {
  sync_server server{"crash-upload"};
  auto db = fresh_file("crash-upload-device.db");
  {
    client_options options;
    options.config_path = fixture_config;
    options.database_path = db;
    sync_client device{options};
    CAF_REQUIRE(device.init().ok());
    CAF_REQUIRE(device.object("WorkOrder").createAll(work_orders("CLI", 300)).ok());
  }
  {
    sync_process victim{db, server, {"--uploadbatchsize", "3"}};
    bool mid_way = wait_for(victim, [&] {
      return query_int(db, "select max(versionnumber) from konysyncMETAINFO") >= 10;
    });
    bool killed = victim.kill_now();
    CAF_CHECK(mid_way && killed); // the kill hit a running upload
  }
  client_options options;
  options.config_path = fixture_config;
  options.database_path = db;
  sync_client device{options};
  CAF_REQUIRE(device.init().ok());
  auto outcome = device.synchronize(server.session());
  if (!outcome.ok())
    CAF_FAIL(outcome.error().to_json().dump());
  auto pending = device.getPendingUpload();
  CAF_CHECK_EQUAL(pending.value()["totalCount"], 0);
  auto other = make_device("crash-upload-other");
  CAF_REQUIRE(other->synchronize(server.session()).ok());
  CAF_CHECK_EQUAL(count_rows(*other, "WorkOrder"), 300);
  CAF_CHECK_EQUAL(order_ids(*other), order_ids(device));
}
