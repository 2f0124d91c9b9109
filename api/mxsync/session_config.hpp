#pragma once
// The configuration of sync.startSession: every key of the Volt MX API page and of
// docs/protocol.md 2.1, with the documented defaults, and every lifecycle callback.
// Keys keep their original spelling so that a JSON file of the page's keys maps
// one to one (session_config::from_json).

#include "mxsync/error.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mxsync {

/// A lifecycle callback: receives the context object of the original.
using event_callback = std::function<void(const nlohmann::json& context)>;
/// onuploadstart / onuploadbatchstart / ondownloadstart: a returned object replaces
/// (is merged over) the request's parameters; null leaves them unchanged.
using request_callback = std::function<nlohmann::json(const nlohmann::json& context)>;
/// onsyncerror / onscopeerror / onchunkerror.
using session_error_callback = std::function<void(const sync_error& error)>;
/// passwordhashalgo given as a function of the app.
using password_hash_function = std::function<std::string(const std::string& plain)>;
/// invokeservicefunction(url, params, callback(status, result), context): the app
/// replaces the network call; it calls `done` exactly once, from any thread.
using service_completion = std::function<void(int status, const nlohmann::json& result)>;
using service_function = std::function<void(const std::string& url, const nlohmann::json& params,
                                             service_completion done,
                                             const nlohmann::json& context)>;

/// sessiontasks[scope]
struct session_task {
  bool doupload = true;
  bool dodownload = true;
  std::optional<std::string> uploaderrorpolicy; ///< "abortonerror" | "continueonerror"
};

struct session_config {
  // -- server and user ---------------------------------------------------------------
  std::string userid;
  std::string password;
  std::string appid;      ///< defaults to the sync config's AppID
  std::string serverhost;
  std::optional<std::string> serverport; ///< unset: port 80 (the page's default)
  bool issecure = false;  ///< https; the peer is verified unless tls_insecure
  std::optional<std::string> serverurl;  ///< used verbatim; must end with "/"
  std::optional<std::string> authtoken;  ///< Foundry claims token (X-Kony-Authorization)
  std::optional<std::string> uploadwebcontext;
  std::optional<std::string> downloadwebcontext;
  /// "sha1", "sha224", "sha256" (default), "sha384", "sha512", "md2", "md4", "md5"
  /// (where this system's OpenSSL offers them) or "none" (plain text).
  std::string passwordhashalgo = "sha256";
  password_hash_function passwordhashfunction; ///< takes precedence when set

  // -- batching ------------------------------------------------------------------------
  std::int64_t batchsize = 500;      ///< download batch size
  std::int64_t uploadbatchsize = 50; ///< rows per upload request
  std::optional<std::int64_t> chunksize; ///< KB; download in chunks when set
  std::int64_t maxparallelchunks = 1;

  // -- network -----------------------------------------------------------------------------
  std::optional<double> networktimeout; ///< seconds; unset: the transport default (60 s)
  std::int64_t numberofretryattempts = 0;
  std::vector<int> retryerrorcodes{1000, 1013, 1014, 1015};
  double retrywaittime = 1; ///< seconds
  service_function invokeservicefunction;

  // -- what to sync --------------------------------------------------------------------------
  /// Absent: every scope uploads and downloads. Present: a scope missing from it
  /// is not uploaded but is downloaded (the real client's semantics).
  std::optional<std::map<std::string, session_task>> sessiontasks;
  /// filterparams[scope]: [{"<Object>": [{"Name":..,"Value1":..,"Value2":..}]}]
  std::map<std::string, nlohmann::json> filterparams;
  /// removeafterupload[scope]: objects whose uploaded rows are removed locally; [] = all.
  std::map<std::string, std::vector<std::string>> removeafterupload;

  // -- device (the platform's values in the original) -------------------------------------
  std::optional<std::string> deviceid; ///< unset: a random id kept in the device database
  /// What registerdevice tells the server. The real library sends the platform's values:
  /// os = kony.os.deviceInfo().name, channel "mobile"/"tablet"/"desktop", platform
  /// "android"/"ios"/"windows"/"j2me"/"blackberry" (its getChannelName/getPlatformName).
  /// The defaults are what its Android build sent (the recorded requests): values the
  /// real clients send, hence known to a Foundry server; docs/configuration.md lists the others.
  std::string os = "android", model = "mxsync", version = "1", channel = "mobile",
              platform = "android";

  // -- TLS beyond the original (issecure verifies by default) ---------------------------------
  std::optional<std::string> tls_ca_file;
  bool tls_insecure = false; ///< skip verification: tests against self-signed servers only

  // -- callbacks ----------------------------------------------------------------------------------
  event_callback onsyncstart, onscopestart, onuploadbatchsuccess, onuploadsuccess,
    onbatchprocessingstart, onbatchstored, onbatchprocessingsuccess, ondownloadsuccess,
    onscopesuccess, onsyncsuccess, onchunkstart, onchunksuccess, onretry;
  request_callback onuploadstart, onuploadbatchstart, ondownloadstart;
  session_error_callback onscopeerror, onsyncerror, onchunkerror;

  /// The non-function keys from a JSON object with the page's key names (a CLI
  /// config file), then validate(). Throws sync_exception 7777 naming the key at fault
  /// (message and errorInfo.key); unknown keys are refused too, so that a typo does not
  /// pass silently.
  static session_config from_json(const nlohmann::json& keys);
  /// The value rules from_json applies, for a config built in code: startSession runs
  /// it, so a value refused in JSON is refused in C++ with the same code and message.
  void validate() const;
};

} // namespace mxsync
