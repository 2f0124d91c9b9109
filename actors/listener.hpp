#pragma once
// The listener actor: runs the app's callbacks one at a time, in the order the
// runtime queued them, on its own thread or on an executor the app supplies.

#include "messages/messages.hpp"

#include <functional>

namespace mxsync {

/// Hands a callback to the app's own executor (its UI queue, say); empty = run inline.
using callback_executor = std::function<void(std::function<void()>)>;

struct listener_state {
  static inline const char* name = "listener";
  callback_executor executor;
  std::uint64_t delivered = 0;
  std::uint64_t callback_failures = 0; ///< callbacks that threw
  std::string last_event;
};

/// Spawn detached: app callbacks may block.
listener_actor::behavior_type listener(listener_actor::stateful_pointer<listener_state> self,
                                       callback_executor executor);

} // namespace mxsync
