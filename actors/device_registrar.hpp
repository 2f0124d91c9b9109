#pragma once
// The device registrar: before a session or a reconciliation talks to the server, it
// reads who the device is from SyncConfigTable and, when the device is new to this
// database (or the app gave another deviceid), registers it (POST registerdevice,
// docs/protocol.md 1.3) and stores the instance id the server gave. Shared by the session
// coordinator and the reconciler.

#include "actors/listener.hpp"
#include "messages/messages.hpp"

namespace mxsync {

struct device_registrar_state {
  static inline const char* name = "device_registrar";
  session_plan_ptr plan;
  database_actor database;
  listener_actor listener;
  caf::typed_response_promise<device_identity> promise;
  device_identity identity;
  std::string stage = "idle";
  exchange_actor exchange;

  device_registrar_state() = default; // a handle first: CAF must not aggregate-init this
};

device_registrar_actor::behavior_type
device_registrar(device_registrar_actor::stateful_pointer<device_registrar_state> self,
                 session_plan_ptr plan, database_actor database, listener_actor listener);

} // namespace mxsync
