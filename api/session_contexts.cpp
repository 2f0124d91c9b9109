#include "api/session_contexts.hpp"

namespace mxsync::contexts {

using json = nlohmann::json;

json scope_context(const scope_view& view) {
  json context{
    {"uploadurl", view.upload_url},
    {"downloadurl", view.download_url},
    {"currentScope", view.scope},
    {"lastsynctimestamp", view.last_sync_timestamp},
    {"uploadsequencenumber", view.upload_sequence},
  };
  if (view.server)
    context["serverDetails"] = {{"hostName", view.server->host_name},
                                {"ipAddress", view.server->ip_address}};
  return context;
}

json sync_start_context(const scope_view& view) {
  return {{"uploadurl", view.upload_url}, {"downloadurl", view.download_url}};
}

json session_context(const scope_view& view) { return scope_context(view); }

json request_params(const transport::wire_request& request) {
  json params = json::object();
  for (const auto& [name, value] : request.params)
    params[name] = value;
  return params;
}

json upload_start_context(const scope_view& view, const transport::wire_request& request,
                          std::int64_t batch_number) {
  auto context = scope_context(view);
  context["uploadRequest"] = request_params(request);
  context["uploadbatchnumber"] = batch_number;
  return context;
}

json upload_context(const syncdb::change_counts& totals,
                    const std::vector<std::pair<std::string, syncdb::change_counts>>& per_object,
                    const syncdb::batch_result& acks, bool ota) {
  json context{
    {"rowsuploaded", totals.total()},
    {"rowsinserted", totals.inserted},
    {"rowsupdated", totals.updated},
    {"rowsdeleted", totals.deleted},
  };
  if (!ota)
    return context; // persistent acks are reported in the download's batchcontext
  json objects = json::object();
  for (const auto& [name, counts] : per_object)
    objects[name] = {{"rowsuploaded", counts.total()},   {"rowsinserted", counts.inserted},
                     {"rowsupdated", counts.updated},    {"rowsdeleted", counts.deleted},
                     {"ackinsertedrows", 0},             {"ackupdatedrows", 0},
                     {"ackdeletedrows", 0},              {"acktotalrows", 0},
                     {"rowsfailedtoupload", 0}};
  auto acked = acks.object_level_info();
  for (auto& [name, entry] : acked.items()) {
    auto& target = objects[name];
    target["acktotalrows"] = entry.value("rowsacknowledged", 0);
    target["rowsfailedtoupload"] = entry.value("rowsfailedtoupload", 0);
    if (entry.contains("reconciledprimarykeys"))
      target["reconciledprimarykeys"] = entry["reconciledprimarykeys"];
  }
  context["objectlevelinfo"] = std::move(objects);
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
  json counts{{"rowsuploaded", batch.total()},
              {"rowsinserted", batch.inserted},
              {"rowsupdated", batch.updated},
              {"rowsdeleted", batch.deleted}};
  if (server)
    counts["serverDetails"] = {{"hostName", server->host_name}, {"ipAddress", server->ip_address}};
  return counts;
}

json upload_batch_success_context(json upload_context, json batch_counts) {
  return {{"uploadcontext", std::move(upload_context)},
          {"uploadbatchcontext", std::move(batch_counts)}};
}

json upload_success_context(const scope_view& view, json upload_context) {
  auto context = scope_context(view);
  context["uploadcontext"] = std::move(upload_context);
  return context;
}

json download_start_context(const scope_view& view, const transport::wire_request& request,
                            std::int64_t batch_number) {
  auto context = scope_context(view);
  context["downloadRequest"] = request_params(request);
  context["batchnumber"] = batch_number;
  return context;
}

json batch_counts(const syncdb::batch_result& batch, std::optional<std::int64_t> pending_batches) {
  return {
    {"batchrowsdownloaded", batch.rows_downloaded},
    {"rowsdownloaded", batch.rows_downloaded},
    {"rowsinserted", batch.rows_inserted},
    {"rowsupdated", batch.rows_updated},
    {"rowsdeleted", batch.rows_deleted},
    {"rowsskipped", batch.rows_skipped},
    {"rowsfailedtoupload", static_cast<std::int64_t>(batch.failed_rows.size())},
    {"failedrowinfo", batch.failed_row_info()},
    {"objectlevelinfo", batch.object_level_info()},
    {"pendingbatches", pending_batches.value_or(0)},
    {"acktotalrows", batch.ack_total},
    {"ackinsertedrows", batch.ack_inserted},
    {"ackupdatedrows", batch.ack_updated},
    {"ackdeletedrows", batch.ack_deleted},
  };
}

json batch_context(const scope_view& view, json counts, std::int64_t batch_number) {
  auto context = scope_context(view);
  context["batchcontext"] = std::move(counts);
  context["batchnumber"] = batch_number;
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
               {"chunksdownloaded", chunks_downloaded}};
  if (server)
    context["serverDetails"] = {{"hostName", server->host_name},
                                {"ipAddress", server->ip_address}};
  return context;
}

json retry_context(const transport::wire_request& request, int error_code,
                   const std::string& error_message, int retry_count) {
  return {{"request", request_params(request)},
          {"errorResponse", {{"errorCode", error_code}, {"errorMessage", error_message}}},
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
