#include "actors/database.hpp"

#include "persistence/device_schema.hpp"
#include "persistence/sqlite.hpp"
#include "persistence/sync_config.hpp"

#include <chrono>
#include <optional>

namespace mxsync {

namespace {

sync_error to_sync_error(const std::exception_ptr& failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const sync_exception& e) {
    return e.error();
  } catch (const db::sqlite_error& e) {
    return {static_cast<int>(error_code::sql_statement),
            "Some error occurred in executing SQL statement",
            {{"sqlite", e.what()}, {"sqliteCode", e.code()}}};
  } catch (const std::exception& e) {
    return {static_cast<int>(error_code::unknown),
            std::string{"The following error occurred while performing the operation : \""}
              + e.what() + "\"",
            nullptr};
  }
}

bool in_memory(const std::string& path) { return path.empty() || path == ":memory:"; }

/// Runs one unit of work, counting it; a write commits in one transaction.
msg::outcome run_work(database_state& st, msg::db_work& work, bool write) {
  auto started = std::chrono::steady_clock::now();
  st.last_work = work.label;
  msg::outcome result;
  if (st.open_error) {
    result.error = st.open_error;
  } else {
    try {
      db::connection* conn = &*st.writer;
      if (!write && !in_memory(st.path)) {
        if (!st.reader) {
          st.reader.emplace(st.path, db::open_mode::read_only);
          st.reader->exec("PRAGMA query_only=ON");
        }
        conn = &*st.reader;
      }
      msg::db_context ctx{*conn, *st.config};
      if (write) {
        db::transaction tx{*conn};
        result.value = work.run(ctx);
        tx.commit();
      } else {
        result.value = work.run(ctx);
      }
    } catch (...) {
      result.error = to_sync_error(std::current_exception());
    }
  }
  (write ? st.writes : st.reads) += 1;
  if (result.error) {
    ++st.failures;
    st.last_error = work.label + ": " + result.error->message;
  }
  st.busy += std::chrono::duration_cast<std::chrono::microseconds>(
    std::chrono::steady_clock::now() - started);
  return result;
}

} // namespace

database_actor::behavior_type database(database_actor::stateful_pointer<database_state> self,
                                       std::string path,
                                       std::shared_ptr<const sync_config> config) {
  auto& st = self->state;
  st.path = std::move(path);
  st.config = std::move(config);
  try {
    st.writer.emplace(in_memory(st.path) ? std::string{":memory:"} : st.path);
    schema::configure_connection(*st.writer);
  } catch (const std::exception& e) {
    st.writer.reset();
    st.open_error = sync_error{static_cast<int>(error_code::db_connection),
                               "Error occurred while establishing a Database connection.",
                               {{"path", st.path}, {"reason", e.what()}}};
  }
  return {
    [self](msg::write_atom, msg::db_work& work) { return run_work(self->state, work, true); },
    [self](msg::read_atom, msg::db_work& work) { return run_work(self->state, work, false); },
    [self](msg::status_atom) {
      const auto& st = self->state;
      return nlohmann::json{
        {"name", database_state::name},
        {"state", st.open_error ? "failed" : "idle"},
        {"path", st.path},
        {"mailbox", self->mailbox().size()},
        {"counters",
         {{"writes", st.writes},
          {"reads", st.reads},
          {"failures", st.failures},
          {"busyMicroseconds", st.busy.count()}}},
        {"lastWork", st.last_work},
        {"lastError", st.last_error},
        {"children", nlohmann::json::array()},
      };
    },
  };
}

} // namespace mxsync
