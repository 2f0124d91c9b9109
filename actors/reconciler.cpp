#include "actors/reconciler.hpp"

#include "actors/app_callback.hpp"
#include "actors/database_call.hpp"
#include "actors/device_registrar.hpp"
#include "actors/http_exchange.hpp"
#include "actors/status_tree.hpp"
#include "persistence/reconciliation.hpp"
#include "persistence/sync_state.hpp"

namespace mxsync {

namespace {

using self_pointer = reconciler_actor::stateful_pointer<reconciler_state>;
namespace rc = reconcile_contexts;

void finish(self_pointer self) {
  auto& st = self->state;
  st.stage = "done";
  if (!st.outcome.error && !st.failed_scopes.empty())
    st.outcome.error = rc::run_error(st.failed_scopes);
  // The terminal callback is the runtime's to queue: it marks the run over first, so a
  // startReconciliation from inside onreconciliationsuccess/onreconciliationerror is accepted.
  if (!st.outcome.error)
    st.outcome.summary = rc::success_context(st.run_totals, st.skipped_scopes);
  st.promise.deliver(std::move(st.outcome));
  self->quit();
}

void next_scope(self_pointer self);

/// The scope's key tables go away whatever happened; then the next scope.
void end_scope(self_pointer self) {
  auto& st = self->state;
  st.stage = "ending scope " + st.scope->scope;
  auto go_on = [self] {
    self->state.scope = nullptr;
    next_scope(self);
  };
  database_call<bool>(
    self, st.database, "end reconciliation " + st.scope->scope,
    [objects = st.scope->objects](msg::db_context& ctx) {
      syncdb::reconcile::end(ctx.connection, ctx.config, objects);
      return true;
    },
    [go_on](bool&) { go_on(); }, [go_on](sync_error&) { go_on(); });
}

void fail_scope(self_pointer self, const sync_error& cause) {
  auto& st = self->state;
  auto error = rc::scope_error(st.scope->scope, cause);
  notify(self, "onreconciliationscopeerror", st.plan->config.onreconciliationscopeerror,
               error);
  st.failed_scopes.emplace_back(st.scope->scope, std::move(error));
  end_scope(self);
}

void scope_succeeded(self_pointer self) {
  auto& st = self->state;
  ++st.scopes_done;
  notify(self, "onreconciliationscopesuccess", st.plan->config.onreconciliationscopesuccess,
         rc::scope_success_context(st.scope->scope, st.scope_totals));
  for (const auto& [object, totals] : st.scope_totals)
    rc::add_totals(st.run_totals, object, totals);
  st.scope_totals.clear(); // counted in run_totals now (status adds both)
  end_scope(self);
}

scope_job job_of(const reconciler_state& st) {
  return scope_job{st.scope->scope, st.device_id, st.instance_id, st.session};
}

/// The download request both getAllPKs and bulkGet extend (docs/protocol.md 1.7).
transport::download_request base_request(const reconciler_state& st, std::int64_t batch_size) {
  const auto& session = *st.plan->session;
  transport::download_request request;
  request.scope = scope_settings_for(session, *session.sync->find_scope(st.scope->scope),
                                     job_of(st));
  request.batch_size = static_cast<std::uint32_t>(batch_size);
  if (auto it = session.config.filterparams.find(st.scope->scope);
      it != session.config.filterparams.end())
    request.filters = it->second;
  return request;
}

/// Sends one request through an exchange actor; `then` gets the parsed answer.
template <class Then>
void exchange(self_pointer self, transport::wire_request request, std::string label, Then then) {
  auto& st = self->state;
  ++st.requests;
  st.exchange = self->spawn(http_exchange, st.plan->session, st.listener, std::move(request), label,
                            nlohmann::json{{"currentScope", st.scope->scope}, {"request", label}});
  self->request(st.exchange, caf::infinite, msg::run_atom::value)
    .then(
      [self, then](exchange_result& result) mutable {
        auto& st = self->state;
        st.exchange = nullptr;
        if (auto error = transport::transport_error(result.response)) {
          fail_scope(self, error->to_sync_error());
          return;
        }
        auto answer = transport::parse_download_answer(result.response.body);
        if (!answer) {
          fail_scope(self, answer.error().to_sync_error());
          return;
        }
        if (answer->session)
          st.session = answer->session;
        then(std::move(answer.value()));
      },
      [self](caf::error& err) {
        self->state.exchange = nullptr;
        fail_scope(self, sync_error{transport::codes::download_failed,
                                    "Error occurred in Downloading changes from Sever",
                                    {{"reason", self->system().render(err)}}});
      });
}

void next_bulk_get(self_pointer self);

void on_bulk_get_answer(self_pointer self, const std::string& object,
                        transport::download_answer answer) {
  auto& st = self->state;
  st.stage = "storing bulkGet batch " + std::to_string(st.bulk_get_batch);
  auto rows = std::make_shared<const std::vector<transport::sync_row>>(
    std::move(answer.server_rows));
  database_call<syncdb::reconcile::insert_batch>(
    self, st.database, "insert reconciled rows " + object,
    [scope = st.scope->scope, rows](msg::db_context& ctx) {
      return syncdb::reconcile::insert_server_rows(ctx.connection, ctx.config, scope, *rows);
    },
    [self, object](syncdb::reconcile::insert_batch& batch) {
      auto& st = self->state;
      for (const auto& [name, inserted] : batch.inserted_per_object)
        rc::add_totals(st.scope_totals, name, {0, inserted, 0});
      notify(self, "onreconciliationbulkgetbatchprocessingsuccess",
             st.plan->config.onreconciliationbulkgetbatchprocessingsuccess,
             rc::bulk_get_batch_context(st.scope->scope, object, st.bulk_get_batch,
                                        batch.rows_downloaded, batch.rows_inserted));
      next_bulk_get(self);
    },
    [self](sync_error& error) { fail_scope(self, error); });
}

/// The next page of keys the device lacks: bulkGet it, or go to the next object.
void next_bulk_get(self_pointer self) {
  auto& st = self->state;
  if (st.bulk_object >= st.scope->objects.size()) {
    scope_succeeded(self);
    return;
  }
  const auto& object = st.scope->objects[st.bulk_object];
  st.stage = "listing missing keys of " + object;
  database_call<syncdb::reconcile::missing_keys>(
    self, st.database, "missing keys " + object,
    [object, after = st.bulk_position,
     limit = static_cast<std::size_t>(st.plan->config.reconcilebulkgetbatchsize)](
      msg::db_context& ctx) {
      return syncdb::reconcile::next_missing_keys(ctx.connection, ctx.config, object, after, limit);
    },
    [self, object](syncdb::reconcile::missing_keys& page) {
      auto& st = self->state;
      if (page.keys.empty()) {
        ++st.bulk_object;
        st.bulk_position = 0;
        next_bulk_get(self);
        return;
      }
      st.bulk_position = page.next_position;
      ++st.bulk_get_batch;
      const auto& table = *st.plan->session->sync->find_table(object).second;
      transport::reconcile_bulk_get_query query{table.name, std::move(page.keys), {}};
      for (const auto& column : table.columns)
        query.fields.push_back(column.name);
      auto request = transport::build_bulk_get(
        request_context_for(*st.plan->session, job_of(st)),
        base_request(st, st.plan->config.reconcilebulkgetbatchsize), {query});
      auto context = rc::request_context(st.scope->scope, request, st.bulk_get_batch);
      if (st.bulk_get_batch == 1)
        notify(self, "onreconciliationbulkgetdownloadstart",
               st.plan->config.onreconciliationbulkgetdownloadstart, context);
      notify(self, "onreconciliationbulkgetbatchprocessingstart",
             st.plan->config.onreconciliationbulkgetbatchprocessingstart, std::move(context));
      st.stage = "bulkGet batch " + std::to_string(st.bulk_get_batch) + " of " + object;
      exchange(self, std::move(request), "bulkGet",
               [self, object](transport::download_answer answer) {
                 on_bulk_get_answer(self, object, std::move(answer));
               });
    },
    [self](sync_error& error) { fail_scope(self, error); });
}

/// Every key is in: remove what the server no longer has, in the configured order
/// (children first), then fetch what the device lacks.
void delete_stale_rows(self_pointer self, std::int64_t last_batch_keys) {
  auto& st = self->state;
  st.stage = "deleting rows the server does not have";
  using removed_t = std::vector<std::pair<std::string, std::int64_t>>;
  database_call<removed_t>(
    self, st.database, "delete unreconciled rows " + st.scope->scope,
    [objects = st.scope->objects](msg::db_context& ctx) {
      removed_t removed;
      for (const auto& object : objects)
        removed.emplace_back(object, syncdb::reconcile::delete_rows_missing_on_server(
                                       ctx.connection, ctx.config, object));
      return removed;
    },
    [self, last_batch_keys](removed_t& removed) {
      auto& st = self->state;
      std::int64_t deletions = 0;
      for (const auto& [object, count] : removed) {
        rc::add_totals(st.scope_totals, object, {0, 0, count});
        deletions += count;
      }
      notify(self, "onreconciliationbatchprocessingsuccess",
             st.plan->config.onreconciliationbatchprocessingsuccess,
             rc::key_batch_context(st.scope->scope, st.key_batch, last_batch_keys, deletions));
      st.bulk_object = 0;
      st.bulk_position = 0;
      next_bulk_get(self);
    },
    [self](sync_error& error) { fail_scope(self, error); });
}

void request_keys(self_pointer self);

void on_keys(self_pointer self, transport::download_answer answer) {
  auto& st = self->state;
  st.stage = "storing key batch " + std::to_string(st.key_batch);
  auto rows = std::make_shared<const std::vector<transport::sync_row>>(
    std::move(answer.server_rows));
  database_call<syncdb::reconcile::key_batch>(
    self, st.database, "store server keys " + st.scope->scope,
    [objects = st.scope->objects, rows](msg::db_context& ctx) {
      return syncdb::reconcile::store_server_keys(ctx.connection, ctx.config, objects, *rows);
    },
    [self, more = answer.more_changes_available,
     blob = std::move(answer.server_blob)](syncdb::reconcile::key_batch& batch) {
      auto& st = self->state;
      for (const auto& [object, keys] : batch.per_object)
        rc::add_totals(st.scope_totals, object, {keys, 0, 0});
      if (!more) {
        delete_stale_rows(self, batch.keys_downloaded);
        return;
      }
      // A cursor that does not move would ask for the same page forever.
      if (blob == st.tick_count) {
        fail_scope(self, sync_error{static_cast<int>(error_code::download_failed),
                                    "Error occurred in Downloading changes from Sever",
                                    {{"reason", "getAllPKs answered moreChangesAvailable with the "
                                                "serverblob it was asked for"},
                                     {"serverblob", blob}}});
        return;
      }
      st.tick_count = blob;
      notify(self, "onreconciliationbatchprocessingsuccess",
             st.plan->config.onreconciliationbatchprocessingsuccess,
             rc::key_batch_context(st.scope->scope, st.key_batch, batch.keys_downloaded, 0));
      request_keys(self);
    },
    [self](sync_error& error) { fail_scope(self, error); });
}

void request_keys(self_pointer self) {
  auto& st = self->state;
  ++st.key_batch;
  std::vector<transport::reconcile_pk_query> objects;
  for (const auto& object : st.scope->objects) {
    const auto& table = *st.plan->session->sync->find_table(object).second;
    objects.push_back({table.name, table.primary_key});
  }
  auto request = base_request(st, st.plan->config.reconciledownloadbatchsize);
  request.tick_count = st.tick_count;
  auto wire = transport::build_get_all_pks(request_context_for(*st.plan->session, job_of(st)),
                                           request, objects);
  auto context = rc::request_context(st.scope->scope, wire, st.key_batch);
  if (st.key_batch == 1)
    notify(self, "onreconciliationdownloadstart", st.plan->config.onreconciliationdownloadstart,
           context);
  notify(self, "onreconciliationbatchprocessingstart",
         st.plan->config.onreconciliationbatchprocessingstart, std::move(context));
  st.stage = "getAllPKs batch " + std::to_string(st.key_batch);
  exchange(self, std::move(wire), "getAllPKs",
           [self](transport::download_answer answer) { on_keys(self, std::move(answer)); });
}

void start_scope(self_pointer self) {
  auto& st = self->state;
  st.tick_count.clear();
  st.key_batch = 0;
  st.bulk_get_batch = 0;
  st.scope_totals.clear();
  notify(self, "onreconciliationscopestart", st.plan->config.onreconciliationscopestart,
         rc::scope_start_context(*st.scope));
  st.stage = "preparing scope " + st.scope->scope;
  database_call<bool>(
    self, st.database, "begin reconciliation " + st.scope->scope,
    [objects = st.scope->objects](msg::db_context& ctx) {
      syncdb::reconcile::begin(ctx.connection, ctx.config, objects);
      return true;
    },
    [self](bool&) { request_keys(self); }, [self](sync_error& error) { fail_scope(self, error); });
}

void next_scope(self_pointer self) {
  auto& st = self->state;
  if (st.next_scope >= st.plan->scopes.size()) {
    finish(self);
    return;
  }
  st.scope = &st.plan->scopes[st.next_scope++];
  st.stage = "checking local changes of " + st.scope->scope;
  database_call<bool>(
    self, st.database, "pending changes " + st.scope->scope,
    [scope = st.scope->scope](msg::db_context& ctx) {
      return syncdb::reconcile::scope_has_pending_changes(ctx.connection, ctx.config, scope);
    },
    [self](bool& pending) {
      auto& st = self->state;
      if (pending) { // the limitation of the page: such a scope is left as it is
        st.skipped_scopes.push_back(st.scope->scope);
        st.scope = nullptr;
        next_scope(self);
        return;
      }
      start_scope(self);
    },
    [self](sync_error& error) { fail_scope(self, error); });
}

} // namespace

reconciler_actor::behavior_type reconciler(self_pointer self, reconciliation_plan_ptr plan,
                                           database_actor database, listener_actor listener) {
  auto& st = self->state;
  st.plan = std::move(plan);
  st.database = std::move(database);
  st.listener = std::move(listener);
  st.outcome.run_number = st.plan->run_number;
  return {
    [self](msg::run_atom) -> caf::typed_response_promise<reconciliation_outcome> {
      auto& st = self->state;
      st.promise = self->make_response_promise<reconciliation_outcome>();
      notify(self, "onreconciliationstart", st.plan->config.onreconciliationstart,
             rc::start_context(*st.plan));
      // getAllPKs and bulkGet are downloads of a registered device (docs/protocol.md 1.7):
      // a device that never synced is registered first, as a session would.
      st.stage = "registering device";
      st.registrar = self->spawn(device_registrar, st.plan->session, st.database, st.listener);
      self->request(st.registrar, caf::infinite, msg::run_atom::value)
        .then(
          [self](device_identity& identity) {
            auto& st = self->state;
            st.registrar = nullptr;
            if (identity.error) {
              st.outcome.error = std::move(*identity.error);
              finish(self);
              return;
            }
            st.device_id = std::move(identity.device_id);
            st.instance_id = std::move(identity.instance_id);
            if (identity.session)
              st.session = std::move(identity.session);
            next_scope(self);
          },
          [self](caf::error& err) {
            self->state.outcome.error =
              sync_error{static_cast<int>(error_code::register_device), "Register device failed.",
                         {{"reason", self->system().render(err)}}};
            finish(self);
          });
      return st.promise;
    },
    [self](msg::status_atom) {
      const auto& st = self->state;
      rc::object_totals total;
      for (const auto& level : {&st.run_totals, &st.scope_totals})
        for (const auto& [object, counts] : *level) {
          total.downloads += counts.downloads;
          total.insertions += counts.insertions;
          total.deletions += counts.deletions;
        }
      nlohmann::json own{
        {"name", reconciler_state::name},
        {"state", st.stage},
        {"run", st.plan->run_number},
        {"currentScope", st.scope ? st.scope->scope : std::string{}},
        {"counters",
         {{"scopes", st.plan->scopes.size()},
          {"scopesDone", st.scopes_done},
          {"scopesSkipped", st.skipped_scopes.size()},
          {"scopesFailed", st.failed_scopes.size()},
          {"requests", st.requests},
          {"downloads", total.downloads},
          {"insertions", total.insertions},
          {"deletions", total.deletions}}},
      };
      return status_with_children(self, std::move(own),
                                  {{caf::actor_cast<caf::actor>(st.registrar), "device_registrar"},
                                   {caf::actor_cast<caf::actor>(st.exchange), "http_exchange"}});
    },
  };
}

} // namespace mxsync
