#pragma once
// `mxsync query --config <c> --db <d> "<select ...>" [--json]`: sync.executeSelectQuery;
// human output is a table, --json the rows.

#include <ostream>
#include <string>
#include <vector>

namespace mxsync::cli {

int run_query(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

} // namespace mxsync::cli
