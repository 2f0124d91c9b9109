#pragma once
// `mxsync stop --db <device.db> [--timeout <s>] [--json]`: asks the sync running on
// that database to stop (SIGUSR1 -> stopSession) and waits until it has ended.

#include <ostream>
#include <string>
#include <vector>

namespace mxsync::cli {

int run_stop(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

} // namespace mxsync::cli
