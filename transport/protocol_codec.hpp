#pragma once
// The sync protocol codec (docs/protocol.md 1.1-1.9, 8): typed requests -> the flat string
// parameters the real client sends (as a JSON object body), and server answers ->
// typed results. No I/O here: the session pipeline builds a wire_request, hands
// to_http_request(...) to the http_client and feeds the answer body to a parse_* function.

#include "mxsync/error.hpp"
#include "transport/http_client.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace mxsync::transport {

// ---------------------------------------------------------------------------------
// Values, errors, results

/// One column value as it travels in rows: NULL, integer, real or text. JSON booleans
/// arrive as integers 0/1 (SQLite has no boolean); nested JSON arrives as its text.
using column_value = std::variant<std::monostate, std::int64_t, double, std::string>;

/// Columns in the order they were sent or received.
using column_list = std::vector<std::pair<std::string, column_value>>;

nlohmann::json to_json(const column_value& value);
column_value column_value_from_json(const nlohmann::json& value);
/// The value of `name` in `columns`, or nullptr.
const column_value* find_column(const column_list& columns, std::string_view name);

// The documented codes (transport::codes) are declared in http_client.hpp.

/// The documented message of a network/platform or client error code ("" if unknown).
std::string_view error_message_for(int code);

struct server_details {
  std::string host_name;
  std::string ip_address;
  friend bool operator==(const server_details&, const server_details&) = default;
};

/// The client error object of docs/protocol.md 1.9: {errorCode, errorMessage, errorInfo,
/// serverDetails, newApplicationVersion, oldApplicationVersion, mfcode}.
struct protocol_error {
  int code = 0;
  std::string message;
  /// errorInfo: the server's errcode (text or number), msg, stacktrace, opstatus,
  /// or null when there is nothing more to say.
  nlohmann::json info;
  std::optional<server_details> server;
  std::optional<std::string> new_application_version;
  std::optional<std::string> old_application_version;
  std::optional<std::string> mfcode;

  /// The textual server errcode ("SY3001E") when the server sent one.
  std::optional<std::string> server_errcode() const;
  /// For the API boundary; serverDetails and the versions go into errorInfo.
  sync_error to_sync_error() const;
};

/// The error for a network/platform code with its documented message.
protocol_error network_error(int code, std::string detail = {});

/// A value or a protocol_error (std::expected is C++23).
template <class T>
class result {
public:
  result(T value) : state_(std::move(value)) {}
  result(protocol_error error) : state_(std::move(error)) {}

