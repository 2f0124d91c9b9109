#include "api/session_contexts.hpp"

#include <algorithm>

namespace mxsync::contexts {

using json = nlohmann::json;

namespace {

/// The keys every scope-level context starts with.
json base_context(const scope_view& view) {
  return {{"uploadurl", view.upload_url},
          {"downloadurl", view.download_url},
          {"currentScope", view.scope}};
}

/// Per object ack kinds: the batch's counts belong to an object when it is the only one
/// with acknowledgements; `uploaded` (OTA upload answers) names the kinds when all of an
/// object's uploaded rows were acknowledged.
struct ack_kinds {
  std::int64_t inserted = 0;
  std::int64_t updated = 0;
  std::int64_t deleted = 0;
};

/// The object's own ack kinds, as the batch counted them (persistence/download_batch).
ack_kinds ack_kinds_of(const syncdb::batch_result& batch, const std::string& object) {
  for (const auto& [name, counts] : batch.per_object)
    if (name == object)
      return {counts.ack_inserted, counts.ack_updated, counts.ack_deleted};
  return {};
}

} // namespace

json server_details(const std::optional<transport::server_details>& server) {
  if (!server)
    return {{"hostName", nullptr}, {"ipAddress", nullptr}};
  return {{"hostName", server->host_name}, {"ipAddress", server->ip_address}};
}

json sync_start_context(const scope_view& view) {
  return {{"uploadurl", view.upload_url}, {"downloadurl", view.download_url}};
}

json scope_start_context(const scope_view& view) {
  auto context = base_context(view);
  context["lastsynctimestamp"] = view.last_sync_timestamp;
  context["uploadsequencenumber"] = view.upload_sequence;
  return context;
}

json scope_success_context(const scope_view& view) {
  auto context = base_context(view);
  context["lastsynctimestamp"] = view.last_sync_timestamp;
  if (view.server)
    context["serverDetails"] = server_details(view.server);
  return context;
}

json scope_upload_only_context(const scope_view& view) {
  auto context = scope_success_context(view);
  context["uploadsequencenumber"] = view.upload_sequence;
  return context;
}

json scope_context(const scope_view& view) { return scope_success_context(view); }

json session_context(const scope_view& view) { return scope_success_context(view); }

json request_params(const transport::wire_request& request) {
  json params = json::object();
  for (const auto& [name, value] : request.params) {
    // clientcontext is still an object in the callbacks; it becomes JSON text on the wire
    // (docs/callbacks.md 3). Returning the object gives the same text again.
    if (name == "clientcontext") {
      auto object = json::parse(value, nullptr, /*allow_exceptions=*/false);
      if (object.is_object()) {
        params[name] = std::move(object);
        continue;
      }
    }
    params[name] = value;
  }
  return params;
}

json upload_start_context(const scope_view& view, const transport::wire_request& request) {
  auto context = base_context(view);
  context["uploadRequest"] = request_params(request);
  context["lastsynctimestamp"] = view.last_sync_timestamp;
  context["uploadsequencenumber"] = view.upload_sequence;
  return context;
}

json upload_context(const syncdb::change_counts& totals,
                    const std::vector<std::pair<std::string, syncdb::change_counts>>& per_object,
                    const syncdb::batch_result& acks, bool ota,
                    const std::vector<std::string>& scope_objects) {
  json context{
    {"rowsuploaded", totals.total()},
    {"rowsinserted", totals.inserted},
    {"rowsupdated", totals.updated},
    {"rowsdeleted", totals.deleted},
  };
  if (!ota)
    return context; // persistent acks are reported in the download's batchcontext
  // Every object of the scope has an entry, also without rows (docs/callbacks.md 2.3).
  std::vector<std::pair<std::string, syncdb::change_counts>> objects;
  for (const auto& name : scope_objects)
    objects.emplace_back(name, syncdb::change_counts{});
  for (const auto& [name, counts] : per_object) {
    auto it = std::find_if(objects.begin(), objects.end(),
                           [&](const auto& entry) { return entry.first == name; });
    if (it == objects.end())
      objects.emplace_back(name, counts);
    else
      it->second = counts;
  }
  auto acked = acks.object_level_info();
  json info = json::object();
  for (const auto& [name, counts] : objects) {
    json entry{{"rowsuploaded", counts.total()}, {"rowsinserted", counts.inserted},
               {"rowsupdated", counts.updated},   {"rowsdeleted", counts.deleted},
               {"ackinsertedrows", 0},            {"ackupdatedrows", 0},
               {"ackdeletedrows", 0},             {"acktotalrows", 0},
               {"rowsfailedtoupload", 0}};
    if (acked.contains(name)) {
      const auto& from_ack = acked[name];
      auto kinds = ack_kinds_of(acks, name);
      entry["ackinsertedrows"] = kinds.inserted;
      entry["ackupdatedrows"] = kinds.updated;
      entry["ackdeletedrows"] = kinds.deleted;
      entry["acktotalrows"] = from_ack.value("rowsacknowledged", std::int64_t{0});
      entry["rowsfailedtoupload"] = from_ack.value("rowsfailedtoupload", std::int64_t{0});
      // The ack adds reconciledprimarykeys to the objects it names (empty when no key changed).
      entry["reconciledprimarykeys"] =
        from_ack.contains("reconciledprimarykeys") ? from_ack["reconciledprimarykeys"] : json::array();
    }
    info[name] = std::move(entry);
  }
  context["objectlevelinfo"] = std::move(info);
  context["acktotalrows"] = acks.ack_total;
  context["ackinsertedrows"] = acks.ack_inserted;
  context["ackupdatedrows"] = acks.ack_updated;
  context["ackdeletedrows"] = acks.ack_deleted;
  context["failedrowinfo"] = acks.failed_row_info();
  context["rowsfailedtoupload"] = static_cast<std::int64_t>(acks.failed_rows.size());
  return context;
}

json upload_batch_counts(const syncdb::change_counts& batch,
                         const std::optional<transport::server_details>& server) {
  return {{"rowsuploaded", batch.total()},
          {"rowsinserted", batch.inserted},
          {"rowsupdated", batch.updated},
          {"rowsdeleted", batch.deleted},
          {"serverDetails", server_details(server)}};
}

json upload_batch_success_context(json upload_context, json batch_counts) {
  return {{"uploadcontext", std::move(upload_context)},
          {"uploadbatchcontext", std::move(batch_counts)}};
}

json upload_success_context(const scope_view& view, json upload_context) {
  auto context = base_context(view);
  context["lastsynctimestamp"] = view.last_sync_timestamp;
  context["uploadsequencenumber"] = view.upload_sequence;
  context["serverDetails"] = server_details(view.server);
  context["uploadcontext"] = std::move(upload_context);
  return context;
}

json download_start_context(const scope_view& view, const transport::wire_request& request,
                            std::int64_t /*batch_number*/) {
  auto context = base_context(view);
  context["lastsynctimestamp"] = view.last_sync_timestamp;
  context["downloadRequest"] = request_params(request);
  return context;
}

json batch_counts(const syncdb::batch_result& batch, std::optional<std::int64_t> pending_batches,
                  bool ota) {
  json objects = json::object();
  auto levels = batch.object_level_info();
  for (const auto& [name, counts] : batch.per_object) {
    auto kinds = ack_kinds_of(batch, name);
    json entry{{"batchrowsdownloaded", counts.downloaded},
               {"rowsinserted", counts.inserted},
               {"rowsupdated", counts.updated},
               {"rowsdeleted", counts.deleted},
               {"ackinsertedrows", kinds.inserted},
               {"ackupdatedrows", kinds.updated},
               {"ackdeletedrows", kinds.deleted},
               {"acktotalrows", counts.acknowledged},
               {"rowsfailedtoupload", counts.failed}};
    if (levels.contains(name) && levels[name].contains("reconciledprimarykeys"))
      entry["reconciledprimarykeys"] = levels[name]["reconciledprimarykeys"];
    objects[name] = std::move(entry);
  }
  json counts{
    {"batchrowsdownloaded", batch.rows_downloaded},
    {"rowsdownloaded", batch.rows_downloaded}, // mxsync: read by mxsync-cli
    {"rowsinserted", batch.rows_inserted},
    {"rowsupdated", batch.rows_updated},
    {"rowsdeleted", batch.rows_deleted},
    {"rowsfailedtoupload", static_cast<std::int64_t>(batch.failed_rows.size())},
    {"failedrowinfo", batch.failed_row_info()},
    {"objectlevelinfo", std::move(objects)},
    {"pendingbatches", pending_batches.value_or(0)},
  };
  if (!ota) { // OTA acks come with the upload answer: uploadcontext has them
    counts["acktotalrows"] = batch.ack_total;
    counts["ackinsertedrows"] = batch.ack_inserted;
    counts["ackupdatedrows"] = batch.ack_updated;
    counts["ackdeletedrows"] = batch.ack_deleted;
  }
  return counts;
}

json batch_counts(const syncdb::batch_result& batch, std::optional<std::int64_t> pending_batches) {
  return batch_counts(batch, pending_batches, false);
}

json batch_context(const scope_view& view, json counts, std::int64_t /*batch_number*/) {
  auto context = base_context(view);
  context["lastsynctimestamp"] = view.last_sync_timestamp;
  context["serverDetails"] = server_details(view.server);
  context["batchcontext"] = std::move(counts);
  return context;
}

json download_success_context(const scope_view& view) {
  auto context = base_context(view);
  context["lastsynctimestamp"] = view.last_sync_timestamp;
  context["serverDetails"] = server_details(view.server);
  return context;
}

json chunk_start_context(const std::string& scope, const std::string& payload_id,
                         std::uint32_t chunk_count, std::uint32_t chunk_number,
                         const transport::wire_request& request) {
  return {{"chunkcount", chunk_count},
          {"payloadid", payload_id},
          {"scopename", scope},
          {"chunkid", chunk_number},
          {"chunkrequest", request_params(request)}};
}

json chunk_progress_context(const std::string& scope, const std::string& payload_id,
                            std::uint32_t chunk_count, std::uint32_t chunk_number,
                            std::uint32_t chunks_downloaded,
                            const std::optional<transport::server_details>& server) {
  json context{{"chunkcount", chunk_count},
               {"payloadid", payload_id},
               {"scopename", scope},
               {"chunkid", chunk_number},
               {"pendingchunks", chunk_count - chunks_downloaded},
               {"chunksdownloaded", chunks_downloaded},
               {"serverDetails", server_details(server)}};
  return context;
}

sync_error chunk_error(const json& progress_context, const sync_error& cause) {
  sync_error error = cause;
  error.info = progress_context;
  error.info["errorInfo"] = cause.info;
  return error;
}

json retry_context(const transport::wire_request& request, int error_code,
                   const std::string& error_message, int retry_count) {
  return {{"request", request_params(request)},
          {"errorResponse",
           {{"opstatus", error_code}, {"errcode", error_code}, {"errmsg", error_message}}},
          {"retryCount", retry_count}};
}

sync_error scope_error(const std::string& scope, const sync_error& cause) {
  sync_error error = cause;
  if (!error.info.is_object())
    error.info = error.info.is_null() ? json::object() : json{{"details", error.info}};
  error.info["currentScope"] = scope;
  return error;
}

sync_error session_error(const std::vector<std::pair<std::string, sync_error>>& failed_scopes) {
  json per_scope = json::object();
  for (const auto& [scope, error] : failed_scopes)
    per_scope[scope] = error.to_json();
  return {static_cast<int>(error_code::sync_error),
          "Error occurred while syncing one or more scopes", std::move(per_scope)};
}

void apply_overrides(transport::wire_request& request, const json& returned) {
  if (!returned.is_object())
    return;
  for (const auto& [key, value] : returned.items()) {
    std::string text = value.is_string() ? value.get<std::string>() : value.dump();
    bool replaced = false;
    for (auto& [name, current] : request.params)
      if (name == key) {
        current = text;
        replaced = true;
      }
    if (!replaced)
      request.params.emplace_back(key, std::move(text));
  }
}

} // namespace mxsync::contexts
