#include "cli/sync_command.hpp"

#include "cli/client_support.hpp"
#include "cli/command_line.hpp"
#include "cli/status_command.hpp"

#include <atomic>
#include <cmath>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include <pthread.h>
#include <unistd.h>

namespace mxsync::cli {

std::string status_file_for(const std::string& db_path) { return db_path + ".mxsync-status.json"; }
std::string pid_file_for(const std::string& db_path) { return db_path + ".mxsync-pid"; }

namespace {

using clock_type = std::chrono::steady_clock;

/// Writes `text` so that a reader sees the old file or the new one, never half of one.
void write_atomically(const std::string& path, const std::string& text) {
  auto temp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream file{temp, std::ios::trunc};
    file << text;
  }
  std::error_code ignored;
  std::filesystem::rename(temp, path, ignored);
}

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

/// Rows and batches per scope, fed by the session callbacks (listener thread) and
/// read by the progress line and the summary.
class progress_tracker {
public:
  progress_tracker(bool live, std::ostream& out) : live_(live), out_(out) {}

  void scope_started(const std::string& scope) {
    std::lock_guard guard{mutex_};
    current_ = scope;
    scope_counts(scope).state = "running";
    draw();
  }
  void upload_batch(const nlohmann::json& batch) {
    std::lock_guard guard{mutex_};
    auto& counts = scope_counts(current_);
    counts.rows_up += batch.value("rowsuploaded", std::int64_t{0});
    ++counts.batches_up;
    draw();
  }
  void download_batch(const nlohmann::json& batch) {
    std::lock_guard guard{mutex_};
    auto& counts = scope_counts(current_);
    counts.rows_down += batch.value("rowsdownloaded", std::int64_t{0});
    counts.inserted += batch.value("rowsinserted", std::int64_t{0});
    counts.updated += batch.value("rowsupdated", std::int64_t{0});
    counts.deleted += batch.value("rowsdeleted", std::int64_t{0});
    counts.pending_batches = batch.value("pendingbatches", std::int64_t{0});
    ++counts.batches_down;
    draw();
  }
  void scope_ended(const std::string& state) {
    std::lock_guard guard{mutex_};
    scope_counts(current_).state = state;
    draw();
  }

  /// Ends the live line and returns the per-scope counts and totals.
  nlohmann::json finish(double seconds) {
    std::lock_guard guard{mutex_};
    if (live_ && drawn_)
      out_ << "\n" << std::flush;
    auto scopes = nlohmann::json::object();
    std::int64_t up = 0, down = 0, batches = 0;
    for (const auto& name : order_) {
      const auto& c = scopes_.at(name);
      scopes[name] = {{"state", c.state},           {"rowsUploaded", c.rows_up},
                      {"uploadBatches", c.batches_up}, {"rowsDownloaded", c.rows_down},
                      {"downloadBatches", c.batches_down}, {"rowsInserted", c.inserted},
                      {"rowsUpdated", c.updated},   {"rowsDeleted", c.deleted}};
      up += c.rows_up;
      down += c.rows_down;
      batches += c.batches_up + c.batches_down;
    }
    double rate = seconds > 0 ? static_cast<double>(up + down) / seconds : 0;
    return {{"scopes", scopes},
            {"totals",
             {{"rowsUploaded", up},
              {"rowsDownloaded", down},
              {"batches", batches},
              {"rowsPerSecond", std::round(rate)}}}};
  }

private:
  struct counts {
    std::string state = "waiting";
    std::int64_t rows_up = 0, batches_up = 0, rows_down = 0, batches_down = 0;
    std::int64_t inserted = 0, updated = 0, deleted = 0, pending_batches = 0;
  };

  counts& scope_counts(const std::string& scope) {
    if (!scopes_.count(scope))
      order_.push_back(scope);
    return scopes_[scope];
  }

  /// One line rewritten in place: the current scope's counts and the overall rate.
  void draw() {
    if (!live_)
      return;
    const auto& c = scopes_[current_];
    std::int64_t rows = 0;
    for (const auto& [name, each] : scopes_)
      rows += each.rows_up + each.rows_down;
    auto elapsed = seconds_since(started_);
    out_ << "\r\033[K" << current_ << " [" << c.state << "]  up " << c.rows_up << " rows/"
         << c.batches_up << " batches  down " << c.rows_down << " rows/" << c.batches_down
         << " batches";
    if (c.pending_batches > 0)
      out_ << " (" << c.pending_batches << " pending)";
    out_ << "  " << static_cast<std::int64_t>(elapsed > 0 ? rows / elapsed : 0) << " rows/s"
         << std::flush;
    drawn_ = true;
  }

