#pragma once
// One HTTP exchange of a session: sends a built request through the shared HTTP
// client (or the app's invokeservicefunction), retries failures per the session's
// retry policy (announcing each retry with onretry), and answers the last response.
// Its completion arrives from the transport's I/O thread as a message, so no CAF
// scheduler thread ever waits on the network.

#include "actors/listener.hpp"
#include "messages/messages.hpp"

namespace mxsync {

struct http_exchange_state {
  static inline const char* name = "http_exchange";
  session_plan_ptr plan;
  listener_actor listener;
  transport::wire_request request;
  std::string label; ///< "upload", "download", ... for status and onretry
  nlohmann::json retry_context; ///< the onretry context's fixed part
  caf::typed_response_promise<exchange_result> promise;
  int attempts = 0;
  int retries = 0;
  std::string state = "idle";
  std::chrono::steady_clock::time_point started{};
};

exchange_actor::behavior_type http_exchange(exchange_actor::stateful_pointer<http_exchange_state> self,
                                            session_plan_ptr plan, listener_actor listener,
                                            transport::wire_request request, std::string label,
                                            nlohmann::json retry_context);

} // namespace mxsync
