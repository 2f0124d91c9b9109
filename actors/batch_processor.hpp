#pragma once
// The batch processor: applies each download batch (rows, acks and the new download
// position together) through the database actor, one transaction per batch.

#include "messages/messages.hpp"

namespace mxsync {

struct batch_processor_state {
  static inline const char* name = "batch_processor";
  // Not an aggregate: CAF would otherwise try to build the state from the actor pointer.
  batch_processor_state() = default;
  database_actor database;
  std::uint64_t batches = 0;
  std::uint64_t rows = 0;
  std::uint64_t failures = 0;
  bool busy = false;
};

batch_processor_actor::behavior_type
batch_processor(batch_processor_actor::stateful_pointer<batch_processor_state> self,
                database_actor database);

} // namespace mxsync
