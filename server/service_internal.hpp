#pragma once
// Shared pieces of sync_service's implementation (sync_service.cpp,
// service_upload.cpp, service_download.cpp). Not part of the contract.

#include "server/store.hpp"
#include "server/sync_service.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mxsync::server::detail {

using json = nlohmann::json;

/// A column of one table that holds a key of another table (from the config's
/// relationships, seen from the referencing side).
struct foreign_reference {
  std::string column;                ///< column of the referencing table
  const table_def* target = nullptr; ///< the table whose key it holds
  std::string target_column;
};

struct service_model {
  /// Referencing columns per table name (for rewriting temporary keys).
  std::map<std::string, std::vector<foreign_reference>> references;
};

/// What the request handlers work with.
struct service_context {
  const sync_config& config;
  store& data;
  const service_settings& settings;
  const service_model& model;
};

/// Throws protocol_error SY0000E.
[[noreturn]] void fail(const std::string& message);

/// The request parameter, or nullopt when absent.
std::optional<std::string> param(const sync_request& request, const std::string& name);
/// The decoded JSON-string parameter, or nullptr when absent or null.
const json* decoded(const sync_request& request, const std::string& name);

/// The scope named by `scopename` (SY0000E when unknown or missing); checks
/// the strategy parameter against it.
const scope_def& require_scope(const service_context& ctx, const sync_request& request,
                               const std::string& fallback_name = {});

const scope_settings& settings_of(const service_context& ctx, const scope_def& scope);

/// The configured owner column of a table, or nullptr.
const std::string* owner_column(const service_context& ctx, const scope_def& scope,
                                const table_def& table);

json handle_upload(const service_context& ctx, const sync_request& request);
json handle_download(const service_context& ctx, const sync_request& request);
json handle_download_chunk(const service_context& ctx, const sync_request& request);

} // namespace mxsync::server::detail
