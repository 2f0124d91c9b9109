#include "persistence/download_batch.hpp"

#include "mxsync/error.hpp"
#include "persistence/change_tracking.hpp"
#include "persistence/device_schema.hpp"
#include "persistence/sync_state.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <unordered_map>

namespace mxsync::syncdb {

namespace {

using nlohmann::json;
using db::quote_identifier;
using transport::column_list;
using transport::column_value;
using transport::sync_row;

json value_json(const column_value& value) {
  return std::visit(
    [](const auto& v) -> json {
      using T = std::decay_t<decltype(v)>;
      if constexpr (std::is_same_v<T, std::monostate>)
        return nullptr;
      else
        return v;
    },
    value);
}

json key_json(const column_list& key) {
  json out = json::object();
  for (const auto& [name, value] : key)
    out[name] = value_json(value);
  return out;
}

bool is_null(const column_value& value) { return std::holds_alternative<std::monostate>(value); }

/// "?3" - numbered parameters let one binding serve several clauses of a statement.
std::string param(std::size_t number) {
  std::string text{"?"}; // built by appending: GCC 12 -O3 warns (-Wrestrict) on "?" + string
  text += std::to_string(number);
  return text;
}

constexpr const char* clean_condition =
  "(konysyncchangetype is null or konysyncchangetype = -1)";

enum class upsert_outcome { inserted, updated, not_applied };

/// The statements of one server-row shape (which columns a row brings) of a table.
struct row_shape {
  db::statement* insert = nullptr; ///< insert or ignore, unless the key has history
  db::statement* update = nullptr; ///< update when clean and without history
};

/// Everything per sync object that one call needs, built once on first use.
class table_io {
public:
  table_io(db::connection& db, const table_def& table)
      : db_(db), table_(table), main_(quote_identifier(table.name)),
        history_(quote_identifier(schema::history_table(table.name))),
        original_(quote_identifier(schema::original_table(table.name))) {
    for (std::size_t i = 0; i < table.columns.size(); ++i)
      index_.emplace(table.columns[i].name, i);
    for (const auto& key : table.primary_key) {
      const auto* column = table.find_column(key);
      key_index_.push_back(column ? index_.at(column->name) : table.columns.size());
    }
  }

  const table_def& table() const noexcept { return table_; }

  /// The column's position in the config, by exact then case-insensitive name.
  std::optional<std::size_t> column_index(const std::string& name) const {
    if (auto it = index_.find(name); it != index_.end())
      return it->second;
    if (const auto* column = table_.find_column(name))
      return index_.at(column->name);
    return std::nullopt;
  }

  /// Row values in config order (nullptr = not sent); false when a key column is
  /// missing or null.
  bool map_values(const column_list& columns, std::vector<const column_value*>& values) const {
    values.assign(table_.columns.size(), nullptr);
    for (const auto& [name, value] : columns)
      if (auto index = column_index(name))
        values[*index] = &value;
    for (auto index : key_index_)
      if (index >= values.size() || !values[index] || is_null(*values[index]))
        return false;
    return true;
  }

  column_list key_of(const std::vector<const column_value*>& values) const {
    column_list key;
    for (std::size_t i = 0; i < key_index_.size(); ++i)
      key.emplace_back(table_.primary_key[i], *values[key_index_[i]]);
    return key;
  }

  // -- server rows ---------------------------------------------------------------------

  /// Insert when absent; update when clean and without history; else not applied.
  upsert_outcome upsert(const std::vector<const column_value*>& values,
             const std::optional<std::string>& hashsum) {
    std::string signature(values.size(), '0');
    for (std::size_t i = 0; i < values.size(); ++i)
      if (values[i])
        signature[i] = '1';
    auto it = shapes_.find(signature);
    if (it == shapes_.end())
      it = shapes_.emplace(signature, prepare_shape(values)).first;
    const auto& shape = it->second;
    bind_present(*shape.insert, values, hashsum);
    shape.insert->run();
    shape.insert->reset();
    if (db_.changes() > 0)
      return upsert_outcome::inserted;
    bind_present(*shape.update, values, hashsum);
    shape.update->run();
    shape.update->reset();
    return db_.changes() > 0 ? upsert_outcome::updated : upsert_outcome::not_applied;
  }

