#pragma once
// `mxsync reset --config <c> --db <d> [--scope <S>] [--json]`: sync.reset, or a
// scope's reset.

#include <ostream>
#include <string>
#include <vector>

namespace mxsync::cli {

int run_reset(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

} // namespace mxsync::cli
