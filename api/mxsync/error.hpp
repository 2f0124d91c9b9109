#pragma once
// Errors as the Volt MX sync API reports them: {errorCode, errorMessage, errorInfo}.
// The codes are the documented ones (docs/protocol.md section 4).

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>

namespace mxsync {

enum class error_code : int {
  invalid_data_type = 7001,
  mandatory_attribute = 7002,
  primary_key_not_specified = 7003,
  scope_loading = 7004,
  sync_reset = 7005,
  register_device = 7006,
  session_break = 7007,
  session_in_progress = 7008,
  no_data_with_primary_key = 7009,
  transaction = 7010,
  db_connection = 7011,
  mark_for_upload = 7012,
  deferred_upload = 7013,
  referential_integrity = 7014,
  length_validation_failed = 7015,
  duplicate_primary_key = 7016,
  input_table_not_defined = 7017,
  malicious_type = 7018,
  sql_statement = 7019,
  upload_failed = 7020,
  download_failed = 7021,
  sync_error = 7022,
  parse_error = 7023,
  chunking = 7024,
  network_call_cancelled = 7025,
  metatable_error = 7026,
  null_value = 7027,
  invalid_mark_for_upload_value = 7028,
  duplicate_unique_key = 7029,
  scope_does_not_exist = 7030,
  table_does_not_exist = 7031,
  invalid_reconcile_config = 7032,
  reconcile_key_undefined = 7033,
  reconcile_session_in_progress = 7034,
  backend_token_expired_for_offline_auth = 7035,
  unknown = 7777,
  unknown_server_error = 8888,
};

/// `value` with every string made valid UTF-8 (bad bytes become U+FFFD). Error texts
/// quote input (a config file, a row, a server answer) that may not be UTF-8, and
/// nlohmann/json refuses to write such text (type_error 316): an error must always be
/// printable. Valid input is returned unchanged.
inline nlohmann::json valid_utf8(nlohmann::json value) {
  try {
    (void)value.dump();
    return value;
  } catch (const nlohmann::json::type_error&) {
    return nlohmann::json::parse(
      value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
}

inline std::string valid_utf8(const std::string& text) {
  return valid_utf8(nlohmann::json(text)).get<std::string>();
}

/// The error object handed to error callbacks.
struct sync_error {
  int code = 0;
  std::string message;
  nlohmann::json info; // errorInfo: null or an object/array with details

  /// {"errorCode": "7008", "errorMessage": ..., "errorInfo": ...}: the code as a string, as
  /// the API page and the real client give it to apps (`code` stays the typed value).
  nlohmann::json to_json() const {
    return valid_utf8(nlohmann::json{
      {"errorCode", std::to_string(code)}, {"errorMessage", message}, {"errorInfo", info}});
  }
};

/// Thrown inside the runtime; turned into a sync_error at the API boundary.
class sync_exception : public std::runtime_error {
public:
  sync_exception(error_code code, std::string message, nlohmann::json info = nullptr)
    : sync_exception(sync_error{static_cast<int>(code), std::move(message), std::move(info)}) {}
  explicit sync_exception(sync_error error)
    : std::runtime_error(valid_utf8(error.message)),
      error_{error.code, valid_utf8(error.message), valid_utf8(std::move(error.info))} {}
  const sync_error& error() const noexcept { return error_; }
  int code() const noexcept { return error_.code; }

private:
  sync_error error_;
};

} // namespace mxsync
