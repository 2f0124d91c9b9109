#include "actors/runtime.hpp"

#include "actors/app_callback.hpp"
#include "actors/database.hpp"
#include "actors/reconciler.hpp"
#include "actors/session_coordinator.hpp"

namespace mxsync {

namespace {

/// Queues the app's callback for an outcome with the listener.
void deliver(runtime_actor::stateful_pointer<runtime_state> self, msg::api_call& call,
             msg::outcome& result) {
  auto& st = self->state;
  msg::callback_task task;
  if (result.ok()) {
    task.event = call.work.label + ":success";
    if (call.on_success)
      task.run = [cb = std::move(call.on_success), value = std::move(result.value)] { cb(value); };
  } else {
    ++st.failed_calls;
    task.event = call.work.label + ":error";
    if (call.on_error)
      task.run = [cb = std::move(call.on_error), error = std::move(*result.error)] { cb(error); };
  }
  self->send(st.listener, msg::deliver_atom::value, std::move(task));
}

/// The stop callback of `stop`: {"stopped": true} is the terminal event of the session it
/// stopped; {"stopped": false} says that no session was stopped (none ran, or it ended
/// before the stop could take effect).
void answer_stop(runtime_actor::stateful_pointer<runtime_state> self, msg::stop_request& stop,
                 bool stopped) {
  if (stop.on_stopped)
    self->send(self->state.listener, msg::deliver_atom::value,
               msg::callback_task{"stopSession", [cb = std::move(stop.on_stopped), stopped] {
                                    cb(nlohmann::json{{"stopped", stopped}});
                                  }});
}

/// Queues the one terminal event of a session that is over: the stop callback when it was
/// stopped (neither onsyncsuccess nor onsyncerror then, as in the real library), else
/// onsyncerror or onsyncsuccess; then the answers of stops that came too late.
void end_session(runtime_actor::stateful_pointer<runtime_state> self, const session_plan& plan,
                 session_outcome& outcome, std::vector<msg::stop_request>& stops) {
  auto& st = self->state;
  const auto& config = plan.config;
  if (!outcome.stopped) {
    if (outcome.error) {
      if (config.onsyncerror)
        self->send(st.listener, msg::deliver_atom::value,
                   msg::callback_task{"onsyncerror", [cb = config.onsyncerror, error = *outcome.error] {
                                        cb(error);
                                      }});
    } else if (config.onsyncsuccess) {
      self->send(st.listener, msg::deliver_atom::value,
                 msg::callback_task{"onsyncsuccess",
                                    [cb = config.onsyncsuccess,
                                     context = std::move(outcome.success_context)] { cb(context); }});
    }
  }
  for (auto& stop : stops)
    answer_stop(self, stop, outcome.stopped);
}

} // namespace

runtime_actor::behavior_type runtime(runtime_actor::stateful_pointer<runtime_state> self,
                                     runtime_options options) {
  auto& st = self->state;
  st.database_path = options.database_path;
  st.database = self->spawn<caf::detached + caf::linked>(database, options.database_path,
                                                         options.config);
  st.listener = self->spawn<caf::detached + caf::linked>(listener, std::move(options.executor));
  return {
    [self](msg::write_atom atom, msg::db_work& work) {
      ++self->state.calls;
      return self->delegate(self->state.database, atom, std::move(work));
    },
    [self](msg::read_atom atom, msg::db_work& work) {
      ++self->state.calls;
      return self->delegate(self->state.database, atom, std::move(work));
    },
    [self](msg::call_atom, msg::api_call& call) {
      auto& st = self->state;
      ++st.calls;
      ++st.in_flight;
      auto shared_call = std::make_shared<msg::api_call>(std::move(call));
      auto on_outcome = [self, shared_call](msg::outcome& result) {
        --self->state.in_flight;
        deliver(self, *shared_call, result);
      };
      auto on_failure = [self, shared_call](caf::error& err) {
        --self->state.in_flight;
        msg::outcome result;
        result.error = sync_error{static_cast<int>(error_code::unknown),
                                  "The database actor did not answer: " + self->system().render(err),
                                  nullptr};
        deliver(self, *shared_call, result);
      };
      // The database answers in order, so callbacks keep the order of the calls.
      if (shared_call->write)
        self->request(st.database, caf::infinite, msg::write_atom::value, shared_call->work)
          .then(on_outcome, on_failure);
      else
        self->request(st.database, caf::infinite, msg::read_atom::value, shared_call->work)
          .then(on_outcome, on_failure);
    },
    [self](msg::flush_atom) -> caf::result<bool> {
      // The database answers in order and the listener runs in order, so a no-op
      // read followed by a listener flush passes every earlier call's callback.
      auto rp = self->make_response_promise<bool>();
      msg::db_work noop{"flush", [](msg::db_context&) { return nlohmann::json{}; }};
      auto listener = self->state.listener;
      self->request(self->state.database, caf::infinite, msg::read_atom::value, std::move(noop))
        .then(
          [self, rp, listener](msg::outcome&) mutable {
            self->request(listener, caf::infinite, msg::flush_atom::value)
              .then([rp](bool) mutable { rp.deliver(true); },
                    [rp](caf::error&) mutable { rp.deliver(false); });
          },
          [rp](caf::error&) mutable { rp.deliver(false); });
      return rp;
    },
    [self](msg::start_atom, msg::start_request& request) -> msg::outcome {
      auto& st = self->state;
      // A reconciliation rewrites the same tables: a session waits for no one, it is refused.
      if (st.coordinator || st.reconciler)
        return msg::outcome{nullptr, sync_error{static_cast<int>(error_code::session_in_progress),
                                                "Session in progress.", nullptr}};
      ++st.sessions;
      st.session_plan = request.plan;
      st.coordinator = self->spawn(session_coordinator, request.plan, st.database, st.listener);
      auto on_finished = std::move(request.on_finished);
      auto end = [self, on_finished](session_outcome outcome) {
        auto& st = self->state;
        // The session is over before the app hears of it: a startSession from inside
        // (or right after) its terminal callback is accepted, as in the real library,
        // which clears isSessionInProgress before it calls onsyncsuccess/onsyncerror.
        auto plan = std::move(st.session_plan);
        auto stops = std::move(st.stop_requests);
        st.stop_requests.clear();
        st.coordinator = nullptr;
        // Every other callback of the session is already queued with the listener: the
        // terminal event, the stop answers and the end notice run after them.
        end_session(self, *plan, outcome, stops);
        if (on_finished)
          self->send(st.listener, msg::deliver_atom::value,
                     msg::callback_task{"session end", [on_finished, outcome] {
                                          on_finished(outcome);
                                        }});
      };
      self->request(st.coordinator, caf::infinite, msg::run_atom::value)
        .then([end](session_outcome& outcome) mutable { end(std::move(outcome)); },
              [self, end](caf::error& err) mutable {
                const auto& plan = *self->state.session_plan;
                session_outcome failed;
                failed.session_number = plan.session_number;
                if (plan.stopping())
                  failed.stopped = true;
                else
                  failed.error = sync_error{static_cast<int>(error_code::unknown),
                                            "The session failed: " + self->system().render(err),
                                            nullptr};
                end(std::move(failed));
              });
      return msg::outcome{nlohmann::json{{"session", st.sessions}}, std::nullopt};
    },
    [self](msg::reconcile_atom, msg::reconcile_request& request) -> msg::outcome {
      auto& st = self->state;
      if (st.coordinator || st.reconciler)
        return msg::outcome{
          nullptr, sync_error{static_cast<int>(error_code::reconcile_session_in_progress),
                              st.coordinator ? "Session in progress." : "Reconciliation in progress.",
                              {{"running", st.coordinator ? "session" : "reconciliation"}}}};
      ++st.reconciliations;
      st.reconciler = self->spawn(reconciler, request.plan, st.database, st.listener);
      auto on_finished = std::move(request.on_finished);
      // The run is over before the app hears of it (as a session is): the terminal callback
      // is queued only after st.reconciler is cleared, and the end notice runs after every
      // callback of the run (the listener keeps order).
      auto end = [self, on_finished, plan = request.plan](reconciliation_outcome outcome) {
        auto& st = self->state;
        st.reconciler = nullptr;
        const auto& config = plan->config;
        if (outcome.error)
          notify(self, "onreconciliationerror", config.onreconciliationerror, *outcome.error);
        else
          notify(self, "onreconciliationsuccess", config.onreconciliationsuccess, outcome.summary);
        if (on_finished)
          self->send(st.listener, msg::deliver_atom::value,
                     msg::callback_task{"reconciliation end", [on_finished, outcome] {
                                          on_finished(outcome);
                                        }});
      };
      self->request(st.reconciler, caf::infinite, msg::run_atom::value)
        .then([end](reconciliation_outcome& outcome) mutable { end(std::move(outcome)); },
              [self, end](caf::error& err) mutable {
                reconciliation_outcome failed;
                failed.error = sync_error{static_cast<int>(error_code::unknown),
                                          "The reconciliation failed: " + self->system().render(err),
                                          nullptr};
                end(std::move(failed));
              });
      return msg::outcome{nlohmann::json{{"reconciliation", st.reconciliations}}, std::nullopt};
    },
    [self](msg::stop_atom, msg::stop_request& request) {
      auto& st = self->state;
      if (!st.coordinator) {
        // The original keeps the stop for a session that never comes and never calls
        // back (docs/callbacks.md 5); mxsync answers at once.
        answer_stop(self, request, false);
        return true;
      }
      if (st.session_plan->stopping()) {
        if (request.on_error)
          self->send(st.listener, msg::deliver_atom::value,
                     msg::callback_task{"stopSession", [cb = std::move(request.on_error)] {
                                          cb(sync_error{
                                            static_cast<int>(error_code::session_in_progress),
                                            "Session is in Progress", nullptr});
                                        }});
        return true;
      }
      // Every check point of the session's actors reads this flag.
      st.session_plan->stop_requested->store(true);
      st.stop_requests.push_back(std::move(request));
      return true;
    },
    [self](msg::status_atom) -> caf::result<nlohmann::json> {
      auto rp = self->make_response_promise<nlohmann::json>();
      auto& st = self->state;
      auto tree = std::make_shared<nlohmann::json>(nlohmann::json{
        {"name", runtime_state::name},
        {"state", st.coordinator   ? "syncing"
                  : st.reconciler  ? "reconciling"
                  : st.in_flight > 0 ? "busy"
                                     : "idle"},
        {"database", st.database_path},
        {"mailbox", self->mailbox().size()},
        {"counters",
         {{"calls", st.calls},
          {"failedCalls", st.failed_calls},
          {"inFlight", st.in_flight},
          {"sessions", st.sessions},
          {"reconciliations", st.reconciliations}}},
        {"sessionRunning", static_cast<bool>(st.coordinator)},
        {"reconciliationRunning", static_cast<bool>(st.reconciler)},
        {"children", nlohmann::json::array()},
      });
      auto pending = std::make_shared<int>(2 + (st.coordinator ? 1 : 0) + (st.reconciler ? 1 : 0));
      auto collect = [rp, tree, pending](nlohmann::json child) mutable {
        (*tree)["children"].push_back(std::move(child));
        if (--*pending == 0)
          rp.deliver(std::move(*tree));
      };
      auto ask = [self, collect](const auto& child, const char* name) mutable {
        self->request(child, std::chrono::seconds(2), msg::status_atom::value)
          .then(collect, [collect, name](caf::error&) mutable {
            collect(nlohmann::json{{"name", std::string{name}},
                                   {"state", "busy (no answer within 2 s)"}});
          });
      };
      // A child busy with long work answers late: status waits at most 2 s for it.
      ask(st.database, "database");
      ask(st.listener, "listener");
      if (st.coordinator)
        ask(st.coordinator, "session_coordinator");
      if (st.reconciler)
        ask(st.reconciler, "reconciler");
      return rp;
    },
  };
}

} // namespace mxsync
