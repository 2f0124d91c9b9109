#include "api/client_internals.hpp"

#include "actors/runtime.hpp"
#include "mxsync/sync_object.hpp"
#include "persistence/device_schema.hpp"
#include "persistence/pending_changes.hpp"

#include <future>
#include <thread>

namespace mxsync {

namespace {

using work_fn = std::function<nlohmann::json(msg::db_context&)>;

std::shared_ptr<const sync_config> load_config(const client_options& options) {
  try {
    if (!options.config_path.empty())
      return std::make_shared<const sync_config>(sync_config::load_file(options.config_path));
    return std::make_shared<const sync_config>(sync_config::parse(options.config));
  } catch (const config_error& e) {
    throw sync_exception(error_code::scope_loading, "Scopes loading failed.",
                         {{"reason", e.what()}});
  }
}

sync_error not_initialized(const std::string& operation) {
  return {static_cast<int>(error_code::unknown),
          "The following error occurred while performing " + operation
            + " : \"the device database is not initialized\". Possible reasons can be sync.init "
              "may not have been invoked.",
          nullptr};
}

} // namespace

// -- environment ---------------------------------------------------------------

environment::internals::internals(unsigned worker_threads) {
  if (worker_threads > 0)
    config.set("scheduler.max-threads", static_cast<size_t>(worker_threads));
  // Keep the runtime silent: apps see errors through callbacks, not logs.
  config.set("logger.console", caf::atom("none"));
  system = std::make_unique<caf::actor_system>(config);
}

environment::environment(unsigned worker_threads)
  : internals_(std::make_unique<internals>(worker_threads)) {}

environment::~environment() = default;

// -- sync_client internals -------------------------------------------------------

void sync_client::internals::call(bool write, std::string label, work_fn work,
                                  success_callback on_success, error_callback on_error) {
  msg::api_call request;
  request.write = write;
  request.work = msg::db_work{std::move(label), std::move(work)};
  request.on_success = std::move(on_success);
  request.on_error = std::move(on_error);
  caf::anon_send(runtime, msg::call_atom::value, std::move(request));
}

result sync_client::internals::call(bool write, std::string label, work_fn work) {
  caf::scoped_actor self{system()};
  msg::db_work request{label, std::move(work)};
  std::optional<result> answer;
  auto on_outcome = [&](msg::outcome& outcome) {
    if (outcome.ok())
      answer.emplace(std::move(outcome.value));
    else
      answer.emplace(std::move(*outcome.error));
  };
  auto on_failure = [&](caf::error& err) {
    answer.emplace(sync_error{static_cast<int>(error_code::unknown),
                              "The runtime did not answer " + label + ": " + system().render(err),
                              nullptr});
  };
  if (write)
    self->request(runtime, caf::infinite, msg::write_atom::value, std::move(request))
      .receive(on_outcome, on_failure);
  else
    self->request(runtime, caf::infinite, msg::read_atom::value, std::move(request))
      .receive(on_outcome, on_failure);
  return std::move(*answer);
}

work_fn sync_client::internals::requires_init(work_fn work) {
  return [flag = initialized, work = std::move(work)](msg::db_context& ctx) -> nlohmann::json {
    if (!flag->load())
      throw sync_exception(not_initialized("this operation"));
    return work(ctx);
  };
}

// -- sync_client -------------------------------------------------------------------

sync_client::sync_client(client_options options) : internals_(std::make_unique<internals>()) {
  auto& in = *internals_;
  in.config = load_config(options);
  in.env = options.shared_environment ? options.shared_environment
                                      : std::make_shared<environment>();
  in.database_path = options.database_path.empty() ? ":memory:" : options.database_path;
  runtime_options runtime_opts{in.database_path, in.config, std::move(options.executor)};
  in.runtime = in.system().spawn(runtime, std::move(runtime_opts));
}

sync_client::~sync_client() {
  if (!internals_ || !internals_->runtime)
    return;
  // A running session stops first: its network call in flight completes, then its
  // callbacks run. "Session is in Progress" means a stop is under way: ask again.
  for (;;) {
    std::promise<bool> answer;
    stopSession([&answer](const nlohmann::json&) { answer.set_value(true); },
                [&answer](const sync_error&) { answer.set_value(false); });
    if (answer.get_future().get())
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  flush();
  caf::anon_send_exit(internals_->runtime, caf::exit_reason::user_shutdown);
}

namespace {

work_fn init_work(std::shared_ptr<std::atomic<bool>> initialized) {
  return [initialized](msg::db_context& ctx) -> nlohmann::json {
    auto outcome = schema::initialize(ctx.connection, ctx.config);
    if (outcome.version_mismatch)
      throw sync_exception(error_code::scope_loading, "Scopes loading failed.",
                           {{"reason", "the device database was created for another version of "
                                       "the sync configuration; a schema upgrade is required"},
                            {"storedVersion", outcome.stored_version},
                            {"configVersion", ctx.config.version}});
    initialized->store(true);
    return {{"created", outcome.created}};
  };
}

work_fn reset_work(std::shared_ptr<std::atomic<bool>> initialized) {
  return [initialized](msg::db_context& ctx) -> nlohmann::json {
    schema::reset(ctx.connection, ctx.config);
    initialized->store(true);
    return nlohmann::json::object();
  };
}

} // namespace

void sync_client::init(success_callback on_success, error_callback on_error) {
  internals_->call(true, "sync.init", init_work(internals_->initialized), std::move(on_success),
                   std::move(on_error));
}

result sync_client::init() {
  return internals_->call(true, "sync.init", init_work(internals_->initialized));
}

void sync_client::reset(success_callback on_success, error_callback on_error) {
  internals_->call(true, "sync.reset", reset_work(internals_->initialized), std::move(on_success),
                   std::move(on_error));
}

result sync_client::reset() {
  return internals_->call(true, "sync.reset", reset_work(internals_->initialized));
}

namespace {

work_fn scope_reset_work(std::string scope) {
  return [scope = std::move(scope)](msg::db_context& ctx) -> nlohmann::json {
    schema::reset_scope(ctx.connection, ctx.config, scope);
    return nlohmann::json::object();
  };
}

} // namespace

void sync_client::resetScope(const std::string& scope, success_callback on_success,
                             error_callback on_error) {
  internals_->call(true, scope + ".reset", internals_->requires_init(scope_reset_work(scope)),
                   std::move(on_success), std::move(on_error));
}

result sync_client::resetScope(const std::string& scope) {
  return internals_->call(true, scope + ".reset",
                          internals_->requires_init(scope_reset_work(scope)));
}

namespace {

using app_query = nlohmann::json (*)(db::connection&, const sync_config&);

work_fn app_level(app_query query) {
  return [query](msg::db_context& ctx) { return query(ctx.connection, ctx.config); };
}

work_fn select_work(std::string sql) {
  return [sql = std::move(sql)](msg::db_context& ctx) {
    return pending::execute_select_query(ctx.connection, sql);
  };
}

} // namespace

void sync_client::rollbackPendingLocalChanges(success_callback on_success,
                                              error_callback on_error) {
  internals_->call(true, "sync.rollbackPendingLocalChanges",
                   internals_->requires_init(app_level(&pending::rollback_pending_local_changes)),
                   std::move(on_success), std::move(on_error));
}

result sync_client::rollbackPendingLocalChanges() {
  return internals_->call(
    true, "sync.rollbackPendingLocalChanges",
    internals_->requires_init(app_level(&pending::rollback_pending_local_changes)));
}

void sync_client::getPendingAcknowledgement(success_callback on_success, error_callback on_error) {
  internals_->call(false, "sync.getPendingAcknowledgement",
                   internals_->requires_init(app_level(&pending::get_pending_acknowledgement)),
                   std::move(on_success), std::move(on_error));
}

result sync_client::getPendingAcknowledgement() {
  return internals_->call(false, "sync.getPendingAcknowledgement",
                          internals_->requires_init(app_level(&pending::get_pending_acknowledgement)));
}

void sync_client::getPendingUpload(success_callback on_success, error_callback on_error) {
  internals_->call(false, "sync.getPendingUpload",
                   internals_->requires_init(app_level(&pending::get_pending_upload)),
                   std::move(on_success), std::move(on_error));
}

result sync_client::getPendingUpload() {
  return internals_->call(false, "sync.getPendingUpload",
                          internals_->requires_init(app_level(&pending::get_pending_upload)));
}

void sync_client::getDeferredUpload(success_callback on_success, error_callback on_error) {
  internals_->call(false, "sync.getDeferredUpload",
                   internals_->requires_init(app_level(&pending::get_deferred_upload)),
                   std::move(on_success), std::move(on_error));
}

result sync_client::getDeferredUpload() {
  return internals_->call(false, "sync.getDeferredUpload",
                          internals_->requires_init(app_level(&pending::get_deferred_upload)));
}

void sync_client::executeSelectQuery(const std::string& sql, success_callback on_success,
                                     error_callback on_error) {
  internals_->call(false, "sync.executeSelectQuery", internals_->requires_init(select_work(sql)),
                   std::move(on_success), std::move(on_error));
}

result sync_client::executeSelectQuery(const std::string& sql) {
  return internals_->call(false, "sync.executeSelectQuery",
                          internals_->requires_init(select_work(sql)));
}

sync_object sync_client::object(const std::string& name) {
  auto [scope, table] = internals_->config->find_table(name);
  if (!table)
    throw sync_exception(error_code::table_does_not_exist,
                         "Table:" + name + " Doesnot exists ", {{"table", name}});
  return sync_object{*internals_, table->name};
}

nlohmann::json sync_client::status() {
  caf::scoped_actor self{internals_->system()};
  nlohmann::json tree;
  self->request(internals_->runtime, std::chrono::seconds(5), msg::status_atom::value)
    .receive([&](nlohmann::json& answer) { tree = std::move(answer); },
             [&](caf::error& err) {
               tree = {{"name", "runtime"},
                       {"state", "unreachable"},
                       {"error", internals_->system().render(err)}};
             });
  return tree;
}

void sync_client::flush() {
  caf::scoped_actor self{internals_->system()};
  self->request(internals_->runtime, caf::infinite, msg::flush_atom::value)
    .receive([](bool) {}, [](caf::error&) {});
}

const nlohmann::json& sync_client::configuration() const { return internals_->config->source; }

} // namespace mxsync