  /// Deletes a clean row without history; true when a row was deleted.
  bool remove_clean(const column_list& key) {
    auto& stmt = db_.cached("delete from " + main_ + " where " + key_condition(1) + " and "
                            + clean_condition + " and not exists (select 1 from " + history_
                            + " where " + key_condition(1) + ")");
    bind_key(stmt, key, 1);
    stmt.run();
    stmt.reset();
    return db_.changes() > 0;
  }

  /// Whether the key has a main row or history (a row that was not applied exists).
  bool known_locally(const column_list& key) {
    auto& stmt = db_.cached("select 1 from " + main_ + " where " + key_condition(1)
                            + " union all select 1 from " + history_ + " where "
                            + key_condition(1) + " limit 1");
    bind_key(stmt, key, 1);
    const bool found = stmt.step();
    stmt.reset();
    return found;
  }

  // -- acknowledgements ----------------------------------------------------------------

  /// Rewrites the key in T, T_original and T_history. "or replace": a copy of the record
  /// under the server's key (downloaded before the ack) is the same record.
  void rewrite_key(const column_list& old_key, const column_list& new_key) {
    for (const auto& [target, conflict] :
         {std::pair{&main_, " or replace "}, std::pair{&original_, " or replace "},
          std::pair{&history_, " "}}) {
      std::string assignments;
      for (std::size_t i = 0; i < table_.primary_key.size(); ++i)
        assignments += (i ? ", " : "") + quote_identifier(table_.primary_key[i]) + " = ?";
      auto& stmt = db_.cached("update" + std::string{conflict} + *target + " set " + assignments
                              + " where " + key_condition());
      int next = bind_key(stmt, new_key, 1);
      bind_key(stmt, old_key, next);
      stmt.run();
      stmt.reset();
    }
  }

  /// Success: history up to the acked change goes, the row becomes clean when nothing
  /// newer is pending, the pre-image goes with the last history row.
  void acknowledge(const column_list& key, const sync_row& ack) {
    if (ack.replay_sequence) {
      auto& stmt = db_.cached("delete from " + history_ + " where " + key_condition()
                              + " and konysyncreplaysequence <= ?");
      const int next = bind_key(stmt, key, 1);
      stmt.bind(next, *ack.replay_sequence);
      stmt.run();
      stmt.reset();
    } else if (ack.version_number) {
      auto& stmt = db_.cached("delete from " + history_ + " where " + key_condition()
                              + " and konysyncversionnumber <= ?");
      const int next = bind_key(stmt, key, 1);
      stmt.bind(next, *ack.version_number);
      stmt.run();
      stmt.reset();
    } else {
      auto& stmt = db_.cached("delete from " + history_ + " where " + key_condition());
      bind_key(stmt, key, 1);
      stmt.run();
      stmt.reset();
    }
    if (ack.hashsum) {
      // Changes still pending were made on the row the server has now: they must
      // carry its new hashsum, or the server would see a conflict that is none.
      auto& stmt = db_.cached("update " + history_ + " set konysynchashsum = ? where "
                              + key_condition());
      stmt.bind(1, *ack.hashsum);
      bind_key(stmt, key, 2);
      stmt.run();
      stmt.reset();
    }
    auto& main = db_.cached(
      "update " + main_
      + " set konysynchashsum = coalesce(?1, konysynchashsum), konysyncchangetype = case when "
        "konysyncchangetype is not null and (?2 is null or konysyncversionnumber is null or "
        "konysyncversionnumber <= ?2) and not exists (select 1 from "
      + history_ + " where " + key_condition(3) + ") then -1 else konysyncchangetype end where "
      + key_condition(3));
    if (ack.hashsum)
      main.bind(1, *ack.hashsum);
    else
      main.bind_null(1);
    if (ack.version_number)
      main.bind(2, *ack.version_number);
    else
      main.bind_null(2);
    bind_key(main, key, 3);
    main.run();
    main.reset();
    auto& original = db_.cached("delete from " + original_ + " where " + key_condition()
                                + " and not exists (select 1 from " + history_ + " where "
                                + key_condition() + ")");
    bind_key(original, key, 1);
    bind_key(original, key, static_cast<int>(key.size()) + 1);
    original.run();
    original.reset();
  }

