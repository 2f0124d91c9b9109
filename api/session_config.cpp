#include "mxsync/session_config.hpp"

#include <cmath>
#include <cstdint>
#include <limits>

namespace mxsync {

namespace {

using json = nlohmann::json;

/// Every fault of a session key, from JSON or from the C++ struct: 7777 (the code
/// startSession gives an invalid key) naming the key in the message and errorInfo.key.
[[noreturn]] void bad(const std::string& key, const std::string& problem) {
  std::string message = "session config key \"";
  message += key;
  message += "\": ";
  message += problem;
  throw sync_exception(error_code::unknown, std::move(message), {{"key", key}});
}

// Seconds become milliseconds in an int64 (and curl's long): anything larger is no
// timeout anyone means, and would overflow.
constexpr double max_seconds = 1e9;

std::string text(const json& v, const std::string& key) {
  if (v.is_string())
    return v.get<std::string>();
  if (v.is_number_integer())
    return std::to_string(v.get<std::int64_t>());
  bad(key, "must be a string");
}

/// Numbers may come as JSON numbers or numeric strings (the page shows batchsize
/// "1000"). Their range is validate()'s business, shared with C++ callers.
std::int64_t integer(const json& v, const std::string& key) {
  if (v.is_number_integer())
    return v.get<std::int64_t>();
  if (v.is_number_unsigned())
    bad(key, "is too large");
  if (!v.is_string())
    bad(key, "must be an integer");
  const auto& s = v.get_ref<const std::string&>();
  std::size_t used = 0;
  std::int64_t n = 0;
  try {
    n = std::stoll(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != s.size())
    bad(key, "must be an integer, got \"" + s + "\"");
  return n;
}

double number(const json& v, const std::string& key) {
  if (v.is_number())
    return v.get<double>();
  if (!v.is_string())
    bad(key, "must be a number");
  const auto& s = v.get_ref<const std::string&>();
  std::size_t used = 0;
  double d = 0;
  try {
    d = std::stod(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != s.size())
    bad(key, "must be a number, got \"" + s + "\"");
  return d;
}

bool flag(const json& v, const std::string& key) {
  if (v.is_boolean())
    return v.get<bool>();
  if (v.is_string() && (v == "true" || v == "false"))
    return v == "true";
  bad(key, "must be true or false");
}

void at_least_one(std::int64_t n, const std::string& key,
                  std::int64_t most = std::numeric_limits<std::int64_t>::max()) {
  if (n <= 0)
    bad(key, "must be greater than zero");
  if (n > most)
    bad(key, std::string{"must be at most "} + std::to_string(most));
}

void seconds(double d, const std::string& key) {
  if (!std::isfinite(d))
    bad(key, "must be a finite number of seconds");
  if (d < 0)
    bad(key, "must not be negative");
  if (d > max_seconds)
    bad(key, "must be at most 1000000000 seconds");
}

} // namespace

void session_config::validate() const {
  at_least_one(batchsize, "batchsize");
  at_least_one(uploadbatchsize, "uploadbatchsize");
  if (chunksize) // sent as a 32-bit chunk size
    at_least_one(*chunksize, "chunksize", std::numeric_limits<std::uint32_t>::max());
  at_least_one(maxparallelchunks, "maxparallelchunks");
  if (networktimeout)
    seconds(*networktimeout, "networktimeout");
  if (numberofretryattempts < 0)
    bad("numberofretryattempts", "must not be negative");
  if (numberofretryattempts > std::numeric_limits<int>::max())
    bad("numberofretryattempts",
        std::string{"must be at most "} + std::to_string(std::numeric_limits<int>::max()));
  for (int code : retryerrorcodes)
    if (code <= 0)
      bad("retryerrorcodes",
          std::string{"must be error codes greater than zero, got "} + std::to_string(code));
  seconds(retrywaittime, "retrywaittime");
  if (serverurl && (serverurl->empty() || serverurl->back() != '/'))
    bad("serverurl", "must end with \"/\"");
  if (sessiontasks)
    for (const auto& [scope, task] : *sessiontasks)
      if (task.uploaderrorpolicy && *task.uploaderrorpolicy != "abortonerror"
          && *task.uploaderrorpolicy != "continueonerror")
        bad(std::string{"sessiontasks."} + scope + ".uploaderrorpolicy",
            "must be abortonerror or continueonerror, got \"" + *task.uploaderrorpolicy + "\"");
  for (const auto& [scope, filters] : filterparams)
    if (!filters.is_array())
      bad(std::string{"filterparams."} + scope, "must be an array of {object: [filters]}");
}

session_config session_config::from_json(const json& keys) {
  if (!keys.is_object())
    throw sync_exception(error_code::unknown, "session config: must be a JSON object", nullptr);
  session_config c;
  for (const auto& [key, v] : keys.items()) {
    if (v.is_null())
      continue;
    if (key == "userid")
      c.userid = text(v, key);
    else if (key == "password")
      c.password = text(v, key);
    else if (key == "appid")
      c.appid = text(v, key);
    else if (key == "serverhost")
      c.serverhost = text(v, key);
    else if (key == "serverport")
      c.serverport = text(v, key);
    else if (key == "issecure")
      c.issecure = flag(v, key);
    else if (key == "serverurl")
      c.serverurl = text(v, key);
    else if (key == "authtoken")
      c.authtoken = text(v, key);
    else if (key == "uploadwebcontext")
      c.uploadwebcontext = text(v, key);
    else if (key == "downloadwebcontext")
      c.downloadwebcontext = text(v, key);
    else if (key == "passwordhashalgo")
      c.passwordhashalgo = text(v, key);
    else if (key == "batchsize")
      c.batchsize = integer(v, key);
    else if (key == "uploadbatchsize")
      c.uploadbatchsize = integer(v, key);
    else if (key == "chunksize")
      c.chunksize = integer(v, key);
    else if (key == "maxparallelchunks")
      c.maxparallelchunks = integer(v, key);
    else if (key == "networktimeout")
      c.networktimeout = number(v, key);
    else if (key == "numberofretryattempts")
      c.numberofretryattempts = integer(v, key);
    else if (key == "retrywaittime")
      c.retrywaittime = number(v, key);
    else if (key == "retryerrorcodes") {
      if (!v.is_array())
        bad(key, "must be an array of error codes");
      c.retryerrorcodes.clear();
      for (const auto& code : v) {
        auto n = integer(code, key);
        if (n <= 0 || n > std::numeric_limits<int>::max())
          bad(key, std::string{"must be error codes greater than zero, got "} + std::to_string(n));
        c.retryerrorcodes.push_back(static_cast<int>(n));
      }
    } else if (key == "sessiontasks") {
      if (!v.is_object())
        bad(key, "must be an object {scope: {doupload, dodownload, uploaderrorpolicy}}");
      std::map<std::string, session_task> tasks;
      for (const auto& [scope, task] : v.items()) {
        if (!task.is_object())
          bad(key + "." + scope, "must be an object");
        session_task t;
        for (const auto& [field, value] : task.items()) {
          auto name = key + "." + scope + "." + field;
          if (field == "doupload")
            t.doupload = flag(value, name);
          else if (field == "dodownload")
            t.dodownload = flag(value, name);
          else if (field == "uploaderrorpolicy")
            t.uploaderrorpolicy = text(value, name); // its values: validate()
          else
            bad(name, "unknown key");
        }
        tasks[scope] = t;
      }
      c.sessiontasks = std::move(tasks);
    } else if (key == "filterparams") {
      if (!v.is_object())
        bad(key, "must be an object {scope: [{object: [filters]}]}");
      for (const auto& [scope, filters] : v.items()) {
        if (!filters.is_array())
          bad(key + "." + scope, "must be an array of {object: [filters]}");
        c.filterparams[scope] = filters;
      }
    } else if (key == "removeafterupload") {
      if (!v.is_object())
        bad(key, "must be an object {scope: [objects]}");
      for (const auto& [scope, objects] : v.items()) {
        if (!objects.is_array())
          bad(key + "." + scope, "must be an array of object names");
        auto& list = c.removeafterupload[scope];
        for (const auto& o : objects)
          list.push_back(text(o, key + "." + scope));
      }
    } else if (key == "deviceid")
      c.deviceid = text(v, key);
    else if (key == "os")
      c.os = text(v, key);
    else if (key == "model")
      c.model = text(v, key);
    else if (key == "version")
      c.version = text(v, key);
    else if (key == "channel")
      c.channel = text(v, key);
    else if (key == "platform")
      c.platform = text(v, key);
    else if (key == "deviceidentifierios7")
      ; // iOS 7 device identifier choice: no meaning off iOS
    else if (key == "tls_ca_file")
      c.tls_ca_file = text(v, key);
    else if (key == "tls_insecure")
      c.tls_insecure = flag(v, key);
    else if (key.rfind("on", 0) == 0 || key == "invokeservicefunction")
      bad(key, "callbacks cannot be given in JSON; set them in code");
    else
      bad(key, "unknown key");
  }
  c.validate();
  return c;
}

} // namespace mxsync
