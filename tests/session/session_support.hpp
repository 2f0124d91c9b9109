#pragma once
// Shared pieces of the end-to-end session tests: a running server with data, a
// device, and a recorder of callback events.

#include "mxsync/sync_client.hpp"
#include "mxsync/sync_object.hpp"
#include "support/process.hpp"
#include "support/server_process.hpp"
#include "transport/http_client.hpp"

#include <future>

#include <fstream>
#include <mutex>
#include <string>
#include <vector>

namespace mxsync::test {

inline const std::string fixture_config = MXSYNC_FIXTURES_DIR "/workorder-sync-config.json";
inline const std::string server_binary = MXSYNC_SERVER_BINARY;

/// A server on a loopback port with the fixture config and testuser/testpassword.
struct sync_server {
  std::string config;
  std::string db;
  std::unique_ptr<server_process> process;

  sync_server(const std::string& name, std::string config_path = fixture_config,
              std::vector<std::string> extra = {})
    : config(std::move(config_path)), db(fresh_file(name + "-server.db")) {
    std::vector<std::string> args{"--config", config,       "--db", db, "--user",
                                  "testuser:testpassword", "--admin-http"};
    args.insert(args.end(), extra.begin(), extra.end());
    process = std::make_unique<server_process>(server_binary, args);
  }

  /// Changes the running server's rows from outside a sync: POST /mxsync/admin/<command>
  /// (load, upsert or delete) with {"<Table>": [rows]}. Returns 0 on success.
  int admin(const std::string& command, const nlohmann::json& rows) {
    transport::http_client client;
    std::promise<transport::http_response> answer;
    client.submit({"http://127.0.0.1:" + process->port() + "/mxsync/admin/" + command,
                   rows.dump(),
                   {{"Content-Type", "application/json"}},
                   std::chrono::milliseconds{60000}},
                  [&answer](transport::http_response r) { answer.set_value(std::move(r)); });
    auto response = answer.get_future().get();
    if (!response.ok())
      return 1;
    auto body = nlohmann::json::parse(response.body, nullptr, false);
    return body.is_object() && body["d"]["error"] == "false" ? 0 : 1;
  }

  session_config session() const {
    session_config keys;
    keys.serverhost = "127.0.0.1";
    keys.serverport = process->port();
    keys.userid = "testuser";
    keys.password = "testpassword";
    return keys;
  }
};

/// Records callback names (and contexts) in the order they ran.
struct recorder {
  std::mutex mutex;
  std::vector<std::string> events;
  std::vector<nlohmann::json> contexts;

  void add(const std::string& event, const nlohmann::json& context) {
    std::lock_guard<std::mutex> guard{mutex};
    events.push_back(event);
    contexts.push_back(context);
  }

  /// Installs a recording callback for every lifecycle event of `keys`.
  void attach(session_config& keys) {
    auto on = [this](const char* name) {
      return [this, name](const nlohmann::json& context) { add(name, context); };
    };
    auto on_request = [this](const char* name) {
      return [this, name](const nlohmann::json& context) -> nlohmann::json {
        add(name, context);
        return nullptr;
      };
    };
    auto on_error = [this](const char* name) {
      return [this, name](const sync_error& error) { add(name, error.to_json()); };
    };
    keys.onsyncstart = on("onsyncstart");
    keys.onscopestart = on("onscopestart");
    keys.onuploadstart = on_request("onuploadstart");
    keys.onuploadbatchstart = on_request("onuploadbatchstart");
    keys.onuploadbatchsuccess = on("onuploadbatchsuccess");
    keys.onuploadsuccess = on("onuploadsuccess");
    keys.ondownloadstart = on_request("ondownloadstart");
    keys.onbatchprocessingstart = on("onbatchprocessingstart");
    keys.onbatchstored = on("onbatchstored");
    keys.onbatchprocessingsuccess = on("onbatchprocessingsuccess");
    keys.ondownloadsuccess = on("ondownloadsuccess");
    keys.onscopesuccess = on("onscopesuccess");
    keys.onsyncsuccess = on("onsyncsuccess");
    keys.onchunkstart = on("onchunkstart");
    keys.onchunksuccess = on("onchunksuccess");
    keys.onretry = on("onretry");
    keys.onscopeerror = on_error("onscopeerror");
    keys.onsyncerror = on_error("onsyncerror");
    keys.onchunkerror = on_error("onchunkerror");
  }

  std::size_t count(const std::string& event) {
    std::lock_guard<std::mutex> guard{mutex};
    return static_cast<std::size_t>(std::count(events.begin(), events.end(), event));
  }

  /// The context of the n-th (0-based) occurrence of `event`.
  nlohmann::json context_of(const std::string& event, std::size_t nth = 0) {
    std::lock_guard<std::mutex> guard{mutex};
    for (std::size_t i = 0; i < events.size(); ++i)
      if (events[i] == event && nth-- == 0)
        return contexts[i];
    return nullptr;
  }
};

/// A device: a client on its own database, initialized.
inline std::unique_ptr<sync_client> make_device(const std::string& name,
                                                const std::string& config = fixture_config) {
  client_options options;
  options.config_path = config;
  options.database_path = fresh_file(name + "-device.db");
  auto client = std::make_unique<sync_client>(std::move(options));
  auto init = client->init();
  if (!init.ok())
    throw std::runtime_error("init failed: " + init.error().message);
  return client;
}

/// `n` WorkOrder rows with ids <prefix>-<i>.
inline nlohmann::json work_orders(const std::string& prefix, int n) {
  auto rows = nlohmann::json::array();
  for (int i = 1; i <= n; ++i)
    rows.push_back({{"orderId", prefix + "-" + std::to_string(i)},
                    {"customerId", "C" + std::to_string(i % 7)},
                    {"status", "Open"},
                    {"orderDesc", "order " + std::to_string(i)}});
  return rows;
}

inline std::int64_t count_rows(sync_client& device, const std::string& table) {
  auto n = device.object(table).getAllCount();
  return n.ok() ? n.value()["count"].get<std::int64_t>() : -1;
}

} // namespace mxsync::test