  /// A failed change is sent again: its history (up to the acked change) and its main
  /// row move to the current upload sequence number.
  void requeue(const column_list& key, const sync_row& ack, std::int64_t version) {
    auto& history = db_.cached("update " + history_ + " set konysyncversionnumber = ? where "
                               + key_condition()
                               + " and konysyncchangetype not like '9%' and "
                                 "konysyncreplaysequence <= coalesce(?, konysyncreplaysequence)");
    history.bind(1, version);
    const int next = bind_key(history, key, 2);
    if (ack.replay_sequence)
      history.bind(next, *ack.replay_sequence);
    else
      history.bind_null(next);
    history.run();
    history.reset();
    auto& main = db_.cached("update " + main_ + " set konysyncversionnumber = ? where "
                            + key_condition()
                            + " and konysyncchangetype is not null and konysyncchangetype <> -1 "
                              "and konysyncchangetype not like '9%'");
    main.bind(1, version);
    bind_key(main, key, 2);
    main.run();
    main.reset();
  }

  /// removeafterupload: the record goes locally when it is clean; true when it went.
  bool remove_if_clean(const column_list& key) {
    if (!remove_clean(key))
      return false;
    auto& stmt = db_.cached("delete from " + original_ + " where " + key_condition());
    bind_key(stmt, key, 1);
    stmt.run();
    stmt.reset();
    return true;
  }

  int bind_key(db::statement& stmt, const column_list& key, int first) const {
    for (const auto& name : table_.primary_key) {
      const column_value* value = nullptr;
      for (const auto& [column, v] : key)
        if (iequals(column, name)) {
          value = &v;
          break;
        }
      if (value)
        detail::bind_column_value(stmt, first, *value);
      else
        stmt.bind_null(first);
      ++first;
    }
    return first;
  }

  /// "k1" = ? and ..., or with numbered parameters from `first_number`.
  std::string key_condition(std::size_t first_number = 0) const {
    std::string out;
    for (std::size_t i = 0; i < table_.primary_key.size(); ++i) {
      if (i)
        out += " and ";
      out += quote_identifier(table_.primary_key[i]) + " = "
             + (first_number ? param(first_number + i) : std::string{"?"});
    }
    return out;
  }

private:
  row_shape prepare_shape(const std::vector<const column_value*>& values) {
    // Parameters: ?1..?m the present columns in config order, ?m+1 the hashsum; the
    // key conditions reuse the key columns' numbers.
    std::vector<std::size_t> number(values.size(), 0);
    std::string columns, params, assignments;
    std::size_t next = 1;
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (!values[i])
        continue;
      number[i] = next;
      const auto name = quote_identifier(table_.columns[i].name);
      columns += name + ", ";
      params += param(next) + ", ";
      if (!table_.columns[i].primary_key && !table_.is_primary_key(table_.columns[i].name))
        assignments += name + " = " + param(next) + ", ";
      ++next;
    }
    const auto hashsum = param(next);
    std::string key;
    for (std::size_t i = 0; i < key_index_.size(); ++i)
      key += (i ? " and " : "") + quote_identifier(table_.primary_key[i]) + " = "
             + param(number[key_index_[i]]);
    const auto no_history = "not exists (select 1 from " + history_ + " where " + key + ")";
    row_shape shape;
    shape.insert = &db_.cached("insert or ignore into " + main_ + " (" + columns
                               + "konysynchashsum) select " + params + hashsum + " where "
                               + no_history);
    shape.update = &db_.cached("update " + main_ + " set " + assignments
                               + "konysynchashsum = coalesce(" + hashsum
                               + ", konysynchashsum) where " + key + " and " + clean_condition
                               + " and " + no_history);
    return shape;
  }

  static void bind_present(db::statement& stmt, const std::vector<const column_value*>& values,
                           const std::optional<std::string>& hashsum) {
    int next = 1;
    for (const auto* value : values)
      if (value)
        detail::bind_column_value(stmt, next++, *value);
    if (hashsum)
      stmt.bind(next, *hashsum);
    else
      stmt.bind_null(next);
  }

