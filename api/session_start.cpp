// sync.startSession / sync.stopSession: checks the session keys, builds the plan every
// session actor shares, and hands it to the runtime actor.
#include "api/client_internals.hpp"

#include "transport/password_hash.hpp"

#include <future>

namespace mxsync {

namespace {

[[noreturn]] void refuse(error_code code, std::string message, nlohmann::json info = nullptr) {
  throw sync_exception(code, std::move(message), std::move(info));
}

/// Scopes named in sessiontasks, filterparams and removeafterupload must exist.
void check_scope_names(const session_config& config, const sync_config& sync) {
  auto check = [&](const std::string& scope, const char* key) {
    if (!sync.find_scope(scope))
      refuse(error_code::scope_does_not_exist, "Scope:" + scope + " Doesnot exists ",
             {{"key", key}, {"scope", scope}});
  };
  if (config.sessiontasks)
    for (const auto& [scope, task] : *config.sessiontasks)
      check(scope, "sessiontasks");
  for (const auto& [scope, filters] : config.filterparams)
    check(scope, "filterparams");
  for (const auto& [scope, objects] : config.removeafterupload) {
    check(scope, "removeafterupload");
    for (const auto& object : objects)
      if (!sync.find_scope(scope)->find_table(object))
        refuse(error_code::table_does_not_exist, "Table:" + object + " Doesnot exists ",
               {{"key", "removeafterupload"}, {"scope", scope}, {"table", object}});
  }
}

} // namespace

std::shared_ptr<session_plan> make_plan(session_config config,
                                        std::shared_ptr<const sync_config> sync,
                                        environment::internals& env) {
  config.validate(); // the rules of from_json: 7777 naming the key
  if (config.serverhost.empty() && !config.serverurl)
    refuse(error_code::unknown, "startSession needs serverhost or serverurl",
           {{"key", "serverhost"}});
  check_scope_names(config, *sync);
  auto plan = std::make_shared<session_plan>();
  plan->endpoint.server_url = config.serverurl;
  plan->endpoint.server_host = config.serverhost;
  plan->endpoint.server_port = config.serverport;
  plan->endpoint.is_secure = config.issecure;
  plan->endpoint.app_id = config.appid.empty() ? sync->app_id : config.appid;
  plan->endpoint.has_auth_token = config.authtoken.has_value();
  plan->endpoint.upload_web_context = config.uploadwebcontext;
  plan->endpoint.download_web_context = config.downloadwebcontext;
  plan->user.user_id = config.userid;
  plan->user.app_id = plan->endpoint.app_id;
  plan->user.auth_token = config.authtoken;
  if (config.passwordhashfunction) {
    // The app's own digest goes out as given.
    plan->user.password = config.passwordhashfunction(config.password);
    plan->user.password_hash_algorithm = "none";
  } else {
    if (!transport::password_hash_available(config.passwordhashalgo))
      refuse(error_code::unknown,
             "passwordhashalgo '" + config.passwordhashalgo
               + "' is not available (this system's OpenSSL offers: sha1, sha224, sha256, "
                 "sha384, sha512, md5, and none)",
             {{"key", "passwordhashalgo"}});
    plan->user.password = config.password;
    plan->user.password_hash_algorithm = config.passwordhashalgo;
  }
  plan->device = transport::device_info{config.os, config.model, config.version, "",
                                        "mxsync/0.1", config.channel, config.platform};
  plan->retry = transport::retry_policy{transport::retry_settings::from_config(
    static_cast<int>(config.numberofretryattempts), config.retryerrorcodes, config.retrywaittime)};
  if (config.networktimeout)
    plan->network_timeout = std::chrono::milliseconds{
      static_cast<std::int64_t>(*config.networktimeout * 1000)};
  if (!config.invokeservicefunction)
    plan->http = env.http(config.tls_insecure, config.tls_ca_file.value_or(""));
  plan->sync = std::move(sync);
  plan->config = std::move(config);
  return plan;
}

environment::internals::~internals() {
  // Transfers complete (cancelled) before the actors that wait for them go away.
  std::lock_guard<std::mutex> guard{http_mutex};
  for (auto& [key, client] : http_clients)
    client->shutdown();
}

std::shared_ptr<transport::http_client> environment::internals::http(bool insecure,
                                                                     const std::string& ca_file) {
  std::lock_guard<std::mutex> guard{http_mutex};
  auto& client = http_clients[{insecure, ca_file}];
  if (!client) {
    transport::http_client_options options;
    options.insecure = insecure;
    options.ca_file = ca_file;
    client = std::make_shared<transport::http_client>(std::move(options));
  }
  return client;
}

void sync_client::internals::report(std::string label, sync_error error, error_callback on_error) {
  call(false, std::move(label),
       [error](msg::db_context&) -> nlohmann::json { throw sync_exception(error); }, {},
       std::move(on_error));
}

result session_result(const session_outcome& outcome) {
  if (outcome.error)
    return *outcome.error;
  return nlohmann::json{{"stopped", outcome.stopped}, {"session", outcome.session_number}};
}

void sync_client::internals::start_session(session_config keys, session_end on_ended) {
  auto on_error = keys.onsyncerror;
  // A start refused before the session runs ends it too: onsyncerror is its terminal
  // event, then `on_ended`, in one listener task (in order with every other callback).
  auto refuse = [&](sync_error error) {
    report("sync.startSession", std::move(error),
           [on_error, on_ended](const sync_error& refusal) {
             session_outcome outcome;
             outcome.error = refusal;
             try {
               if (on_error)
                 on_error(refusal);
             } catch (...) { // the app's exception goes to the listener, after the end
               if (on_ended)
                 on_ended(outcome);
               throw;
             }
             if (on_ended)
               on_ended(outcome);
           });
  };
  std::shared_ptr<session_plan> plan;
  try {
    plan = make_plan(std::move(keys), config, env->get());
  } catch (const sync_exception& e) {
    refuse(e.error());
    return;
  }
  if (!initialized->load()) {
    refuse(sync_error{static_cast<int>(error_code::unknown),
                      "The following error occurred while performing sync.startSession : "
                      "\"the device database is not initialized\". Possible reasons can be "
                      "sync.init may not have been invoked.",
                      nullptr});
    return;
  }
  plan->session_number = ++sessions_started;
  caf::scoped_actor self{system()};
  self->request(runtime, caf::infinite, msg::start_atom::value,
                msg::start_request{plan, on_ended})
    .receive(
      [&](msg::outcome& started) {
        if (!started.ok())
          refuse(*started.error);
      },
      [&](caf::error& err) {
        refuse(sync_error{static_cast<int>(error_code::unknown),
                          "The runtime did not answer: " + system().render(err), nullptr});
      });
}

void sync_client::startSession(session_config config) {
  internals_->start_session(std::move(config), {});
}

result sync_client::synchronize(session_config config) {
  // Shared: the end notice runs on the listener and may outlive a wait abandoned by an
  // exception.
  auto finished = std::make_shared<std::promise<result>>();
  auto future = finished->get_future();
  internals_->start_session(std::move(config), [finished](const session_outcome& outcome) {
    finished->set_value(session_result(outcome));
  });
  return future.get();
}

void sync_client::stopSession(success_callback on_stopped, error_callback on_error) {
  auto& in = *internals_;
  auto failed = on_error;
  // Waits until the runtime has recorded the stop (the runtime never waits for the app):
  // from a callback the pipeline waits for, the stop is in place before that callback
  // returns, and the session stops at its next check point (docs/callbacks.md 11).
  caf::scoped_actor self{in.system()};
  self->request(in.runtime, caf::infinite, msg::stop_atom::value,
                msg::stop_request{std::move(on_stopped), std::move(on_error)})
    .receive([](bool) {},
             [&](caf::error& err) {
               if (failed)
                 failed(sync_error{static_cast<int>(error_code::unknown),
                                   "The runtime did not answer: " + in.system().render(err),
                                   nullptr});
             });
}

} // namespace mxsync
