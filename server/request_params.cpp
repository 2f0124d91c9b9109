#include "server/request_params.hpp"

#include "persistence/sync_config.hpp"
#include "server/sync_service.hpp"
#include "transport/json_depth.hpp"

#include <array>
#include <cctype>

namespace mxsync::server {

namespace {

[[noreturn]] void malformed(const std::string& message) {
  throw protocol_error(malformed_request_errcode, message);
}

const char* json_type_name(const nlohmann::json& value) {
  return value.type_name();
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

} // namespace

bool is_json_string_param(std::string_view name) {
  static constexpr std::array<std::string_view, 4> names{"UploadRequest", "context", "clientcontext",
                                                         "filterContext"};
  for (auto known : names)
    if (known == name) return true;
  return false;
}

param_map parse_json_body(std::string_view body) {
  if (transport::too_deep(body))
    malformed("the request body nests deeper than " + std::to_string(transport::max_json_depth) +
              " levels");
  nlohmann::json document;
  try {
    document = nlohmann::json::parse(body);
  } catch (const nlohmann::json::parse_error& e) {
    malformed(std::string{"the request body is not valid JSON: "} + e.what());
  }
  if (!document.is_object())
    malformed(std::string{"the request body must be a JSON object of parameters, got "} +
              json_type_name(document));
  param_map params;
  for (auto& [key, value] : document.items()) {
    switch (value.type()) {
    case nlohmann::json::value_t::null:
      break; // the client leaves null parameters out; an explicit null means the same
    case nlohmann::json::value_t::string:
      params[key] = value.get<std::string>();
      break;
    case nlohmann::json::value_t::boolean:
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float:
      params[key] = value.dump();
      break;
    case nlohmann::json::value_t::object:
    case nlohmann::json::value_t::array:
      if (!is_json_string_param(key))
        malformed("parameter '" + key + "' must be a string, got " + json_type_name(value));
      params[key] = value.dump();
      break;
    default:
      malformed("parameter '" + key + "' has an unsupported type " + json_type_name(value));
    }
  }
  return params;
}

std::string url_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= text.size())
        malformed("truncated percent escape in form body");
      int high = hex_value(text[i + 1]);
      int low = hex_value(text[i + 2]);
      if (high < 0 || low < 0)
        malformed("invalid percent escape '%" + std::string(text.substr(i + 1, 2)) + "' in form body");
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

param_map parse_form_body(std::string_view body) {
  param_map params;
  std::size_t start = 0;
  while (start <= body.size()) {
    auto end = body.find('&', start);
    if (end == std::string_view::npos) end = body.size();
    auto pair = body.substr(start, end - start);
    if (!pair.empty()) {
      auto equals = pair.find('=');
      auto name = url_decode(pair.substr(0, equals), true);
      auto value = equals == std::string_view::npos ? std::string{} : url_decode(pair.substr(equals + 1), true);
      if (name.empty()) malformed("a form field without a name in the request body");
      params[std::move(name)] = std::move(value);
    }
    start = end + 1;
  }
  return params;
}

param_map parse_body(std::string_view content_type, std::string_view body) {
  auto type = lowercase(content_type.substr(0, content_type.find(';')));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  while (!type.empty() && type.front() == ' ') type.erase(type.begin());
  if (type == "application/x-www-form-urlencoded") return parse_form_body(body);
  // The real client labels even its FormData bodies application/json (docs/protocol.md
  // 8.12): a body that does not look like JSON but like a form is read as a form.
  auto first = body.find_first_not_of(" \t\r\n");
  auto looks_like_form_field = [&] {
    auto c = static_cast<unsigned char>(body[first]);
    auto equals = body.find('=');
    return (std::isalnum(c) || c == '_' || c == '%') && equals != std::string_view::npos &&
           equals < body.find_first_of("{[\"");
  };
  if (first != std::string_view::npos && looks_like_form_field()) return parse_form_body(body);
  if (first == std::string_view::npos) malformed("the request body is empty; expected the sync parameters");
  return parse_json_body(body);
}

std::map<std::string, nlohmann::json> decode_json_params(const param_map& params) {
  std::map<std::string, nlohmann::json> decoded;
  for (const auto& [name, text] : params) {
    if (!is_json_string_param(name)) continue;
    if (text.empty() || text == "null") continue;
    if (transport::too_deep(text))
      malformed("parameter '" + name + "' nests deeper than " +
                std::to_string(transport::max_json_depth) + " levels");
    nlohmann::json value;
    try {
      value = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
      malformed("parameter '" + name + "' is not a valid JSON string: " + e.what());
    }
    if (value.is_null()) continue;
    if (!value.is_object())
      malformed("parameter '" + name + "' must encode a JSON object, got " + json_type_name(value));
    if (name == "UploadRequest") {
      auto d = value.find("d");
      if (d == value.end() || !d->is_object())
        malformed("parameter 'UploadRequest' must be {\"d\":{...}}: the \"d\" object is missing");
      auto results = d->find("results");
      if (results != d->end() && !results->is_array())
        malformed("UploadRequest d.results must be an array, got " + std::string{results->type_name()});
    }
    decoded.emplace(name, std::move(value));
  }
  return decoded;
}

const std::string* find_param(const param_map& params, std::string_view name) {
  if (auto exact = params.find(std::string{name}); exact != params.end()) return &exact->second;
  for (const auto& [key, value] : params)
    if (iequals(key, name)) return &value;
  return nullptr;
}

} // namespace mxsync::server
