#pragma once
// The runtime actor of one device database: the root of its actor tree. It owns
// the database and listener actors (and, with sync sessions, the coordinator).

#include "actors/listener.hpp"
#include "messages/messages.hpp"

#include <cstdint>
#include <vector>

#include <memory>
#include <string>

namespace mxsync {

struct runtime_options {
  std::string database_path;
  std::shared_ptr<const sync_config> config;
  callback_executor executor;
};

struct runtime_state {
  static inline const char* name = "runtime";
  database_actor database;
  listener_actor listener;
  std::string database_path;
  // The sync session, when one runs:
  session_coordinator_actor coordinator;
  session_plan_ptr session_plan;
  std::vector<msg::stop_request> stop_requests;
  // The reconciliation, when one runs (never at the same time as a session):
  reconciler_actor reconciler;
  std::uint64_t reconciliations = 0;
  std::uint64_t sessions = 0;
  std::uint64_t calls = 0;
  std::uint64_t failed_calls = 0;
  std::uint64_t in_flight = 0;
};

runtime_actor::behavior_type runtime(runtime_actor::stateful_pointer<runtime_state> self,
                                     runtime_options options);

} // namespace mxsync
