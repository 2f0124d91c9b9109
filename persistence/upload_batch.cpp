#include "persistence/upload_batch.hpp"

#include "mxsync/error.hpp"
#include "persistence/change_tracking.hpp"
#include "persistence/device_schema.hpp"
#include "persistence/sync_state.hpp"
#include "persistence/validation.hpp"

#include <algorithm>
#include <limits>

namespace mxsync::syncdb {

namespace detail {

transport::column_value read_column_value(const db::statement& stmt, int column) {
  switch (sqlite3_column_type(stmt.handle(), column)) {
    case SQLITE_NULL:
      return std::monostate{};
    case SQLITE_INTEGER:
      return stmt.column_int64(column);
    case SQLITE_FLOAT:
      return stmt.column_double(column);
    default:
      return stmt.column_text(column); // text, and blobs by their bytes
  }
}

void bind_column_value(db::statement& stmt, int index, const transport::column_value& value) {
  std::visit(
    [&](const auto& v) {
      using T = std::decay_t<decltype(v)>;
      if constexpr (std::is_same_v<T, std::monostate>)
        stmt.bind_null(index);
      else
        stmt.bind(index, v);
    },
    value);
}

} // namespace detail

namespace {

using db::quote_identifier;

// Pending upload rows (docs/protocol.md 1.4): deferred changes (9x) never leave the device.
constexpr const char* uploadable_condition =
  "konysyncversionnumber = ? and konysyncchangetype not like '9%'";

/// Columns the real client leaves out of upload rows.
bool is_never_uploaded(const std::string& column) {
  return column == "ServerId" || column == "UpdateId";
}

transport::change_kind kind_of(std::int64_t change_type) {
  switch (change_type) {
    case tracking::insert_change:
      return transport::change_kind::insert;
    case tracking::delete_change:
      return transport::change_kind::remove;
    default:
      return transport::change_kind::update;
  }
}

void count_change(change_counts& counts, transport::change_kind kind) {
  switch (kind) {
    case transport::change_kind::insert:
      ++counts.inserted;
      break;
    case transport::change_kind::update:
      ++counts.updated;
      break;
    case transport::change_kind::remove:
      ++counts.deleted;
      break;
  }
}

/// The replay sequences of up to `limit` uploadable rows of a table after `after`.
void collect_sequences(db::connection& db, const table_def& table, std::int64_t version,
                       std::int64_t after, std::size_t limit, std::vector<std::int64_t>& out) {
  auto& stmt = db.cached("select konysyncreplaysequence from "
                         + quote_identifier(schema::history_table(table.name)) + " where "
                         + uploadable_condition
                         + " and konysyncreplaysequence > ? order by konysyncreplaysequence "
                           "limit ?");
  const auto max_rows = limit == 0 || limit > static_cast<std::size_t>(
                                                std::numeric_limits<std::int64_t>::max())
                          ? std::int64_t{-1}
                          : static_cast<std::int64_t>(limit);
  stmt.bind(1, version).bind(2, after).bind(3, max_rows);
  while (stmt.step())
    out.push_back(stmt.column_int64(0));
  stmt.reset();
}

bool has_rows_after(db::connection& db, const table_def& table, std::int64_t version,
                    std::int64_t after) {
  auto& stmt = db.cached("select 1 from " + quote_identifier(schema::history_table(table.name))
                         + " where " + uploadable_condition
                         + " and konysyncreplaysequence > ? limit 1");
  stmt.bind(1, version).bind(2, after);
  const bool found = stmt.step();
  stmt.reset();
  return found;
}

/// Appends the table's rows of the window (after, last] to `window`.
void read_window_rows(db::connection& db, const table_def& table, std::int64_t version,
                      std::int64_t after, std::int64_t last, upload_window& window) {
  std::vector<const column_def*> columns;
  for (const auto& column : table.columns)
    if (!is_never_uploaded(column.name))
      columns.push_back(&column);
  std::string select;
  for (const auto* column : columns)
    select += quote_identifier(column->name) + ", ";
  auto& stmt = db.cached("select " + select
                         + "konysyncversionnumber, konysyncchangetype, konysyncreplaysequence, "
                           "konysynchashsum from "
                         + quote_identifier(schema::history_table(table.name)) + " where "
                         + uploadable_condition
                         + " and konysyncreplaysequence > ? and konysyncreplaysequence <= ? "
                           "order by konysyncreplaysequence");
  stmt.bind(1, version).bind(2, after).bind(3, last);
  change_counts counts;
  const int meta = static_cast<int>(columns.size());
  std::optional<nlohmann::json> not_utf8; // the first change whose text cannot be sent
  while (!not_utf8 && stmt.step()) {
    transport::upload_row row;
    row.object_type = table.name;
    row.columns.reserve(columns.size());
    for (int i = 0; i < meta; ++i) {
      const auto& name = columns[static_cast<std::size_t>(i)]->name;
      auto value = detail::read_column_value(stmt, i);
      const auto* text = std::get_if<std::string>(&value);
      if (text && !not_utf8 && !validation::is_valid_utf8(*text))
        not_utf8 = nlohmann::json{{"table", table.name}, {"column", name},
                                  {"replaySequence", stmt.column_int64(meta + 2)},
                                  {"reason", "not valid UTF-8"}};
      row.columns.emplace_back(name, std::move(value));
    }
    if (not_utf8)
      break;
    row.version_number = stmt.is_null(meta) ? version : stmt.column_int64(meta);
    const auto change_type = stmt.column_int64(meta + 1);
    row.change_type = static_cast<int>(change_type);
    row.change = kind_of(change_type);
    row.replay_sequence = stmt.column_int64(meta + 2);
    if (!stmt.is_null(meta + 3))
      row.hashsum = stmt.column_text(meta + 3);
    count_change(counts, row.change);
    count_change(window.totals, row.change);
    window.first_sequence = window.first_sequence == 0
                              ? row.replay_sequence
                              : std::min(window.first_sequence, row.replay_sequence);
    window.rows.push_back(std::move(row));
  }
  stmt.reset();
  // JSON cannot carry it (the request would not encode): the scope fails with 7001 and
  // the change stays pending, for the app to correct or roll back.
  if (not_utf8) {
    auto message = "A pending change of " + table.name + " holds text that is not valid UTF-8 in "
                   + (*not_utf8)["column"].get<std::string>()
                   + "; it stays pending and was not uploaded.";
    throw sync_exception(error_code::invalid_data_type, std::move(message), std::move(*not_utf8));
  }
  if (counts.total() > 0)
    window.per_object.emplace_back(table.name, counts);
}

void bind_counts(db::statement& stmt, int first, const change_counts& counts) {
  stmt.bind(first, counts.inserted).bind(first + 1, counts.updated).bind(first + 2, counts.deleted);
}

change_counts read_counts(const db::statement& stmt, int first) {
  auto at = [&](int column) { return stmt.is_null(column) ? 0 : stmt.column_int64(column); };
  return {at(first), at(first + 1), at(first + 2)};
}

} // namespace

upload_window next_batch(db::connection& db, const sync_config& config, const std::string& scope,
                         std::size_t batch_size, std::int64_t after_sequence) {
  const auto& scope_def = require_scope(config, scope);
  return with_sql_errors("read upload batch", [&] {
    upload_window window;
    window.upload_sequence = tracking::current_version(db, scope);
    const auto version = window.upload_sequence;
    // The window's end: the batch_size-th smallest pending sequence over all tables
    // (each table contributes at most batch_size candidates, read along its index).
    std::vector<std::int64_t> sequences;
    for (const auto& table : scope_def.tables)
      collect_sequences(db, table, version, after_sequence, batch_size, sequences);
    if (sequences.empty())
      return window;
    std::int64_t last = 0;
    if (batch_size == 0 || sequences.size() <= batch_size) {
      last = *std::max_element(sequences.begin(), sequences.end());
    } else {
      auto nth = sequences.begin() + static_cast<std::ptrdiff_t>(batch_size - 1);
      std::nth_element(sequences.begin(), nth, sequences.end());
      last = *nth;
      window.more_pending = true; // a candidate lies beyond the window
    }
    window.last_sequence = last;
    // Grouped per table in ScopeTables order, as the real client sends them.
    for (const auto& table : scope_def.tables)
      read_window_rows(db, table, version, after_sequence, last, window);
    if (!window.more_pending)
      for (const auto& table : scope_def.tables)
        if (has_rows_after(db, table, version, last)) {
          window.more_pending = true;
          break;
        }
    return window;
  });
}

std::optional<cached_upload_request> get_cached_request(db::connection& db,
                                                        const sync_config& config,
                                                        const std::string& scope) {
  require_scope(config, scope);
  return with_sql_errors("read cached upload request", [&] {
    auto& stmt = db.cached("select uploadrequest, objectlevelinfo, insertcount, updatecount, "
                           "deletecount, batchinsertcount, batchupdatecount, batchdeletecount, "
                           "uploadlimit from konysyncPENDINGUPLOADREQUESTINFO where scopename = ?");
    stmt.bind(1, scope);
    std::optional<cached_upload_request> out;
    if (stmt.step()) {
      cached_upload_request request;
      request.upload_request = stmt.is_null(0) ? std::string{} : stmt.column_text(0);
      request.object_level_info = stmt.is_null(1) ? std::string{} : stmt.column_text(1);
      request.session_counts = read_counts(stmt, 2);
      request.batch_counts = read_counts(stmt, 5);
      request.upload_limit = stmt.is_null(8) ? 0 : stmt.column_int64(8);
      out = std::move(request);
    }
    stmt.reset();
    return out;
  });
}

void put_cached_request(db::connection& db, const sync_config& config, const std::string& scope,
                        const cached_upload_request& request) {
  require_scope(config, scope);
  with_sql_errors("cache upload request", [&] {
    db::transaction tx{db};
    auto& stmt = db.cached("insert or replace into konysyncPENDINGUPLOADREQUESTINFO (scopename, "
                           "uploadrequest, objectlevelinfo, insertcount, updatecount, deletecount, "
                           "batchinsertcount, batchupdatecount, batchdeletecount, uploadlimit) "
                           "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    stmt.bind(1, scope).bind(2, request.upload_request).bind(3, request.object_level_info);
    bind_counts(stmt, 4, request.session_counts);
    bind_counts(stmt, 7, request.batch_counts);
    stmt.bind(10, request.upload_limit);
    stmt.run();
    stmt.reset();
    tx.commit();
  });
}

void clear_cached_request(db::connection& db, const sync_config& config,
                          const std::string& scope) {
  require_scope(config, scope);
  with_sql_errors("clear cached upload request", [&] {
    db::transaction tx{db};
    auto& stmt = db.cached("delete from konysyncPENDINGUPLOADREQUESTINFO where scopename = ?");
    stmt.bind(1, scope);
    stmt.run();
    stmt.reset();
    tx.commit();
  });
}

std::int64_t commit_uploaded_batch(db::connection& db, const sync_config& config,
                                   const std::string& scope, std::int64_t last_sequence,
                                   const std::string& server_blob) {
  const auto& scope_def = require_scope(config, scope);
  return with_sql_errors("commit uploaded batch", [&] {
    db::transaction tx{db};
    const auto version = tracking::current_version(db, scope);
    for (const auto& table : scope_def.tables) {
      const auto main = quote_identifier(table.name);
      const auto history = quote_identifier(schema::history_table(table.name));
      // Main rows first: they are found through the history rows being moved (driven
      // from the history's sequence index and the main table's key, no table scan).
      const auto keys = tracking::column_list(table.primary_key);
      const auto key_tuple = table.primary_key.size() == 1 ? keys : "(" + keys + ")";
      auto& move_main = db.cached("update " + main
                                  + " set konysyncversionnumber = ?2 where "
                                    "konysyncversionnumber = ?1 and "
                                  + key_tuple + " in (select " + keys + " from " + history
                                  + " where konysyncreplaysequence > ?3 and "
                                    "konysyncversionnumber = ?1)");
      move_main.bind(1, version).bind(2, version + 1).bind(3, last_sequence);
      move_main.run();
      move_main.reset();
      auto& move_history = db.cached("update " + history
                                     + " set konysyncversionnumber = ?2 where "
                                       "konysyncversionnumber = ?1 and konysyncreplaysequence > ?3");
      move_history.bind(1, version).bind(2, version + 1).bind(3, last_sequence);
      move_history.run();
      move_history.reset();
    }
    auto& meta = db.cached("update konysyncMETAINFO set versionnumber = ?, "
                           "lastserveruploadsynccontext = ? where scopename = ? and filtervalue = ?");
    meta.bind(1, version + 1).bind(2, server_blob).bind(3, scope).bind(4, schema::no_filter);
    meta.run();
    meta.reset();
    auto& clear = db.cached("delete from konysyncPENDINGUPLOADREQUESTINFO where scopename = ?");
    clear.bind(1, scope);
    clear.run();
    clear.reset();
    tx.commit();
    return version + 1;
  });
}

} // namespace mxsync::syncdb