  db::connection& db_;
  const table_def& table_;
  std::string main_, history_, original_;
  std::unordered_map<std::string, std::size_t> index_;
  std::vector<std::size_t> key_index_; ///< config positions of the key columns
  std::unordered_map<std::string, row_shape> shapes_;
};

/// The related columns to rewrite when a key column of a table changes.
struct foreign_key_ref {
  const table_def* table;
  std::string column;
};

std::vector<foreign_key_ref> foreign_keys_of(const sync_config& config, const table_def& table,
                                             const std::string& key_column) {
  std::vector<foreign_key_ref> out;
  // Declared on the parent (OneToMany, OneToOne): the target's attribute holds our key.
  for (const auto& relationship : table.relationships) {
    if (relationship.kind == relationship_kind::many_to_one)
      continue;
    const auto [unused, target] = config.find_table(relationship.target);
    (void)unused;
    if (!target)
      continue;
    for (const auto& attribute : relationship.attributes)
      if (iequals(attribute.source_attribute, key_column))
        out.push_back({target, attribute.target_attribute});
  }
  // Declared on the child (ManyToOne towards us): the child's own attribute holds it.
  for (const auto& scope : config.scopes)
    for (const auto& other : scope.tables)
      for (const auto& relationship : other.relationships) {
        if (relationship.kind != relationship_kind::many_to_one
            || !iequals(relationship.target, table.name))
          continue;
        for (const auto& attribute : relationship.attributes)
          if (iequals(attribute.target_attribute, key_column))
            out.push_back({&other, attribute.source_attribute});
      }
  return out;
}

/// Rewrites old -> new values of a foreign key column in T, T_history and T_original.
/// The generated schema has no index on foreign key columns, so every statement scans
/// its table: the pairs of a whole batch go through one statement per group of
/// `remap_group` pairs instead of one per key.
constexpr std::size_t remap_group = 100;

void rewrite_foreign_key(db::connection& db, const foreign_key_ref& ref,
                         const std::vector<std::pair<column_value, column_value>>& pairs) {
  const auto column = quote_identifier(ref.column);
  for (std::size_t begin = 0; begin < pairs.size(); begin += remap_group) {
    const auto end = std::min(pairs.size(), begin + remap_group);
    std::string cases, olds;
    for (std::size_t i = begin; i < end; ++i) {
      const auto number = 2 * (i - begin) + 1;
      cases += " when " + param(number) + " then " + param(number + 1);
      olds += (i == begin ? "" : ", ") + param(number);
    }
    for (const auto& name : {ref.table->name, schema::history_table(ref.table->name),
                             schema::original_table(ref.table->name)}) {
      auto& stmt = db.cached("update " + quote_identifier(name) + " set " + column + " = case "
                             + column + cases + " end where " + column + " in (" + olds + ")");
      int next = 1;
      for (std::size_t i = begin; i < end; ++i) {
        detail::bind_column_value(stmt, next++, pairs[i].first);
        detail::bind_column_value(stmt, next++, pairs[i].second);
      }
      stmt.run();
      stmt.reset();
    }
  }
}

/// One call's state: the tables met so far and the result being built.
class batch_applier {
public:
  batch_applier(db::connection& db, const sync_config& config, const scope_def& scope,
                upload_error_policy policy)
      : db_(db), config_(config), scope_(scope), policy_(policy) {}

  batch_result& result() noexcept { return result_; }

