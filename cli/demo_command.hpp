#pragma once
// `mxsync demo [--rows N] [--keep] [--config <sync-config.json>] [--server-binary <path>]`:
// the whole round trip on one machine. It generates a data set, starts mxsync-server
// on a free loopback port, syncs a new device database, changes rows on the device and
// on the server, syncs again, shows what changed on both sides and stops the server.

#include <ostream>
#include <string>
#include <vector>

namespace mxsync::cli {

int run_demo(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

} // namespace mxsync::cli
