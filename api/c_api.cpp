// The C API (api/mxsync.h) over the C++ API. Every exported function catches
// everything: no exception may unwind into C (or Swift, or the JVM).
//
// Handles: mxsync_environment and mxsync_client are allocated with std::make_unique
// and release()d to the caller; *_destroy takes ownership back into a unique_ptr.
// Strings returned to the caller are malloc'd copies (mxsync_free_string frees them),
// so that they outlive any C++ object and any allocator mismatch stays on our side.

#include "mxsync.h"

#include "api/client_internals.hpp"
#include "mxsync/session_config.hpp"
#include "mxsync/sync_client.hpp"
#include "mxsync/sync_object.hpp"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <future>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

struct mxsync_environment {
  std::shared_ptr<mxsync::environment> shared;
};

/// One pending invokeservicefunction call: the session's completion, owned by the app
/// until mxsync_service_call_complete.
struct mxsync_service_call {
  mxsync::service_completion done;
};

struct mxsync_client {
  explicit mxsync_client(mxsync::client_options options) : sync(std::move(options)) {}
  mxsync::sync_client sync;
};

namespace {

using json = nlohmann::json;
using mxsync::error_code;
using mxsync::result;
using mxsync::sync_client;
using mxsync::sync_error;
using mxsync::sync_exception;

// -- errors -----------------------------------------------------------------------------

[[noreturn]] void fail(error_code code, std::string message, json info = nullptr) {
  throw sync_exception(code, std::move(message), std::move(info));
}

/// Turns whatever the current exception is into the API's error object.
sync_error current_error() noexcept {
  try {
    try {
      throw;
    } catch (const sync_exception& e) {
      return e.error();
    } catch (const json::exception& e) {
      return {static_cast<int>(error_code::parse_error), e.what(), nullptr};
    } catch (const std::invalid_argument& e) { // an argument a lower layer refuses
      return {static_cast<int>(error_code::parse_error), e.what(), nullptr};
    } catch (const std::bad_alloc&) {
      return {static_cast<int>(error_code::unknown), "out of memory", nullptr};
    } catch (const std::exception& e) {
      return {static_cast<int>(error_code::unknown), e.what(), nullptr};
    } catch (...) {
      return {static_cast<int>(error_code::unknown), "unknown failure", nullptr};
    }
  } catch (...) { // building the error itself failed (out of memory)
    return {static_cast<int>(error_code::unknown), {}, nullptr};
  }
}

// A fixed text for when even building the error JSON fails.
constexpr const char* out_of_memory_json =
  R"({"errorCode":"7777","errorMessage":"out of memory","errorInfo":null})";

// -- strings in and out -----------------------------------------------------------------

/// Never throws on invalid UTF-8 from the database: such bytes become U+FFFD.
std::string to_text(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

char* copy_to_caller(const char* text, std::size_t size) noexcept {
  auto* copy = static_cast<char*>(std::malloc(size + 1));
  if (copy)
    std::memcpy(copy, text, size + 1);
  return copy;
}

char* copy_to_caller(const std::string& text) noexcept {
  return copy_to_caller(text.c_str(), text.size());
}

/// No std::string here: this is the fallback when allocation already failed.
char* copy_to_caller(const char* text) noexcept {
  return copy_to_caller(text, std::strlen(text));
}

/// Writes `value` as JSON into *out (when the caller asked for it).
void hand_out(char** out, const json& value) noexcept {
  if (!out)
    return;
  try {
    *out = copy_to_caller(to_text(value));
  } catch (...) {
    *out = copy_to_caller(out_of_memory_json);
  }
}

/// Reports an error to a blocking caller: the code, and the error JSON into *out.
int report(char** out, const sync_error& error) noexcept {
  try {
    hand_out(out, error.to_json());
  } catch (...) {
  }
  return error.code != 0 ? error.code : static_cast<int>(error_code::unknown);
}

template <class T>
T* required(T* pointer, const char* argument) {
  if (!pointer)
    fail(error_code::null_value, std::string{argument} + " must not be NULL",
         {{"argument", argument}});
  return pointer;
}

json parse(const char* text, const char* argument) {
  required(text, argument);
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    fail(error_code::parse_error, std::string{argument} + " is not valid JSON: " + e.what(),
         {{"argument", argument}});
  }
}

json parse_optional(const char* text, const char* argument) {
  return text ? parse(text, argument) : json{};
}

json parse_array(const char* text, const char* argument) {
  auto value = parse(text, argument);
  if (!value.is_array())
    fail(error_code::parse_error, std::string{argument} + " must be a JSON array",
         {{"argument", argument}});
  return value;
}

mxsync::where_clause where_of(const char* text, const char* params_json,
                              bool may_be_absent = false) {
  if (!text && may_be_absent && !params_json)
    return {};
  required(text, "where_clause");
  if (!params_json)
    return mxsync::where_clause{std::string{text}};
  auto params = parse_array(params_json, "params_json");
  return {std::string{text}, std::vector<json>(params.begin(), params.end())};
}

std::optional<std::int64_t> unless_negative(std::int64_t n) {
  return n < 0 ? std::nullopt : std::optional<std::int64_t>{n};
}

sync_client& checked(mxsync_client* client) {
  return required(client, "client")->sync;
}

// -- the two forms ------------------------------------------------------------------------

/// Runs `call` (returning the C++ blocking form's result) and hands the outcome out.
template <class Call>
int blocking(char** out, Call&& call) noexcept {
  if (out)
    *out = nullptr;
  try {
    result answer = call();
    if (!answer)
      return report(out, answer.error());
    hand_out(out, answer.value());
    return MXSYNC_OK;
  } catch (...) {
    return report(out, current_error());
  }
}

/// Runs `action` (returning nothing); on failure the code, and the error into *out_error.
template <class Action>
int guarded(char** out_error, Action&& action) noexcept {
  if (out_error)
    *out_error = nullptr;
  try {
    action();
    return MXSYNC_OK;
  } catch (...) {
    return report(out_error, current_error());
  }
}

struct c_callbacks {
  mxsync_success_callback on_success;
  mxsync_error_callback on_error;
  void* user_data;
};

void call_error(const c_callbacks& c, const sync_error& error) noexcept {
  if (!c.on_error)
    return;
  try {
    auto text = to_text(error.to_json());
    c.on_error(text.c_str(), c.user_data);
  } catch (...) {
    c.on_error(out_of_memory_json, c.user_data);
  }
}

mxsync::success_callback success_of(c_callbacks c) {
  return [c](const json& value) noexcept {
    if (!c.on_success)
      return;
    std::string text;
    try {
      text = to_text(value);
    } catch (...) {
      call_error(c, {static_cast<int>(error_code::unknown), "out of memory", nullptr});
      return;
    }
    c.on_success(text.c_str(), c.user_data);
  };
}

mxsync::error_callback error_of(c_callbacks c) {
  return [c](const sync_error& error) noexcept { call_error(c, error); };
}

/// An argument error of a callback-form call: it goes through the client's queue like
/// any outcome, so the app sees it on the callback thread and in call order.
void report_async(mxsync_client* client, const c_callbacks& c, const sync_error& error) noexcept {
  if (client) {
    try {
      client->sync.get().report("mxsync C API", error, error_of(c));
      return;
    } catch (...) {
    }
  }
  call_error(c, error); // no client, no queue: right here
}

/// `operation(sync, on_success, on_error)` dispatches the C++ callback form.
template <class Operation>
void asynchronous(mxsync_client* client, c_callbacks c, Operation&& operation) noexcept {
  try {
    operation(checked(client), success_of(c), error_of(c));
  } catch (...) {
    report_async(client, c, current_error());
  }
}

/// `operation(sync)` runs the C++ blocking form.
template <class Operation>
int blocking_call(mxsync_client* client, char** out, Operation&& operation) noexcept {
  return blocking(out, [&] { return operation(checked(client)); });
}

// -- sessions -------------------------------------------------------------------------------

mxsync::event_callback event_of(mxsync_event_callback callback, void* user_data) {
  if (!callback)
    return {};
  return [callback, user_data](const json& context) noexcept {
    try {
      auto text = to_text(context);
      callback(text.c_str(), user_data);
    } catch (...) {
    }
  };
}

mxsync::request_callback request_of(mxsync_request_callback callback, void* user_data) {
  if (!callback)
    return {};
  return [callback, user_data](const json& context) noexcept -> json {
    try {
      auto text = to_text(context);
      // The app allocated the answer with malloc; it is ours to free.
      std::unique_ptr<char, decltype(&std::free)> answer{callback(text.c_str(), user_data),
                                                         &std::free};
      if (!answer)
        return nullptr;
      auto replacement = json::parse(answer.get(), nullptr, false);
      return replacement.is_discarded() ? json{} : replacement;
    } catch (...) {
      return nullptr;
    }
  };
}

mxsync::session_error_callback session_error_of(mxsync_error_callback callback, void* user_data) {
  if (!callback)
    return {};
  return error_of({nullptr, callback, user_data});
}

mxsync::password_hash_function hash_of(mxsync_hash_callback callback, void* user_data) {
  if (!callback)
    return {};
  return [callback, user_data](const std::string& plain) -> std::string {
    std::unique_ptr<char, decltype(&std::free)> hash{callback(plain.c_str(), user_data),
                                                     &std::free};
    return hash ? std::string{hash.get()} : std::string{};
  };
}

mxsync::service_function service_of(mxsync_service_callback callback, void* user_data) {
  if (!callback)
    return {};
  return [callback, user_data](const std::string& url, const json& params,
                               mxsync::service_completion done, const json& context) {
    auto call = std::make_unique<mxsync_service_call>(mxsync_service_call{done});
    try {
      auto params_text = to_text(params);
      auto context_text = to_text(context);
      callback(url.c_str(), params_text.c_str(), context_text.c_str(), call.release(), user_data);
    } catch (...) { // the app never saw the call: answer it as failed, or the session waits
      done(0, nullptr);
    }
  };
}

mxsync::session_config session_of(const char* session_json,
                                  const mxsync_session_callbacks* callbacks) {
  auto config = mxsync::session_config::from_json(parse(session_json, "session_json"));
  if (!callbacks)
    return config;
  const auto& c = *callbacks;
  void* u = c.user_data;
  config.onsyncstart = event_of(c.onsyncstart, u);
  config.onscopestart = event_of(c.onscopestart, u);
  config.onuploadstart = request_of(c.onuploadstart, u);
  config.onuploadbatchstart = request_of(c.onuploadbatchstart, u);
  config.onuploadbatchsuccess = event_of(c.onuploadbatchsuccess, u);
  config.onuploadsuccess = event_of(c.onuploadsuccess, u);
  config.ondownloadstart = request_of(c.ondownloadstart, u);
  config.onbatchprocessingstart = event_of(c.onbatchprocessingstart, u);
  config.onbatchstored = event_of(c.onbatchstored, u);
  config.onbatchprocessingsuccess = event_of(c.onbatchprocessingsuccess, u);
  config.ondownloadsuccess = event_of(c.ondownloadsuccess, u);
  config.onchunkstart = event_of(c.onchunkstart, u);
  config.onchunksuccess = event_of(c.onchunksuccess, u);
  config.onretry = event_of(c.onretry, u);
  config.onscopesuccess = event_of(c.onscopesuccess, u);
  config.onsyncsuccess = event_of(c.onsyncsuccess, u);
  config.onchunkerror = session_error_of(c.onchunkerror, u);
  config.onscopeerror = session_error_of(c.onscopeerror, u);
  config.onsyncerror = session_error_of(c.onsyncerror, u);
  if (c.passwordhashfunction)
    config.passwordhashfunction = hash_of(c.passwordhashfunction, u);
  config.invokeservicefunction = service_of(c.invokeservicefunction, u);
  return config;
}

/// The app's release(user_data) of a session, exactly once: when the session ended
/// (after its terminal event), or when the last owner lets go without that having
/// happened (a start refused before it reached the runtime).
class release_once {
public:
  release_once(mxsync_release_callback release, void* user_data) noexcept
    : release_(release), user_data_(user_data) {}
  ~release_once() { run(); }
  release_once(const release_once&) = delete;
  release_once& operator=(const release_once&) = delete;
  void run() noexcept {
    if (release_ && !done_.exchange(true))
      release_(user_data_);
  }

private:
  mxsync_release_callback release_;
  void* user_data_;
  std::atomic<bool> done_{false};
};

std::shared_ptr<release_once> release_of(const mxsync_session_callbacks* callbacks) {
  return std::make_shared<release_once>(callbacks ? callbacks->release : nullptr,
                                        callbacks ? callbacks->user_data : nullptr);
}

mxsync::reconciliation_config reconciliation_of(const char* config_json,
                                                const mxsync_reconciliation_callbacks* callbacks) {
  auto config = mxsync::reconciliation_config::from_json(parse(config_json, "config_json"));
  if (!callbacks)
    return config;
  const auto& c = *callbacks;
  void* u = c.user_data;
  config.onreconciliationstart = event_of(c.onreconciliationstart, u);
  config.onreconciliationscopestart = event_of(c.onreconciliationscopestart, u);
  config.onreconciliationdownloadstart = event_of(c.onreconciliationdownloadstart, u);
  config.onreconciliationbatchprocessingstart = event_of(c.onreconciliationbatchprocessingstart, u);
  config.onreconciliationbatchprocessingsuccess =
    event_of(c.onreconciliationbatchprocessingsuccess, u);
  config.onreconciliationbulkgetdownloadstart = event_of(c.onreconciliationbulkgetdownloadstart, u);
  config.onreconciliationbulkgetbatchprocessingstart =
    event_of(c.onreconciliationbulkgetbatchprocessingstart, u);
  config.onreconciliationbulkgetbatchprocessingsuccess =
    event_of(c.onreconciliationbulkgetbatchprocessingsuccess, u);
  config.onreconciliationscopesuccess = event_of(c.onreconciliationscopesuccess, u);
  config.onreconciliationsuccess = event_of(c.onreconciliationsuccess, u);
  config.onreconciliationscopeerror = session_error_of(c.onreconciliationscopeerror, u);
  config.onreconciliationerror = session_error_of(c.onreconciliationerror, u);
  return config;
}

// -- clients ---------------------------------------------------------------------------------

/// `configure` puts the configuration (path or JSON) into the options.
template <class Configure>
int create_client(Configure&& configure, const char* database_path,
                  mxsync_environment* environment, mxsync_client** out_client,
                  char** out_error) noexcept {
  if (out_client)
    *out_client = nullptr;
  return guarded(out_error, [&] {
    required(out_client, "out_client");
    mxsync::client_options options;
    configure(options);
    options.database_path = database_path ? database_path : ":memory:";
    if (environment)
      options.shared_environment = environment->shared;
    *out_client = std::make_unique<mxsync_client>(std::move(options)).release();
  });
}

std::string name_of(const char* text, const char* argument) {
  return required(text, argument);
}

std::string attribute_of(const char* attribute) { return attribute ? attribute : ""; }

// -- the object-level operations: each captures its C arguments and, called with a
// client and optionally the two callbacks, runs the matching sync_object form ---------------

mxsync::sync_object object_of(sync_client& sync, const char* object_name) {
  return sync.object(name_of(object_name, "object_name"));
}

auto create_op(const char* object_name, const char* values_json, int mark) {
  return [=](sync_client& sync, auto&&... callbacks) {
    return object_of(sync, object_name).create(parse(values_json, "values_json"), callbacks..., mark != 0);
  };
}

auto create_all_op(const char* object_name, const char* rows_json, int mark) {
  return [=](sync_client& sync, auto&&... callbacks) {
    return object_of(sync, object_name).createAll(parse_array(rows_json, "rows_json"), callbacks...,
                                         mark != 0);
  };
}

auto update_by_pk_op(const char* object_name, const char* pk_json, const char* values_json,
                     int mark) {
  return [=](sync_client& sync, auto&&... callbacks) {
    return object_of(sync, object_name).updateByPK(parse(pk_json, "pk_json"),
                                          parse(values_json, "values_json"), callbacks...,
                                          mark != 0);
  };
}

auto update_op(const char* object_name, const char* where, const char* params,
               const char* values_json, int mark) {
  return [=](sync_client& sync, auto&&... callbacks) {
    return object_of(sync, object_name).update(where_of(where, params), parse(values_json, "values_json"),
                                      callbacks..., mark != 0);
  };
}

auto update_all_op(const char* object_name, const char* changes_json, int mark) {
  return [=](sync_client& sync, auto&&... callbacks) {
    return object_of(sync, object_name).updateAll(parse_array(changes_json, "changes_json"), callbacks...,
                                         mark != 0);
  };
}

auto delete_by_pk_op(const char* object_name, const char* pk_json, int mark) {
  return [=](sync_client& sync, auto&&... callbacks) {
    return object_of(sync, object_name).deleteByPK(parse(pk_json, "pk_json"), callbacks..., mark != 0);
  };
}

auto remove_op(const char* object_name, const char* where, const char* params, int mark) {
  return [=](sync_client& sync, auto&&... callbacks) {
    return object_of(sync, object_name).remove(where_of(where, params), callbacks..., mark != 0);
  };
}

auto remove_device_instance_op(const char* object_name, const char* where, const char* params) {
  return [=](sync_client& sync, auto&&... callbacks) {
    return object_of(sync, object_name).removeDeviceInstance(where_of(where, params), callbacks...);
  };
}

auto get_all_op(const char* object_name, const char* order_by_json, std::int64_t limit,
                std::int64_t offset) {
  return [=](sync_client& sync, auto&&... callbacks) {
    return object_of(sync, object_name).getAll(callbacks..., parse_optional(order_by_json, "order_by_json"),
                                      unless_negative(limit), unless_negative(offset));
  };
}

auto get_all_count_op(const char* object_name) {
  return [=](sync_client& sync, auto&&... callbacks) {
    return object_of(sync, object_name).getAllCount(callbacks...);
  };
}

auto get_count_op(const char* object_name, const char* where, const char* params) {
  return [=](sync_client& sync, auto&&... callbacks) {
    return object_of(sync, object_name).getCount(where_of(where, params), callbacks...);
  };
}

auto find_op(const char* object_name, const char* where, const char* params) {
  return [=](sync_client& sync, auto&&... callbacks) {
    return object_of(sync, object_name).find(where_of(where, params), callbacks...);
  };
}

auto mark_for_upload_op(const char* object_name, const char* where, const char* params) {
  return [=](sync_client& sync, auto&&... callbacks) {
    return object_of(sync, object_name).markForUpload(where_of(where, params), callbacks...);
  };
}

auto object_pending_upload_op(const char* object_name, const char* where, const char* params) {
  return [=](sync_client& sync, auto&&... callbacks) {
    return object_of(sync, object_name).getPendingUpload(callbacks..., where_of(where, params, true));
  };
}

auto object_deferred_upload_op(const char* object_name, const char* where, const char* params) {
  return [=](sync_client& sync, auto&&... callbacks) {
    return object_of(sync, object_name).getDeferredUpload(callbacks..., where_of(where, params, true));
  };
}

auto object_pending_acknowledgement_op(const char* object_name) {
  return [=](sync_client& sync, auto&&... callbacks) {
    return object_of(sync, object_name).getPendingAcknowledgement(callbacks...);
  };
}

auto object_rollback_op(const char* object_name) {
  return [=](sync_client& sync, auto&&... callbacks) {
    return object_of(sync, object_name).rollbackPendingLocalChanges(callbacks...);
  };
}

auto get_related_op(const char* object_name, const char* target, const char* pk_json,
                    const char* attribute) {
  return [=](sync_client& sync, auto&&... callbacks) {
    return object_of(sync, object_name).getRelated(name_of(target, "target_object"),
                                          parse(pk_json, "pk_json"), callbacks...,
                                          attribute_of(attribute));
  };
}

auto get_related_count_op(const char* object_name, const char* target, const char* pk_json,
                          const char* attribute) {
  return [=](sync_client& sync, auto&&... callbacks) {
    return object_of(sync, object_name).getRelatedCount(name_of(target, "target_object"),
                                               parse(pk_json, "pk_json"), callbacks...,
                                               attribute_of(attribute));
  };
}

// Member pointers of the by-key calls, one per form (the names are overloaded).
using mxsync::sync_object;
using pk_blocking = result (sync_object::*)(const json&);
using pk_async = void (sync_object::*)(const json&, mxsync::success_callback,
                                       mxsync::error_callback);

/// Both forms of a by-key call: picks the member by the number of callbacks.
template <pk_blocking Blocking, pk_async Async>
auto by_pk(const char* object_name, const char* pk_json) {
  return [=](sync_client& sync, auto&&... callbacks) {
    auto object = object_of(sync, object_name);
    auto pk = parse(pk_json, "pk_json");
    if constexpr (sizeof...(callbacks) == 0)
      return (object.*Blocking)(pk);
    else
      return (object.*Async)(pk, callbacks...);
  };
}

// -- the application-level operations ---------------------------------------------------

auto init_op() {
  return [](sync_client& sync, auto&&... callbacks) { return sync.init(callbacks...); };
}
auto reset_op() {
  return [](sync_client& sync, auto&&... callbacks) { return sync.reset(callbacks...); };
}
auto reset_scope_op(const char* scope) {
  return [=](sync_client& sync, auto&&... callbacks) {
    return sync.resetScope(name_of(scope, "scope"), callbacks...);
  };
}
auto rollback_op() {
  return [](sync_client& sync, auto&&... callbacks) {
    return sync.rollbackPendingLocalChanges(callbacks...);
  };
}
auto pending_acknowledgement_op() {
  return [](sync_client& sync, auto&&... callbacks) {
    return sync.getPendingAcknowledgement(callbacks...);
  };
}
auto pending_upload_op() {
  return [](sync_client& sync, auto&&... callbacks) { return sync.getPendingUpload(callbacks...); };
}
auto deferred_upload_op() {
  return [](sync_client& sync, auto&&... callbacks) { return sync.getDeferredUpload(callbacks...); };
}
auto select_op(const char* sql) {
  return [=](sync_client& sync, auto&&... callbacks) {
    return sync.executeSelectQuery(name_of(sql, "sql"), callbacks...);
  };
}

} // namespace

