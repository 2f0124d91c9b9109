#include "actors/batch_processor.hpp"

#include "actors/database_call.hpp"
#include "persistence/chunk_store.hpp"
#include "persistence/download_batch.hpp"

namespace mxsync {

batch_processor_actor::behavior_type
batch_processor(batch_processor_actor::stateful_pointer<batch_processor_state> self,
                database_actor database) {
  self->state.database = std::move(database);
  return {
    [self](msg::apply_atom, batch_to_apply& batch) -> caf::typed_response_promise<batch_applied> {
      auto promise = self->make_response_promise<batch_applied>();
      self->state.busy = true;
      database_call<syncdb::batch_result>(
        self, self->state.database, "apply download batch " + batch.scope,
        [batch](msg::db_context& ctx) {
          auto result = syncdb::apply_download_answer(ctx.connection, ctx.config, batch.scope,
                                                      batch.filter_value, *batch.answer,
                                                      batch.policy);
          if (batch.finished_payload_id)
            syncdb::finish_payload(ctx.connection, batch.scope, *batch.finished_payload_id);
          return result;
        },
        [self, promise](syncdb::batch_result& result) mutable {
          auto& st = self->state;
          st.busy = false;
          ++st.batches;
          st.rows += static_cast<std::uint64_t>(result.rows_downloaded);
          promise.deliver(batch_applied{std::move(result), std::nullopt});
        },
        [self, promise](sync_error& error) mutable {
          self->state.busy = false;
          ++self->state.failures;
          promise.deliver(batch_applied{{}, std::move(error)});
        });
      return promise;
    },
    [self](msg::status_atom) {
      const auto& st = self->state;
      return nlohmann::json{
        {"name", batch_processor_state::name},
        {"state", st.busy ? "applying batch" : "idle"},
        {"mailbox", self->mailbox().size()},
        {"counters", {{"batches", st.batches}, {"rows", st.rows}, {"failures", st.failures}}},
        {"children", nlohmann::json::array()},
      };
    },
  };
}

} // namespace mxsync
