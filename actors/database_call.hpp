#pragma once
// How session actors run persistence/ functions on the database actor and get a
// typed answer back: the function runs on the database thread and fills a shared
// slot; the reply message orders that write before the continuation reads it.

#include "messages/messages.hpp"

#include <memory>
#include <utility>

namespace mxsync {

/// Runs `fn(db_context&) -> T` as one database write (one transaction), then
/// `on_done(T&)` or `on_error(sync_error&)` in the calling actor.
template <class T, class Self, class Fn, class OnDone, class OnError>
void database_call(Self* self, const database_actor& database, std::string label, Fn fn,
                   OnDone on_done, OnError on_error) {
  auto slot = std::make_shared<T>();
  msg::db_work work{std::move(label), [slot, fn = std::move(fn)](msg::db_context& ctx) {
                      *slot = fn(ctx);
                      return nlohmann::json{};
                    }};
  self->request(database, caf::infinite, msg::write_atom::value, std::move(work))
    .then(
      [slot, on_done = std::move(on_done), on_error](msg::outcome& result) mutable {
        if (result.ok())
          on_done(*slot);
        else
          on_error(*result.error);
      },
      [self, on_error](caf::error& err) mutable {
        sync_error error{static_cast<int>(error_code::unknown),
                         "The database actor did not answer: " + self->system().render(err),
                         nullptr};
        on_error(error);
      });
}

} // namespace mxsync