  const bool live_;
  std::ostream& out_;
  std::mutex mutex_;
  std::string current_;
  std::vector<std::string> order_;
  std::map<std::string, counts> scopes_;
  clock_type::time_point started_ = clock_type::now();
  bool drawn_ = false;
};

/// Publishes the pid at once and the client's actor tree every interval, for
/// `mxsync status` and `mxsync stop`; removes both files when destroyed.
class status_publisher {
public:
  status_publisher(sync_client& client, std::string db_path, std::chrono::milliseconds interval)
    : client_(client), status_path_(status_file_for(db_path)), pid_path_(pid_file_for(db_path)),
      interval_(interval) {
    write_atomically(pid_path_, std::to_string(getpid()) + "\n");
    thread_ = std::thread([this] { publish_until_stopped(); });
  }
  status_publisher(const status_publisher&) = delete;
  status_publisher& operator=(const status_publisher&) = delete;
  ~status_publisher() {
    {
      std::lock_guard guard{mutex_};
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
    std::error_code ignored;
    std::filesystem::remove(status_path_, ignored);
    std::filesystem::remove(pid_path_, ignored);
  }

private:
  void publish_until_stopped() {
    std::unique_lock lock{mutex_};
    while (!stopping_) {
      lock.unlock();
      auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
      nlohmann::json published{{"pid", getpid()}, {"updatedMs", now_ms}, {"tree", client_.status()}};
      write_atomically(status_path_, published.dump(2));
      lock.lock();
      wake_.wait_for(lock, interval_, [this] { return stopping_; });
    }
  }

  sync_client& client_;
  std::string status_path_, pid_path_;
  std::chrono::milliseconds interval_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

/// The signals that stop a sync. Blocked in every thread (set before the client
/// starts its threads, which inherit the mask) so that only sigwait sees them.
sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR2); // our own wake-up to end the watcher
  return set;
}

class blocked_stop_signals {
public:
  blocked_stop_signals() {
    auto set = stop_signals();
    pthread_sigmask(SIG_BLOCK, &set, &previous_);
  }
  blocked_stop_signals(const blocked_stop_signals&) = delete;
  blocked_stop_signals& operator=(const blocked_stop_signals&) = delete;
  ~blocked_stop_signals() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }

private:
  sigset_t previous_;
};

/// A thread in sigwait: SIGUSR1, SIGINT or SIGTERM call stopSession; SIGUSR2 ends it.
class stop_signal_watcher {
public:
  explicit stop_signal_watcher(sync_client& client) : client_(client) {
    thread_ = std::thread([this] { watch(); });
  }
  stop_signal_watcher(const stop_signal_watcher&) = delete;
  stop_signal_watcher& operator=(const stop_signal_watcher&) = delete;
  ~stop_signal_watcher() {
    done_ = true;
    pthread_kill(thread_.native_handle(), SIGUSR2);
    thread_.join();
  }

private:
  void watch() {
    auto set = stop_signals();
    int stop_requests = 0;
    while (!done_) {
      int signal_number = 0;
      if (sigwait(&set, &signal_number) != 0 || signal_number == SIGUSR2)
        continue;
      // A second Ctrl-C means "now": the user no longer waits for a clean stop.
      if (signal_number == SIGINT && ++stop_requests > 1)
        std::_Exit(128 + SIGINT);
      client_.stopSession([](const nlohmann::json&) {}, [](const sync_error&) {});
    }
  }

  sync_client& client_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

/// http(s)://host[:port][/] into serverhost, serverport and issecure.
void apply_server_url(session_config& keys, const std::string& url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos)
    throw usage_error("--server needs http://host:port/, not '" + url + "'");
  auto scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https")
    throw usage_error("--server needs an http or https URL, not '" + url + "'");
  auto rest = url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find('/'));
  if (rest.empty())
    throw usage_error("--server names no host: '" + url + "'");
  keys.issecure = scheme == "https";
  if (auto colon = rest.rfind(':'); colon != std::string::npos) {
    keys.serverhost = rest.substr(0, colon);
    keys.serverport = rest.substr(colon + 1);
  } else {
    keys.serverhost = rest;
  }
}

} // namespace

session_config session_from_arguments(const arguments& parsed) {
  session_config keys;
  if (auto file = parsed.get("session")) {
    std::ifstream in{*file};
    if (!in)
      throw usage_error("cannot read --session file " + *file);
    auto json = nlohmann::json::parse(in, nullptr, false);
    if (json.is_discarded() || !json.is_object())
      throw usage_error("--session file " + *file + " is not a JSON object");
    try {
      keys = session_config::from_json(json);
    } catch (const sync_exception& e) { // 7777 naming the key
      throw usage_error("--session file " + *file + ": " + e.what());
    }
  }
  if (auto server = parsed.get("server"))
    apply_server_url(keys, *server);
  if (auto host = parsed.get("host"))
    keys.serverhost = *host;
  if (auto port = parsed.get("port"))
    keys.serverport = *port;
  if (auto user = parsed.get("user"))
    keys.userid = *user;
  if (auto password = parsed.get("password"))
    keys.password = *password;
  if (parsed.get("batchsize"))
    keys.batchsize = parsed.positive_number("batchsize");
  if (parsed.get("uploadbatchsize"))
    keys.uploadbatchsize = parsed.positive_number("uploadbatchsize");
  if (keys.serverhost.empty() && !keys.serverurl)
    throw usage_error("no server: give --server, --host/--port or serverhost in --session");
  return keys;
}

