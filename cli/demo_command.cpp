#include "cli/demo_command.hpp"

#include "cli/command_line.hpp"
#include "cli/sync_command.hpp"
#include "mxsync/sync_object.hpp"
#include "persistence/sqlite.hpp"

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <stdexcept>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

#ifndef MXSYNC_DEFAULT_CONFIG
#define MXSYNC_DEFAULT_CONFIG ""
#endif

namespace mxsync::cli {

namespace {

namespace fs = std::filesystem;

const std::string demo_user = "demo";
const std::string demo_password = "demo-password";
constexpr std::int64_t default_rows_per_table = 2500;

/// Starts `args` (args[0] is the program); stdout goes to `stdout_fd` (-1: /dev/null).
pid_t spawn(const std::vector<std::string>& args, int stdout_fd) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (stdout_fd >= 0)
    posix_spawn_file_actions_adddup2(&actions, stdout_fd, STDOUT_FILENO);
  else
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  std::vector<std::string> copies = args;
  std::vector<char*> argv;
  for (auto& a : copies)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, copies[0].c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0)
    throw std::runtime_error("cannot start " + args[0]);
  return pid;
}

/// Runs `args` to its end; throws unless it exits 0 (its stderr shows why).
void run_to_end(const std::vector<std::string>& args) {
  auto pid = spawn(args, -1);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error(args[0] + " " + args[1] + " failed");
}

/// mxsync-server on a free loopback port, stopped (SIGTERM) when destroyed.
class running_server {
public:
  running_server(const std::string& binary, const std::string& config, const std::string& db,
                 const std::string& settings) {
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0)
      throw std::runtime_error("pipe failed");
    try {
      pid_ = spawn({binary, "--config", config, "--db", db, "--settings", settings, "--port", "0",
                    "--quiet", "--user", demo_user + ":" + demo_password},
                   pipe_fds[1]);
    } catch (...) {
      close(pipe_fds[0]);
      close(pipe_fds[1]);
      throw;
    }
    close(pipe_fds[1]);
    output_ = pipe_fds[0];
    // Its first line is "listening on http://127.0.0.1:<port>".
    std::string line;
    char c = 0;
    while (read(output_, &c, 1) == 1 && c != '\n')
      line.push_back(c);
    auto colon = line.rfind(':');
    if (line.find("listening on") == std::string::npos || colon == std::string::npos) {
      stop();
      throw std::runtime_error("mxsync-server did not start: '" + line + "'");
    }
    port_ = std::to_string(std::atoi(line.c_str() + colon + 1));
  }
  running_server(const running_server&) = delete;
  running_server& operator=(const running_server&) = delete;
  ~running_server() { stop(); }

  const std::string& port() const { return port_; }

  void stop() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
      pid_ = -1;
    }
    if (output_ >= 0)
      close(output_);
    output_ = -1;
  }

private:
  pid_t pid_ = -1;
  int output_ = -1;
  std::string port_;
};

/// mxsync-server next to this binary (build tree or install prefix), else on PATH.
std::string find_server_binary(const arguments& parsed) {
  if (auto given = parsed.get("server-binary"))
    return *given;
  std::error_code ignored;
  auto self_dir = fs::read_symlink("/proc/self/exe", ignored).parent_path();
  for (auto candidate : {self_dir / "../server/mxsync-server", self_dir / "mxsync-server"})
    if (fs::exists(candidate, ignored))
      return fs::weakly_canonical(candidate, ignored).string();
  if (const char* path = std::getenv("PATH")) {
    std::string dirs = path;
    for (std::size_t start = 0; start <= dirs.size();) {
      auto end = dirs.find(':', start);
      if (end == std::string::npos)
        end = dirs.size();
      auto candidate = fs::path{dirs.substr(start, end - start)} / "mxsync-server";
      if (access(candidate.c_str(), X_OK) == 0)
        return candidate.string();
      start = end + 1;
    }
  }
  throw std::runtime_error("mxsync-server not found next to mxsync or on PATH; give --server-binary");
}

