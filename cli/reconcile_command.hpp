#pragma once
// `mxsync reconcile`: one sync.startReconciliation (blocking) of the objects given by
// --scope/--objects (or a --reconciliation JSON file with the page's keys), with the
// server keys of `mxsync sync`; prints the totals per object (or --json the
// onreconciliationsuccess context).

#include <ostream>
#include <string>
#include <vector>

namespace mxsync::cli {

int run_reconcile(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

} // namespace mxsync::cli
