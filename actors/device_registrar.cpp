#include "actors/device_registrar.hpp"

#include "actors/database_call.hpp"
#include "actors/http_exchange.hpp"
#include "actors/status_tree.hpp"
#include "persistence/sync_state.hpp"

#include <random>

namespace mxsync {

namespace {

using self_pointer = device_registrar_actor::stateful_pointer<device_registrar_state>;

/// A device id for a device database that has none: 128 random bits in hex.
std::string new_device_id() {
  std::random_device entropy;
  std::uniform_int_distribution<unsigned> nibble(0, 15);
  static constexpr char hex[] = "0123456789abcdef";
  std::string id = "mxsync-";
  for (int i = 0; i < 32; ++i)
    id.push_back(hex[nibble(entropy)]);
  return id;
}

void deliver(self_pointer self) {
  auto& st = self->state;
  st.stage = st.identity.error ? "failed" : "done";
  st.promise.deliver(std::move(st.identity));
  self->quit();
}

void fail(self_pointer self, sync_error error) {
  self->state.identity.error = std::move(error);
  deliver(self);
}

void register_device(self_pointer self) {
  auto& st = self->state;
  st.stage = "registering device";
  auto device = st.plan->device;
  device.device_id = st.identity.device_id;
  auto request = transport::build_register_device(
    transport::request_context{st.plan->endpoint, st.plan->user, std::nullopt}, device);
  st.exchange = self->spawn(http_exchange, st.plan, st.listener, std::move(request),
                            std::string{"registerdevice"},
                            nlohmann::json{{"request", "registerdevice"}});
  self->request(st.exchange, caf::infinite, msg::run_atom::value)
    .then(
      [self](exchange_result& result) {
        auto& st = self->state;
        st.exchange = nullptr;
        if (auto error = transport::transport_error(result.response)) {
          fail(self, error->to_sync_error());
          return;
        }
        auto answer = transport::parse_register_answer(result.response.body);
        if (!answer) {
          fail(self, answer.error().to_sync_error());
          return;
        }
        st.identity.instance_id = answer->instance_id;
        st.identity.session = answer->session;
        st.identity.registered_now = true;
        st.stage = "saving registration";
        database_call<bool>(
          self, st.database, "save device registration",
          [device = st.identity.device_id, instance = st.identity.instance_id](msg::db_context& ctx) {
            syncdb::save_device_registration(ctx.connection, device, instance);
            return true;
          },
          [self](bool&) { deliver(self); },
          [self](sync_error& error) { fail(self, std::move(error)); });
      },
      [self](caf::error& err) {
        fail(self, sync_error{static_cast<int>(error_code::register_device), "Register device failed.",
                              {{"reason", self->system().render(err)}}});
      });
}

} // namespace

device_registrar_actor::behavior_type
device_registrar(self_pointer self, session_plan_ptr plan, database_actor database,
                 listener_actor listener) {
  auto& st = self->state;
  st.plan = std::move(plan);
  st.database = std::move(database);
  st.listener = std::move(listener);
  return {
    [self](msg::run_atom) -> caf::typed_response_promise<device_identity> {
      auto& st = self->state;
      st.promise = self->make_response_promise<device_identity>();
      st.stage = "reading device registration";
      database_call<syncdb::device_registration>(
        self, st.database, "read device registration",
        [](msg::db_context& ctx) { return syncdb::read_device_registration(ctx.connection); },
        [self](syncdb::device_registration& stored) {
          auto& st = self->state;
          const auto& wanted = st.plan->config.deviceid;
          st.identity.device_id = wanted ? *wanted : stored.device_id.value_or(new_device_id());
          // Register when the device is new to this database (docs/protocol.md 1.3).
          if (stored.registered() && stored.device_id == st.identity.device_id) {
            st.identity.instance_id = *stored.instance_id;
            deliver(self);
          } else {
            register_device(self);
          }
        },
        [self](sync_error& error) { fail(self, std::move(error)); });
      return st.promise;
    },
    [self](msg::status_atom) {
      const auto& st = self->state;
      nlohmann::json own{{"name", device_registrar_state::name},
                         {"state", st.stage},
                         {"deviceid", st.identity.device_id}};
      return status_with_children(self, std::move(own),
                                  {{caf::actor_cast<caf::actor>(st.exchange), "http_exchange"}});
    },
  };
}

} // namespace mxsync