/// A fresh directory for the demo's files; removed unless --keep.
class demo_directory {
public:
  explicit demo_directory(bool keep) : keep_(keep) {
    std::string pattern = (fs::temp_directory_path() / "mxsync-demo-XXXXXX").string();
    if (!mkdtemp(pattern.data()))
      throw std::runtime_error("cannot create a temporary directory");
    path_ = pattern;
  }
  demo_directory(const demo_directory&) = delete;
  demo_directory& operator=(const demo_directory&) = delete;
  ~demo_directory() {
    std::error_code ignored;
    if (!keep_)
      fs::remove_all(path_, ignored);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const fs::path& path() const { return path_; }

private:
  bool keep_;
  fs::path path_;
};

std::vector<std::string> object_names(const nlohmann::json& configuration) {
  std::vector<std::string> names;
  for (const auto& scope : configuration["ArrayOfSyncScope"])
    for (const auto& table : scope["ScopeTables"])
      names.push_back(table["Name"].get<std::string>());
  return names;
}

/// Live rows per table in the server's store (its tables are mxdata_<Object>).
std::map<std::string, std::int64_t> server_counts(const std::string& server_db,
                                                  const std::vector<std::string>& objects) {
  db::connection store{server_db, db::open_mode::read_only};
  std::map<std::string, std::int64_t> counts;
  for (const auto& name : objects)
    counts[name] = store
                     .query_int("select count(*) from " + db::quote_identifier("mxdata_" + name)
                                + " where mxsync_deleted = 0")
                     .value_or(-1);
  return counts;
}

std::map<std::string, std::int64_t> device_counts(sync_client& device,
                                                  const std::vector<std::string>& objects) {
  std::map<std::string, std::int64_t> counts;
  for (const auto& name : objects)
    counts[name] = device.object(name).getAllCount().value_or_throw()["count"].get<std::int64_t>();
  return counts;
}

void write_json(const std::string& path, const nlohmann::json& value) {
  std::ofstream{path} << value.dump(2);
}

} // namespace

