#pragma once
// `mxsync pending upload|acknowledgement|deferred --config <c> --db <d> [--json]`:
// the rows waiting for upload, for the server's acknowledgement, or deferred.

#include <ostream>
#include <string>
#include <vector>

namespace mxsync::cli {

int run_pending(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

} // namespace mxsync::cli
