#pragma once
// The database actor: owner of the only SQLite write connection of one device
// database. Every write (ORM now, sync batches later) is a message to it.

#include "messages/messages.hpp"

#include "persistence/sqlite.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace mxsync {

struct database_state {
  static inline const char* name = "database";

  std::string path;
  std::shared_ptr<const sync_config> config;
  std::optional<db::connection> writer;
  std::optional<db::connection> reader; ///< lazily opened; unused for :memory:
  std::optional<sync_error> open_error;

  std::uint64_t writes = 0;
  std::uint64_t reads = 0;
  std::uint64_t failures = 0;
  std::chrono::microseconds busy{0};
  std::string last_work;
  std::string last_error;
};

/// Spawn detached (`system.spawn<caf::detached>(database, ...)`): SQLite calls block.
database_actor::behavior_type database(database_actor::stateful_pointer<database_state> self,
                                       std::string path,
                                       std::shared_ptr<const sync_config> config);

} // namespace mxsync
