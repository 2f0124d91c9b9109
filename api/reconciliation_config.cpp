#include "mxsync/reconciliation_config.hpp"

#include <stdexcept>

namespace mxsync {

namespace {

using json = nlohmann::json;

[[noreturn]] void bad(const std::string& key, const std::string& problem) {
  throw sync_exception(error_code::invalid_reconcile_config,
                       "reconciliation config key \"" + key + "\": " + problem, {{"key", key}});
}

/// Numbers may come as JSON numbers or numeric strings (the page sets "2" and "100");
/// their range is validate()'s.
std::int64_t batch_size(const json& v, const std::string& key) {
  std::int64_t n = 0;
  if (v.is_number_integer()) {
    n = v.get<std::int64_t>();
  } else if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    std::size_t used = 0;
    try {
      n = std::stoll(s, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != s.size())
      bad(key, "must be an integer, got \"" + s + "\"");
  } else {
    bad(key, "must be an integer");
  }
  return n;
}

[[noreturn]] void bad_object(const std::string& key, const json& entry) {
  bad(key, std::string{"each object must be a name or {\"<Object>\": {}}, got "} + entry.dump());
}

/// One entry of a scope's list: "Object" or the page's {"Object": {}}.
std::string object_name(const json& entry, const std::string& key) {
  if (entry.is_string())
    return entry.get<std::string>(); // an empty name: validate()
  if (entry.is_object() && entry.size() == 1)
    return entry.begin().key();
  bad_object(key, entry);
}

void at_least_one(std::int64_t n, const std::string& key) {
  if (n <= 0)
    bad(key, "must be greater than zero");
}

} // namespace

void reconciliation_config::validate() const {
  if (reconciliation)
    for (const auto& [scope, objects] : *reconciliation)
      for (const auto& object : objects)
        if (object.empty())
          bad_object(std::string{"reconciliation."} + scope, json(object));
  at_least_one(reconciledownloadbatchsize, "reconciledownloadbatchsize");
  at_least_one(reconcilebulkgetbatchsize, "reconcilebulkgetbatchsize");
  try {
    session.validate();
  } catch (const sync_exception& e) {
    // The startSession keys' own message names the key; only the code differs here.
    throw sync_exception(error_code::invalid_reconcile_config, e.error().message, e.error().info);
  }
}

reconciliation_config reconciliation_config::from_json(const json& keys) {
  if (!keys.is_object())
    throw sync_exception(error_code::invalid_reconcile_config,
                         "reconciliation config: must be a JSON object", nullptr);
  reconciliation_config c;
  json session_keys = json::object();
  for (const auto& [key, v] : keys.items()) {
    if (key == "reconciliation") {
      if (v.is_null())
        continue;
      if (!v.is_object())
        bad(key, "must be an object {\"<scope>\": [\"<Object>\", ...]}");
      std::vector<std::pair<std::string, std::vector<std::string>>> scopes;
      for (const auto& [scope, objects] : v.items()) {
        if (!objects.is_array())
          bad(key + "." + scope, "must be an array of objects ([] = every object of the scope)");
        std::vector<std::string> names;
        for (const auto& entry : objects)
          names.push_back(object_name(entry, key + "." + scope));
        scopes.emplace_back(scope, std::move(names));
      }
      c.reconciliation = std::move(scopes);
    } else if (key == "reconciledownloadbatchsize") {
      c.reconciledownloadbatchsize = batch_size(v, key);
    } else if (key == "reconcilebulkgetbatchsize") {
      c.reconcilebulkgetbatchsize = batch_size(v, key);
    } else {
      session_keys[key] = v;
    }
  }
  try {
    c.session = session_config::from_json(session_keys);
  } catch (const sync_exception& e) {
    throw sync_exception(error_code::invalid_reconcile_config, e.error().message, e.error().info);
  }
  c.validate();
  return c;
}

} // namespace mxsync
