#include "actors/listener.hpp"

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
