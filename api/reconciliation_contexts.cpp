#include "api/reconciliation_contexts.hpp"

namespace mxsync::reconcile_contexts {

using json = nlohmann::json;

namespace {

object_totals sum(const object_level& objects) {
  object_totals total;
  for (const auto& [name, counts] : objects) {
    total.downloads += counts.downloads;
    total.insertions += counts.insertions;
    total.deletions += counts.deletions;
  }
  return total;
}

void put_totals(json& context, const object_totals& total) {
  context["reconciletotaldownloads"] = total.downloads;
  context["reconciletotalinsertions"] = total.insertions;
  context["reconciletotaldeletions"] = total.deletions;
}

} // namespace

json start_context(const reconciliation_plan& plan) {
  json scopes = json::object();
  for (const auto& scope : plan.scopes)
    scopes[scope.scope] = scope.objects;
  return {{"reconciliation", std::move(scopes)},
          {"reconciledownloadbatchsize", plan.config.reconciledownloadbatchsize},
          {"reconcilebulkgetbatchsize", plan.config.reconcilebulkgetbatchsize}};
}

json scope_start_context(const reconcile_scope& scope) {
  return {{scope.scope, scope.objects}, {"currentScope", scope.scope}};
}

json request_context(const std::string& scope, const transport::wire_request& request,
                     std::int64_t batch_number) {
  json params = json::object();
  for (const auto& [name, value] : request.params) {
    // Objects on the wire travel as JSON text; the app reads them as objects.
    if (name == "filterContext" || name == "clientcontext") {
      auto object = json::parse(value, nullptr, /*allow_exceptions=*/false);
      if (object.is_object()) {
        params[name] = std::move(object);
        continue;
      }
    }
    params[name] = value;
  }
  return {{"currentScope", scope}, {"batchnumber", batch_number}, {"downloadRequest", params}};
}

json key_batch_context(const std::string& scope, std::int64_t batch_number,
                       std::int64_t downloads, std::int64_t deletions) {
  return {{"currentScope", scope},
          {"batchnumber", batch_number},
          {"reconcilebatchdownloads", downloads},
          {"reconcilebatchinsertions", 0},
          {"reconcilebatchdeletions", deletions}};
}

json bulk_get_batch_context(const std::string& scope, const std::string& object,
                            std::int64_t batch_number, std::int64_t downloads,
                            std::int64_t insertions) {
  return {{"currentScope", scope},
          {"object", object},
          {"batchnumber", batch_number},
          {"reconcilebatchdownloads", downloads},
          {"reconcilebatchinsertions", insertions}};
}

json object_level_info(const object_level& objects) {
  json info = json::object();
  for (const auto& [name, counts] : objects)
    info[name] = {{"reconciletotaldownloads", counts.downloads},
                  {"reconciletotalinsertions", counts.insertions},
                  {"reconciletotaldeletions", counts.deletions}};
  return info;
}

json scope_success_context(const std::string& scope, const object_level& objects) {
  json context{{"currentScope", scope}, {"reconcileobjectlevelinfo", object_level_info(objects)}};
  put_totals(context, sum(objects));
  return context;
}

json success_context(const object_level& objects, const std::vector<std::string>& skipped_scopes) {
  json context{{"reconcileobjectlevelinfo", object_level_info(objects)}};
  put_totals(context, sum(objects));
  context["pendingreconcilescopeswithhistorychanges"] = skipped_scopes.size();
  context["pendingreconcilescopes"] = skipped_scopes;
  return context;
}

sync_error scope_error(const std::string& scope, const sync_error& cause) {
  return {cause.code, cause.message, {{"currentScope", scope}, {"errorInfo", cause.info}}};
}

sync_error run_error(const std::vector<std::pair<std::string, sync_error>>& failed_scopes) {
  json per_scope = json::object();
  for (const auto& [scope, error] : failed_scopes)
    per_scope[scope] = error.to_json();
  if (failed_scopes.empty())
    return {static_cast<int>(error_code::unknown), "Reconciliation failed", per_scope};
  const auto& first = failed_scopes.front().second;
  return {first.code, first.message, std::move(per_scope)};
}

void add_totals(object_level& objects, const std::string& object, const object_totals& more) {
  for (auto& [name, counts] : objects)
    if (name == object) {
      counts.downloads += more.downloads;
      counts.insertions += more.insertions;
      counts.deletions += more.deletions;
      return;
    }
  objects.emplace_back(object, more);
}

} // namespace mxsync::reconcile_contexts
