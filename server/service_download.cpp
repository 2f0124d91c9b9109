// Download (docs/protocol.md 1.5), chunked download (1.6) and reconciliation (1.7).
//
// Batching: rows go out in change-sequence order across the scope's tables, at
// most batchsize per answer, except that rows sharing one change time are never
// split: a run of equal times goes out whole even when larger than a batch.
// Persistent-strategy acks and upload errors queued for the client come first.
//
// Echoes: a device is not sent its own changes back (the rows whose last change
// came from its (userid, clientid) since it last registered): it holds them
// already, the acks tell it their hashsums, and the 2016 client library
// re-applies such a row, fails on its unique key and asks for the same batch
// forever. The cursor still passes them: a batch's cut is decided among the rows
// that go out, and a batch that ends the changes moves the cursor to the end of
// its snapshot. Reconciliation (getAllPKs, bulkGet) lists and returns every row.
//
// Chunking: when the request has chunksize (KB) and the answer is larger, the
// bytes that are chunked are the UTF-8 JSON text of {"d":<answer>,"opstatus":0}
// (exactly what the client would have received, which it JSON.parses after
// reassembly); chunks are cut at UTF-8 character boundaries and the checksum
// is the lowercase hex SHA-256 of the whole text.

#include "server/column_values.hpp"
#include "server/download_cursor.hpp"
#include "server/service_internal.hpp"
#include "transport/password_hash.hpp"

#include <algorithm>
#include <charconv>
#include <random>

