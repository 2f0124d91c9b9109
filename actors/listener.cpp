#include "actors/listener.hpp"

#include <future>

namespace mxsync {

listener_actor::behavior_type listener(listener_actor::stateful_pointer<listener_state> self,
                                       callback_executor executor) {
  self->state.executor = std::move(executor);
  return {
    [self](msg::deliver_atom, msg::callback_task& task) {
      auto& st = self->state;
      st.last_event = task.event;
      ++st.delivered;
      if (!task.run)
        return;
      if (st.executor) {
        st.executor(std::move(task.run));
        return;
      }
      // An exception from app code must not take the runtime down with it.
      try {
        task.run();
      } catch (...) {
        ++st.callback_failures;
      }
    },
    [self](msg::invoke_atom, msg::callback_call& call) -> nlohmann::json {
      auto& st = self->state;
      st.last_event = call.event;
      ++st.delivered;
      if (!call.run)
        return nullptr;
      try {
        if (!st.executor)
          return call.run();
        // The app's executor runs it later on its own thread: this (detached) actor
        // waits, so the pipeline sees the answer and the order stays intact.
        std::promise<nlohmann::json> answer;
        auto future = answer.get_future();
        st.executor([&answer, &call] {
          try {
            answer.set_value(call.run());
          } catch (...) {
            answer.set_exception(std::current_exception());
          }
        });
        return future.get();
      } catch (...) {
        ++st.callback_failures;
        return nullptr;
      }
    },
    [](msg::flush_atom) { return true; },
    [self](msg::status_atom) {
      const auto& st = self->state;
      return nlohmann::json{
        {"name", listener_state::name},
        {"state", "idle"},
        {"mailbox", self->mailbox().size()},
        {"counters", {{"delivered", st.delivered}, {"callbackFailures", st.callback_failures}}},
        {"lastEvent", st.last_event},
        {"children", nlohmann::json::array()},
      };
    },
  };
}

} // namespace mxsync
