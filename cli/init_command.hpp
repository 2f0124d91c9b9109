#pragma once
// `mxsync init --config <sync-config.json> --db <device.db> [--json]`:
// sync.init on a device database, then a listing of its tables.

#include <ostream>
#include <string>
#include <vector>

namespace mxsync::cli {

int run_init(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

} // namespace mxsync::cli
