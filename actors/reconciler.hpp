#pragma once
// The reconciler of one sync.startReconciliation (docs/protocol.md 1.7). For each scope of
// the plan, in order: a scope with pending local changes is skipped (and reported);
// else onreconciliationscopestart, getAllPKs batches following serverblob while
// moreChangesAvailable (the keys go to the key tables), the removal of local rows the
// server does not have, then bulkGet batches of the keys the device lacks, object by
// object, and onreconciliationscopesuccess (or onreconciliationscopeerror; the next
// scope still runs). At the end onreconciliationsuccess with the totals, or
// onreconciliationerror. Every request goes through an http_exchange actor (retries
// per the session keys); every database step through the database actor.

#include "actors/listener.hpp"
#include "api/reconciliation_contexts.hpp"
#include "messages/messages.hpp"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mxsync {

struct reconciler_state {
  static inline const char* name = "reconciler";
  reconciliation_plan_ptr plan;
  database_actor database;
  listener_actor listener;
  caf::typed_response_promise<reconciliation_outcome> promise;
  reconciliation_outcome outcome;
  std::string stage = "idle";
  std::string device_id;
  std::string instance_id;
  std::optional<transport::session_info> session; ///< d.__session of the last answer
  std::size_t next_scope = 0;
  const reconcile_scope* scope = nullptr; ///< the scope being reconciled
  std::string tick_count;                 ///< getAllPKs cursor (the last serverblob)
  std::int64_t key_batch = 0;             ///< of the current scope, 1-based
  std::int64_t bulk_get_batch = 0;        ///< of the current scope, 1-based
  std::size_t bulk_object = 0;            ///< index into scope->objects
  std::int64_t bulk_position = 0;         ///< key-table position of the next missing key
  reconcile_contexts::object_level scope_totals;
  reconcile_contexts::object_level run_totals;
  std::vector<std::string> skipped_scopes; ///< pending local changes
  std::vector<std::pair<std::string, sync_error>> failed_scopes;
  std::uint64_t scopes_done = 0;
  std::int64_t requests = 0;
  exchange_actor exchange;
  device_registrar_actor registrar;
};

reconciler_actor::behavior_type reconciler(reconciler_actor::stateful_pointer<reconciler_state> self,
                                           reconciliation_plan_ptr plan, database_actor database,
                                           listener_actor listener);

} // namespace mxsync
