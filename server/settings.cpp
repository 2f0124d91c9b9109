#include "server/settings.hpp"

#include "persistence/sync_config.hpp"
#include "transport/password_hash.hpp"

#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

namespace mxsync::server {

namespace {

using json = nlohmann::json;

[[noreturn]] void fail(const std::string& message) {
  throw settings_error(message);
}

const json& require_type(const json& value, json::value_t type, const std::string& key,
                         const char* expected) {
  bool ok = value.type() == type ||
            (type == json::value_t::number_integer && value.is_number_unsigned());
  if (!ok) fail("settings key '" + key + "' must be " + expected + ", got " + value.type_name());
  return value;
}

std::string get_string(const json& value, const std::string& key) {
  return require_type(value, json::value_t::string, key, "a string").get<std::string>();
}

std::int64_t get_integer(const json& value, const std::string& key, std::int64_t min,
                         std::int64_t max) {
  require_type(value, json::value_t::number_integer, key, "an integer");
  if (value.is_number_unsigned() &&
      value.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    fail("settings key '" + key + "' is out of range");
  auto number = value.get<std::int64_t>();
  if (number < min || number > max)
    fail("settings key '" + key + "' must be between " + std::to_string(min) + " and " +
         std::to_string(max) + ", got " + std::to_string(number));
  return number;
}

std::string resolve_path(const std::string& path, const std::string& base_dir) {
  if (base_dir.empty() || path.empty() || std::filesystem::path(path).is_absolute()) return path;
  return (std::filesystem::path(base_dir) / path).lexically_normal().string();
}

void check_known_keys(const json& object, const std::set<std::string>& known, const std::string& where) {
  for (const auto& item : object.items()) {
    if (known.count(item.key()) == 0) {
      std::string list;
      for (const auto& key : known) list += (list.empty() ? "" : ", ") + key;
      fail("unknown settings key '" + item.key() + "' in " + where + " (known keys: " + list + ")");
    }
  }
}

conflict_policy parse_conflict_policy(const std::string& text, const std::string& key) {
  std::string name;
  for (char c : text)
    if (c != '_' && c != '-' && c != ' ') name.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (name == "clientwins") return conflict_policy::client_wins;
  if (name == "serverwins") return conflict_policy::server_wins;
  fail("settings key '" + key + "' must be \"clientwins\" or \"serverwins\", got \"" + text + "\"");
}

user_entry parse_user(const json& value, const std::string& key) {
  require_type(value, json::value_t::object, key, "an object {\"userid\", \"password\" or \"digests\"}");
  check_known_keys(value, {"userid", "password", "digests"}, key);
  user_entry user;
  if (!value.contains("userid")) fail("settings key '" + key + "' needs a \"userid\"");
  user.userid = get_string(value["userid"], key + ".userid");
  if (user.userid.empty()) fail("settings key '" + key + ".userid' must not be empty");
  if (value.contains("password")) user.password = get_string(value["password"], key + ".password");
  if (value.contains("digests")) {
    const auto& digests = require_type(value["digests"], json::value_t::object, key + ".digests",
                                       "an object {\"<algorithm>\": \"<digest>\"}");
    for (const auto& [algorithm, digest] : digests.items()) {
      const auto& algorithms = transport::password_hash_algorithms();
      if (std::find(algorithms.begin(), algorithms.end(), algorithm) == algorithms.end())
        fail("settings key '" + key + ".digests' names an unknown algorithm '" + algorithm +
             "' (use sha1, sha224, sha256, sha384, sha512, md2, md4, md5 or none)");
      user.digests[algorithm] = get_string(digest, key + ".digests." + algorithm);
    }
  }
  if (!user.password && user.digests.empty())
    fail("settings key '" + key + "' (user '" + user.userid + "') needs a \"password\" or \"digests\"");
  return user;
}

scope_settings parse_scope(const json& value, const std::string& key) {
  require_type(value, json::value_t::object, key, "an object");
  check_known_keys(value, {"conflict_policy", "owner_columns"}, key);
  scope_settings scope;
  if (value.contains("conflict_policy"))
    scope.conflicts = parse_conflict_policy(get_string(value["conflict_policy"], key + ".conflict_policy"),
                                            key + ".conflict_policy");
  if (value.contains("owner_columns")) {
    const auto& owners = require_type(value["owner_columns"], json::value_t::object, key + ".owner_columns",
                                      "an object {\"<table>\": \"<column>\"}");
    for (const auto& [table, column] : owners.items())
      scope.owner_column[table] = get_string(column, key + ".owner_columns." + table);
  }
  return scope;
}

} // namespace

void validate_web_context(const std::string& name, const std::string& key) {
  if (name.empty()) fail(key + " must not be empty");
  for (char c : name) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-';
    if (!ok)
      fail(key + " must be one path segment of the characters A-Z a-z 0-9 . _ -, got '" + name + "'");
  }
  if (name == "." || name == "..") fail(key + " must be a name, not '" + name + "'");
}

void validate_web_contexts(const web_context_names& names) {
  validate_web_context(names.upload, "the upload web context (--upload-context, settings key web_contexts.upload)");
  validate_web_context(names.download,
                       "the download web context (--download-context, settings key web_contexts.download)");
  if (names.upload == names.download)
    fail("the upload and download web contexts must differ, both are '" + names.upload + "'");
  auto check_free = [](const std::string& name, const char* which, const char* other) {
    for (const char* taken : {"registerdevice", "downloadchunk", "authenticateUser", other})
      if (name == taken)
        fail(std::string{"the "} + which + " web context '" + name + "' is the name of another endpoint");
  };
  check_free(names.upload, "upload", "download");
  check_free(names.download, "download", "upload");
}

log_level parse_log_level(const std::string& name) {
  if (name == "error" || name == "quiet") return log_level::error;
  if (name == "warning" || name == "warn") return log_level::warning;
  if (name == "info") return log_level::info;
  if (name == "debug") return log_level::debug;
  fail("unknown log level '" + name + "' (use error, warning, info or debug)");
}

const char* to_string(log_level level) {
  switch (level) {
  case log_level::error: return "error";
  case log_level::warning: return "warning";
  case log_level::info: return "info";
  case log_level::debug: return "debug";
  }
  return "info";
}

user_entry parse_user_option(const std::string& text) {
  auto colon = text.find(':');
  if (colon == std::string::npos || colon == 0)
    fail("--user expects <userid>:<password>, got '" + text + "'");
  user_entry user;
  user.userid = text.substr(0, colon);
  user.password = text.substr(colon + 1);
  return user;
}

std::pair<std::string, std::string> parse_token_option(const std::string& text) {
  auto colon = text.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    fail("--token expects <userid>:<token>, got '" + text + "'");
  return {text.substr(0, colon), text.substr(colon + 1)};
}

void apply_settings_json(server_settings& settings, const json& value, const std::string& base_dir) {
  if (!value.is_object()) fail(std::string{"the settings must be a JSON object, got "} + value.type_name());
  check_known_keys(value,
                   {"host", "port", "config", "db", "users", "previous_versions", "max_body_bytes", "threads",
                    "keep_alive_timeout_seconds", "keep_alive_max_requests", "read_timeout_seconds", "tls",
                    "log_level", "max_batch_size", "chunk_payload_ttl_seconds", "scopes", "admin_http", "tokens",
                    "web_contexts", "compression"},
                   "the settings file");
  constexpr auto int64_max = std::numeric_limits<std::int64_t>::max();
  if (value.contains("host")) settings.host = get_string(value["host"], "host");
  if (value.contains("port")) settings.port = static_cast<int>(get_integer(value["port"], "port", 0, 65535));
  if (value.contains("config")) settings.config_path = resolve_path(get_string(value["config"], "config"), base_dir);
  if (value.contains("db")) settings.db_path = resolve_path(get_string(value["db"], "db"), base_dir);
  if (value.contains("users")) {
    const auto& users = require_type(value["users"], json::value_t::array, "users", "an array of users");
    for (std::size_t i = 0; i < users.size(); ++i)
      settings.users.push_back(parse_user(users[i], "users[" + std::to_string(i) + "]"));
  }
  if (value.contains("tokens")) {
    const auto& tokens = require_type(value["tokens"], json::value_t::array, "tokens",
                                      "an array of {\"userid\", \"token\"}");
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      auto key = "tokens[" + std::to_string(i) + "]";
      require_type(tokens[i], json::value_t::object, key, "an object {\"userid\", \"token\"}");
      check_known_keys(tokens[i], {"userid", "token"}, key);
      if (!tokens[i].contains("userid") || !tokens[i].contains("token"))
        fail("settings key '" + key + "' needs a \"userid\" and a \"token\"");
      auto userid = get_string(tokens[i]["userid"], key + ".userid");
      auto token = get_string(tokens[i]["token"], key + ".token");
      if (userid.empty() || token.empty()) fail("settings key '" + key + "' needs a non-empty userid and token");
      settings.tokens.emplace_back(std::move(userid), std::move(token));
    }
  }
  if (value.contains("previous_versions")) {
    const auto& versions = require_type(value["previous_versions"], json::value_t::array, "previous_versions",
                                        "an array of strings");
    settings.previous_versions.clear();
    for (std::size_t i = 0; i < versions.size(); ++i)
      settings.previous_versions.push_back(get_string(versions[i], "previous_versions[" + std::to_string(i) + "]"));
  }
  if (value.contains("max_body_bytes"))
    settings.max_body_bytes = static_cast<std::size_t>(get_integer(value["max_body_bytes"], "max_body_bytes", 1024, int64_max));
  if (value.contains("compression")) {
    const auto& compression = require_type(value["compression"], json::value_t::object, "compression",
                                           "an object {\"gzip_level\", \"min_bytes\"}");
    check_known_keys(compression, {"gzip_level", "min_bytes"}, "compression");
    if (compression.contains("gzip_level"))
      settings.compression.gzip_level =
          static_cast<int>(get_integer(compression["gzip_level"], "compression.gzip_level", 0, 9));
    if (compression.contains("min_bytes"))
      settings.compression.min_bytes = static_cast<std::size_t>(
          get_integer(compression["min_bytes"], "compression.min_bytes", 0, int64_max));
  }
  if (value.contains("threads"))
    settings.threads = static_cast<std::size_t>(get_integer(value["threads"], "threads", 1, 4096));
  if (value.contains("keep_alive_timeout_seconds"))
    settings.keep_alive_timeout_seconds = static_cast<std::time_t>(
        get_integer(value["keep_alive_timeout_seconds"], "keep_alive_timeout_seconds", 0, 3600));
  if (value.contains("keep_alive_max_requests"))
    settings.keep_alive_max_requests = static_cast<std::size_t>(
        get_integer(value["keep_alive_max_requests"], "keep_alive_max_requests", 1, int64_max));
  if (value.contains("read_timeout_seconds"))
    settings.read_timeout_seconds = static_cast<std::time_t>(
        get_integer(value["read_timeout_seconds"], "read_timeout_seconds", 1, 3600));
  if (value.contains("tls")) {
    const auto& tls = require_type(value["tls"], json::value_t::object, "tls", "an object {\"cert\", \"key\"}");
    check_known_keys(tls, {"cert", "key"}, "tls");
    if (tls.contains("cert")) settings.tls_cert = resolve_path(get_string(tls["cert"], "tls.cert"), base_dir);
    if (tls.contains("key")) settings.tls_key = resolve_path(get_string(tls["key"], "tls.key"), base_dir);
  }
  if (value.contains("web_contexts")) {
    const auto& contexts = require_type(value["web_contexts"], json::value_t::object, "web_contexts",
                                        "an object {\"upload\", \"download\"}");
    check_known_keys(contexts, {"upload", "download"}, "web_contexts");
    if (contexts.contains("upload")) {
      settings.web_contexts.upload = get_string(contexts["upload"], "web_contexts.upload");
      validate_web_context(settings.web_contexts.upload, "settings key 'web_contexts.upload'");
    }
    if (contexts.contains("download")) {
      settings.web_contexts.download = get_string(contexts["download"], "web_contexts.download");
      validate_web_context(settings.web_contexts.download, "settings key 'web_contexts.download'");
    }
  }
  if (value.contains("admin_http"))
    settings.admin_http = require_type(value["admin_http"], json::value_t::boolean, "admin_http", "true or false")
                              .get<bool>();
  if (value.contains("log_level")) settings.level = parse_log_level(get_string(value["log_level"], "log_level"));
  if (value.contains("max_batch_size"))
    settings.service.max_batch_size = get_integer(value["max_batch_size"], "max_batch_size", 1, int64_max);
  if (value.contains("chunk_payload_ttl_seconds"))
    settings.service.chunk_payload_ttl_seconds =
        get_integer(value["chunk_payload_ttl_seconds"], "chunk_payload_ttl_seconds", 1, int64_max);
  if (value.contains("scopes")) {
    const auto& scopes = require_type(value["scopes"], json::value_t::object, "scopes",
                                      "an object {\"<scope>\": {...}}");
    for (const auto& [name, scope] : scopes.items())
      settings.service.scopes[name] = parse_scope(scope, "scopes." + name);
  }
}