  void apply_acks(const std::vector<sync_row>& acks) {
    if (acks.empty())
      return;
    const auto version = tracking::current_version(db_, scope_.name);
    struct merged_ack {
      table_io* io;
      const sync_row* ack;
      column_list server_key;
      bool device_generated;
    };
    std::vector<merged_ack> merged;
    for (const auto& ack : acks) {
      auto* io = table_for(ack.object_type);
      if (!io) {
        report_unknown_type(ack);
        continue;
      }
      auto& counts = slot(io->table().name);
      // The key as the device knows it: konysyncClient<pk> replaces the server's value.
      column_list server_key, device_key;
      bool key_complete = true;
      bool device_generated = false; // konysyncClient<pk>: the device generated the key
      for (std::size_t i = 0; i < io->table().primary_key.size(); ++i) {
        const auto& name = io->table().primary_key[i];
        const column_value* server_value = find_value(ack.columns, name);
        const column_value* client_value = find_value(ack.client_keys, name);
        if (!server_value && !client_value) {
          key_complete = false;
          break;
        }
        device_generated = device_generated || client_value != nullptr;
        server_key.emplace_back(name, server_value ? *server_value : *client_value);
        device_key.emplace_back(name, client_value ? *client_value : *server_value);
      }
      if (!key_complete) {
        ++counts.failed;
        result_.failed_rows.push_back(
          {io->table().name, {}, {}, "acknowledgement without the record's primary key"});
        continue;
      }
      const bool failed =
        (ack.merged_with_eis && *ack.merged_with_eis == "0")
        || (ack.error_message && !ack.error_message->empty());
      if (failed) {
        ++counts.failed;
        result_.failed_rows.push_back(
          {io->table().name, device_key, {},
           ack.error_message.value_or("The record was not merged with the enterprise "
                                      "datasource")});
        // Both strategies, any policy: a change the server did not take is uploaded
        // again by the next session (the real library requeues only persistent
        // continueonerror rows; its OTA ones stay "pending acknowledgement" for good).
        io->requeue(device_key, ack, version);
        continue;
      }
      if (device_key != server_key)
        reconcile_key(*io, device_key, server_key);
      merged.push_back({io, &ack, std::move(server_key), device_generated});
    }
    // Children follow their parents' new keys before any ack is applied: a child's key
    // can hold a parent's key (VisitTask (visitId, taskNo)), and its ack names the
    // server's value, which the device row has only after this rewrite. (Failed acks
    // above echo the device's values, so they were requeued before it.)
    rewrite_foreign_keys();
    for (auto& row : merged) {
      auto& counts = slot(row.io->table().name);
      row.io->acknowledge(row.server_key, *row.ack);
      ++counts.acknowledged;
      ++result_.ack_total;
      count_ack_kind(*row.ack, row.device_generated, counts);
      result_.acknowledged.push_back({row.io->table().name, std::move(row.server_key)});
    }
  }

  void apply_server_rows(const std::vector<sync_row>& rows) {
    std::vector<const column_value*> values;
    for (const auto& row : rows) {
      ++result_.rows_downloaded;
      auto* io = table_for(row.object_type);
      if (!io) {
        report_unknown_type(row);
        continue;
      }
      auto& counts = slot(io->table().name);
      ++counts.downloaded;
      if (!io->map_values(row.columns, values)) {
        ++counts.failed;
        result_.failed_rows.push_back(
          {io->table().name, {}, {}, "server row without the record's primary key"});
        continue;
      }
      if (row.change_type == "delete") {
        const auto key = io->key_of(values);
        if (!io->remove_clean(key) && io->known_locally(key)) {
          // Kept: the row (or its local delete) has pending changes.
          ++counts.skipped;
          ++result_.rows_skipped;
        } else {
          // Deleted, or already absent: every processed server delete counts, as in the
          // real client (batchrowsdownloaded = inserted + updated + deleted + skipped).
          ++counts.deleted;
          ++result_.rows_deleted;
        }
        continue;
      }
      // "update", and "" (reconciliation) or "insert" from lenient servers: upsert.
      switch (io->upsert(values, row.hashsum)) {
        case upsert_outcome::inserted:
          ++counts.inserted;
          ++result_.rows_inserted;
          break;
        case upsert_outcome::updated:
          ++counts.updated;
          ++result_.rows_updated;
          break;
        case upsert_outcome::not_applied: {
          const auto key = io->key_of(values);
          if (io->known_locally(key)) {
            ++counts.skipped;
            ++result_.rows_skipped;
          } else {
            // Ignored by a constraint (a mandatory column missing): say so.
            ++counts.failed;
            result_.failed_rows.push_back(
              {io->table().name, key, {}, "server row violates a constraint of the table"});
          }
        }
      }
    }
  }

