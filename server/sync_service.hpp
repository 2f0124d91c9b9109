#pragma once
// The sync protocol's server side, independent of HTTP: takes one authenticated,
// decoded request and returns the "d" object of the answer (docs/protocol.md 1.3-1.7, 5).
// The HTTP front (http_server) parses bodies, authenticates, checks AppID/version,
// wraps the answer in {"opstatus":0,"d":{...}} and adds "server"/"__session".

#include "persistence/sync_config.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace mxsync::server {

class store; // server/store.hpp
namespace detail {
struct service_model; // per-table facts derived from the config (sync_service.cpp)
}

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
  std::int64_t default_batch_size = 500;        ///< when the request has no batchsize
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
  /// Throws std::invalid_argument when `settings` name a scope, table or owner
  /// column the config does not have (and for a null store).
  sync_service(const sync_config& config, std::shared_ptr<store> data, service_settings settings);
  ~sync_service();

  /// Handles one request; returns the "d" object (with "error":"false").
  /// Throws protocol_error for errors the client must see (errcode + msg).
  /// Thread-safe: the HTTP front calls it from many threads at once.
  nlohmann::json handle(const sync_request& request);

  const sync_config& config() const noexcept { return config_; }
  store& data() noexcept { return *store_; }
  const service_settings& settings() const noexcept { return settings_; }

  // -- admin helpers (tests, demos, benchmarks): writes from outside a sync ---
  // Rows are column maps as a client would upload them (values are normalized
  // like uploads); each written row gets a new change sequence and change time,
  // so every client downloads it (a server-side change: also the devices whose
  // uploads wrote the row before). Unknown objects/columns throw protocol_error.

  /// Inserts or replaces many rows of one object in ONE transaction.
  std::size_t load_rows(const std::string& table, const std::vector<nlohmann::json>& rows,
                        const std::string& owner = {});
  /// Inserts a row, or updates the given columns of an existing one.
  void upsert_row(const std::string& table, const nlohmann::json& row, const std::string& owner = {});
  /// Deletes (tombstones) the row with that key; false if there was none.
  bool delete_row(const std::string& table, const nlohmann::json& key);
  std::int64_t count_rows(const std::string& table, bool include_deleted = false);
  /// The live row as a download would send it (columns + konysynchashsum), if any.
  std::optional<nlohmann::json> read_row(const std::string& table, const nlohmann::json& key);

private:
  const sync_config& config_;
  std::shared_ptr<store> store_;
  service_settings settings_;
  std::unique_ptr<const detail::service_model> model_;
};

} // namespace mxsync::server
