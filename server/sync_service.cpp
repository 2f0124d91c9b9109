#include "server/sync_service.hpp"

#include "persistence/sqlite.hpp"
#include "server/column_values.hpp"
#include "server/row_hash.hpp"
#include "server/service_internal.hpp"
#include "server/store.hpp"

namespace mxsync::server {

namespace detail {

void fail(const std::string& message) { throw protocol_error("SY0000E", message); }

std::optional<std::string> param(const sync_request& request, const std::string& name) {
  auto it = request.params.find(name);
  if (it == request.params.end())
    return std::nullopt;
  return it->second;
}

const json* decoded(const sync_request& request, const std::string& name) {
  auto it = request.decoded.find(name);
  if (it == request.decoded.end() || it->second.is_null())
    return nullptr;
  return &it->second;
}

const scope_def& require_scope(const service_context& ctx, const sync_request& request,
                               const std::string& fallback_name) {
  auto name = param(request, "scopename").value_or("");
  if (name.empty())
    name = fallback_name;
  if (name.empty())
    fail("Missing parameter scopename.");
  const auto* scope = ctx.config.find_scope(name);
  if (!scope)
    fail("Unknown scope : " + name + " is not defined in the sync configuration.");
  if (auto strategy = param(request, "strategy"); strategy && !strategy->empty()) {
    auto server = std::string{to_string(scope->strategy)};
    if (*strategy != server)
      fail("Strategy mismatch server = " + server + ", client = " + *strategy);
  }
  return *scope;
}

const scope_settings& settings_of(const service_context& ctx, const scope_def& scope) {
  static const scope_settings defaults{};
  auto it = ctx.settings.scopes.find(scope.name);
  return it == ctx.settings.scopes.end() ? defaults : it->second;
}

const std::string* owner_column(const service_context& ctx, const scope_def& scope,
                                const table_def& table) {
  const auto& owners = settings_of(ctx, scope).owner_column;
  auto it = owners.find(table.name);
  return it == owners.end() ? nullptr : &it->second;
}

namespace {

std::unique_ptr<const service_model> build_model(const sync_config& config) {
  auto model = std::make_unique<service_model>();
  for (const auto& scope : config.scopes) {
    for (const auto& table : scope.tables) {
      for (const auto& rel : table.relationships) {
        auto [target_scope, target] = config.find_table(rel.target);
        if (!target)
          continue;
        for (const auto& attr : rel.attributes) {
          if (rel.kind == relationship_kind::many_to_one) {
            // This table's source attribute holds the target's key.
            model->references[table.name].push_back({attr.source_attribute, target, attr.target_attribute});
          } else {
            // OneToMany / OneToOne: the target's attribute holds this table's key.
            model->references[target->name].push_back({attr.target_attribute, &table, attr.source_attribute});
          }
        }
      }
    }
  }
  return model;
}

json handle_register(const service_context& ctx, const sync_request& request) {
  auto device = param(request, "deviceID");
  if (!device)
    device = param(request, "deviceid");
  if (!device || device->empty())
    throw protocol_error("1008", "Empty deviceID.");
  auto info = json::object();
  for (const char* key : {"os", "model", "version", "userAgent", "channel", "platform"})
    if (auto value = param(request, key))
      info[key] = *value;
  auto instance = ctx.data.register_device(request.user, *device, info);
  return {{"error", "false"}, {"__registerdevice", {{"instanceID", instance}}}};
}

} // namespace

} // namespace detail

using detail::json;

sync_service::sync_service(const sync_config& config, std::shared_ptr<store> data,
                           service_settings settings)
  : config_(config), store_(std::move(data)), settings_(std::move(settings)),
    model_(detail::build_model(config)) {
  if (!store_)
    throw std::invalid_argument("sync_service needs a store");
  // Every download of an owner-filtered table asks for "this user's rows in
  // change order": give the store the index for it.
  for (const auto& [scope_name, scope] : settings_.scopes) {
    const auto* scope_def = config_.find_scope(scope_name);
    if (!scope_def)
      throw std::invalid_argument("settings name an unknown scope: " + scope_name);
    for (const auto& [table_name, column] : scope.owner_column) {
      const auto* table = scope_def->find_table(table_name);
      if (!table || !table->find_column(column))
        throw std::invalid_argument("owner column " + table_name + "." + column +
                                    " is not in scope " + scope_name);
      store_->index_column(*table, column);
    }
  }
}

sync_service::~sync_service() = default;

json sync_service::handle(const sync_request& request) {
  detail::service_context ctx{config_, *store_, settings_, *model_};
  try {
    if (request.endpoint == "registerdevice")
      return detail::handle_register(ctx, request);
    if (request.endpoint == "upload")
      return detail::handle_upload(ctx, request);
    if (request.endpoint == "download")
      return detail::handle_download(ctx, request);
    if (request.endpoint == "downloadchunk")
      return detail::handle_download_chunk(ctx, request);
  } catch (const nlohmann::json::exception& e) {
    // A wrongly shaped JSON parameter that slipped past the explicit checks.
    detail::fail(std::string{"Malformed request: "} + e.what());
  } catch (const db::sqlite_error& e) {
    detail::fail(std::string{"Server storage error: "} + e.what());
  }
  detail::fail("Unknown sync endpoint : " + request.endpoint);
}

// -- admin helpers -----------------------------------------------------------

namespace {

const table_def& require_table(const sync_config& config, const std::string& name) {
  auto [scope, table] = config.find_table(name);
  if (!table)
    detail::fail("Unknown sync object : " + name);
  return *table;
}

/// Normalized values of the known columns of `row`; unknown columns fail.
json normalized_columns(const table_def& table, const json& row) {
  if (!row.is_object())
    detail::fail("A row of " + table.name + " must be a JSON object.");
  auto out = json::object();
  for (const auto& [key, value] : row.items()) {
    const auto* column = table.find_column(key);
    if (!column)
      detail::fail("Unknown column '" + key + "' for object " + table.name + ".");
    try {
      out[column->name] = normalize_value(*column, value);
    } catch (const value_error& e) {
      detail::fail(e.what());
    }
  }
  return out;
}

json key_of(const table_def& table, const json& values) {
  auto key = json::object();
  for (const auto& column : table.primary_key) {
    auto it = values.find(column);
    if (it == values.end() || it->is_null())
      detail::fail("Primary key column '" + column + "' of " + table.name + " has no value.");
    key[column] = *it;
  }
  return key;
}

} // namespace

std::size_t sync_service::load_rows(const std::string& table_name, const std::vector<json>& rows,
                                    const std::string& owner) {
  const auto& table = require_table(config_, table_name);
  std::vector<json> prepared;
  prepared.reserve(rows.size());
  for (const auto& row : rows) {
    auto values = normalized_columns(table, row);
    for (const auto& column : table.columns)
      if (!values.contains(column.name))
        values[column.name] = nullptr;
    key_of(table, values);
    prepared.push_back(std::move(values));
  }
  store_->write([&](store_writer& writer) {
    for (const auto& values : prepared)
      writer.put(table, values, row_hashsum(table, values), change_origin{owner, {}});
  });
  return prepared.size();
}

void sync_service::upsert_row(const std::string& table_name, const json& row, const std::string& owner) {
  const auto& table = require_table(config_, table_name);
  auto values = normalized_columns(table, row);
  auto key = key_of(table, values);
  store_->write([&](store_writer& writer) {
    auto merged = json::object();
    for (const auto& column : table.columns)
      merged[column.name] = nullptr;
    if (auto existing = writer.find(table, key); existing && !existing->deleted)
      merged.update(existing->values);
    merged.update(values);
    writer.put(table, merged, row_hashsum(table, merged), change_origin{owner, {}});
  });
}

bool sync_service::delete_row(const std::string& table_name, const json& key) {
  const auto& table = require_table(config_, table_name);
  auto normalized = key_of(table, normalized_columns(table, key));
  bool removed = false;
  store_->write([&](store_writer& writer) { removed = writer.remove(table, normalized, change_origin{}); });
  return removed;
}

std::int64_t sync_service::count_rows(const std::string& table_name, bool include_deleted) {
  const auto& table = require_table(config_, table_name);
  return store_->read()->count_rows(table, include_deleted);
}

std::optional<json> sync_service::read_row(const std::string& table_name, const json& key) {
  const auto& table = require_table(config_, table_name);
  auto normalized = key_of(table, normalized_columns(table, key));
  auto row = store_->read()->find(table, normalized);
  if (!row || row->deleted)
    return std::nullopt;
  auto out = json::object();
  for (const auto& column : table.columns)
    out[column.name] = present_value(column, row->values.value(column.name, json(nullptr)));
  out["konysynchashsum"] = row->hashsum;
  return out;
}

} // namespace mxsync::server