  /// OTA: every uploaded change the answer did not acknowledge (a server that dropped a
  /// row) is a pending upload again, reported in failed_rows: no OTA ack comes later, and
  /// the session must not report it as done.
  void requeue_unacknowledged() {
    const auto version = tracking::current_version(db_, scope_.name);
    for (const auto& table : scope_.tables) {
      const auto main = db::quote_identifier(table.name);
      const auto history = db::quote_identifier(schema::history_table(table.name));
      auto& stale_history = db_.cached("update " + history + " set konysyncversionnumber = ?1 "
                                       "where konysyncversionnumber < ?1 and "
                                       "konysyncchangetype not like '9%'");
      stale_history.bind(1, version);
      stale_history.run();
      stale_history.reset();
      const auto requeued = db_.changes();
      auto& stale_main = db_.cached("update " + main + " set konysyncversionnumber = ?1 where "
                                    "konysyncversionnumber < ?1 and konysyncchangetype is not "
                                    "null and konysyncchangetype <> -1 and konysyncchangetype "
                                    "not like '9%'");
      stale_main.bind(1, version);
      stale_main.run();
      stale_main.reset();
      if (requeued == 0)
        continue;
      ++slot(table.name).failed;
      result_.failed_rows.push_back(
        {table.name, {}, {},
         std::to_string(requeued) + " uploaded change(s) got no acknowledgement from the server; "
           "they stay pending uploads"});
    }
  }

  void apply_upload_errors(const std::vector<transport::upload_error_entry>& errors) {
    for (const auto& error : errors) {
      const auto* io = table_for(error.object_type);
      ++slot(io ? io->table().name : error.object_type).failed;
      result_.failed_rows.push_back(
        {io ? io->table().name : error.object_type, error.primary_keys, error.key,
         error.error_message});
    }
  }

private:
  static const column_value* find_value(const column_list& columns, const std::string& name) {
    for (const auto& [column, value] : columns)
      if (column == name)
        return &value;
    for (const auto& [column, value] : columns)
      if (iequals(column, name))
        return &value;
    return nullptr;
  }

  table_io* table_for(const std::string& object_type) {
    if (auto it = tables_.find(object_type); it != tables_.end())
      return it->second.get();
    const auto* table = scope_.find_table(object_type);
    auto& entry = tables_[object_type];
    if (table)
      entry = std::make_unique<table_io>(db_, *table);
    return entry.get();
  }

  object_batch_counts& slot(const std::string& object) {
    for (auto& [name, counts] : result_.per_object)
      if (name == object)
        return counts;
    return result_.per_object.emplace_back(object, object_batch_counts{}).second;
  }

  void report_unknown_type(const sync_row& row) {
    result_.failed_rows.push_back(
      {row.object_type, {}, {},
       "SyncObject " + row.object_type + " is not part of scope " + scope_.name});
  }

  /// The real client's kinds (docs/callbacks.md 2.5): an insert ack counts as inserted
  /// only when the key was generated on the device (the ack carries konysyncClient<pk>);
  /// an insert ack of a key the app gave counts as updated; a delete ack as deleted.
  void count_ack_kind(const sync_row& ack, bool autogenerated_key, object_batch_counts& counts) {
    std::int64_t kind = tracking::update_change;
    if (ack.change_type_code)
      kind = *ack.change_type_code % tracking::deferred_offset;
    else if (ack.change_type == "delete")
      kind = tracking::delete_change;
    else if (ack.change_type == "insert")
      kind = tracking::insert_change;
    if (kind == tracking::insert_change && autogenerated_key) {
      ++counts.ack_inserted;
      ++result_.ack_inserted;
    } else if (kind == tracking::delete_change) {
      ++counts.ack_deleted;
      ++result_.ack_deleted;
    } else {
      ++counts.ack_updated;
      ++result_.ack_updated;
    }
  }

  void reconcile_key(table_io& io, const column_list& device_key, const column_list& server_key) {
    io.rewrite_key(device_key, server_key);
    for (std::size_t i = 0; i < device_key.size(); ++i) {
      const auto& [name, old_value] = device_key[i];
      const auto& new_value = server_key[i].second;
      if (old_value == new_value)
        continue;
      auto& pairs = remapped_[{&io.table(), name}];
      pairs.emplace_back(old_value, new_value);
      result_.reconciled_keys.push_back({io.table().name, name, old_value, new_value});
    }
  }

  /// Foreign keys follow the remapped keys of the batch.
  void rewrite_foreign_keys() {
    for (const auto& [column, pairs] : remapped_)
      for (const auto& ref : foreign_keys_of(config_, *column.first, column.second))
        rewrite_foreign_key(db_, ref, pairs);
    remapped_.clear();
  }

  db::connection& db_;
  const sync_config& config_;
  const scope_def& scope_;
  upload_error_policy policy_;
  std::unordered_map<std::string, std::unique_ptr<table_io>> tables_;
  /// (table, key column) -> (device value, server value) of the keys remapped so far.
  std::map<std::pair<const table_def*, std::string>,
           std::vector<std::pair<column_value, column_value>>>
    remapped_;
  batch_result result_;
};

} // namespace

