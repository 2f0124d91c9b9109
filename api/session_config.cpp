#include "mxsync/session_config.hpp"

#include <set>
#include <stdexcept>

namespace mxsync {

namespace {

using json = nlohmann::json;

[[noreturn]] void bad(const std::string& key, const std::string& problem) {
  throw std::invalid_argument("session config key \"" + key + "\": " + problem);
}

std::string text(const json& v, const std::string& key) {
  if (v.is_string())
    return v.get<std::string>();
  if (v.is_number_integer())
    return std::to_string(v.get<std::int64_t>());
  bad(key, "must be a string");
}

/// Numbers may come as JSON numbers or numeric strings (the page shows batchsize "1000").
std::int64_t positive_integer(const json& v, const std::string& key, bool allow_zero = false) {
  std::int64_t n = 0;
  if (v.is_number_integer())
    n = v.get<std::int64_t>();
  else if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    std::size_t used = 0;
    try {
      n = std::stoll(s, &used);
    } catch (const std::exception&) {
      bad(key, "must be an integer, got \"" + s + "\"");
    }
    if (used != s.size())
      bad(key, "must be an integer, got \"" + s + "\"");
  } else
    bad(key, "must be an integer");
  if (n < 0 || (!allow_zero && n == 0))
    bad(key, "must be greater than zero");
  return n;
}

double positive_number(const json& v, const std::string& key) {
  double d = 0;
  if (v.is_number())
    d = v.get<double>();
  else if (v.is_string()) {
    try {
      d = std::stod(v.get<std::string>());
    } catch (const std::exception&) {
      bad(key, "must be a number");
    }
  } else
    bad(key, "must be a number");
  if (!(d >= 0))
    bad(key, "must not be negative");
  return d;
}

bool flag(const json& v, const std::string& key) {
  if (v.is_boolean())
    return v.get<bool>();
  if (v.is_string() && (v == "true" || v == "false"))
    return v == "true";
  bad(key, "must be true or false");
}

} // namespace

session_config session_config::from_json(const json& keys) {
  if (!keys.is_object())
    throw std::invalid_argument("session config: must be a JSON object");
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
      c.batchsize = positive_integer(v, key);
    else if (key == "uploadbatchsize")
      c.uploadbatchsize = positive_integer(v, key);
    else if (key == "chunksize")
      c.chunksize = positive_integer(v, key);
    else if (key == "maxparallelchunks")
      c.maxparallelchunks = positive_integer(v, key);
    else if (key == "networktimeout")
      c.networktimeout = positive_number(v, key);
    else if (key == "numberofretryattempts")
      c.numberofretryattempts = positive_integer(v, key, true);
    else if (key == "retrywaittime")
      c.retrywaittime = positive_number(v, key);
    else if (key == "retryerrorcodes") {
      if (!v.is_array())
        bad(key, "must be an array of error codes");
      c.retryerrorcodes.clear();
      for (const auto& code : v)
        c.retryerrorcodes.push_back(static_cast<int>(positive_integer(code, key)));
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
          else if (field == "uploaderrorpolicy") {
            auto policy = text(value, name);
            if (policy != "abortonerror" && policy != "continueonerror")
              bad(name, "must be abortonerror or continueonerror");
            t.uploaderrorpolicy = policy;
          } else
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
  return c;
}

} // namespace mxsync
