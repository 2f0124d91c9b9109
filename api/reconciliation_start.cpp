// sync.startReconciliation: checks the reconciliation keys against the sync config,
// builds the plan the reconciler shares with its exchanges, and hands it to the runtime
// actor (which refuses it while a session or another reconciliation runs).
#include "api/client_internals.hpp"

#include <algorithm>
#include <future>
#include <set>

namespace mxsync {

namespace {

[[noreturn]] void refuse(error_code code, std::string message, nlohmann::json info = nullptr) {
  throw sync_exception(code, std::move(message), std::move(info));
}

/// The scopes and objects to reconcile, checked and spelled as the sync config does.
std::vector<reconcile_scope> checked_scopes(const reconciliation_config& config,
                                            const sync_config& sync) {
  if (!config.reconciliation)
    refuse(error_code::reconcile_key_undefined,
           "No reconciliation field defined in reconciliation config", {{"key", "reconciliation"}});
  auto requested = *config.reconciliation;
  if (requested.empty()) // {} = every scope, every object (the real client's rule)
    for (const auto& scope : sync.scopes)
      requested.emplace_back(scope.name, std::vector<std::string>{});
  std::vector<reconcile_scope> scopes;
  std::set<std::string> seen_scopes;
  for (const auto& [name, objects] : requested) {
    const auto* scope = sync.find_scope(name);
    if (!scope)
      refuse(error_code::scope_does_not_exist, "Scope:" + name + " Doesnot exists ",
             {{"key", "reconciliation"}, {"scope", name}});
    if (!seen_scopes.insert(scope->name).second)
      refuse(error_code::invalid_reconcile_config,
             "reconciliation config key \"reconciliation\": scope " + scope->name
               + " is given twice",
             {{"key", "reconciliation"}, {"scope", scope->name}});
    reconcile_scope entry{scope->name, {}};
    if (objects.empty()) // [] = every object of the scope (the page's rule)
      for (const auto& table : scope->tables)
        entry.objects.push_back(table.name);
    for (const auto& object : objects) {
      const auto* table = scope->find_table(object);
      if (!table)
        refuse(error_code::table_does_not_exist, "Table:" + object + " Doesnot exists ",
               {{"key", "reconciliation"}, {"scope", scope->name}, {"table", object}});
      if (std::find(entry.objects.begin(), entry.objects.end(), table->name)
          != entry.objects.end())
        refuse(error_code::invalid_reconcile_config,
               "reconciliation config key \"reconciliation." + scope->name + "\": object "
                 + table->name + " is given twice",
               {{"key", "reconciliation"}, {"scope", scope->name}, {"table", table->name}});
      entry.objects.push_back(table->name);
    }
    scopes.push_back(std::move(entry));
  }
  return scopes;
}

std::shared_ptr<reconciliation_plan> make_reconciliation_plan(reconciliation_config config,
                                                              std::shared_ptr<const sync_config> sync,
                                                              environment::internals& env) {
  config.validate(); // the rules of from_json: 7032 naming the key
  auto scopes = checked_scopes(config, *sync);
  auto plan = std::make_shared<reconciliation_plan>();
  try {
    plan->session = make_plan(std::move(config.session), std::move(sync), env);
  } catch (const sync_exception& e) {
    // The server keys are part of this config: their faults are an invalid config here,
    // unless they already carry a more precise code (an unknown scope in filterparams).
    if (e.code() != static_cast<int>(error_code::unknown))
      throw;
    refuse(error_code::invalid_reconcile_config, e.error().message, e.error().info);
  }
  plan->scopes = std::move(scopes);
  plan->config = std::move(config);
  return plan;
}

sync_error not_initialized() {
  return sync_error{static_cast<int>(error_code::unknown),
                    "The following error occurred while performing sync.startReconciliation : "
                    "\"the device database is not initialized\". Possible reasons can be "
                    "sync.init may not have been invoked.",
                    nullptr};
}

} // namespace

void sync_client::startReconciliation(reconciliation_config config) {
  auto& in = *internals_;
  auto on_error = config.onreconciliationerror;
  std::shared_ptr<reconciliation_plan> plan;
  try {
    plan = make_reconciliation_plan(std::move(config), in.config, in.env->get());
  } catch (const sync_exception& e) {
    in.report("sync.startReconciliation", e.error(), std::move(on_error));
    return;
  }
  if (!in.initialized->load()) {
    in.report("sync.startReconciliation", not_initialized(), std::move(on_error));
    return;
  }
  plan->run_number = ++in.reconciliations_started;
  caf::scoped_actor self{in.system()};
  self->request(in.runtime, caf::infinite, msg::reconcile_atom::value,
                msg::reconcile_request{plan, {}})
    .receive(
      [&](msg::outcome& started) {
        if (!started.ok())
          in.report("sync.startReconciliation", *started.error, std::move(on_error));
      },
      [&](caf::error& err) {
        in.report("sync.startReconciliation",
                  sync_error{static_cast<int>(error_code::unknown),
                             "The runtime did not answer: " + in.system().render(err), nullptr},
                  std::move(on_error));
      });
}

result sync_client::reconcile(reconciliation_config config) {
  auto& in = *internals_;
  auto on_error = config.onreconciliationerror;
  std::shared_ptr<reconciliation_plan> plan;
  auto refused = [&](const sync_error& error) -> result {
    if (on_error)
      in.report("sync.startReconciliation", error, on_error);
    flush();
    return error;
  };
  try {
    plan = make_reconciliation_plan(std::move(config), in.config, in.env->get());
  } catch (const sync_exception& e) {
    return refused(e.error());
  }
  if (!in.initialized->load())
    return refused(not_initialized());
  plan->run_number = ++in.reconciliations_started;
  std::promise<result> finished;
  auto future = finished.get_future();
  auto on_finished = [&finished](const reconciliation_outcome& outcome) {
    if (outcome.error)
      finished.set_value(*outcome.error);
    else
      finished.set_value(outcome.summary);
  };
  caf::scoped_actor self{in.system()};
  std::optional<sync_error> not_started;
  self->request(in.runtime, caf::infinite, msg::reconcile_atom::value,
                msg::reconcile_request{plan, on_finished})
    .receive([&](msg::outcome& started) { not_started = started.error; },
             [&](caf::error& err) {
               not_started = sync_error{static_cast<int>(error_code::unknown),
                                        "The runtime did not answer: " + in.system().render(err),
                                        nullptr};
             });
  if (not_started)
    return refused(*not_started);
  return future.get();
}

} // namespace mxsync