// -- result helpers ---------------------------------------------------------------------

json failed_row::to_json() const {
  json out = json::object();
  if (!upload_error_key.empty()) {
    out["key"] = upload_error_key;
    out["primaryKeys"] = key_json(key);
  } else {
    out["key"] = key_json(key);
  }
  out["type"] = object_type;
  out["errorMessage"] = error_message;
  return out;
}

json batch_result::object_level_info() const {
  json out = json::object();
  for (const auto& [name, counts] : per_object) {
    json entry = {{"rowsdownloaded", counts.downloaded}, {"rowsinserted", counts.inserted},
                  {"rowsupdated", counts.updated},       {"rowsdeleted", counts.deleted},
                  {"rowsskipped", counts.skipped},       {"rowsacknowledged", counts.acknowledged},
                  {"ackinsertedrows", counts.ack_inserted},
                  {"ackupdatedrows", counts.ack_updated},
                  {"ackdeletedrows", counts.ack_deleted},
                  {"rowsfailedtoupload", counts.failed}};
    out[name] = std::move(entry);
  }
  for (const auto& key : reconciled_keys) {
    auto& entry = out[key.object_type];
    entry["reconciledprimarykeys"].push_back(
      {{key.column, {{"newpk", value_json(key.new_value)}, {"oldpk", value_json(key.old_value)}}}});
  }
  return out;
}

json batch_result::failed_row_info() const {
  json out = json::array();
  for (const auto& row : failed_rows)
    out.push_back(row.to_json());
  return out;
}

void batch_result::merge(const batch_result& other) {
  rows_downloaded += other.rows_downloaded;
  rows_inserted += other.rows_inserted;
  rows_updated += other.rows_updated;
  rows_deleted += other.rows_deleted;
  rows_skipped += other.rows_skipped;
  ack_total += other.ack_total;
  ack_inserted += other.ack_inserted;
  ack_updated += other.ack_updated;
  ack_deleted += other.ack_deleted;
  for (const auto& [name, counts] : other.per_object) {
    auto it = std::find_if(per_object.begin(), per_object.end(),
                           [&](const auto& entry) { return entry.first == name; });
    if (it == per_object.end()) {
      per_object.emplace_back(name, counts);
      continue;
    }
    auto& mine = it->second;
    mine.downloaded += counts.downloaded;
    mine.inserted += counts.inserted;
    mine.updated += counts.updated;
    mine.deleted += counts.deleted;
    mine.skipped += counts.skipped;
    mine.acknowledged += counts.acknowledged;
    mine.ack_inserted += counts.ack_inserted;
    mine.ack_updated += counts.ack_updated;
    mine.ack_deleted += counts.ack_deleted;
    mine.failed += counts.failed;
  }
  failed_rows.insert(failed_rows.end(), other.failed_rows.begin(), other.failed_rows.end());
  reconciled_keys.insert(reconciled_keys.end(), other.reconciled_keys.begin(),
                         other.reconciled_keys.end());
  acknowledged.insert(acknowledged.end(), other.acknowledged.begin(), other.acknowledged.end());
  scope_initialized = scope_initialized || other.scope_initialized;
}

// -- applying answers ----------------------------------------------------------------------

batch_result apply_batch(db::connection& db, const sync_config& config, const std::string& scope,
                         const std::string& filter_value, const download_batch& batch,
                         upload_error_policy policy) {
  const auto& scope_def = require_scope(config, scope);
  return with_sql_errors("apply download batch", [&] {
    db::transaction tx{db};
    batch_applier applier{db, config, scope_def, policy};
    // Acks first: they concern the device's own changes, and a server row for the same
    // record that follows must find it clean.
    applier.apply_acks(batch.ack_rows);
    applier.apply_server_rows(batch.server_rows);
    applier.apply_upload_errors(batch.upload_errors);
    save_download_blob(db, config, scope, filter_value, batch.server_blob);
    if (!batch.more_changes_available) {
      const bool was_initialized = is_scope_initialized(db, scope);
      if (!was_initialized)
        mark_scope_initialized(db, scope);
      applier.result().scope_initialized = !was_initialized;
    }
    tx.commit();
    return std::move(applier.result());
  });
}

