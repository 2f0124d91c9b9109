#pragma once
// `mxsync object <Object> create|update|delete|get|find|mark-for-upload ...`: the
// object-level ORM of one sync object from the command line.

#include <ostream>
#include <string>
#include <vector>

namespace mxsync::cli {

int run_object(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

} // namespace mxsync::cli
