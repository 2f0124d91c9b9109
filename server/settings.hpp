#pragma once
// The settings of mxsync-server: an optional JSON file, overridden by the command
// line. Every key, its type and default are documented in docs/server.md; unknown
// keys and wrong types are rejected with a message that names the key.

#include "server/response_encoding.hpp"
#include "server/sync_service.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <ctime>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace mxsync::server {

class settings_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

enum class log_level { error, warning, info, debug };
log_level parse_log_level(const std::string& name); // throws settings_error
const char* to_string(log_level level);

/// One user: a plain password (every client digest of it is accepted) and/or
/// pre-computed forms by algorithm ({"sha256":"<hex>", "none":"<plain>"}).
struct user_entry {
  std::string userid;
  std::optional<std::string> password;
  std::map<std::string, std::string> digests;
};

/// Parses "userid:password" (the --user option); the password may contain ':'.
user_entry parse_user_option(const std::string& text);
/// Parses "userid:token" (the --token option).
std::pair<std::string, std::string> parse_token_option(const std::string& text);

/// The names the upload and download endpoints are served under besides their standard
/// names: a Foundry app may set uploadwebcontext/downloadwebcontext to its own service
/// path (the client then posts to <base><name>). Each is one path segment.
struct web_context_names {
  std::string upload = "upload";
  std::string download = "download";

  bool operator==(const web_context_names&) const = default;
};

/// Throws settings_error unless `name` is a usable web context: non-empty, only
/// A-Z a-z 0-9 . _ - (one path segment), not "." or "..". `key` names the setting.
void validate_web_context(const std::string& name, const std::string& key);
/// Each name valid, the two different, and neither the name of another endpoint
/// (registerdevice, downloadchunk, authenticateUser, or the other's standard name).
void validate_web_contexts(const web_context_names& names);

struct server_settings {
  std::string host = "127.0.0.1"; ///< loopback unless told otherwise
  int port = 8080;                 ///< 0 = any free port
  std::string config_path;         ///< the sync configuration (konysyncClientSyncConfig)
  std::string db_path;             ///< the server's data store (SQLite file)
  std::vector<user_entry> users;
  /// Foundry claims tokens accepted as logins: (userid, token). A client given only
  /// an authtoken sends X-Kony-Authorization and no userid/password.
  std::vector<std::pair<std::string, std::string>> tokens;
  /// Older config Versions the server knows: a client on one of them is told to
  /// upgrade (SY3001E); any other mismatch is SY3005E.
  std::vector<std::string> previous_versions;
  std::size_t max_body_bytes = 64 * 1024 * 1024;
  compression_settings compression; ///< gzip of answers (response_encoding.hpp)
  std::size_t threads = 256;                ///< worker threads (one per open connection)
  std::time_t keep_alive_timeout_seconds = 5;
  std::size_t keep_alive_max_requests = 1000;
  std::time_t read_timeout_seconds = 30;
  std::optional<std::string> tls_cert; ///< PEM file; with tls_key: serve https
  std::optional<std::string> tls_key;
  log_level level = log_level::info;
  /// Serve POST /mxsync/admin/{load,upsert,delete} (loopback host and clients only).
  bool admin_http = false;
  /// Extra endpoint names for upload and download (settings key web_contexts,
  /// --upload-context, --download-context); the standard names always work.
  web_context_names web_contexts;
  service_settings service;

  bool tls_enabled() const { return tls_cert.has_value() && tls_key.has_value(); }
};

/// Applies the keys of a settings JSON object onto `settings` (keys not given keep
/// their current value). Relative paths are resolved against `base_dir`.
void apply_settings_json(server_settings& settings, const nlohmann::json& json,
                         const std::string& base_dir = {});

/// Reads and applies a settings file.
void apply_settings_file(server_settings& settings, const std::string& path);

/// Checks the complete settings (after the command line): required paths, port
/// range, TLS pair, sizes; and that every scope, table and owner column in
/// `service` exists in the sync configuration.
void validate_settings(const server_settings& settings);
void validate_against_config(const server_settings& settings, const sync_config& config);

} // namespace mxsync::server
