#pragma once
// One scope of a session (docs/protocol.md 2.1): onscopestart, the upload (when
// sessiontasks allows it), the download unless the upload failed, removeafterupload,
// then onscopesuccess or onscopeerror.

#include "actors/listener.hpp"
#include "messages/messages.hpp"

namespace mxsync {

struct scope_state {
  static inline const char* name = "scope";
  session_plan_ptr plan;
  scope_job job;
  database_actor database;
  listener_actor listener;
  caf::typed_response_promise<scope_outcome> promise;
  scope_outcome outcome;
  std::string stage = "idle";
  upload_outcome uploaded;
  download_outcome downloaded;
  uploader_actor uploader;
  downloader_actor downloader;
};

scope_actor::behavior_type scope(scope_actor::stateful_pointer<scope_state> self,
                                 session_plan_ptr plan, scope_job job, database_actor database,
                                 listener_actor listener);

} // namespace mxsync
