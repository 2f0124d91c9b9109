#pragma once
// Reads the real-client recordings (tests/fixtures/real-client-requests/*.jsonl):
// one JSON object per request with path, rawBody, params, decoded and response.
// ordered_json keeps the keys in the order the real client sent them.

#include <nlohmann/json.hpp>

#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace mxsync::test {

inline std::vector<nlohmann::ordered_json> load_recording(const std::string& name) {
  std::string path = std::string{MXSYNC_FIXTURES_DIR} + "/real-client-requests/" + name;
  std::ifstream in{path};
  if (!in)
    throw std::runtime_error("cannot open fixture " + path);
  std::vector<nlohmann::ordered_json> records;
  for (std::string line; std::getline(in, line);)
    if (!line.empty())
      records.push_back(nlohmann::ordered_json::parse(line));
  return records;
}

/// The record with sequence number `seq` (1-based, as in the file).
inline const nlohmann::ordered_json& record(const std::vector<nlohmann::ordered_json>& records,
                                            int seq) {
  for (const auto& r : records)
    if (r.at("seq").get<int>() == seq)
      return r;
  throw std::runtime_error("no record with seq " + std::to_string(seq));
}

} // namespace mxsync::test
