// The mxsync-server executable: --port 0 and the address as the first stdout
// line, answers, a clean stop on SIGTERM/SIGINT (exit code 0), the settings file,
// the request log, argument errors, and the admin and generate commands.
#define CAF_SUITE http_executable
#include <caf/test/unit_test.hpp>

#include "http_test_support.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

extern char** environ;

using namespace mxsync;
using namespace mxsync::test;
using json = nlohmann::json;

namespace {

const std::string server_binary = std::string{MXSYNC_BINARY_DIR} + "/server/mxsync-server";

/// A child process with its stdout on a pipe and its stderr in a file.
class child_process {
public:
  child_process(const std::vector<std::string>& args, const std::string& stderr_path) {
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<std::string> words{server_binary};
    words.insert(words.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& word : words) argv.push_back(word.data());
    argv.push_back(nullptr);
    int failed = posix_spawn(&pid_, server_binary.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    stdout_ = out[0];
    if (failed != 0) {
      close(stdout_);
      throw std::runtime_error("cannot start " + server_binary);
    }
  }
  ~child_process() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(stdout_);
  }
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  /// One line of stdout ("" at end of file or after the timeout).
  std::string read_line(std::chrono::seconds timeout = std::chrono::seconds(30)) {
    std::string line;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd ready{stdout_, POLLIN, 0};
      if (poll(&ready, 1, 100) <= 0) continue;
      char c;
      if (read(stdout_, &c, 1) != 1) break;
      if (c == '\n') return line;
      line.push_back(c);
    }
    return line;
  }

