#include "transport/protocol_codec.hpp"

#include "transport/json_depth.hpp"
#include "transport/password_hash.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <stdexcept>

namespace mxsync::transport {

using nlohmann::json;
using nlohmann::ordered_json;

namespace {

// Request JSON is built with ordered_json so that keys go out in the order the real
// client writes them (the recorded UploadRequest compares byte for byte).
template <class Json>
Json column_to(const column_value& value) {
  return std::visit(
    [](const auto& v) -> Json {
      using T = std::decay_t<decltype(v)>;
      if constexpr (std::is_same_v<T, std::monostate>)
        return nullptr;
      else
        return v;
    },
    value);
}

std::string lower(std::string_view text) {
  std::string out{text};
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::optional<std::int64_t> to_int(const json& value) {
  if (value.is_number_integer())
    return value.get<std::int64_t>();
  if (value.is_number_float())
    return static_cast<std::int64_t>(value.get<double>());
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    std::int64_t out = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    if (ec == std::errc{} && end == text.data() + text.size() && !text.empty())
      return out;
  }
  return std::nullopt;
}

/// Strings as they are, anything else by its JSON text; null -> nullopt.
std::optional<std::string> to_text(const json& value) {
  if (value.is_null())
    return std::nullopt;
  if (value.is_string())
    return value.get<std::string>();
  return value.dump();
}

const json* member(const json& object, std::string_view key) {
  if (!object.is_object())
    return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::string text_member(const json& object, std::string_view key) {
  const json* value = member(object, key);
  return value ? to_text(*value).value_or("") : std::string{};
}

int fallback_code(operation op) {
  switch (op) {
    case operation::upload:
      return codes::upload_failed;
    case operation::download:
    case operation::download_chunk:
    case operation::reconcile:
      return codes::download_failed;
    default:
      return codes::unknown_server_error;
  }
}

std::optional<server_details> parse_server(const json& d) {
  const json* server = member(d, "server");
  if (!server || !server->is_object())
    return std::nullopt;
  return server_details{text_member(*server, "hostName"), text_member(*server, "ipAddress")};
}

std::optional<session_info> parse_session(const json& d) {
  const json* session = member(d, "__session");
  if (!session || !session->is_object())
    return std::nullopt;
  return session_info{text_member(*session, "id"), text_member(*session, "requestnumber")};
}

void fill_common(answer_common& out, const json& d) {
  out.server = parse_server(d);
  out.session = parse_session(d);
}

protocol_error malformed_answer(operation op, std::string what, const json* d = nullptr) {
  protocol_error error;
  error.code = fallback_code(op);
  error.message = std::string{error_message_for(error.code)};
  error.info = {{"reason", std::move(what)}};
  if (d)
    error.server = parse_server(*d);
  return error;
}

/// The answer's "d" object, or the error the answer reports, or a malformed-answer error.
result<const json*> answer_payload(const json& answer, operation op) {
  if (auto error = answer_error(answer, op))
    return std::move(*error);
  const json* d = member(answer, "d");
  if (!d || !d->is_object())
    return malformed_answer(op, "the answer has no \"d\" object");
  return d;
}

/// The URL of `which`; a claims token in the credentials selects the api/v1 base even
/// when the endpoint config did not say so.
std::string url_for(const request_context& context, endpoint which) {
  if (context.user.auth_token && !context.endpoint.has_auth_token) {
    auto config = context.endpoint;
    config.has_auth_token = true;
    if (config.app_id.empty())
      config.app_id = context.user.app_id;
    return endpoint_url(config, which);
  }
  return endpoint_url(context.endpoint, which);
}

void add_common_params(wire_request& out, const request_context& context) {
  const auto& user = context.user;
  bool has_token = user.auth_token.has_value();
  // With a claims token the user is sent only when both userid and password are (1.2).
  if (!has_token || (!user.user_id.empty() && !user.password.empty())) {
    out.params.emplace_back("userid", user.user_id);
    out.params.emplace_back("password", hash_password(user.password_hash_algorithm, user.password));
  }
  if (!has_token) // with a token the app id is only in the URL (8.9)
    out.params.emplace_back("AppID", user.app_id);
  if (context.session) {
    out.params.emplace_back("konysyncsessionid", context.session->id);
    out.params.emplace_back("konysyncrequestnumber", context.session->request_number);
  }
  out.headers.emplace_back("Content-Type", "application/json");
  if (has_token)
    out.headers.emplace_back("X-Kony-Authorization", *user.auth_token);
}

void add_scope_params(wire_request& out, const scope_settings& scope) {
  out.params.emplace_back("scopename", scope.scope_name);
  out.params.emplace_back("strategy", scope.strategy);
  out.params.emplace_back("instanceid", scope.instance_id);
  out.params.emplace_back("clientid", scope.client_id);
  out.params.emplace_back("appVersion", scope.app_version);
}

std::string context_param(const json& filters) {
  ordered_json context;
  context["d"]["Filters"] = ordered_json::parse(filters.dump());
  return context.dump();
}

enum class download_order { normal, bulk_get };

/// The download params after the common ones, in the order the real client sends them
/// (its bulkGet builds the map in another order; the recordings show both).
void add_download_tail(wire_request& out, const download_request& request,
                       download_order order = download_order::normal) {
  if (order == download_order::normal) {
    out.params.emplace_back("enablebatching", "true");
    out.params.emplace_back("batchsize", std::to_string(request.batch_size));
    out.params.emplace_back("tickcount", request.tick_count);
    add_scope_params(out, request.scope);
  } else {
    out.params.emplace_back("tickcount", request.tick_count);
    add_scope_params(out, request.scope);
    out.params.emplace_back("batchsize", std::to_string(request.batch_size));
    out.params.emplace_back("enablebatching", "true");
  }
  if (request.chunk_size)
    out.params.emplace_back("chunksize", std::to_string(*request.chunk_size));
  if (request.scope.upload_error_policy)
    out.params.emplace_back("uploaderrorpolicy", *request.scope.upload_error_policy);
  if (request.filters)
    out.params.emplace_back("context", context_param(*request.filters));
  if (request.delete_chunk_payload_id)
    out.params.emplace_back("deletechunkpayloadid", *request.delete_chunk_payload_id);
  if (request.upper_tick_count)
    out.params.emplace_back("uppertickcount", *request.upper_tick_count);
  if (request.upgrade_context)
    out.params.emplace_back("upgradecontext", *request.upgrade_context);
}

sync_row parse_row(const json& item) {
  sync_row row;
  if (!item.is_object())
    return row;
  static constexpr std::string_view client_prefix = "konysyncClient";
  for (const auto& [key, value] : item.items()) {
    if (key == "__metadata") {
      row.object_type = text_member(value, "type");
      row.change_type = text_member(value, "changeType");
      if (const json* m = member(value, "errorMessage"))
        row.error_message = to_text(*m);
      if (const json* m = member(value, "errorRootCause"))
        row.error_root_cause = to_text(*m);
      if (const json* m = member(value, "intermediateErrors"); m && m->is_array())
        for (const auto& e : *m)
          row.intermediate_errors.push_back(to_text(e).value_or(""));
    } else if (key == "konysynchashsum") {
      row.hashsum = to_text(value);
    } else if (key == "konysyncMergedWithEIS") {
      row.merged_with_eis = to_text(value).value_or("");
    } else if (key == "konysyncreplaysequence") {
      row.replay_sequence = to_int(value);
    } else if (key == "konysyncversionnumber") {
      row.version_number = to_int(value);
    } else if (key == "konysyncchangetype") {
      row.change_type_code = to_int(value);
    } else if (key == "konysyncchangetime") {
      // local bookkeeping of the client, echoed by some servers: not data
    } else if (key.size() > client_prefix.size() && key.starts_with(client_prefix)) {
      row.client_keys.emplace_back(key.substr(client_prefix.size()), column_value_from_json(value));
    } else {
      row.columns.emplace_back(key, column_value_from_json(value));
    }
  }
  return row;
}

std::vector<upload_error_entry> parse_upload_errors(const json& list) {
  std::vector<upload_error_entry> out;
  if (!list.is_array())
    return out;
  for (const auto& item : list) {
    if (!item.is_object())
      continue;
    for (const auto& [key, detail] : item.items()) {
      upload_error_entry entry;
      entry.key = key;
      entry.object_type = text_member(detail, "type");
      entry.error_message = text_member(detail, "errorMessage");
      if (const json* pks = member(detail, "primaryKeys"); pks && pks->is_object())
        for (const auto& [pk, v] : pks->items())
          entry.primary_keys.emplace_back(pk, column_value_from_json(v));
      out.push_back(std::move(entry));
    }
  }
  return out;
}

std::optional<std::string> text_of_either(const json& d, std::string_view a, std::string_view b) {
  if (const json* v = member(d, a))
    return to_text(*v);
  if (const json* v = member(d, b))
    return to_text(*v);
  return std::nullopt;
}

} // namespace

// ---------------------------------------------------------------------------------
// Values and errors

json to_json(const column_value& value) {
  return column_to<json>(value);
}

column_value column_value_from_json(const json& value) {
  switch (value.type()) {
    case json::value_t::null:
      return std::monostate{};
    case json::value_t::boolean:
      return std::int64_t{value.get<bool>() ? 1 : 0};
    case json::value_t::number_integer:
      return value.get<std::int64_t>();
    case json::value_t::number_unsigned: {
      auto v = value.get<std::uint64_t>();
      if (v <= static_cast<std::uint64_t>(INT64_MAX))
        return static_cast<std::int64_t>(v);
      return std::to_string(v);
    }
    case json::value_t::number_float:
      return value.get<double>();
    case json::value_t::string:
      return value.get<std::string>();
    default:
      return value.dump();
  }
}

const column_value* find_column(const column_list& columns, std::string_view name) {
  for (const auto& [key, value] : columns)
    if (key == name)
      return &value;
  return nullptr;
}

std::string_view error_message_for(int code) {
  switch (code) {
    case 1000: return "Unknown connect error";
    case 1011: return "No network connectivity";
    case 1012: return "Request failed";
    case 1013: return "Invalid JSON from middleware";
    case 1014: return "Request timed out";
    case 1015: return "Cannot find host";
    case 1016: return "Cannot connect to the server";
    case 1022: return "Request cancelled";
    case 1200: return "SSL error";
    case 7020: return "Error occurred in Uploading changes to Server";
    case 7021: return "Error occurred in Downloading changes from Sever";
    case 7024: return "Error occurred while downloading one or more chunks.";
    case 8888: return "Unknown Error from the server";
    default: return "";
  }
}

std::optional<std::string> protocol_error::server_errcode() const {
  if (const json* errcode = member(info, "errcode"); errcode && errcode->is_string())
    return errcode->get<std::string>();
  return std::nullopt;
}

sync_error protocol_error::to_sync_error() const {
  sync_error out{code, message, info};
  if (server || new_application_version || old_application_version || mfcode) {
    if (!out.info.is_object())
      out.info = out.info.is_null() ? json::object() : json{{"detail", out.info}};
    if (server)
      out.info["serverDetails"] = {{"hostName", server->host_name}, {"ipAddress", server->ip_address}};
    if (new_application_version)
      out.info["newApplicationVersion"] = *new_application_version;
    if (old_application_version)
      out.info["oldApplicationVersion"] = *old_application_version;
    if (mfcode)
      out.info["mfcode"] = *mfcode;
  }
  return out;
}

protocol_error network_error(int code, std::string detail) {
  protocol_error error;
  error.code = code;
  error.message = std::string{error_message_for(code)};
  if (error.message.empty())
    error.message = "Network error";
  error.info = {{"opstatus", code}};
  if (!detail.empty())
    error.info["errmsg"] = std::move(detail);
  return error;
}

// ---------------------------------------------------------------------------------
// Endpoints

std::string server_base_url(const endpoint_config& config) {
  if (config.server_url) {
    if (config.server_url->empty() || config.server_url->back() != '/')
      throw std::invalid_argument("serverurl must end with \"/\": " + *config.server_url);
    return *config.server_url;
  }
  if (config.server_host.empty())
    throw std::invalid_argument("neither serverurl nor serverhost is configured");
  std::string base = config.is_secure ? "https://" : "http://";
  base += config.server_host;
  // The real client appends ":80" when no port is configured, even with https (1.1).
  if (!config.server_port)
    base += ":80";
  else if (!config.server_port->empty())
    base += ":" + *config.server_port;
  if (config.has_auth_token)
    base += "/syncservice/api/v1/" + config.app_id + "/";
  else
    base += "/syncservice/resources/";
  return base;
}

std::string endpoint_url(const endpoint_config& config, endpoint which) {
  auto base = server_base_url(config);
  switch (which) {
    case endpoint::register_device:
      return base + "registerdevice";
    case endpoint::upload:
      return base + config.upload_web_context.value_or("upload");
    case endpoint::download:
      return base + config.download_web_context.value_or("download");
    case endpoint::download_chunk:
      return base + "downloadchunk";
    case endpoint::upgrade:
      return base + "upgrade";
  }
  return base;
}

// ---------------------------------------------------------------------------------
// Requests

const std::string* wire_request::param(std::string_view name) const {
  for (const auto& [key, value] : params)
    if (key == name)
      return &value;
  return nullptr;
}

std::string wire_request::body() const {
  ordered_json object = ordered_json::object();
  for (const auto& [key, value] : params)
    object[key] = value;
  return object.dump();
}

http_request to_http_request(const wire_request& request, std::chrono::milliseconds timeout) {
  return http_request{request.url, request.body(), request.headers, timeout};
}

wire_request build_register_device(const request_context& context, const device_info& device) {
  wire_request out;
  out.url = url_for(context, endpoint::register_device);
  add_common_params(out, context);
  out.params.emplace_back("os", device.os);
  out.params.emplace_back("model", device.model);
  out.params.emplace_back("version", device.version);
  out.params.emplace_back("deviceID", device.device_id);
  out.params.emplace_back("userAgent", device.user_agent);
  out.params.emplace_back("channel", device.channel);
  out.params.emplace_back("platform", device.platform);
  return out;
}

wire_request build_upgrade(const request_context& context, const upgrade_request& request) {
  wire_request out;
  out.url = url_for(context, endpoint::upgrade);
  add_common_params(out, context);
  out.params.emplace_back("clientid", request.client_id);
  out.params.emplace_back("appversion", request.app_version);
  out.params.emplace_back("dbversion", request.db_version);
  out.params.emplace_back("scriptsrequired", request.scripts_required ? "true" : "false");
  return out;
}

std::string_view to_wire(change_kind kind) {
  switch (kind) {
    case change_kind::insert:
      return "insert";
    case change_kind::update:
      return "update";
    case change_kind::remove:
      return "delete";
  }
  return "insert";
}

std::string upload_request_json(const upload_request& request) {
  ordered_json results = ordered_json::array();
  for (const auto& row : request.rows) {
    ordered_json item;
    item["metadata"] = {{"type", row.object_type},
                        {"uri", request.scope_database_name},
                        {"changetype", to_wire(row.change)},
                        {"syncConflict", ""}};
    for (const auto& [name, value] : row.columns) {
      if (name == "ServerId" || name == "UpdateId") // the client never sends these (1.4)
        continue;
      if (std::holds_alternative<std::monostate>(value))
        item[name] = request.null_spelling;
      else
        item[name] = column_to<ordered_json>(value);
    }
    item["konysyncversionnumber"] = row.version_number;
    item["konysyncchangetype"] = row.change_type;
    item["konysyncreplaysequence"] = row.replay_sequence;
    if (row.send_change_time)
      item["konysyncchangetime"] = nullptr;
    if (row.hashsum)
      item["konysynchashsum"] = *row.hashsum;
    results.push_back(std::move(item));
  }
  ordered_json d;
  d["results"] = std::move(results);
  d["sync"] = "not implemented";
  d["scopeName"] = request.scope.scope_name;
  d["serverBlob"] = request.server_blob;
  d["clientid"] = request.scope.client_id;
  d["SequenceNumber"] = request.sequence_number;
  d["moreChangesAvailable"] = request.more_changes_available;
  ordered_json envelope;
  envelope["d"] = std::move(d);
  return envelope.dump();
}

std::string client_context_json(const client_context_values& values, bool initial_sync) {
  ordered_json object = ordered_json::object();
  if (initial_sync)
    object["InitialSync"] = "true";
  for (const auto& [key, value] : values)
    object[key] = value;
  return object.dump();
}

wire_request build_upload(const request_context& context, const upload_request& request) {
  wire_request out;
  out.url = url_for(context, endpoint::upload);
  add_common_params(out, context);
  out.params.emplace_back("UploadRequest", upload_request_json(request));
  add_scope_params(out, request.scope);
  if (request.scope.upload_error_policy)
    out.params.emplace_back("uploaderrorpolicy", *request.scope.upload_error_policy);
  out.params.emplace_back("clientcontext", client_context_json(request.client_context, false));
  if (request.use_history_config)
    out.params.emplace_back("usehistoryconfig", "true");
  return out;
}

wire_request build_download(const request_context& context, const download_request& request) {
  wire_request out;
  out.url = url_for(context, endpoint::download);
  // The real client puts clientcontext first (its ondownloadstart hook rebuilds the map).
  out.params.emplace_back("clientcontext",
                          client_context_json(request.client_context, request.initial_sync));
  add_common_params(out, context);
  add_download_tail(out, request);
  return out;
}

wire_request build_download_chunk(const request_context& context, const download_request& request,
                                  std::string_view payload_id, std::uint32_t chunk_count,
                                  std::uint32_t chunk_number) {
  wire_request out = build_download(context, request);
  out.url = url_for(context, endpoint::download_chunk);
  out.params.emplace_back("payloadid", std::string{payload_id});
  out.params.emplace_back("chunkcount", std::to_string(chunk_count));
  out.params.emplace_back("chunknumber", std::to_string(chunk_number));
  return out;
}

std::string filter_context_json(const std::vector<reconcile_pk_query>& objects) {
  ordered_json d = ordered_json::object();
  for (const auto& object : objects)
    d[object.object_type]["fields"] = object.pk_fields;
  ordered_json envelope;
  envelope["d"] = std::move(d);
  return envelope.dump();
}

std::string filter_context_json(const std::vector<reconcile_bulk_get_query>& objects) {
  ordered_json d = ordered_json::object();
  for (const auto& object : objects) {
    ordered_json keys = ordered_json::array();
    for (const auto& key : object.keys) {
      ordered_json parts = ordered_json::array();
      for (const auto& [name, value] : key)
        parts.push_back({{"Name", name}, {"Value", column_to<ordered_json>(value)}});
      keys.push_back(std::move(parts));
    }
    d[object.object_type]["keys"] = std::move(keys);
    d[object.object_type]["fields"] = object.fields;
  }
  ordered_json envelope;
  envelope["d"] = std::move(d);
  return envelope.dump();
}

wire_request build_get_all_pks(const request_context& context, const download_request& request,
                               const std::vector<reconcile_pk_query>& objects) {
  wire_request out;
  out.url = url_for(context, endpoint::download);
  add_common_params(out, context);
  out.params.emplace_back("filterContext", filter_context_json(objects));
  add_download_tail(out, request);
  out.params.emplace_back("clientcontext",
                          client_context_json(request.client_context, request.initial_sync));
  return out;
}

wire_request build_bulk_get(const request_context& context, const download_request& request,
                            const std::vector<reconcile_bulk_get_query>& objects) {
  wire_request out;
  out.url = url_for(context, endpoint::download);
  add_common_params(out, context);
  out.params.emplace_back("filterContext", filter_context_json(objects));
  add_download_tail(out, request, download_order::bulk_get);
  out.params.emplace_back("clientcontext",
                          client_context_json(request.client_context, request.initial_sync));
  return out;
}

// ---------------------------------------------------------------------------------
// Answers

bool is_true_flag(const json& value) {
  if (value.is_boolean())
    return value.get<bool>();
  if (value.is_string())
    return lower(value.get_ref<const std::string&>()) == "true";
  return false;
}

std::optional<protocol_error> transport_error(const http_response& response) {
  if (response.ok())
    return std::nullopt;
  auto error = network_error(response.network_code, response.error_message);
  if (response.http_status != 0)
    error.info["httpStatus"] = response.http_status;
  return error;
}

result<json> parse_answer_json(std::string_view body) {
  // Decision: a body that is not a JSON object is 1013 whatever its Content-Type
  // (the 2018 lib's 8888 for a mislabelled answer is not reproduced; docs/transport.md).
  if (too_deep(body))
    return network_error(codes::invalid_json, "the answer nests deeper than " +
                                                std::to_string(max_json_depth) + " levels");
  json answer = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (answer.is_discarded() || !answer.is_object())
    return network_error(codes::invalid_json, "the answer is not a JSON object");
  return answer;
}

std::optional<protocol_error> answer_error(const json& answer, operation op) {
  const json* d = member(answer, "d");
  if (const json* opstatus = member(answer, "opstatus")) {
    auto status = to_int(*opstatus);
    if (!status || *status != 0) {
      protocol_error error;
      error.code = status ? static_cast<int>(*status) : codes::unknown_server_error;
      auto errmsg = text_member(answer, "errmsg");
      error.message = errmsg.empty() ? std::string{error_message_for(error.code)} : errmsg;
      if (error.message.empty())
        error.message = error_message_for(codes::unknown_server_error);
      error.info = {{"opstatus", *opstatus}};
      if (!errmsg.empty())
        error.info["errmsg"] = errmsg;
      if (d)
        error.server = parse_server(*d);
      return error;
    }
  }
  if (!d || !d->is_object())
    return std::nullopt;
  const json* flag = member(*d, "error");
  if (!flag || !is_true_flag(*flag))
    return std::nullopt;

  protocol_error error;
  error.info = json::object();
  const json* errcode = member(*d, "errcode");
  std::optional<std::int64_t> numeric = errcode ? to_int(*errcode) : std::nullopt;
  // Numeric errcodes (1001 ...) become the code; textual ones ("SY3001E") stay in
  // errorInfo.errcode under the operation's fallback code.
  error.code = numeric ? static_cast<int>(*numeric) : fallback_code(op);
  if (errcode && !errcode->is_null())
    error.info["errcode"] = *errcode;
  auto msg = text_member(*d, "msg");
  error.message = msg.empty() ? std::string{error_message_for(error.code)} : msg;
  if (error.message.empty())
    error.message = error_message_for(fallback_code(op));
  if (!msg.empty())
    error.info["msg"] = msg;
  if (const json* trace = member(*d, "stacktrace"); trace && !trace->is_null())
    error.info["stacktrace"] = *trace;
  if (const json* mf = member(*d, "mfcode"))
    error.mfcode = to_text(*mf);
  error.server = parse_server(*d);
  error.new_application_version =
    text_of_either(*d, "newapplicationversion", "newApplicationVersion");
  error.old_application_version =
    text_of_either(*d, "oldapplicationversion", "oldApplicationVersion");
  return error;
}

void split_rows(const json& results, std::vector<sync_row>& server_rows,
                std::vector<sync_row>& ack_rows) {
  if (!results.is_array())
    return;
  for (const auto& item : results) {
    auto row = parse_row(item);
    (row.is_ack() ? ack_rows : server_rows).push_back(std::move(row));
  }
}

result<register_answer> parse_register_answer(std::string_view body) {
  auto answer = parse_answer_json(body);
  if (!answer)
    return answer.error();
  auto d = answer_payload(answer.value(), operation::register_device);
  if (!d)
    return d.error();
  const json* registration = member(*d.value(), "__registerdevice");
  const json* instance = registration ? member(*registration, "instanceID") : nullptr;
  if (!instance || instance->is_null())
    return malformed_answer(operation::register_device, "no __registerdevice.instanceID", d.value());
  register_answer out;
  fill_common(out, *d.value());
  out.instance_id = to_text(*instance).value_or("");
  return out;
}

result<upload_answer> parse_upload_answer(std::string_view body) {
  auto answer = parse_answer_json(body);
  if (!answer)
    return answer.error();
  auto payload = answer_payload(answer.value(), operation::upload);
  if (!payload)
    return payload.error();
  const json& d = *payload.value();
  const json* sync = member(d, "__sync");
  const json* blob = sync ? member(*sync, "serverblob") : nullptr;
  if (!blob || blob->is_null())
    return malformed_answer(operation::upload, "no __sync.serverblob", &d);
  upload_answer out;
  fill_common(out, d);
  out.server_blob = to_text(*blob).value_or("");
  if (const json* results = member(d, "results"))
    split_rows(*results, out.server_rows, out.ack_rows);
  return out;
}

result<download_answer> download_answer_from_json(const json& answer) {
  const json* d = member(answer, "d");
  auto error = answer_error(answer, operation::download);
  const json* results = d ? member(*d, "results") : nullptr;
  bool has_rows = results && results->is_array() && !results->empty();
  if (error) {
    // d.error "true" with rows: the rows are still applied, then the error (1.5).
    // A network-level failure (opstatus != 0) never carries rows worth applying.
    const json* opstatus = member(answer, "opstatus");
    bool opstatus_ok = !opstatus || to_int(*opstatus).value_or(-1) == 0;
    if (!(has_rows && opstatus_ok))
      return std::move(*error);
  }
  if (!d || !d->is_object())
    return malformed_answer(operation::download, "the answer has no \"d\" object");

  download_answer out;
  fill_common(out, *d);
  if (results)
    split_rows(*results, out.server_rows, out.ack_rows);
  if (const json* sync = member(*d, "__sync"); sync && sync->is_object()) {
    out.server_blob = text_member(*sync, "serverblob");
    if (const json* more = member(*sync, "moreChangesAvailable"))
      out.more_changes_available = is_true_flag(*more);
    if (const json* pending = member(*sync, "pendingBatches"))
      out.pending_batches = to_int(*pending);
    if (const json* errors = member(*sync, "UploadErrors"))
      out.upload_errors = parse_upload_errors(*errors);
    if (const json* payload = member(*sync, "payloadid"); payload && !payload->is_null()) {
      chunk_info chunks;
      chunks.payload_id = to_text(*payload).value_or("");
      if (const json* count = member(*sync, "chunkcount"))
        chunks.chunk_count = static_cast<std::uint32_t>(to_int(*count).value_or(0));
      chunks.checksum = text_member(*sync, "checksum");
      chunks.first_chunk = text_member(*d, "chunkdata");
      out.chunking = std::move(chunks);
    }
  }
  if (error)
    out.error_after_rows = std::move(*error);
  return out;
}

result<download_answer> parse_download_answer(std::string_view body) {
  auto answer = parse_answer_json(body);
  if (!answer)
    return answer.error();
  return download_answer_from_json(answer.value());
}

result<std::string> parse_download_chunk_answer(std::string_view body) {
  auto answer = parse_answer_json(body);
  if (!answer)
    return answer.error();
  auto payload = answer_payload(answer.value(), operation::download_chunk);
  if (!payload)
    return payload.error();
  const json* data = member(*payload.value(), "chunkdata");
  if (!data || !data->is_string())
    return malformed_answer(operation::download_chunk, "no d.chunkdata", payload.value());
  return data->get<std::string>();
}

// ---------------------------------------------------------------------------------
// Chunks

namespace {

protocol_error chunk_error(std::string reason) {
  protocol_error error;
  error.code = codes::chunking;
  error.message = std::string{error_message_for(codes::chunking)};
  error.info = {{"reason", std::move(reason)}};
  return error;
}

result<download_answer> parse_assembled(const std::string& payload, std::string_view checksum) {
  auto digest = sha256_hex(payload);
  if (lower(checksum) != digest)
    return chunk_error("checksum mismatch: expected " + std::string{checksum} + ", got " + digest);
  if (too_deep(payload))
    return chunk_error("the reassembled payload nests deeper than " +
                       std::to_string(max_json_depth) + " levels");
  json parsed = json::parse(payload, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object())
    return chunk_error("the reassembled payload is not a JSON object");
  // The payload is a download answer; accept it with or without the {"d": ...} envelope.
  if (!parsed.contains("d")) {
    json wrapped;
    wrapped["d"] = std::move(parsed);
    return download_answer_from_json(wrapped);
  }
  return download_answer_from_json(parsed);
}

} // namespace

result<download_answer> assemble_chunks(const std::vector<std::string>& chunks_in_order,
                                        std::string_view checksum) {
  std::size_t total = 0;
  for (const auto& chunk : chunks_in_order)
    total += chunk.size();
  std::string payload;
  payload.reserve(total);
  for (const auto& chunk : chunks_in_order)
    payload += chunk;
  return parse_assembled(payload, checksum);
}

result<download_answer> assemble_chunks(const std::map<std::uint32_t, std::string>& chunks,
                                        std::uint32_t chunk_count, std::string_view checksum) {
  std::string payload;
  for (std::uint32_t number = 1; number <= chunk_count; ++number) {
    auto it = chunks.find(number);
    if (it == chunks.end())
      return chunk_error("chunk " + std::to_string(number) + " of " + std::to_string(chunk_count)
                         + " is missing");
    payload += it->second;
  }
  return parse_assembled(payload, checksum);
}

} // namespace mxsync::transport