int run_demo(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  arguments parsed{args, {"keep"}, {"rows", "config", "server-binary"}};
  std::int64_t rows = default_rows_per_table;
  if (auto text = parsed.get("rows")) {
    try {
      rows = std::stoll(*text);
    } catch (const std::exception&) {
      rows = 0;
    }
    if (rows <= 0)
      throw usage_error("--rows needs a positive number, not '" + *text + "'");
  }
  auto config = parsed.get("config").value_or(MXSYNC_DEFAULT_CONFIG);
  if (config.empty() || !fs::exists(config))
    throw usage_error("no sync configuration at '" + config + "'; give --config");
  auto server_binary = find_server_binary(parsed);
  demo_directory dir{parsed.flag("keep")};
  auto server_db = dir.file("server.db");
  auto device_db = dir.file("device.db");
  // The server's clean stop waits for idle keep-alive connections (5 s by default);
  // the demo stops it twice, so it keeps them for one second only.
  auto settings = dir.file("server-settings.json");
  write_json(settings, {{"keep_alive_timeout_seconds", 1}});
  bool live = isatty(STDERR_FILENO) != 0;

  out << "== 1. server data: " << rows << " rows per table\n" << std::flush;
  run_to_end({server_binary, "generate", "--config", config, "--rows-per-table",
              std::to_string(rows), "--db", server_db});

  client_options options;
  options.config_path = config;
  options.database_path = device_db;
  sync_client device{std::move(options)};
  device.init().value_or_throw();
  auto objects = object_names(device.configuration());
  out << "   device database " << device_db << " (" << objects.size() << " objects)\n";

  auto sync_once = [&](const std::string& title, const std::string& port) {
    out << "== " << title << "\n" << std::flush;
    session_config keys;
    keys.serverhost = "127.0.0.1";
    keys.serverport = port;
    keys.userid = demo_user;
    keys.password = demo_password;
    sync_run_options run;
    run.db_path = device_db;
    run.live_progress = live;
    auto report = run_sync_session(device, std::move(keys), run, err);
    print_sync_summary(report.summary, out);
    if (report.error)
      throw sync_exception(*report.error);
    return report.summary;
  };

  nlohmann::json first, second, third;
  {
    running_server server{server_binary, config, server_db, settings};
    out << "   mxsync-server listening on 127.0.0.1:" << server.port() << "\n";
    first = sync_once("2. first sync: download everything", server.port());

    out << "== 3. local changes through the ORM\n";
    auto work_orders = device.object("WorkOrder");
    for (int i = 1; i <= 3; ++i) {
      auto id = "DEMO-" + std::to_string(i);
      work_orders
        .create({{"orderId", id}, {"customerId", "C1"}, {"status", "Open"},
                 {"orderDesc", "created on the device"}})
        .value_or_throw();
      out << "   created WorkOrder " << id << "\n";
    }
    auto existing = device.executeSelectQuery("select orderId from WorkOrder where orderId not "
                                              "like 'DEMO-%' order by orderId limit 3")
                      .value_or_throw();
    for (std::size_t i = 0; i + 1 < existing.size(); ++i) {
      auto id = existing[i]["orderId"].get<std::string>();
      work_orders.updateByPK(id, {{"status", "Closed on device"}}).value_or_throw();
      out << "   updated WorkOrder " << id << " status = 'Closed on device'\n";
    }
    if (!existing.empty()) {
      auto id = existing.back()["orderId"].get<std::string>();
      work_orders.deleteByPK(id).value_or_throw();
      out << "   deleted WorkOrder " << id << "\n";
    }
    auto pending = device.getPendingUpload().value_or_throw();
    out << "   pending upload: " << pending.value("totalCount", 0) << " rows\n";
    second = sync_once("4. second sync: upload the local changes", server.port());
  }

  out << "== 5. server changes (mxsync-server admin, server stopped meanwhile)\n";
  auto upserts_file = dir.file("server-upserts.json");
  write_json(upserts_file,
             {{"WorkOrder",
               {{{"orderId", "SERVER-1"}, {"customerId", "C2"}, {"status", "Open"},
                 {"orderDesc", "created on the server"}},
                {{"orderId", "SERVER-2"}, {"customerId", "C3"}, {"status", "Open"},
                 {"orderDesc", "created on the server"}},
                {{"orderId", "DEMO-1"}, {"status", "Assigned by the server"}}}}});
  run_to_end({server_binary, "admin", "upsert", "--config", config, "--db", server_db, "--rows",
              upserts_file});
  out << "   server created WorkOrder SERVER-1, SERVER-2; updated DEMO-1 status = 'Assigned by "
         "the server'\n";
  auto deletes_file = dir.file("server-deletes.json");
  write_json(deletes_file, {{"WorkOrder", {{{"orderId", "DEMO-2"}}}}});
  run_to_end({server_binary, "admin", "delete", "--config", config, "--db", server_db, "--rows",
              deletes_file});
  out << "   server deleted WorkOrder DEMO-2\n";
  {
    running_server server{server_binary, config, server_db, settings};
    third = sync_once("6. third sync: download the server's changes", server.port());
  }

  out << "== 7. both sides\n";
  auto on_device = device_counts(device, objects);
  auto on_server = server_counts(server_db, objects);
  bool same = true;
  out << std::left << std::setw(24) << "table" << std::right << std::setw(10) << "device"
      << std::setw(10) << "server" << "\n";
  for (const auto& name : objects) {
    same = same && on_device[name] == on_server[name];
    out << std::left << std::setw(24) << name << std::right << std::setw(10) << on_device[name]
        << std::setw(10) << on_server[name] << (on_device[name] == on_server[name] ? "" : "  DIFFERENT")
        << "\n";
  }
  auto changed = device.executeSelectQuery("select orderId, status, orderDesc from WorkOrder where "
                                           "orderId like 'DEMO-%' or orderId like 'SERVER-%' "
                                           "order by orderId")
                   .value_or_throw();
  out << "changed rows on the device now:\n";
  for (const auto& row : changed)
    out << "   " << row.dump() << "\n";
  // The round trip is correct when both sides hold the same rows and each side's
  // changes reached the other.
  bool has_server_rows = false, demo2_gone = true, demo1_assigned = false;
  for (const auto& row : changed) {
    auto id = row["orderId"].get<std::string>();
    has_server_rows = has_server_rows || id == "SERVER-1";
    demo2_gone = demo2_gone && id != "DEMO-2";
    demo1_assigned = demo1_assigned
                     || (id == "DEMO-1" && row["status"] == "Assigned by the server");
  }
  bool correct = same && has_server_rows && demo2_gone && demo1_assigned;
  if (parsed.flag("keep"))
    out << "files kept in " << dir.path().string() << "\n";
  out << (correct ? "demo finished: device and server agree\n"
                  : "demo FAILED: device and server differ\n");
  return correct ? exit_ok : exit_failure;
}

} // namespace mxsync::cli