  /// Everything left on stdout until the process closes it.
  std::string read_rest() {
    std::string text;
    char buffer[4096];
    ssize_t n;
    while ((n = read(stdout_, buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<std::size_t>(n));
    return text;
  }

  /// Waits for the exit; the exit code, or 128+signal, or -1 after the timeout.
  int wait(std::chrono::seconds timeout = std::chrono::seconds(30)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      auto done = waitpid(pid_, &status, WNOHANG);
      if (done == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }

  int stop(int signal_number = SIGTERM) {
    kill(pid_, signal_number);
    return wait();
  }

private:
  pid_t pid_ = -1;
  int stdout_ = -1;
};

/// Runs a command to its end: (exit code, stdout).
std::pair<int, std::string> run_command(const std::vector<std::string>& args, const std::string& stderr_path) {
  child_process child(args, stderr_path);
  auto output = child.read_rest();
  return {child.wait(), output};
}

int port_of(const std::string& first_line) {
  const std::string prefix = "listening on http://127.0.0.1:";
  if (first_line.rfind(prefix, 0) != 0) return -1;
  return std::stoi(first_line.substr(prefix.size()));
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

/// A device session against a running executable.
struct session {
  explicit session(int port) : client("127.0.0.1", port) {}

  json call(const std::string& endpoint, const json& overrides) {
    auto params = common_params();
    for (auto& [key, value] : overrides.items()) params[key] = value;
    auto answer = post_params(client, "/syncservice/resources/" + endpoint, params);
    CAF_CHECK_EQUAL(answer.status, 200);
    CAF_CHECK_EQUAL(answer.content_type, "application/json; charset=utf-8");
    if (answer.body["d"]["error"] != "false") CAF_MESSAGE("answer: " << answer.raw.substr(0, 500));
    return answer.body["d"];
  }

  json download(const std::string& tickcount) {
    return call("download", {{"enablebatching", "true"}, {"batchsize", "500"}, {"tickcount", tickcount},
                             {"scopename", "FSPersistentScope"}, {"strategy", "PERSISTENT_SYNC"},
                             {"instanceid", "exe-instance"}, {"clientid", "exe-device"}, {"clientcontext", "{}"}});
  }

  httplib::Client client;
};

std::map<std::string, json> work_orders(const json& results) {
  std::map<std::string, json> rows;
  for (const auto& row : results)
    if (row["__metadata"]["type"] == "WorkOrder") rows[row["orderId"].get<std::string>()] = row;
  return rows;
}

std::vector<std::string> serve_args(const temp_dir& dir) {
  return {"--config", fixture_path("workorder-sync-config.json"), "--db", dir.file("server.db"), "--port", "0",
          "--user", "testuser:testpassword", "--quiet"};
}

} // namespace

CAF_TEST(starts on a free port and stops on SIGTERM and SIGINT) {
  temp_dir dir;
  for (int signal_number : {SIGTERM, SIGINT}) {
    child_process server(serve_args(dir), dir.file("stderr.txt"));
    auto first = server.read_line();
    CAF_MESSAGE("first line: " << first);
    auto port = port_of(first);
    CAF_REQUIRE(port > 0);
    session device(port);
    auto d = device.call("registerdevice", {{"deviceID", "exe-device"}});
    CAF_CHECK_EQUAL(d["error"], "false");
    CAF_CHECK(d["__registerdevice"]["instanceID"].is_string());
    auto wrong = device.call("registerdevice", {{"deviceID", "exe-device"}, {"password", "nope"}});
    CAF_CHECK_EQUAL(wrong["errcode"], "1001");
    CAF_CHECK_EQUAL(server.stop(signal_number), 0);
    CAF_CHECK_EQUAL(read_text(dir.file("stderr.txt")), ""); // --quiet
  }
}

CAF_TEST(the request log has one line per request) {
  temp_dir dir;
  auto args = serve_args(dir);
  args.pop_back(); // no --quiet
  child_process server(args, dir.file("stderr.txt"));
  auto port = port_of(server.read_line());
  CAF_REQUIRE(port > 0);
  session device(port);
  device.call("registerdevice", {{"deviceID", "exe-device"}});
  device.call("registerdevice", {{"deviceID", "exe-device"}, {"userid", "mallory"}});
  device.call("registerdevice", {{"deviceID", "exe-device"}, {"userid", "two words\nforged line"}});
  CAF_CHECK_EQUAL(server.stop(), 0);
  auto log = read_text(dir.file("stderr.txt"));
  CAF_MESSAGE(log);
  CAF_CHECK(log.find("info POST /syncservice/resources/registerdevice user=testuser http=200 result=ok duration_ms=") !=
            std::string::npos);
  CAF_CHECK(log.find("user=mallory http=200 result=1001") != std::string::npos);
  CAF_CHECK(log.find("password") == std::string::npos);
  CAF_CHECK(log.find("user=two%20words%0Aforged%20line http=200 result=1001") != std::string::npos);
  CAF_CHECK(log.find("\nforged") == std::string::npos); // one request, one line
}

CAF_TEST(the settings file configures users and limits) {
  temp_dir dir;
  auto settings = json{{"config", fixture_path("workorder-sync-config.json")},
                       {"db", "server.db"}, // relative to the settings file
                       {"port", 0},
                       {"log_level", "error"},
                       {"max_body_bytes", 4096},
                       {"users", {{{"userid", "testuser"},
                                   {"digests", {{"sha256", transport::hash_password("sha256", "testpassword")}}}}}},
                       {"scopes", {{"FSPersistentScope", {{"conflict_policy", "serverwins"}}}}}};
  write_file(dir.file("settings.json"), settings.dump());
  child_process server({"--settings", dir.file("settings.json")}, dir.file("stderr.txt"));
  auto port = port_of(server.read_line());
  CAF_REQUIRE(port > 0);
  session device(port);
  auto registered = device.call("registerdevice", {{"deviceID", "exe-device"}});
  CAF_CHECK_EQUAL(registered["error"], "false");
  auto sha1 = device.call("registerdevice",
                          {{"deviceID", "exe-device"}, {"password", transport::hash_password("sha1", "testpassword")}});
  CAF_CHECK_EQUAL(sha1["errcode"], "1001"); // only the sha256 digest was configured
  auto large = device.call("registerdevice", {{"deviceID", std::string(8000, 'x')}});
  CAF_CHECK_EQUAL(large["errcode"], "SY0000E");
  CAF_CHECK_EQUAL(server.stop(), 0);
  CAF_CHECK(std::filesystem::exists(dir.file("server.db")));
}

CAF_TEST(web contexts from the settings file and the command line) {
  temp_dir dir;
  write_file(dir.file("settings.json"), R"({"web_contexts": {"upload": "file-up", "download": "file-down"}})");
  auto args = serve_args(dir);
  args.insert(args.end(), {"--settings", dir.file("settings.json"), "--download-context", "cli.down"});
  child_process server(args, dir.file("stderr.txt"));
  auto port = port_of(server.read_line());
  CAF_REQUIRE(port > 0);
  session device(port);
  json download_params = {{"enablebatching", "true"}, {"batchsize", "500"}, {"tickcount", "0"},
                          {"scopename", "FSPersistentScope"}, {"strategy", "PERSISTENT_SYNC"},
                          {"instanceid", "exe-instance"}, {"clientid", "exe-device"}, {"clientcontext", "{}"}};
  auto custom = device.call("cli.down", download_params); // the command line overrides the file
  CAF_CHECK_EQUAL(custom["error"], "false");
  auto standard = device.call("download", download_params);
  CAF_CHECK_EQUAL(standard["error"], "false");
  auto replaced = device.call("file-down", download_params);
  CAF_CHECK_EQUAL(replaced["errcode"], "SY0000E");
  json upload_params = {{"UploadRequest", json{{"d", {{"results", json::array()}, {"scopeName", "FSPersistentScope"}}}}.dump()},
                        {"clientcontext", "{}"}, {"scopename", "FSPersistentScope"}, {"strategy", "PERSISTENT_SYNC"},
                        {"instanceid", "exe-instance"}, {"clientid", "exe-device"}};
  auto uploaded = device.call("file-up", upload_params);
  CAF_CHECK_EQUAL(uploaded["error"], "false");
  CAF_CHECK_EQUAL(server.stop(), 0);

  auto bad = serve_args(dir);
  bad.insert(bad.end(), {"--upload-context", "sync/upload"});
  auto [code, output] = run_command(bad, dir.file("stderr.txt"));
  CAF_CHECK_EQUAL(code, 2);
  CAF_CHECK_EQUAL(output, "");
  auto message = read_text(dir.file("stderr.txt"));
  CAF_CHECK(message.find("--upload-context") != std::string::npos);
  CAF_CHECK(message.find("sync/upload") != std::string::npos);
}

CAF_TEST(argument errors exit with code 2 and a message) {
  temp_dir dir;
  auto [code, output] = run_command({"--db", dir.file("x.db"), "--port", "0"}, dir.file("stderr.txt"));
  CAF_CHECK_EQUAL(code, 2);
  CAF_CHECK_EQUAL(output, "");
  CAF_CHECK(read_text(dir.file("stderr.txt")).find("--config") != std::string::npos);
  auto [bad_port, ignored] = run_command({"--config", "c", "--db", "d", "--port", "http"}, dir.file("stderr.txt"));
  CAF_CHECK_EQUAL(bad_port, 2);
  CAF_CHECK(read_text(dir.file("stderr.txt")).find("--port") != std::string::npos);
  write_file(dir.file("settings.json"), R"({"threads": "many"})");
  auto [bad_settings, ignored2] = run_command({"--settings", dir.file("settings.json")}, dir.file("stderr.txt"));
  CAF_CHECK_EQUAL(bad_settings, 2);
  CAF_CHECK(read_text(dir.file("stderr.txt")).find("threads") != std::string::npos);
  auto [help, usage] = run_command({"help"}, dir.file("stderr.txt"));
  CAF_CHECK_EQUAL(help, 0);
  CAF_CHECK(usage.find("admin") != std::string::npos);
}

CAF_TEST(admin commands change rows that the next download returns) {
  temp_dir dir;
  auto config = fixture_path("workorder-sync-config.json");
  auto db = dir.file("server.db");
  write_file(dir.file("rows.json"),
             R"([{"orderId":"ADM-1","orderDesc":"first","status":"Open","priority":"1"},
                 {"orderId":"ADM-2","orderDesc":"second","status":"Open"}])");
  auto [loaded, load_output] = run_command(
      {"admin", "load", "--config", config, "--db", db, "--table", "WorkOrder", "--rows", dir.file("rows.json")},
      dir.file("stderr.txt"));
  CAF_CHECK_EQUAL(loaded, 0);
  CAF_CHECK_EQUAL(load_output, "wrote 2 row(s)\n");

  std::string blob;
  {
    child_process server(serve_args(dir), dir.file("stderr.txt"));
    auto port = port_of(server.read_line());
    CAF_REQUIRE(port > 0);
    session device(port);
    device.call("registerdevice", {{"deviceID", "exe-device"}});
    auto d = device.download("");
    auto rows = work_orders(d["results"]);
    CAF_REQUIRE_EQUAL(rows.size(), 2u);
    CAF_CHECK_EQUAL(rows["ADM-1"]["orderDesc"], "first");
    CAF_CHECK_EQUAL(rows["ADM-1"]["__metadata"]["changeType"], "update");
    blob = d["__sync"]["serverblob"].get<std::string>();
    CAF_CHECK_EQUAL(server.stop(), 0);
  }

  write_file(dir.file("change.json"), R"({"WorkOrder": [{"orderId":"ADM-1","status":"Closed"}]})");
  write_file(dir.file("delete.json"), R"({"WorkOrder": [{"orderId":"ADM-2"}]})");
  auto [upserted, upsert_output] =
      run_command({"admin", "upsert", "--config", config, "--db", db, "--rows", dir.file("change.json")},
                  dir.file("stderr.txt"));
  CAF_CHECK_EQUAL(upserted, 0);
  CAF_CHECK_EQUAL(upsert_output, "wrote 1 row(s)\n");
  auto [deleted, delete_output] =
      run_command({"admin", "delete", "--config", config, "--db", db, "--rows", dir.file("delete.json")},
                  dir.file("stderr.txt"));
  CAF_CHECK_EQUAL(deleted, 0);
  CAF_CHECK_EQUAL(delete_output, "deleted 1 row(s)\n");
  auto [refused, ignored] = run_command(
      {"admin", "load", "--config", config, "--db", db, "--table", "NoSuchTable", "--rows", dir.file("rows.json")},
      dir.file("stderr.txt"));
  CAF_CHECK_EQUAL(refused, 1);
  CAF_CHECK(read_text(dir.file("stderr.txt")).find("NoSuchTable") != std::string::npos);

  child_process server(serve_args(dir), dir.file("stderr.txt"));
  auto port = port_of(server.read_line());
  CAF_REQUIRE(port > 0);
  session device(port);
  auto d = device.download(blob);
  CAF_CHECK_EQUAL(d["error"], "false");
  auto rows = work_orders(d["results"]);
  CAF_REQUIRE_EQUAL(rows.size(), 2u);
  CAF_CHECK_EQUAL(rows["ADM-1"]["__metadata"]["changeType"], "update");
  CAF_CHECK_EQUAL(rows["ADM-1"]["status"], "Closed");
  CAF_CHECK_EQUAL(rows["ADM-1"]["orderDesc"], "first"); // upsert merges
  CAF_CHECK_EQUAL(rows["ADM-2"]["__metadata"]["changeType"], "delete");
  CAF_CHECK_EQUAL(server.stop(), 0);
}

CAF_TEST(generate writes a demo data set that admin load takes) {
  temp_dir dir;
  auto config = fixture_path("workorder-sync-config.json");
  auto [generated, ignored] = run_command(
      {"generate", "--config", config, "--rows-per-table", "3", "--out", dir.file("demo.json")}, dir.file("stderr.txt"));
  CAF_CHECK_EQUAL(generated, 0);
  auto data_set = json::parse(read_text(dir.file("demo.json")));
  CAF_CHECK_EQUAL(data_set.size(), 12u);
  for (const auto& [table, rows] : data_set.items()) CAF_CHECK_EQUAL(rows.size(), 3u);
  auto [loaded, output] = run_command(
      {"admin", "load", "--config", config, "--db", dir.file("server.db"), "--rows", dir.file("demo.json")},
      dir.file("stderr.txt"));
  CAF_CHECK_EQUAL(loaded, 0);
  CAF_CHECK_EQUAL(output, "wrote 36 row(s)\n");
  if (loaded != 0) CAF_MESSAGE(read_text(dir.file("stderr.txt")));
}

CAF_TEST(the admin endpoint changes rows of a running server when enabled) {
  temp_dir dir;
  auto args = serve_args(dir);
  args.push_back("--admin-http");
  child_process server(args, dir.file("stderr.txt"));
  auto port = port_of(server.read_line());
  CAF_REQUIRE(port > 0);
  session device(port);
  device.call("registerdevice", {{"deviceID", "exe-device"}});
  auto first = device.download("");
  CAF_CHECK(first["results"].empty());
  auto blob = first["__sync"]["serverblob"].get<std::string>();

  auto upsert = to_answer(device.client.Post("/mxsync/admin/upsert?table=WorkOrder",
                                             R"([{"orderId":"LIVE-1","status":"Open"},{"orderId":"LIVE-2"}])",
                                             "application/json"));
  CAF_CHECK_EQUAL(upsert.status, 200);
  CAF_CHECK_EQUAL(upsert.body["d"]["error"], "false");
  CAF_CHECK_EQUAL(upsert.body["d"]["rows"], 2);
  auto second = device.download(blob);
  auto rows = work_orders(second["results"]);
  CAF_CHECK_EQUAL(rows.size(), 2u);
  CAF_CHECK_EQUAL(rows["LIVE-1"]["status"], "Open");
  blob = second["__sync"]["serverblob"].get<std::string>();

  auto removed = to_answer(device.client.Post("/mxsync/admin/delete", R"({"WorkOrder":[{"orderId":"LIVE-2"}]})",
                                              "application/json"));
  CAF_CHECK_EQUAL(removed.body["d"]["rows"], 1);
  auto third = device.download(blob);
  rows = work_orders(third["results"]);
  CAF_CHECK_EQUAL(rows.size(), 1u);
  CAF_CHECK_EQUAL(rows["LIVE-2"]["__metadata"]["changeType"], "delete");

  auto unknown_table = to_answer(device.client.Post("/mxsync/admin/load?table=Nope", "[]", "application/json"));
  CAF_CHECK_EQUAL(unknown_table.body["d"]["errcode"], "SY0000E");
  CAF_CHECK_EQUAL(server.stop(), 0);

  // Off by default: the path is just an unknown endpoint.
  child_process plain(serve_args(dir), dir.file("stderr.txt"));
  port = port_of(plain.read_line());
  CAF_REQUIRE(port > 0);
  httplib::Client client("127.0.0.1", port);
  auto refused = to_answer(client.Post("/mxsync/admin/upsert?table=WorkOrder", "[]", "application/json"));
  CAF_CHECK_EQUAL(refused.body["d"]["errcode"], "SY0000E");
  CAF_CHECK_EQUAL(plain.stop(), 0);

  // And never on a non-loopback address.
  auto exposed = serve_args(dir);
  exposed.insert(exposed.end(), {"--admin-http", "--host", "0.0.0.0"});
  auto [code, output] = run_command(exposed, dir.file("stderr.txt"));
  CAF_CHECK_EQUAL(code, 2);
  CAF_CHECK_EQUAL(output, "");
  CAF_CHECK(read_text(dir.file("stderr.txt")).find("loopback") != std::string::npos);
}