extern "C" {

void mxsync_free_string(char* text) { std::free(text); }

// -- environment and client ---------------------------------------------------------------

int mxsync_environment_create(unsigned worker_threads, mxsync_environment** out_environment,
                              char** out_error) {
  return guarded(out_error, [&] {
    required(out_environment, "out_environment");
    *out_environment = nullptr;
    auto handle = std::make_unique<mxsync_environment>();
    handle->shared = std::make_shared<mxsync::environment>(worker_threads);
    *out_environment = handle.release();
  });
}

void mxsync_environment_destroy(mxsync_environment* environment) {
  std::unique_ptr<mxsync_environment> owned{environment};
  try {
    owned.reset();
  } catch (...) {
  }
}

int mxsync_client_create(const char* config_path, const char* database_path,
                         mxsync_environment* environment, mxsync_client** out_client,
                         char** out_error) {
  auto from_file = [config_path](mxsync::client_options& options) {
    options.config_path = required(config_path, "config_path");
  };
  return create_client(from_file, database_path, environment, out_client, out_error);
}

int mxsync_client_create_from_json(const char* config_json, const char* database_path,
                                   mxsync_environment* environment, mxsync_client** out_client,
                                   char** out_error) {
  auto from_text = [config_json](mxsync::client_options& options) {
    options.config = parse(config_json, "config_json");
  };
  return create_client(from_text, database_path, environment, out_client, out_error);
}

void mxsync_client_destroy(mxsync_client* client) {
  std::unique_ptr<mxsync_client> owned{client};
  try {
    owned.reset(); // ~sync_client waits for every pending callback
  } catch (...) {
  }
}

int mxsync_status(mxsync_client* client, char** out_json) {
  return blocking(out_json, [&] { return result{checked(client).status()}; });
}

int mxsync_flush(mxsync_client* client) {
  return guarded(nullptr, [&] { checked(client).flush(); });
}

// -- application level ------------------------------------------------------------------------

int mxsync_init(mxsync_client* client, char** out_json) {
  return blocking_call(client, out_json, init_op());
}
void mxsync_init_async(mxsync_client* client, mxsync_success_callback on_success,
                       mxsync_error_callback on_error, void* user_data) {
  asynchronous(client, {on_success, on_error, user_data}, init_op());
}

int mxsync_reset(mxsync_client* client, char** out_json) {
  return blocking_call(client, out_json, reset_op());
}
void mxsync_reset_async(mxsync_client* client, mxsync_success_callback on_success,
                        mxsync_error_callback on_error, void* user_data) {
  asynchronous(client, {on_success, on_error, user_data}, reset_op());
}

int mxsync_reset_scope(mxsync_client* client, const char* scope, char** out_json) {
  return blocking_call(client, out_json, reset_scope_op(scope));
}
void mxsync_reset_scope_async(mxsync_client* client, const char* scope,
                              mxsync_success_callback on_success, mxsync_error_callback on_error,
                              void* user_data) {
  asynchronous(client, {on_success, on_error, user_data}, reset_scope_op(scope));
}

int mxsync_rollback_pending_local_changes(mxsync_client* client, char** out_json) {
  return blocking_call(client, out_json, rollback_op());
}
void mxsync_rollback_pending_local_changes_async(mxsync_client* client,
                                                 mxsync_success_callback on_success,
                                                 mxsync_error_callback on_error,
                                                 void* user_data) {
  asynchronous(client, {on_success, on_error, user_data}, rollback_op());
}

int mxsync_get_pending_acknowledgement(mxsync_client* client, char** out_json) {
  return blocking_call(client, out_json, pending_acknowledgement_op());
}
void mxsync_get_pending_acknowledgement_async(mxsync_client* client,
                                              mxsync_success_callback on_success,
                                              mxsync_error_callback on_error, void* user_data) {
  asynchronous(client, {on_success, on_error, user_data}, pending_acknowledgement_op());
}

int mxsync_get_pending_upload(mxsync_client* client, char** out_json) {
  return blocking_call(client, out_json, pending_upload_op());
}
void mxsync_get_pending_upload_async(mxsync_client* client, mxsync_success_callback on_success,
                                     mxsync_error_callback on_error, void* user_data) {
  asynchronous(client, {on_success, on_error, user_data}, pending_upload_op());
}

int mxsync_get_deferred_upload(mxsync_client* client, char** out_json) {
  return blocking_call(client, out_json, deferred_upload_op());
}
void mxsync_get_deferred_upload_async(mxsync_client* client, mxsync_success_callback on_success,
                                      mxsync_error_callback on_error, void* user_data) {
  asynchronous(client, {on_success, on_error, user_data}, deferred_upload_op());
}

int mxsync_execute_select_query(mxsync_client* client, const char* sql, char** out_json) {
  return blocking_call(client, out_json, select_op(sql));
}
void mxsync_execute_select_query_async(mxsync_client* client, const char* sql,
                                       mxsync_success_callback on_success,
                                       mxsync_error_callback on_error, void* user_data) {
  asynchronous(client, {on_success, on_error, user_data}, select_op(sql));
}

// -- sessions -------------------------------------------------------------------------------

int mxsync_start_session(mxsync_client* client, const char* session_json,
                         const mxsync_session_callbacks* callbacks, char** out_error) {
  return guarded(out_error, [&] {
    auto release = release_of(callbacks); // this frame's reference: released here if refused
    checked(client).get().start_session(
      session_of(session_json, callbacks),
      [release](const mxsync::session_outcome&) { release->run(); });
  });
}

int mxsync_synchronize(mxsync_client* client, const char* session_json,
                       const mxsync_session_callbacks* callbacks, char** out_json) {
  return blocking(out_json, [&] {
    auto release = release_of(callbacks);
    auto& sync = checked(client);
    auto config = session_of(session_json, callbacks);
    // Shared: the end notice runs on the callback thread and may outlive this frame.
    auto finished = std::make_shared<std::promise<result>>();
    auto outcome = finished->get_future();
    sync.get().start_session(std::move(config),
                             [release, finished](const mxsync::session_outcome& ended) {
                               release->run(); // before the blocking call returns
                               finished->set_value(mxsync::session_result(ended));
                             });
    return outcome.get();
  });
}

int mxsync_start_reconciliation(mxsync_client* client, const char* config_json,
                                const mxsync_reconciliation_callbacks* callbacks,
                                char** out_error) {
  return guarded(out_error, [&] {
    checked(client).startReconciliation(reconciliation_of(config_json, callbacks));
  });
}

int mxsync_reconcile(mxsync_client* client, const char* config_json,
                     const mxsync_reconciliation_callbacks* callbacks, char** out_json) {
  return blocking(out_json, [&] {
    return checked(client).reconcile(reconciliation_of(config_json, callbacks));
  });
}

int mxsync_stop_session(mxsync_client* client, char** out_json) {
  return blocking(out_json, [&] {
    auto& sync = checked(client);
    // Exactly one of the two callbacks answers; the promise outlives this frame if
    // the wait is ever abandoned, hence shared.
    auto answer = std::make_shared<std::promise<result>>();
    auto outcome = answer->get_future();
    sync.stopSession([answer](const json& value) { answer->set_value(result{value}); },
                     [answer](const sync_error& error) { answer->set_value(result{error}); });
    return outcome.get();
  });
}

void mxsync_service_call_complete(mxsync_service_call* call, int status,
                                  const char* result_json) {
  std::unique_ptr<mxsync_service_call> owned{call};
  if (!owned)
    return;
  try {
    auto answer = result_json ? json::parse(result_json, nullptr, false) : json{};
    owned->done(status, answer.is_discarded() ? json{} : answer);
  } catch (...) {
  }
}

void mxsync_stop_session_async(mxsync_client* client, mxsync_success_callback on_stopped,
                               mxsync_error_callback on_error, void* user_data) {
  asynchronous(client, {on_stopped, on_error, user_data},
               [](sync_client& sync, mxsync::success_callback s, mxsync::error_callback e) {
                 sync.stopSession(std::move(s), std::move(e));
               });
}

// -- object level ------------------------------------------------------------------------------

int mxsync_object_create(mxsync_client* client, const char* object_name, const char* values_json,
                         int mark_for_upload, char** out_json) {
  return blocking_call(client, out_json, create_op(object_name, values_json, mark_for_upload));
}
void mxsync_object_create_async(mxsync_client* client, const char* object_name,
                                const char* values_json, int mark_for_upload,
                                mxsync_success_callback on_success,
                                mxsync_error_callback on_error, void* user_data) {
  asynchronous(client, {on_success, on_error, user_data},
               create_op(object_name, values_json, mark_for_upload));
}

int mxsync_object_create_all(mxsync_client* client, const char* object_name,
                             const char* rows_json, int mark_for_upload, char** out_json) {
  return blocking_call(client, out_json, create_all_op(object_name, rows_json, mark_for_upload));
}
void mxsync_object_create_all_async(mxsync_client* client, const char* object_name,
                                    const char* rows_json, int mark_for_upload,
                                    mxsync_success_callback on_success,
                                    mxsync_error_callback on_error, void* user_data) {
  asynchronous(client, {on_success, on_error, user_data},
               create_all_op(object_name, rows_json, mark_for_upload));
}

int mxsync_object_update_by_pk(mxsync_client* client, const char* object_name,
                               const char* pk_json, const char* values_json, int mark_for_upload,
                               char** out_json) {
  return blocking_call(client, out_json,
                       update_by_pk_op(object_name, pk_json, values_json, mark_for_upload));
}
void mxsync_object_update_by_pk_async(mxsync_client* client, const char* object_name,
                                      const char* pk_json, const char* values_json,
                                      int mark_for_upload, mxsync_success_callback on_success,
                                      mxsync_error_callback on_error, void* user_data) {
  asynchronous(client, {on_success, on_error, user_data},
               update_by_pk_op(object_name, pk_json, values_json, mark_for_upload));
}

int mxsync_object_update(mxsync_client* client, const char* object_name,
                         const char* where_clause, const char* params_json,
                         const char* values_json, int mark_for_upload, char** out_json) {
  return blocking_call(client, out_json, update_op(object_name, where_clause, params_json,
                                                   values_json, mark_for_upload));
}
void mxsync_object_update_async(mxsync_client* client, const char* object_name,
                                const char* where_clause, const char* params_json,
                                const char* values_json, int mark_for_upload,
                                mxsync_success_callback on_success,
                                mxsync_error_callback on_error, void* user_data) {
  asynchronous(client, {on_success, on_error, user_data},
               update_op(object_name, where_clause, params_json, values_json, mark_for_upload));
}

int mxsync_object_update_all(mxsync_client* client, const char* object_name,
                             const char* changes_json, int mark_for_upload, char** out_json) {
  return blocking_call(client, out_json,
                       update_all_op(object_name, changes_json, mark_for_upload));
}
void mxsync_object_update_all_async(mxsync_client* client, const char* object_name,
                                    const char* changes_json, int mark_for_upload,
                                    mxsync_success_callback on_success,
                                    mxsync_error_callback on_error, void* user_data) {
  asynchronous(client, {on_success, on_error, user_data},
               update_all_op(object_name, changes_json, mark_for_upload));
}

int mxsync_object_delete_by_pk(mxsync_client* client, const char* object_name,
                               const char* pk_json, int mark_for_upload, char** out_json) {
  return blocking_call(client, out_json, delete_by_pk_op(object_name, pk_json, mark_for_upload));
}
void mxsync_object_delete_by_pk_async(mxsync_client* client, const char* object_name,
                                      const char* pk_json, int mark_for_upload,
                                      mxsync_success_callback on_success,
                                      mxsync_error_callback on_error, void* user_data) {
  asynchronous(client, {on_success, on_error, user_data},
               delete_by_pk_op(object_name, pk_json, mark_for_upload));
}

int mxsync_object_remove(mxsync_client* client, const char* object_name,
                         const char* where_clause, const char* params_json, int mark_for_upload,
                         char** out_json) {
  return blocking_call(client, out_json,
                       remove_op(object_name, where_clause, params_json, mark_for_upload));
}
void mxsync_object_remove_async(mxsync_client* client, const char* object_name,
                                const char* where_clause, const char* params_json,
                                int mark_for_upload, mxsync_success_callback on_success,
                                mxsync_error_callback on_error, void* user_data) {
  asynchronous(client, {on_success, on_error, user_data},
               remove_op(object_name, where_clause, params_json, mark_for_upload));
}

int mxsync_object_remove_device_instance_by_pk(mxsync_client* client, const char* object_name,
                                               const char* pk_json, char** out_json) {
  return blocking_call(client, out_json,
                       by_pk<&sync_object::removeDeviceInstanceByPK,
                             &sync_object::removeDeviceInstanceByPK>(object_name, pk_json));
}
void mxsync_object_remove_device_instance_by_pk_async(mxsync_client* client,
                                                      const char* object_name,
                                                      const char* pk_json,
                                                      mxsync_success_callback on_success,
                                                      mxsync_error_callback on_error,
                                                      void* user_data) {
  asynchronous(client, {on_success, on_error, user_data},
               by_pk<&sync_object::removeDeviceInstanceByPK,
                     &sync_object::removeDeviceInstanceByPK>(object_name, pk_json));
}

int mxsync_object_remove_device_instance(mxsync_client* client, const char* object_name,
                                         const char* where_clause, const char* params_json,
                                         char** out_json) {
  return blocking_call(client, out_json,
                       remove_device_instance_op(object_name, where_clause, params_json));
}
void mxsync_object_remove_device_instance_async(mxsync_client* client, const char* object_name,
                                                const char* where_clause,
                                                const char* params_json,
                                                mxsync_success_callback on_success,
                                                mxsync_error_callback on_error,
                                                void* user_data) {
  asynchronous(client, {on_success, on_error, user_data},
               remove_device_instance_op(object_name, where_clause, params_json));
}

int mxsync_object_get_all(mxsync_client* client, const char* object_name,
                          const char* order_by_json, int64_t limit, int64_t offset,
                          char** out_json) {
  return blocking_call(client, out_json, get_all_op(object_name, order_by_json, limit, offset));
}
void mxsync_object_get_all_async(mxsync_client* client, const char* object_name,
                                 const char* order_by_json, int64_t limit, int64_t offset,
                                 mxsync_success_callback on_success,
                                 mxsync_error_callback on_error, void* user_data) {
  asynchronous(client, {on_success, on_error, user_data},
               get_all_op(object_name, order_by_json, limit, offset));
}

int mxsync_object_get_all_count(mxsync_client* client, const char* object_name,
                                char** out_json) {
  return blocking_call(client, out_json, get_all_count_op(object_name));
}
void mxsync_object_get_all_count_async(mxsync_client* client, const char* object_name,
                                       mxsync_success_callback on_success,
                                       mxsync_error_callback on_error, void* user_data) {
  asynchronous(client, {on_success, on_error, user_data}, get_all_count_op(object_name));
}

int mxsync_object_get_count(mxsync_client* client, const char* object_name,
                            const char* where_clause, const char* params_json, char** out_json) {
  return blocking_call(client, out_json, get_count_op(object_name, where_clause, params_json));
}
void mxsync_object_get_count_async(mxsync_client* client, const char* object_name,
                                   const char* where_clause, const char* params_json,
                                   mxsync_success_callback on_success,
                                   mxsync_error_callback on_error, void* user_data) {
  asynchronous(client, {on_success, on_error, user_data},
               get_count_op(object_name, where_clause, params_json));
}

int mxsync_object_find(mxsync_client* client, const char* object_name, const char* where_clause,
                       const char* params_json, char** out_json) {
  return blocking_call(client, out_json, find_op(object_name, where_clause, params_json));
}
void mxsync_object_find_async(mxsync_client* client, const char* object_name,
                              const char* where_clause, const char* params_json,
                              mxsync_success_callback on_success, mxsync_error_callback on_error,
                              void* user_data) {
  asynchronous(client, {on_success, on_error, user_data},
               find_op(object_name, where_clause, params_json));
}

int mxsync_object_get_all_details_by_pk(mxsync_client* client, const char* object_name,
                                        const char* pk_json, char** out_json) {
  return blocking_call(
    client, out_json,
    by_pk<&sync_object::getAllDetailsByPK, &sync_object::getAllDetailsByPK>(object_name, pk_json));
}
void mxsync_object_get_all_details_by_pk_async(mxsync_client* client, const char* object_name,
                                               const char* pk_json,
                                               mxsync_success_callback on_success,
                                               mxsync_error_callback on_error,
                                               void* user_data) {
  asynchronous(
    client, {on_success, on_error, user_data},
    by_pk<&sync_object::getAllDetailsByPK, &sync_object::getAllDetailsByPK>(object_name, pk_json));
}

int mxsync_object_mark_for_upload_by_pk(mxsync_client* client, const char* object_name,
                                        const char* pk_json, char** out_json) {
  return blocking_call(
    client, out_json,
    by_pk<&sync_object::markForUploadByPK, &sync_object::markForUploadByPK>(object_name, pk_json));
}
void mxsync_object_mark_for_upload_by_pk_async(mxsync_client* client, const char* object_name,
                                               const char* pk_json,
                                               mxsync_success_callback on_success,
                                               mxsync_error_callback on_error,
                                               void* user_data) {
  asynchronous(
    client, {on_success, on_error, user_data},
    by_pk<&sync_object::markForUploadByPK, &sync_object::markForUploadByPK>(object_name, pk_json));
}

int mxsync_object_mark_for_upload(mxsync_client* client, const char* object_name,
                                  const char* where_clause, const char* params_json,
                                  char** out_json) {
  return blocking_call(client, out_json,
                       mark_for_upload_op(object_name, where_clause, params_json));
}
void mxsync_object_mark_for_upload_async(mxsync_client* client, const char* object_name,
                                         const char* where_clause, const char* params_json,
                                         mxsync_success_callback on_success,
                                         mxsync_error_callback on_error, void* user_data) {
  asynchronous(client, {on_success, on_error, user_data},
               mark_for_upload_op(object_name, where_clause, params_json));
}

int mxsync_object_get_pending_upload(mxsync_client* client, const char* object_name,
                                     const char* where_clause, const char* params_json,
                                     char** out_json) {
  return blocking_call(client, out_json,
                       object_pending_upload_op(object_name, where_clause, params_json));
}
void mxsync_object_get_pending_upload_async(mxsync_client* client, const char* object_name,
                                            const char* where_clause, const char* params_json,
                                            mxsync_success_callback on_success,
                                            mxsync_error_callback on_error, void* user_data) {
  asynchronous(client, {on_success, on_error, user_data},
               object_pending_upload_op(object_name, where_clause, params_json));
}

int mxsync_object_get_pending_acknowledgement(mxsync_client* client, const char* object_name,
                                              char** out_json) {
  return blocking_call(client, out_json, object_pending_acknowledgement_op(object_name));
}
void mxsync_object_get_pending_acknowledgement_async(mxsync_client* client,
                                                     const char* object_name,
                                                     mxsync_success_callback on_success,
                                                     mxsync_error_callback on_error,
                                                     void* user_data) {
  asynchronous(client, {on_success, on_error, user_data},
               object_pending_acknowledgement_op(object_name));
}

int mxsync_object_get_deferred_upload(mxsync_client* client, const char* object_name,
                                      const char* where_clause, const char* params_json,
                                      char** out_json) {
  return blocking_call(client, out_json,
                       object_deferred_upload_op(object_name, where_clause, params_json));
}
void mxsync_object_get_deferred_upload_async(mxsync_client* client, const char* object_name,
                                             const char* where_clause, const char* params_json,
                                             mxsync_success_callback on_success,
                                             mxsync_error_callback on_error, void* user_data) {
  asynchronous(client, {on_success, on_error, user_data},
               object_deferred_upload_op(object_name, where_clause, params_json));
}

int mxsync_object_rollback_pending_local_changes(mxsync_client* client, const char* object_name,
                                                 char** out_json) {
  return blocking_call(client, out_json, object_rollback_op(object_name));
}
void mxsync_object_rollback_pending_local_changes_async(mxsync_client* client,
                                                        const char* object_name,
                                                        mxsync_success_callback on_success,
                                                        mxsync_error_callback on_error,
                                                        void* user_data) {
  asynchronous(client, {on_success, on_error, user_data}, object_rollback_op(object_name));
}

int mxsync_object_rollback_pending_local_changes_by_pk(mxsync_client* client,
                                                       const char* object_name,
                                                       const char* pk_json, char** out_json) {
  return blocking_call(client, out_json,
                       by_pk<&sync_object::rollbackPendingLocalChangesByPK,
                             &sync_object::rollbackPendingLocalChangesByPK>(object_name, pk_json));
}
void mxsync_object_rollback_pending_local_changes_by_pk_async(
  mxsync_client* client, const char* object_name, const char* pk_json,
  mxsync_success_callback on_success, mxsync_error_callback on_error, void* user_data) {
  asynchronous(client, {on_success, on_error, user_data},
               by_pk<&sync_object::rollbackPendingLocalChangesByPK,
                     &sync_object::rollbackPendingLocalChangesByPK>(object_name, pk_json));
}

int mxsync_object_is_record_deferred_for_upload(mxsync_client* client, const char* object_name,
                                                const char* pk_json, char** out_json) {
  return blocking_call(client, out_json,
                       by_pk<&sync_object::isRecordDeferredForUpload,
                             &sync_object::isRecordDeferredForUpload>(object_name, pk_json));
}
void mxsync_object_is_record_deferred_for_upload_async(mxsync_client* client,
                                                       const char* object_name,
                                                       const char* pk_json,
                                                       mxsync_success_callback on_success,
                                                       mxsync_error_callback on_error,
                                                       void* user_data) {
  asynchronous(client, {on_success, on_error, user_data},
               by_pk<&sync_object::isRecordDeferredForUpload,
                     &sync_object::isRecordDeferredForUpload>(object_name, pk_json));
}

int mxsync_object_is_record_pending_for_upload(mxsync_client* client, const char* object_name,
                                               const char* pk_json, char** out_json) {
  return blocking_call(client, out_json,
                       by_pk<&sync_object::isRecordPendingForUpload,
                             &sync_object::isRecordPendingForUpload>(object_name, pk_json));
}
void mxsync_object_is_record_pending_for_upload_async(mxsync_client* client,
                                                      const char* object_name,
                                                      const char* pk_json,
                                                      mxsync_success_callback on_success,
                                                      mxsync_error_callback on_error,
                                                      void* user_data) {
  asynchronous(client, {on_success, on_error, user_data},
               by_pk<&sync_object::isRecordPendingForUpload,
                     &sync_object::isRecordPendingForUpload>(object_name, pk_json));
}

int mxsync_object_get_related(mxsync_client* client, const char* object_name,
                              const char* target_object, const char* pk_json,
                              const char* attribute, char** out_json) {
  return blocking_call(client, out_json,
                       get_related_op(object_name, target_object, pk_json, attribute));
}
void mxsync_object_get_related_async(mxsync_client* client, const char* object_name,
                                     const char* target_object, const char* pk_json,
                                     const char* attribute, mxsync_success_callback on_success,
                                     mxsync_error_callback on_error, void* user_data) {
  asynchronous(client, {on_success, on_error, user_data},
               get_related_op(object_name, target_object, pk_json, attribute));
}

int mxsync_object_get_related_count(mxsync_client* client, const char* object_name,
                                    const char* target_object, const char* pk_json,
                                    const char* attribute, char** out_json) {
  return blocking_call(client, out_json,
                       get_related_count_op(object_name, target_object, pk_json, attribute));
}
void mxsync_object_get_related_count_async(mxsync_client* client, const char* object_name,
                                           const char* target_object, const char* pk_json,
                                           const char* attribute,
                                           mxsync_success_callback on_success,
                                           mxsync_error_callback on_error, void* user_data) {
  asynchronous(client, {on_success, on_error, user_data},
               get_related_count_op(object_name, target_object, pk_json, attribute));
}

} // extern "C"
