#pragma once
// `mxsync status --db <device.db> [--json]`: the live actor tree of the sync running
// on that database (published by `mxsync sync`), or that none is running (exit 1).

#include <ostream>
#include <string>
#include <vector>

namespace mxsync::cli {

int run_status(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

/// The pid of the `mxsync sync` running on `db_path`, or 0 when none is.
int running_sync_pid(const std::string& db_path);

} // namespace mxsync::cli
