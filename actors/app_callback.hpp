#pragma once
// Queues one of the app's callbacks on the actor's listener: fire and forget, in the
// order queued, and nothing at all when the app gave no callback. Every actor with a
// `listener` in its state tells the app this way (callbacks whose answer the pipeline
// waits for go through msg::invoke_atom instead).

#include "messages/messages.hpp"

#include <utility>

namespace mxsync {

template <class Self, class Callback, class Argument>
void notify(Self* self, const char* event, const Callback& callback, Argument argument) {
  if (!callback)
    return;
  self->send(self->state.listener, msg::deliver_atom::value,
             msg::callback_task{event, [callback, argument = std::move(argument)] { callback(argument); }});
}

} // namespace mxsync