sync_report run_sync_session(sync_client& client, session_config keys,
                             const sync_run_options& options, std::ostream& progress) {
  auto tracker = std::make_shared<progress_tracker>(options.live_progress, progress);
  keys.onscopestart = [tracker](const nlohmann::json& context) {
    tracker->scope_started(context.value("currentScope", std::string{}));
  };
  keys.onuploadbatchsuccess = [tracker](const nlohmann::json& context) {
    tracker->upload_batch(context.value("uploadbatchcontext", nlohmann::json::object()));
  };
  keys.onbatchprocessingsuccess = [tracker](const nlohmann::json& context) {
    tracker->download_batch(context.value("batchcontext", nlohmann::json::object()));
  };
  keys.onscopesuccess = [tracker](const nlohmann::json&) { tracker->scope_ended("done"); };
  keys.onscopeerror = [tracker](const sync_error&) { tracker->scope_ended("failed"); };

  auto started = clock_type::now();
  std::optional<status_publisher> publisher;
  if (options.publish_status)
    publisher.emplace(client, options.db_path, options.status_interval);
  auto outcome = client.synchronize(std::move(keys));
  client.flush(); // every callback has counted before the summary is taken
  publisher.reset();
  auto seconds = seconds_since(started);

  sync_report report;
  report.summary = tracker->finish(seconds);
  report.summary["durationMs"] = static_cast<std::int64_t>(seconds * 1000);
  // A scope still "running" at the end was cut short by the stop or the error.
  auto cut_short = !outcome.ok() ? "failed" : outcome.value().value("stopped", false) ? "stopped" : "done";
  for (auto& [name, scope] : report.summary["scopes"].items())
    if (scope["state"] == "running")
      scope["state"] = cut_short;
  if (!outcome.ok()) {
    report.error = outcome.error();
    report.summary["result"] = "error";
    report.summary["error"] = outcome.error().to_json();
  } else {
    report.stopped = outcome.value().value("stopped", false);
    report.summary["result"] = report.stopped ? "stopped" : "ok";
    report.summary["session"] = outcome.value().value("session", 0);
  }
  return report;
}

void print_sync_summary(const nlohmann::json& summary, std::ostream& out) {
  auto result = summary["result"].get<std::string>();
  out << (result == "ok" ? "Sync finished" : result == "stopped" ? "Sync stopped" : "Sync failed")
      << " in " << std::fixed << std::setprecision(2)
      << summary["durationMs"].get<std::int64_t>() / 1000.0 << " s\n";
  out << std::left << std::setw(24) << "scope" << std::setw(10) << "state" << std::right
      << std::setw(12) << "rows up" << std::setw(10) << "batches" << std::setw(12)
      << "rows down" << std::setw(10) << "batches" << "\n";
  for (const auto& [name, c] : summary["scopes"].items())
    out << std::left << std::setw(24) << name << std::setw(10) << c["state"].get<std::string>()
        << std::right << std::setw(12) << c["rowsUploaded"].get<std::int64_t>() << std::setw(10)
        << c["uploadBatches"].get<std::int64_t>() << std::setw(12)
        << c["rowsDownloaded"].get<std::int64_t>() << std::setw(10)
        << c["downloadBatches"].get<std::int64_t>() << "\n";
  const auto& totals = summary["totals"];
  out << "total: " << totals["rowsUploaded"].get<std::int64_t>() << " rows up, "
      << totals["rowsDownloaded"].get<std::int64_t>() << " rows down, "
      << totals["batches"].get<std::int64_t>() << " batches, "
      << std::setprecision(0) << totals["rowsPerSecond"].get<double>() << " rows/s\n";
  out.unsetf(std::ios::floatfield);
}

int run_sync(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  arguments parsed{args,
                   {"json"},
                   {"config", "db", "session", "server", "host", "port", "user", "password",
                    "batchsize", "uploadbatchsize", "status-interval"}};
  parsed.require("config");
  auto keys = session_from_arguments(parsed);
  sync_run_options options;
  options.db_path = parsed.require("db");
  options.live_progress = isatty(STDERR_FILENO) != 0;
  if (parsed.get("status-interval"))
    options.status_interval = std::chrono::milliseconds{parsed.positive_number("status-interval")};

  if (auto other = running_sync_pid(options.db_path)) {
    err << "mxsync sync: a sync (pid " << other << ") is already running on " << options.db_path
        << "\n";
    return exit_failure;
  }
  // Order matters: signals are blocked before the client starts its threads, and the
  // watcher ends before the client does.
  blocked_stop_signals blocked;
  auto client = open_initialized_client(parsed);
  std::optional<sync_report> report;
  {
    stop_signal_watcher watcher{*client};
    report = run_sync_session(*client, std::move(keys), options, err);
  }
  if (parsed.flag("json"))
    out << report->summary.dump(2) << "\n";
  else
    print_sync_summary(report->summary, out);
  if (report->error) {
    if (!parsed.flag("json"))
      print_error("sync", *report->error, err);
    return exit_failure;
  }
  return exit_ok;
}

} // namespace mxsync::cli