batch_result apply_download_answer(db::connection& db, const sync_config& config,
                                   const std::string& scope, const std::string& filter_value,
                                   const transport::download_answer& answer,
                                   upload_error_policy policy) {
  return apply_batch(db, config, scope, filter_value,
                     {answer.server_rows, answer.ack_rows, answer.upload_errors,
                      answer.server_blob, answer.more_changes_available},
                     policy);
}

batch_result apply_upload_acks(db::connection& db, const sync_config& config,
                               const std::string& scope, const std::vector<sync_row>& ack_rows,
                               upload_error_policy policy) {
  const auto& scope_def = require_scope(config, scope);
  return with_sql_errors("apply upload acknowledgements", [&] {
    db::transaction tx{db};
    batch_applier applier{db, config, scope_def, policy};
    applier.apply_acks(ack_rows);
    tx.commit();
    return std::move(applier.result());
  });
}

batch_result commit_ota_upload(db::connection& db, const sync_config& config,
                               const std::string& scope, std::int64_t last_sequence,
                               const std::string& server_blob,
                               const std::vector<sync_row>& ack_rows, upload_error_policy policy) {
  const auto& scope_def = require_scope(config, scope);
  return with_sql_errors("commit OTA upload", [&] {
    db::transaction tx{db};
    commit_uploaded_batch(db, config, scope, last_sequence, server_blob);
    batch_applier applier{db, config, scope_def, policy};
    applier.apply_acks(ack_rows);
    applier.requeue_unacknowledged();
    tx.commit();
    return std::move(applier.result());
  });
}

batch_result apply_upload_answer(db::connection& db, const sync_config& config,
                                 const std::string& scope, const transport::upload_answer& answer,
                                 upload_error_policy policy) {
  const auto& scope_def = require_scope(config, scope);
  return with_sql_errors("apply upload answer", [&] {
    db::transaction tx{db};
    batch_applier applier{db, config, scope_def, policy};
    applier.apply_acks(answer.ack_rows);
    applier.apply_server_rows(answer.server_rows);
    tx.commit();
    return std::move(applier.result());
  });
}

std::vector<std::pair<std::string, std::int64_t>>
remove_after_upload(db::connection& db, const sync_config& config, const std::string& scope,
                    const std::vector<std::string>& objects,
                    const std::vector<acknowledged_row>& acknowledged) {
  const auto& scope_def = require_scope(config, scope);
  return with_sql_errors("remove after upload", [&] {
    db::transaction tx{db};
    std::vector<std::pair<std::string, std::int64_t>> out;
    for (const auto& table : scope_def.tables) {
      const bool selected =
        objects.empty() || std::any_of(objects.begin(), objects.end(), [&](const auto& name) {
          return iequals(name, table.name);
        });
      if (!selected)
        continue;
      table_io io{db, table};
      std::int64_t removed = 0;
      for (const auto& row : acknowledged)
        if (iequals(row.object_type, table.name) && io.remove_if_clean(row.key))
          ++removed;
      if (removed > 0)
        out.emplace_back(table.name, removed);
    }
    tx.commit();
    return out;
  });
}

std::vector<std::pair<std::string, std::int64_t>>
pending_acknowledgement_counts(db::connection& db, const sync_config& config,
                               const std::string& scope) {
  const auto& scope_def = require_scope(config, scope);
  return with_sql_errors("count pending acknowledgements", [&] {
    const auto version = tracking::current_version(db, scope);
    std::vector<std::pair<std::string, std::int64_t>> out;
    for (const auto& table : scope_def.tables) {
      // Records with an uploaded change (history at an earlier upload sequence) not
      // yet acknowledged; an ack deletes exactly these history rows.
      auto& stmt = db.cached("select count(*) from (select distinct "
                             + tracking::column_list(table.primary_key) + " from "
                             + quote_identifier(schema::history_table(table.name))
                             + " where konysyncversionnumber <> ? and konysyncchangetype not "
                               "like '9%')");
      stmt.bind(1, version);
      const std::int64_t count = stmt.step() ? stmt.column_int64(0) : 0;
      stmt.reset();
      out.emplace_back(table.name, count);
    }
    return out;
  });
}

} // namespace mxsync::syncdb
