#include "server/row_hash.hpp"

#include "transport/password_hash.hpp"

namespace mxsync::server {

std::string row_hashsum(const table_def& table, const nlohmann::json& values) {
  auto ordered = nlohmann::json::array();
  for (const auto& column : table.columns) {
    auto it = values.find(column.name);
    ordered.push_back(it == values.end() ? nlohmann::json(nullptr) : *it);
  }
  return transport::sha256_hex(ordered.dump());
}

} // namespace mxsync::server
