// The sessiontasks rules shared by the session actors (declared in messages/session.hpp).
#include "messages/session.hpp"

namespace mxsync {

bool scope_uploads(const session_config& config, const std::string& scope) {
  if (!config.sessiontasks)
    return true;
  auto it = config.sessiontasks->find(scope);
  return it != config.sessiontasks->end() && it->second.doupload;
}

bool scope_downloads(const session_config& config, const std::string& scope) {
  if (!config.sessiontasks)
    return true;
  auto it = config.sessiontasks->find(scope);
  return it == config.sessiontasks->end() || it->second.dodownload;
}

std::optional<std::string> scope_upload_error_policy(const session_config& config,
                                                     const std::string& scope) {
  if (!config.sessiontasks)
    return std::nullopt;
  auto it = config.sessiontasks->find(scope);
  if (it == config.sessiontasks->end())
    return std::nullopt;
  return it->second.uploaderrorpolicy.value_or("abortonerror");
}

transport::request_context request_context_for(const session_plan& plan, const scope_job& job) {
  return transport::request_context{plan.endpoint, plan.user, job.session};
}

transport::scope_settings scope_settings_for(const session_plan& plan, const scope_def& scope,
                                             const scope_job& job) {
  transport::scope_settings settings;
  settings.scope_name = scope.name;
  settings.strategy = std::string{to_string(scope.strategy)};
  settings.instance_id = job.instance_id;
  settings.client_id = job.device_id;
  settings.app_version = plan.sync->version;
  settings.upload_error_policy = scope_upload_error_policy(plan.config, scope.name);
  return settings;
}

syncdb::upload_error_policy ack_policy_for(const session_config& config, const std::string& scope) {
  auto policy = scope_upload_error_policy(config, scope);
  return policy && *policy == "continueonerror" ? syncdb::upload_error_policy::continue_on_error
                                                 : syncdb::upload_error_policy::abort_on_error;
}

} // namespace mxsync
