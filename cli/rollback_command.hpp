#pragma once
// `mxsync rollback --config <c> --db <d> [--object <O> [--pk <json>]] [--json]`:
// sync.rollbackPendingLocalChanges, or one object's (one row's) rollback.

#include <ostream>
#include <string>
#include <vector>

namespace mxsync::cli {

int run_rollback(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

} // namespace mxsync::cli