void apply_settings_file(server_settings& settings, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot read the settings file '" + path + "'");
  std::stringstream text;
  text << in.rdbuf();
  json value;
  try {
    value = json::parse(text.str());
  } catch (const json::parse_error& e) {
    fail("the settings file '" + path + "' is not valid JSON: " + e.what());
  }
  try {
    apply_settings_json(settings, value, std::filesystem::path(path).parent_path().string());
  } catch (const settings_error& e) {
    fail(path + ": " + e.what());
  }
}

void validate_settings(const server_settings& settings) {
  if (settings.config_path.empty()) fail("no sync configuration given (--config or settings key \"config\")");
  if (settings.db_path.empty()) fail("no data store given (--db or settings key \"db\")");
  if (settings.host.empty()) fail("the listen host must not be empty");
  if (settings.port < 0 || settings.port > 65535) fail("the port must be between 0 and 65535");
  if (settings.tls_cert.has_value() != settings.tls_key.has_value())
    fail("TLS needs both a certificate and a key (--tls-cert and --tls-key)");
  for (const auto* file : {&settings.tls_cert, &settings.tls_key})
    if (*file && !std::filesystem::exists(**file)) fail("the TLS file '" + **file + "' does not exist");
  if (settings.admin_http && settings.host != "127.0.0.1" && settings.host != "::1" && settings.host != "localhost")
    fail("admin_http needs a loopback listen host (127.0.0.1, ::1 or localhost), not '" + settings.host + "'");
  if (settings.users.empty() && settings.tokens.empty())
    fail("no users: give --user <userid>:<password> or settings key \"users\"");
  if (settings.threads < 1) fail("threads must be at least 1");
  if (settings.max_body_bytes < 1024) fail("max_body_bytes must be at least 1024");
  validate_web_contexts(settings.web_contexts);
}

void validate_against_config(const server_settings& settings, const sync_config& config) {
  for (const auto& [scope_name, scope] : settings.service.scopes) {
    const auto* scope_def = config.find_scope(scope_name);
    if (!scope_def) fail("settings scope '" + scope_name + "' is not in the sync configuration");
    for (const auto& [table_name, column_name] : scope.owner_column) {
      const auto* table = scope_def->find_table(table_name);
      if (!table) fail("settings scopes." + scope_name + ".owner_columns names table '" + table_name +
                       "', which scope '" + scope_name + "' does not have");
      if (!table->find_column(column_name))
        fail("settings scopes." + scope_name + ".owner_columns." + table_name + " names column '" +
             column_name + "', which table '" + table_name + "' does not have");
    }
  }
}

} // namespace mxsync::server