  bool has_value() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }
  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  const protocol_error& error() const { return std::get<1>(state_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

private:
  std::variant<T, protocol_error> state_;
};

/// Which request an answer belongs to; picks the fallback code when the server
/// reports an error without a numeric errcode (1.9).
enum class operation { register_device, upload, download, download_chunk, reconcile, other };

// ---------------------------------------------------------------------------------
// Endpoints (1.1)

struct endpoint_config {
  std::optional<std::string> server_url;  ///< serverurl: used verbatim, must end with "/"
  std::string server_host;                ///< serverhost
  std::optional<std::string> server_port; ///< serverport: nullopt -> ":80", "" -> no port
  bool is_secure = false;                 ///< issecure
  std::string app_id;                     ///< appid (goes into the URL with an authtoken)
  bool has_auth_token = false;            ///< config.authtoken set
  std::optional<std::string> upload_web_context;   ///< uploadwebcontext
  std::optional<std::string> download_web_context; ///< downloadwebcontext
};

enum class endpoint { register_device, upload, download, download_chunk, upgrade };

/// The base URL of 1.1. Throws std::invalid_argument when server_url does not end
/// with "/" or neither server_url nor server_host is given.
std::string server_base_url(const endpoint_config& config);
std::string endpoint_url(const endpoint_config& config, endpoint which);

// ---------------------------------------------------------------------------------
// Requests

/// What every request carries (1.2).
struct credentials {
  std::string user_id;
  std::string password;                    ///< plain text; hashed when the request is built
  std::string password_hash_algorithm = "sha256"; ///< passwordhashalgo
  std::string app_id;
  std::optional<std::string> auth_token;   ///< Foundry claims token -> X-Kony-Authorization
};

/// d.__session of the last answer, echoed once known.
struct session_info {
  std::string id;
  std::string request_number;
  friend bool operator==(const session_info&, const session_info&) = default;
};

/// A built request: URL, flat string params in send order, headers.
struct wire_request {
  std::string url;
  std::vector<std::pair<std::string, std::string>> params;
  std::vector<std::pair<std::string, std::string>> headers;

  const std::string* param(std::string_view name) const;
  /// The body: a JSON object of the string params (like the recorded rawBody).
  std::string body() const;
};

/// POST with the JSON body; timeout 0 means the client's default.
http_request to_http_request(const wire_request& request,
                             std::chrono::milliseconds timeout = std::chrono::milliseconds{0});

/// Context shared by the requests of one session (and one scope for upload/download).
struct request_context {
  endpoint_config endpoint;
  credentials user;
  std::optional<session_info> session;
};

/// Device facts sent by registerdevice (1.3).
struct device_info {
  std::string os, model, version, device_id, user_agent, channel, platform;
};

wire_request build_register_device(const request_context& context, const device_info& device);

/// Schema upgrade (1.8); the answer's format was not analysed, so there is no parser yet.
struct upgrade_request {
  std::string client_id;
  std::string app_version; ///< the new config Version
  std::string db_version;  ///< the stored SyncVersion
  bool scripts_required = true;
};

wire_request build_upgrade(const request_context& context, const upgrade_request& request);

enum class change_kind { insert, update, remove };
std::string_view to_wire(change_kind kind); ///< "insert" | "update" | "delete"

/// One `<T>_history` row to upload (1.4).
struct upload_row {
  std::string object_type;  ///< metadata.type: the SyncObject's name
  change_kind change = change_kind::insert;
  column_list columns;      ///< data columns in table order; NULL -> the null spelling
  std::int64_t version_number = 0;  ///< konysyncversionnumber
  int change_type = 0;              ///< konysyncchangetype (0, 1, 2)
  std::int64_t replay_sequence = 0; ///< konysyncreplaysequence
  bool send_change_time = false;    ///< "konysyncchangetime":null (the 2016 lib sent it)
  std::optional<std::string> hashsum; ///< konysynchashsum; omitted when unknown
};

/// Settings of one scope that upload and download share.
struct scope_settings {
  std::string scope_name;
  std::string strategy;          ///< "OTA_SYNC" | "PERSISTENT_SYNC"
  std::string instance_id;
  std::string client_id;         ///< the device id
  std::string app_version;       ///< konysyncClientSyncConfig.Version
  std::optional<std::string> upload_error_policy; ///< only when sessiontasks has the scope (8.2)
};

/// The user map that becomes clientcontext, in insertion order.
using client_context_values = std::vector<std::pair<std::string, std::string>>;

struct upload_request {
  scope_settings scope;
  std::string scope_database_name;  ///< metadata.uri (8.4)
  std::string server_blob;          ///< lastserveruploadsynccontext
  std::int64_t sequence_number = 0; ///< konysyncMETAINFO.versionnumber
  bool more_changes_available = false;
  std::vector<upload_row> rows;
  client_context_values client_context;
  std::string null_spelling = "null"; ///< how NULL columns are sent ("null"; some platforms "NULL")
  bool use_history_config = false;    ///< usehistoryconfig "true" before a schema upgrade
};

/// The UploadRequest JSON string alone (what is cached for crash-safe resends).
std::string upload_request_json(const upload_request& request);
wire_request build_upload(const request_context& context, const upload_request& request);

/// Reconciliation (1.7): getAllPKs asks for the PK fields of objects, bulkGet for rows by key.
struct reconcile_pk_query {
  std::string object_type;
  std::vector<std::string> pk_fields;
};
struct reconcile_bulk_get_query {
  std::string object_type;
  std::vector<column_list> keys; ///< each key: [(pk name, value), ...]
  std::vector<std::string> fields;
};

struct download_request {
  scope_settings scope;
  std::string tick_count;           ///< lastserversynccontext ("" on the first sync)
  std::uint32_t batch_size = 500;
  std::optional<std::uint32_t> chunk_size; ///< KB; sent only when configured
  /// filterparams[scope] (an array of {object: [filters]}): sent as context when given.
  std::optional<nlohmann::json> filters;
  bool initial_sync = false;        ///< the scope never completed a download (8.7)
  client_context_values client_context;
  std::optional<std::string> delete_chunk_payload_id;
  std::optional<std::string> upper_tick_count; ///< schema-upgrade downloads
  std::optional<std::string> upgrade_context;
};

std::string client_context_json(const client_context_values& values, bool initial_sync);

wire_request build_download(const request_context& context, const download_request& request);
/// downloadchunk: the download params + payloadid, chunkcount, chunknumber (1.6).
wire_request build_download_chunk(const request_context& context, const download_request& request,
                                  std::string_view payload_id, std::uint32_t chunk_count,
                                  std::uint32_t chunk_number);
/// getAllPKs: a download with filterContext {"d":{obj:{"fields":[pks]}}}; batch_size is
/// reconciledownloadbatchsize.
wire_request build_get_all_pks(const request_context& context, const download_request& request,
                               const std::vector<reconcile_pk_query>& objects);
/// bulkGet: filterContext {"d":{obj:{"keys":[[{Name,Value}]],"fields":[...]}}}.
wire_request build_bulk_get(const request_context& context, const download_request& request,
                            const std::vector<reconcile_bulk_get_query>& objects);

std::string filter_context_json(const std::vector<reconcile_pk_query>& objects);
std::string filter_context_json(const std::vector<reconcile_bulk_get_query>& objects);

// ---------------------------------------------------------------------------------
// Answers

/// A row of d.results. Server rows have no konysyncMergedWithEIS; ack rows echo a
/// client change and carry it (1.5).
struct sync_row {
  std::string object_type;   ///< __metadata.type
  std::string change_type;   ///< __metadata.changeType ("update" | "delete"; "" in reconciliation)
  column_list columns;       ///< data columns without __metadata and the konysync* keys below
  std::optional<std::string> hashsum;          ///< konysynchashsum
  std::optional<std::string> merged_with_eis;  ///< konysyncMergedWithEIS ("1" | "0"): an ack row
  std::optional<std::int64_t> replay_sequence; ///< konysyncreplaysequence
  std::optional<std::int64_t> version_number;  ///< konysyncversionnumber
  std::optional<std::int64_t> change_type_code; ///< konysyncchangetype
  /// konysyncClient<pk>: pk name -> the old (negative) client value.
  column_list client_keys;
  std::optional<std::string> error_message;    ///< __metadata.errorMessage (continueonerror)
  std::optional<std::string> error_root_cause; ///< __metadata.errorRootCause
  std::vector<std::string> intermediate_errors;

  bool is_ack() const noexcept { return merged_with_eis.has_value(); }
};

/// One entry of __sync.UploadErrors.
struct upload_error_entry {
  std::string key;
  std::string object_type;
  column_list primary_keys;
  std::string error_message;
};

/// What every successful answer may carry.
struct answer_common {
  std::optional<server_details> server;
  std::optional<session_info> session;
};

struct register_answer : answer_common {
  std::string instance_id;
};

struct upload_answer : answer_common {
  std::string server_blob;
  std::vector<sync_row> ack_rows;    ///< OTA acks (and any server rows, see docs)
  std::vector<sync_row> server_rows;
};

struct chunk_info {
  std::string payload_id;
  std::uint32_t chunk_count = 0;
  std::string checksum;
  std::string first_chunk; ///< d.chunkdata of the first answer
};

struct download_answer : answer_common {
  std::vector<sync_row> server_rows;
  std::vector<sync_row> ack_rows;
  std::string server_blob;
  bool more_changes_available = false;
  std::optional<std::int64_t> pending_batches;
  std::vector<upload_error_entry> upload_errors;
  std::optional<chunk_info> chunking; ///< set when the batch comes in chunks
  /// d.error "true" with rows: the rows are applied first, then this error (1.5).
  std::optional<protocol_error> error_after_rows;
};

/// The error of a failed HTTP exchange (its network code; the HTTP status and libcurl's
/// message in errorInfo), or nullopt when the body should be parsed.
std::optional<protocol_error> transport_error(const http_response& response);

/// Parses a body into JSON: not JSON (or not an object) -> 1013.
result<nlohmann::json> parse_answer_json(std::string_view body);

/// The error an answer reports, if any: opstatus != 0, or d.error == "true" (1.9).
std::optional<protocol_error> answer_error(const nlohmann::json& answer, operation op);

/// String(moreChangesAvailable).toLowerCase() === "true".
bool is_true_flag(const nlohmann::json& value);

result<register_answer> parse_register_answer(std::string_view body);
result<upload_answer> parse_upload_answer(std::string_view body);
result<download_answer> parse_download_answer(std::string_view body);
/// The same for an answer already parsed (the body of reassembled chunks).
result<download_answer> download_answer_from_json(const nlohmann::json& answer);
/// A downloadchunk answer: its d.chunkdata.
result<std::string> parse_download_chunk_answer(std::string_view body);

/// Rows of d.results split into server rows and ack rows.
void split_rows(const nlohmann::json& results, std::vector<sync_row>& server_rows,
                std::vector<sync_row>& ack_rows);

// ---------------------------------------------------------------------------------
// Chunk reassembly (1.6)

/// Concatenates chunks in order, compares sha256 with `checksum` case-insensitively and
/// parses the result as a normal download answer. Mismatch or bad JSON -> 7024.
result<download_answer> assemble_chunks(const std::vector<std::string>& chunks_in_order,
                                        std::string_view checksum);
/// Chunks keyed by chunk number (1-based, as stored in konysyncCHUNKDATA); a missing
/// chunk -> 7024.
result<download_answer> assemble_chunks(const std::map<std::uint32_t, std::string>& chunks,
                                        std::uint32_t chunk_count, std::string_view checksum);

} // namespace mxsync::transport
