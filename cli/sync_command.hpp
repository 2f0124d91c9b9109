#pragma once
// `mxsync sync`: one sync session (sync.startSession, blocking) with live progress
// per scope on a terminal, a summary at the end, and the files through which
// `mxsync status` and `mxsync stop` reach a running sync from another terminal.

#include "mxsync/sync_client.hpp"

#include <chrono>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace mxsync::cli {

class arguments;

/// Written by a running sync next to its database (temp file + rename).
std::string status_file_for(const std::string& db_path);
std::string pid_file_for(const std::string& db_path);

struct sync_run_options {
  std::string db_path;
  bool live_progress = false;  ///< a progress line on `progress` (a terminal)
  bool publish_status = true;  ///< pid and status files for status/stop
  std::chrono::milliseconds status_interval{500};
};

/// What a session did: {"result": "ok"|"stopped"|"error", "durationMs", "scopes": {..},
/// "totals": {..}, "error"?: {..}}.
struct sync_report {
  nlohmann::json summary;
  std::optional<sync_error> error;
  bool stopped = false;
};

/// Runs one session on an initialized client, counting rows and batches per scope.
sync_report run_sync_session(sync_client& client, session_config keys,
                             const sync_run_options& options, std::ostream& progress);

/// The human summary: a line per scope (rows up/down, batches, rate) and the total.
void print_sync_summary(const nlohmann::json& summary, std::ostream& out);

/// Session keys from --session <keys.json> with the common flags laid over them.
session_config session_from_arguments(const arguments& parsed);

int run_sync(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

} // namespace mxsync::cli