namespace mxsync::server::detail {

namespace {

std::optional<std::int64_t> parse_int(const std::string& text) {
  std::int64_t out = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size())
    return std::nullopt;
  return out;
}

std::int64_t batch_size(const service_context& ctx, const sync_request& request) {
  auto limit = std::max<std::int64_t>(1, ctx.settings.max_batch_size);
  auto text = param(request, "batchsize");
  if (!text || text->empty())
    return std::clamp<std::int64_t>(ctx.settings.default_batch_size, 1, limit);
  auto n = parse_int(*text);
  if (!n || *n <= 0)
    fail("Invalid batch size : " + *text + " must be greater than zero.");
  return std::min(*n, limit);
}

bool initial_sync(const sync_request& request) {
  const auto* context = decoded(request, "clientcontext");
  if (!context || !context->is_object())
    return false;
  auto it = context->find("InitialSync");
  if (it == context->end())
    return false;
  return (it->is_string() && iequals(it->get<std::string>(), "true")) ||
         (it->is_boolean() && it->get<bool>());
}

std::string trim(const std::string& text) {
  auto first = text.find_first_not_of(" \t");
  if (first == std::string::npos)
    return {};
  auto last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

json filter_value(const table_def& table, const column_def& column, const json& value) {
  try {
    return normalize_value(column, value.is_string() ? json(trim(value.get<std::string>())) : value);
  } catch (const value_error& e) {
    fail(std::string{"Invalid filter value for "} + table.name + ": " + e.what());
  }
}

/// One client filter entry {"Name","Value1","Value2"[,"Condition"]}; docs/server.md
/// ("Client filters") describes the rules. Values are bound as SQL parameters and
/// the column is one of the config's, so nothing in a filter becomes SQL text.
std::optional<column_filter> parse_condition(const table_def& table, const json& entry) {
  if (!entry.is_object() || !entry.contains("Name") || !entry["Name"].is_string())
    fail("Invalid filter for " + table.name + ": expected {\"Name\":..,\"Value1\":..}.");
  const auto& name = entry["Name"].get_ref<const std::string&>();
  const auto* column = table.find_column(name);
  if (!column)
    fail("Unknown filter column '" + name + "' for object " + table.name + ".");
  json value1 = entry.value("Value1", json(nullptr));
  json value2 = entry.value("Value2", json(nullptr));
  auto blank = [](const json& v) {
    return v.is_null() || (v.is_string() && trim(v.get<std::string>()).empty()) ||
           (v.is_array() && v.empty());
  };
  if (blank(value1) && blank(value2))
    return std::nullopt; // a declared but unset filter parameter
  column_filter filter{column->name, filter_op::equal, {}};
  std::string condition = entry.contains("Condition") && entry["Condition"].is_string()
                            ? entry["Condition"].get<std::string>()
                            : "";
  for (auto& c : condition)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto text1 = value1.is_string() ? value1.get<std::string>() : std::string{};
  if (condition.empty()) {
    if (!blank(value2))
      condition = "BETWEEN";
    else if (value1.is_array())
      condition = "IN";
    else if (text1.find('%') != std::string::npos)
      condition = "LIKE";
    else if (text1.find(',') != std::string::npos)
      condition = "IN";
    else
      condition = "EQ";
  }
  auto where = table.name + "." + name;
  if (condition == "BETWEEN") {
    // Value1..Value2, both included; one blank bound leaves that side open.
    if (blank(value1)) {
      filter.op = filter_op::less_equal;
      filter.values.push_back(filter_value(table, *column, value2));
    } else if (blank(value2)) {
      filter.op = filter_op::greater_equal;
      filter.values.push_back(filter_value(table, *column, value1));
    } else {
      filter.op = filter_op::between;
      filter.values = {filter_value(table, *column, value1), filter_value(table, *column, value2)};
    }
    return filter;
  }
  if (blank(value1))
    fail("Invalid filter for " + where + ": Value1 is empty (Value2 is only for ranges).");
  if (condition == "LIKE") {
    if (value1.is_array() || value1.is_object())
      fail("Invalid filter for " + where + ": a LIKE pattern must be a string.");
    filter.op = filter_op::like;
    filter.values.push_back(value1.is_string() ? value1 : json(value_text(value1)));
  } else if (condition == "IN") {
    filter.op = filter_op::in;
    if (value1.is_array()) {
      for (const auto& item : value1)
        filter.values.push_back(filter_value(table, *column, item));
    } else if (!value1.is_string()) {
      filter.values.push_back(filter_value(table, *column, value1));
    } else {
      std::size_t start = 0;
      while (start <= text1.size()) {
        auto comma = text1.find(',', start);
        auto part = trim(text1.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        if (!part.empty())
          filter.values.push_back(filter_value(table, *column, json(part)));
        if (comma == std::string::npos)
          break;
        start = comma + 1;
      }
    }
    if (filter.values.empty())
      fail("Invalid filter for " + where + ": the list \"" + text1 + "\" holds no value.");
  } else {
    static const std::map<std::string, filter_op> ops{
      {"EQ", filter_op::equal},     {"NE", filter_op::not_equal},     {"LT", filter_op::less},
      {"LE", filter_op::less_equal}, {"GT", filter_op::greater},       {"GE", filter_op::greater_equal}};
    auto op = ops.find(condition);
    if (op == ops.end())
      fail("Unknown filter condition '" + condition + "' for " + where + ".");
    filter.op = op->second;
    filter.values.push_back(filter_value(table, *column, value1));
  }
  return filter;
}

/// The scope's tables with the client's filters (context.d.Filters) and the
/// server's owner filter, in ScopeTables order.
std::vector<table_selection> selections(const service_context& ctx, const sync_request& request,
                                        const scope_def& scope) {
  std::vector<table_selection> out;
  for (const auto& table : scope.tables) {
    out.push_back({&table, {}});
    if (const auto* column = owner_column(ctx, scope, table))
      out.back().filters.push_back({*column, filter_op::equal, {json(request.user)}});
  }
  const auto* context = decoded(request, "context");
  if (!context)
    return out;
  if (!context->is_object())
    fail("Invalid context: expected {\"d\":{\"Filters\":[...]}}.");
  auto d = context->find("d");
  if (d == context->end() || d->is_null())
    return out;
  if (!d->is_object())
    fail("Invalid context: d must be an object.");
  auto filters = d->find("Filters");
  if (filters == d->end() || filters->is_null())
    return out;
  std::vector<json> groups;
  if (filters->is_array())
    groups.assign(filters->begin(), filters->end());
  else if (filters->is_object())
    groups.push_back(*filters);
  else
    fail("Invalid context: d.Filters must be an array.");
  for (const auto& group : groups) {
    if (!group.is_object())
      fail("Invalid context: every d.Filters entry must be an object {\"<Object>\":[...]}.");
    for (const auto& [object, conditions] : group.items()) {
      const auto* table = scope.find_table(object);
      if (!table)
        fail("Unknown object '" + object + "' in the filters of scope " + scope.name + ".");
      auto& selection = out[static_cast<std::size_t>(table - scope.tables.data())];
      if (conditions.is_array()) {
        for (const auto& entry : conditions)
          if (auto f = parse_condition(*table, entry))
            selection.filters.push_back(std::move(*f));
      } else if (conditions.is_object()) {
        if (auto f = parse_condition(*table, conditions))
          selection.filters.push_back(std::move(*f));
      } else {
        fail("Invalid filters for " + table->name + ": expected an array of conditions.");
      }
    }
  }
  return out;
}

/// A server row as the client applies it; takes the row's values over (no copy:
/// big downloads spend their time in JSON allocations).
json download_row(row_change&& change) {
  json out = std::move(change.row.values);
  for (const auto& column : change.table->columns) {
    auto& value = out[column.name];
    value = present_value(column, value);
  }
  out["__metadata"] = {{"type", change.table->name},
                       {"changeType", change.row.deleted ? "delete" : "update"}};
  out["konysynchashsum"] = std::move(change.row.hashsum);
  return out;
}

json field_row(const table_def& table, const stored_row& row, const std::vector<const column_def*>& fields) {
  auto out = json::object();
  out["__metadata"] = {{"type", table.name}};
  for (const auto* column : fields)
    out[column->name] = present_value(*column, row.values.value(column->name, json(nullptr)));
  return out;
}

std::vector<const column_def*> requested_fields(const table_def& table, const json& entry) {
  std::vector<const column_def*> out;
  auto fields = entry.find("fields");
  if (fields == entry.end() || fields->is_null()) {
    for (const auto& column : table.columns)
      out.push_back(&column);
    return out;
  }
  if (!fields->is_array())
    fail("Invalid filterContext: fields of " + table.name + " must be an array.");
  for (const auto& field : *fields) {
    if (!field.is_string())
      fail("Invalid filterContext: fields of " + table.name + " must be column names.");
    const auto* column = table.find_column(field.get<std::string>());
    if (!column)
      fail("Unknown column '" + field.get<std::string>() + "' for object " + table.name + ".");
    out.push_back(column);
  }
  return out;
}

/// bulkGet: the rows with the given keys (no hashsum, docs/protocol.md 8.11).
json bulk_get(const service_context& ctx, const sync_request& request, const scope_def& scope,
              const json& objects) {
  auto reader = ctx.data.read();
  auto results = json::array();
  for (const auto& [object, entry] : objects.items()) {
    const auto* table = scope.find_table(object);
    if (!entry.is_object() || !entry.contains("keys"))
      continue;
    auto fields = requested_fields(*table, entry);
    const auto& keys = entry["keys"];
    if (!keys.is_array())
      fail("Invalid filterContext: keys of " + table->name + " must be an array.");
    const auto* owner = owner_column(ctx, scope, *table);
    for (const auto& key_entry : keys) {
      if (!key_entry.is_array())
        fail("Invalid filterContext: every key of " + table->name + " must be an array of {Name,Value}.");
      auto key = json::object();
      for (const auto& part : key_entry) {
        if (!part.is_object() || !part.contains("Name") || !part["Name"].is_string())
          fail("Invalid filterContext: key parts of " + table->name + " need Name and Value.");
        const auto* column = table->find_column(part["Name"].get<std::string>());
        if (!column || !table->is_primary_key(column->name))
          fail("'" + part["Name"].get<std::string>() + "' is not a primary key column of " + table->name + ".");
        key[column->name] = filter_value(*table, *column, part.value("Value", json(nullptr)));
      }
      if (key.size() != table->primary_key.size())
        fail("Invalid filterContext: incomplete key for " + table->name + ".");
      auto row = reader->find(*table, key);
      if (!row || row->deleted)
        continue;
      if (owner && value_text(row->values.value(*owner, json(nullptr))) != request.user)
        continue;
      results.push_back(field_row(*table, *row, fields));
    }
  }
  return {{"error", "false"},
          {"results", results},
          {"__sync", {{"serverblob", ""}, {"moreChangesAvailable", false}}}};
}

/// getAllPKs: the key columns of every live row of the requested objects, paged.
json all_primary_keys(const service_context& ctx, const sync_request& request, const scope_def& scope,
                      const json& objects, std::int64_t batch) {
  auto all = selections(ctx, request, scope);
  struct requested {
    std::size_t index;
    std::vector<const column_def*> fields;
  };
  std::vector<requested> wanted;
  for (std::size_t i = 0; i < scope.tables.size(); ++i) {
    for (const auto& [object, entry] : objects.items()) {
      if (scope.find_table(object) == &scope.tables[i]) {
        if (!entry.is_object())
          fail("Invalid filterContext: the entry of " + object + " must be an object.");
        wanted.push_back({i, requested_fields(scope.tables[i], entry)});
      }
    }
  }
  const auto tag = ctx.data.tag();
  auto cursor = pk_cursor::decode(param(request, "tickcount").value_or(""));
  if (!cursor)
    fail("Invalid tickcount : " + param(request, "tickcount").value_or("") + ".");
  if (cursor->store_tag != tag)
    *cursor = pk_cursor{tag, 0, nullptr};

  auto reader = ctx.data.read();
  auto results = json::array();
  bool more = false;
  for (const auto& want : wanted) {
    auto index = static_cast<std::int64_t>(want.index);
    if (index < cursor->table_index)
      continue;
    const auto& table = scope.tables[want.index];
    auto after = index == cursor->table_index ? cursor->last_key : json(nullptr);
    auto room = static_cast<std::size_t>(batch) - results.size();
    // One row more than there is room for tells whether more will follow.
    auto rows = reader->rows_after_key(all[want.index], after, room + 1);
    for (std::size_t i = 0; i < rows.size() && i < room; ++i) {
      results.push_back(field_row(table, rows[i], want.fields));
      auto key = json::array();
      for (const auto& column : table.primary_key)
        key.push_back(rows[i].values.at(column));
      *cursor = pk_cursor{tag, index, std::move(key)};
    }
    if (rows.size() > room) {
      more = true;
      break;
    }
  }
  return {{"error", "false"},
          {"results", results},
          {"__sync", {{"serverblob", cursor->encode()}, {"moreChangesAvailable", more}}}};
}

json reconcile(const service_context& ctx, const sync_request& request, const scope_def& scope,
               const json& filter_context, std::int64_t batch) {
  if (!filter_context.is_object() || !filter_context.contains("d") || !filter_context["d"].is_object())
    fail("Invalid filterContext: expected {\"d\":{\"<Object>\":{\"fields\":[...]}}}.");
  const auto& objects = filter_context["d"];
  bool keyed = false;
  for (const auto& [object, entry] : objects.items()) {
    if (!scope.find_table(object))
      fail("Unknown object '" + object + "' in the filterContext of scope " + scope.name + ".");
    if (entry.is_object() && entry.contains("keys"))
      keyed = true;
  }
  return keyed ? bulk_get(ctx, request, scope, objects)
               : all_primary_keys(ctx, request, scope, objects, batch);
}

/// Cuts `text` into pieces of at most `limit` bytes, never inside a UTF-8 character.
std::vector<std::string> utf8_chunks(const std::string& text, std::size_t limit) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = std::min(text.size(), start + limit);
    while (end < text.size() && end > start + 1 &&
           (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80)
      --end;
    out.push_back(text.substr(start, end - start));
    start = end;
  }
  return out;
}

std::string payload_id(const std::string& tag) {
  std::random_device entropy;
  static constexpr char digits[] = "0123456789abcdef";
  std::string out = tag + "-";
  for (int i = 0; i < 24; ++i)
    out.push_back(digits[entropy() % 16]);
  return out;
}

json chunked(const service_context& ctx, const sync_request& request, json answer) {
  auto size_text = param(request, "chunksize");
  if (!size_text || size_text->empty())
    return answer;
  auto kilobytes = parse_int(*size_text);
  if (!kilobytes || *kilobytes <= 0)
    fail("Invalid chunk size : " + *size_text + " must be greater than zero.");
  auto payload = json{{"opstatus", 0}, {"d", answer}}.dump();
  auto limit = static_cast<std::size_t>(std::min<std::int64_t>(*kilobytes, 1 << 20)) * 1024;
  if (payload.size() <= limit)
    return answer;
  auto chunks = utf8_chunks(payload, limit);
  auto id = payload_id(ctx.data.tag());
  ctx.data.save_payload(id, request.user, chunks,
                        ctx.settings.chunk_payload_ttl_seconds);
  return {{"error", "false"},
          {"chunkdata", chunks.front()},
          {"__sync",
           {{"payloadid", id},
            {"chunkcount", static_cast<std::int64_t>(chunks.size())},
            {"checksum", transport::sha256_hex(payload)}}}};
}

} // namespace

json handle_download(const service_context& ctx, const sync_request& request) {
  const auto& scope = require_scope(ctx, request);
  auto batch = batch_size(ctx, request);
  if (auto done = param(request, "deletechunkpayloadid"); done && !done->empty())
    ctx.data.delete_payload(request.user, *done);
  if (const auto* filter_context = decoded(request, "filterContext"))
    return reconcile(ctx, request, scope, *filter_context, batch);

  auto tables = selections(ctx, request, scope);
  bool initial = initial_sync(request);
  bool with_tombstones = !initial; // a first sync has nothing to delete
  const auto tag = ctx.data.tag();
  auto tickcount = param(request, "tickcount").value_or("");
  auto cursor = download_cursor::decode(tickcount);
  if (!cursor)
    fail("Invalid tickcount : " + tickcount + ".");
  if (cursor->store_tag != tag)
    *cursor = download_cursor{tag}; // from the start, for a new or recreated store
  auto client = param(request, "clientid").value_or("");
  bool persistent = scope.strategy == sync_strategy::persistent_sync && !client.empty();
  const change_origin device{request.user, client}; // what the server keeps for this device

  // The blob the client sent proves it committed the batch that carried
  // messages up to acked_message: only now are they dropped. A lost answer
  // means an older blob comes back, and the messages go out again.
  if (persistent && cursor->acked_message > 0 &&
      ctx.data.read()->has_messages_up_to(device, scope.name, cursor->acked_message))
    ctx.data.write([&](store_writer& writer) {
      writer.release_messages(device, scope.name, cursor->acked_message);
    });

  auto reader = ctx.data.read();
  std::optional<own_changes> own;
  if (!client.empty())
    own = own_changes{device, reader->registration_sequence(request.user, client)};
  auto results = json::array();
  auto upload_errors = json::array();
  auto acked = cursor->acked_message;
  bool more_messages = false;
  std::int64_t messages = 0;
  if (persistent) {
    auto pending = reader->pending_messages(device, scope.name, cursor->acked_message,
                                            static_cast<std::size_t>(batch) + 1);
    if (static_cast<std::int64_t>(pending.size()) > batch) {
      more_messages = true;
      pending.resize(static_cast<std::size_t>(batch));
    }
    for (auto& message : pending) {
      if (message.kind == "error")
        upload_errors.push_back({{std::to_string(message.id), std::move(message.body)}});
      else
        results.push_back(std::move(message.body));
      acked = message.id;
    }
    messages = static_cast<std::int64_t>(pending.size());
  }

  const auto room = batch - messages;
  std::int64_t taken = 0, last_sequence = cursor->last_sequence, last_time = 0;
  std::int64_t taken_within_horizon = 0;
  bool more_rows = false;
  {
    auto stream = reader->changes_after(tables, cursor->last_sequence, with_tombstones, own);
    while (auto change = stream->next()) {
      bool same_time_run = taken > 0 && change->row.changed_at == last_time;
      if (taken >= room && !same_time_run) {
        more_rows = true;
        break;
      }
      ++taken;
      last_sequence = change->row.sequence;
      last_time = change->row.changed_at;
      results.push_back(download_row(std::move(*change)));
      if (last_sequence <= cursor->horizon)
        ++taken_within_horizon;
    }
  }

  // pendingBatches: rows left after this batch. Counted in full only for a
  // cursor without an estimate; otherwise the estimate carried in the blob
  // minus what went out, plus the rows changed since the blob was made.
  std::int64_t left = 0;
  auto snapshot_end = reader->last_sequence();
  if (more_rows) {
    if (cursor->horizon > 0 && cursor->horizon >= cursor->last_sequence) {
      auto within = last_sequence < cursor->horizon
                      ? std::max<std::int64_t>(0, cursor->remaining - taken_within_horizon)
                      : 0;
      left = within + reader->count_changes(tables, std::max(cursor->horizon, last_sequence),
                                            snapshot_end, with_tombstones, own);
    } else {
      left = reader->count_changes(tables, last_sequence, snapshot_end, with_tombstones, own);
    }
    left = std::max<std::int64_t>(left, 1);
  } else {
    // Every change of this snapshot was seen, the ones left out as well: the next
    // download starts after all of them.
    last_sequence = std::max(last_sequence, snapshot_end);
  }
  download_cursor next{tag, last_sequence, snapshot_end, left, acked};
  bool more = more_rows || more_messages;
  std::int64_t pending_batches = more ? std::max<std::int64_t>(1, (left + batch - 1) / batch) : 0;

  json sync = {{"serverblob", next.encode()},
               {"moreChangesAvailable", more},
               {"pendingBatches", pending_batches}};
  if (!upload_errors.empty())
    sync["UploadErrors"] = std::move(upload_errors);
  reader.reset();
  return chunked(ctx, request, {{"error", "false"}, {"results", std::move(results)}, {"__sync", std::move(sync)}});
}

json handle_download_chunk(const service_context& ctx, const sync_request& request) {
  auto id = param(request, "payloadid").value_or("");
  auto number_text = param(request, "chunknumber").value_or("");
  auto number = parse_int(number_text);
  if (id.empty())
    throw protocol_error("SY3008E", "Invalid chunk payload id : the payloadid parameter is missing.");
  if (!number || *number < 1)
    fail("Invalid chunk number : " + number_text + ".");
  auto reader = ctx.data.read();
  auto chunk = reader->payload_chunk(request.user, id, *number);
  if (!chunk) {
    if (!reader->payload_chunk(request.user, id, 1))
      throw protocol_error("SY3008E", "Invalid chunk payload id : " + id + ".");
    fail("Invalid chunk number : " + number_text + " for payload id " + id + ".");
  }
  return {{"error", "false"}, {"chunkdata", *chunk}, {"payloadid", id}, {"chunknumber", *number}};
}

} // namespace mxsync::server::detail
