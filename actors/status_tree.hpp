#pragma once
// Status flows up the actor tree: an actor answers its own state and asks its
// children (each with a 2 s limit, so a busy child cannot stall the answer).

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include <memory>
#include <vector>

#include "messages/messages.hpp"

namespace mxsync {

/// A child to ask, with the name to show when it cannot answer in time.
struct status_child {
  caf::actor handle;
  const char* name;
};

/// Answers `own` with "children" filled from `children` (null handles are skipped).
template <class Self>
caf::typed_response_promise<nlohmann::json>
status_with_children(Self* self, nlohmann::json own, const std::vector<status_child>& children) {
  auto promise = self->template make_response_promise<nlohmann::json>();
  auto tree = std::make_shared<nlohmann::json>(std::move(own));
  (*tree)["mailbox"] = self->mailbox().size();
  (*tree)["children"] = nlohmann::json::array();
  std::vector<status_child> alive;
  for (const auto& child : children)
    if (child.handle)
      alive.push_back(child);
  if (alive.empty()) {
    promise.deliver(std::move(*tree));
    return promise;
  }
  auto pending = std::make_shared<std::size_t>(alive.size());
  for (const auto& child : alive) {
    auto add = [promise, tree, pending](nlohmann::json status) mutable {
      (*tree)["children"].push_back(std::move(status));
      if (--*pending == 0)
        promise.deliver(std::move(*tree));
    };
    // A child busy with long work (an app callback, a big transaction) cannot answer:
    // say so under its name instead of stalling the whole tree.
    std::string name = child.name;
    self->request(child.handle, std::chrono::seconds(2), msg::status_atom::value)
      .then([add](nlohmann::json& status) mutable { add(std::move(status)); },
            [add, name](caf::error&) mutable {
              add(nlohmann::json{{"name", name}, {"state", "busy (no answer within 2 s)"}});
            });
  }
  return promise;
}

} // namespace mxsync
