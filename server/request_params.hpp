#pragma once
// Reading the parameters of a sync request (docs/protocol.md 1.1, 8.12): the real client
// sends a flat map of string parameters, as a JSON object body or as a form
// (urlencoded or multipart); the nested values UploadRequest, context,
// clientcontext and filterContext travel as JSON-encoded strings.
// Every parse failure is a protocol_error with errcode SY0000E and a message that
// names the parameter at fault.

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <string_view>

namespace mxsync::server {

using param_map = std::map<std::string, std::string>;

/// The errcode for a malformed request.
inline constexpr const char* malformed_request_errcode = "SY0000E";

/// The parameters whose value is a JSON document inside a string.
bool is_json_string_param(std::string_view name);

/// A JSON object body: strings are taken as they are, numbers and booleans by their
/// JSON text, null means "not sent". Objects and arrays are accepted only for the
/// JSON-string parameters (a lenient client may send them unencoded).
param_map parse_json_body(std::string_view body);

/// An application/x-www-form-urlencoded body ('+' is a space, %XX escapes).
param_map parse_form_body(std::string_view body);

/// Dispatches on the Content-Type: form-urlencoded → parse_form_body; anything else
/// (application/json, text/plain, none) → parse_json_body. Multipart bodies are
/// read by the HTTP layer, which hands the fields over as a map.
param_map parse_body(std::string_view content_type, std::string_view body);

/// Decodes the JSON-string parameters that are present and not empty or "null".
/// UploadRequest must decode to an object with a "d" object; context,
/// clientcontext and filterContext to objects.
std::map<std::string, nlohmann::json> decode_json_params(const param_map& params);

/// The value of a parameter, matching the name case-insensitively (the 2013 client
/// sent "appid", later ones "AppID"); nullptr when absent.
const std::string* find_param(const param_map& params, std::string_view name);

/// Percent-decoding; '+' becomes a space when `plus_is_space`.
std::string url_decode(std::string_view text, bool plus_is_space);

} // namespace mxsync::server
