#include "actors/http_exchange.hpp"

#include "actors/app_callback.hpp"
#include "api/session_contexts.hpp"

namespace mxsync {

namespace {

using self_pointer = exchange_actor::stateful_pointer<http_exchange_state>;

/// The answer of invokeservicefunction as a transport response: the original's
/// callback status 400 means "finished" with `result` as the answer's body.
transport::http_response app_service_response(int status, const nlohmann::json& answer) {
  transport::http_response response;
  if (status == 400) {
    response.http_status = 200;
    response.body = answer.dump();
    response.content_type = "application/json";
  } else {
    response.network_code = transport::codes::request_failed;
    response.error_message =
      "invokeservicefunction finished with status " + std::to_string(status);
  }
  return response;
}

/// The failure of an invokeservicefunction that threw instead of calling back.
transport::http_response thrown_response(const std::string& what) {
  transport::http_response response;
  response.network_code = transport::codes::request_failed;
  response.error_message = "invokeservicefunction threw: " + what;
  return response;
}

void send_now(self_pointer self) {
  auto& st = self->state;
  ++st.attempts;
  st.state = "waiting for " + st.label + " answer";
  st.started = std::chrono::steady_clock::now();
  exchange_actor me = self;
  const auto& config = st.plan->config;
  if (config.invokeservicefunction) {
    // The app replaces the network call; its callback may come from any thread.
    auto params = nlohmann::json::parse(st.request.body());
    auto url = st.request.url;
    auto function = config.invokeservicefunction;
    auto context = st.retry_context;
    msg::callback_call call{"invokeservicefunction", [function, url, params, context, me] {
                              // A function that throws never calls back: its request fails
                              // (1012, the exception's text in errorInfo) instead of
                              // waiting forever.
                              try {
                                function(url, params,
                                         [me](int status, const nlohmann::json& answer) {
                                           caf::anon_send(me, msg::http_atom::value,
                                                          app_service_response(status, answer));
                                         },
                                         context);
                              } catch (const std::exception& e) {
                                caf::anon_send(me, msg::http_atom::value, thrown_response(e.what()));
                              } catch (...) {
                                caf::anon_send(me, msg::http_atom::value,
                                               thrown_response("an exception that is not a std::exception"));
                              }
                              return nlohmann::json{};
                            }};
    self->request(st.listener, caf::infinite, msg::invoke_atom::value, std::move(call))
      .then([](nlohmann::json&) {});
    return;
  }
  st.plan->http->submit(transport::to_http_request(st.request, st.plan->network_timeout),
                        [me](transport::http_response response) {
                          caf::anon_send(me, msg::http_atom::value, std::move(response));
                        });
}

/// The code that decides a retry: the network code, or 1013 for a body that is not JSON.
std::optional<int> failure_code(const transport::http_response& response) {
  if (auto error = transport::transport_error(response))
    return error->code;
  if (!transport::parse_answer_json(response.body))
    return transport::codes::invalid_json;
  return std::nullopt;
}

} // namespace

exchange_actor::behavior_type http_exchange(self_pointer self, session_plan_ptr plan,
                                            listener_actor listener,
                                            transport::wire_request request, std::string label,
                                            nlohmann::json retry_context) {
  auto& st = self->state;
  st.plan = std::move(plan);
  st.listener = std::move(listener);
  st.request = std::move(request);
  st.label = std::move(label);
  st.retry_context = std::move(retry_context);
  return {
    [self](msg::run_atom) -> caf::typed_response_promise<exchange_result> {
      self->state.promise = self->make_response_promise<exchange_result>();
      send_now(self);
      return self->state.promise;
    },
    [self](msg::http_atom, transport::http_response& response) {
      auto& st = self->state;
      auto code = failure_code(response);
      if (code && !st.plan->stopping()) {
        auto decision = st.plan->retry.decide(*code, st.retries);
        if (decision.retry) {
          ++st.retries;
          st.state = "waiting to retry";
          if (st.plan->config.onretry)
            notify(self, "onretry", st.plan->config.onretry,
                   contexts::retry_context(st.request, *code, response.error_message, decision.attempt));
          self->delayed_send(self, decision.wait, msg::retry_atom::value);
          return;
        }
      }
      st.state = "done";
      st.promise.deliver(exchange_result{std::move(response), st.attempts});
      self->quit();
    },
    [self](msg::retry_atom) { send_now(self); },
    [self](msg::status_atom) {
      const auto& st = self->state;
      return nlohmann::json{
        {"name", http_exchange_state::name},
        {"state", st.state},
        {"request", st.label},
        {"url", st.request.url},
        {"mailbox", self->mailbox().size()},
        {"counters", {{"attempts", st.attempts}, {"retries", st.retries}}},
        {"children", nlohmann::json::array()},
      };
    },
  };
}

} // namespace mxsync
