#pragma once
// Pieces every database subcommand shares: opening an initialized client from
// --config/--db, and printing a result (human or --json) with the exit code.

#include "mxsync/sync_client.hpp"

#include <memory>
#include <ostream>
#include <string>

namespace mxsync::cli {

class arguments;

/// A client on --db with --config, after sync.init; throws sync_exception when init fails.
std::unique_ptr<sync_client> open_initialized_client(const arguments& parsed);

/// Prints `outcome` (its value with `human` when not --json) and returns the exit code:
/// 0 for a value, 1 for an error (code and message on `err`, or the error object as JSON).
int report_result(const std::string& command, const result& outcome, bool as_json,
                  std::ostream& out, std::ostream& err);

/// The error line every subcommand prints: "mxsync <command>: error <code>: <message>".
void print_error(const std::string& command, const sync_error& error, std::ostream& err);

} // namespace mxsync::cli
