#pragma once
// The sync protocol's server side, independent of HTTP: takes one authenticated,
// decoded request and returns the "d" object of the answer (protocol.md 1.3-1.7, 5).
// The HTTP front (http_server) parses bodies, authenticates, checks AppID/version,
// wraps the answer in {"opstatus":0,"d":{...}} and adds "server"/"__session".

#include "persistence/sync_config.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <stdexcept>
#include <string>

namespace mxsync::server {

class store; // server/store.hpp

/// A protocol-level failure: answered as d.error "true" with msg and errcode.
class protocol_error : public std::runtime_error {
public:
  protocol_error(std::string errcode, const std::string& msg)
    : std::runtime_error(msg), errcode_(std::move(errcode)) {}
  const std::string& errcode() const noexcept { return errcode_; }

private:
  std::string errcode_;
};

enum class conflict_policy { client_wins, server_wins };

/// Per-scope behaviour, from the server settings file.
struct scope_settings {
  conflict_policy conflicts = conflict_policy::client_wins;
  /// Server-side filters: table -> column whose value must equal the user id
  /// ("rows visible only to their owner user").
  std::map<std::string, std::string> owner_column;
};

struct service_settings {
  std::map<std::string, scope_settings> scopes; ///< by scope name; missing = defaults
  std::int64_t max_batch_size = 10000;          ///< a larger batchsize is clamped
  std::int64_t chunk_payload_ttl_seconds = 3600;
};

/// One request as the HTTP front hands it over.
struct sync_request {
  std::string endpoint;                      ///< registerdevice, upload, download, downloadchunk
  std::string user;                          ///< authenticated userid
  std::map<std::string, std::string> params; ///< every parameter, as strings
  /// The JSON-string parameters decoded (UploadRequest, context, clientcontext,
  /// filterContext); absent keys are not present here.
  std::map<std::string, nlohmann::json> decoded;
};

class sync_service {
public:
  sync_service(const sync_config& config, std::shared_ptr<store> data, service_settings settings);
  ~sync_service();

  /// Handles one request; returns the "d" object (with "error":"false").
  /// Throws protocol_error for errors the client must see (errcode + msg).
  /// Thread-safe: the HTTP front calls it from many threads at once.
  nlohmann::json handle(const sync_request& request);

  const sync_config& config() const noexcept { return config_; }
  store& data() noexcept { return *store_; }

private:
  const sync_config& config_;
  std::shared_ptr<store> store_;
  service_settings settings_;
};

} // namespace mxsync::server
