#pragma once
// The session coordinator of one sync.startSession: onsyncstart, device registration
// when the device is new, then one scope actor per scope in ArrayOfSyncScope order,
// then the outcome to the runtime, which calls onsyncsuccess, onsyncerror (7022 with a
// per-scope errorInfo) or the stop callback. A stop lets the running scope finish its
// network call and starts nothing further.

#include "actors/listener.hpp"
#include "messages/messages.hpp"

namespace mxsync {

struct session_coordinator_state {
  static inline const char* name = "session_coordinator";
  session_plan_ptr plan;
  database_actor database;
  listener_actor listener;
  caf::typed_response_promise<session_outcome> promise;
  session_outcome outcome;
  std::string stage = "idle";
  std::string device_id;
  std::string instance_id;
  std::optional<transport::session_info> session;
  std::optional<transport::server_details> last_server; ///< of the last scope's last answer
  std::size_t next_scope = 0;
  std::string current_scope;
  std::vector<std::pair<std::string, sync_error>> failed_scopes;
  std::uint64_t scopes_done = 0;
  scope_actor running_scope;
  device_registrar_actor registrar;
};

session_coordinator_actor::behavior_type
session_coordinator(session_coordinator_actor::stateful_pointer<session_coordinator_state> self,
                    session_plan_ptr plan, database_actor database, listener_actor listener);

} // namespace mxsync
