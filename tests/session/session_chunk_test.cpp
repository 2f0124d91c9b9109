#define CAF_SUITE session_chunks
#include <caf/test/unit_test.hpp>

#include "session/forwarding_proxy.hpp"
#include "session/session_support.hpp"

#include <atomic>
#include <set>

using namespace mxsync;
using namespace mxsync::test;
using json = nlohmann::json;

namespace {

std::int64_t stored_chunks(sync_client& device) {
  auto rows = device.executeSelectQuery("select count(*) as n from konysyncCHUNKDATA");
  return rows.ok() ? rows.value()[0]["n"].get<std::int64_t>() : -1;
}

std::int64_t unfinished_payloads(sync_client& device) {
  auto rows = device.executeSelectQuery(
    "select count(*) as n from konysyncCHUNKMETAINFO where coalesce(chunkacknowledged, 0) = 0");
  return rows.ok() ? rows.value()[0]["n"].get<std::int64_t>() : -1;
}

std::vector<int> chunk_numbers(const std::vector<std::pair<std::string, json>>& calls) {
  std::vector<int> numbers;
  for (const auto& [endpoint, params] : calls)
    if (endpoint == "downloadchunk")
      numbers.push_back(std::stoi(params["chunknumber"].get<std::string>()));
  return numbers;
}

std::size_t count_calls(const std::vector<std::pair<std::string, json>>& calls, const std::string& endpoint) {
  return static_cast<std::size_t>(std::count_if(calls.begin(), calls.end(),
                                                [&](const auto& call) { return call.first == endpoint; }));
}

/// A chunked server: 600 rows in one batch of about 100 KB, 2 KB chunks.
struct chunked_server {
  sync_server server;
  explicit chunked_server(const std::string& name) : server(name) {
    auto rows = work_orders("SRV", 600);
    if (server.admin("load", json{{"WorkOrder", rows}}) != 0)
      throw std::runtime_error("cannot load the server");
  }
  session_config session(forwarding_proxy& proxy) const {
    auto keys = server.session();
    keys.batchsize = 1000;
    keys.chunksize = 2; // KB
    keys.invokeservicefunction = proxy.function();
    return keys;
  }
};

} // namespace

CAF_TEST(chunks are fetched up to maxparallelchunks at once and each is stored once) {
  chunked_server chunked{"chunks-parallel"};
  for (std::int64_t parallel : {1, 4}) {
    auto device = make_device("chunks-parallel-" + std::to_string(parallel));
    forwarding_proxy proxy;
    recorder events;
    auto keys = chunked.session(proxy);
    keys.maxparallelchunks = parallel;
    events.attach(keys);
    auto outcome = device->synchronize(keys);
    if (!outcome.ok())
      CAF_FAIL("session failed: " << outcome.error().to_json().dump());
    device->flush();
    CAF_CHECK_EQUAL(count_rows(*device, "WorkOrder"), 600);
    CAF_CHECK_EQUAL(stored_chunks(*device), 0);
    auto first = events.context_of("onchunksuccess");
    auto chunk_count = first["chunkcount"].get<int>();
    CAF_CHECK_GREATER(chunk_count, 8);
    // Chunk 1 comes with the download answer; every other chunk is asked for once.
    auto numbers = chunk_numbers(proxy.calls());
    std::set<int> distinct(numbers.begin(), numbers.end());
    CAF_CHECK_EQUAL(numbers.size(), static_cast<std::size_t>(chunk_count - 1));
    CAF_CHECK_EQUAL(distinct.size(), numbers.size());
    CAF_CHECK_EQUAL(*distinct.begin(), 2);
    CAF_CHECK_EQUAL(*distinct.rbegin(), chunk_count);
    CAF_CHECK_EQUAL(events.count("onchunkstart"), static_cast<std::size_t>(chunk_count - 1));
    CAF_CHECK_EQUAL(events.count("onchunksuccess"), static_cast<std::size_t>(chunk_count));
    CAF_CHECK_EQUAL(events.count("onchunkerror"), 0u);
    // The last onchunksuccess reports the whole payload stored.
    auto last = events.context_of("onchunksuccess", static_cast<std::size_t>(chunk_count - 1));
    CAF_CHECK_EQUAL(last["chunksdownloaded"], chunk_count);
    CAF_CHECK_EQUAL(last["pendingchunks"], 0);
    auto most = proxy.most_chunks_at_once();
    CAF_MESSAGE("maxparallelchunks " << parallel << ": at most " << most << " chunk requests at once");
    if (parallel == 1)
      CAF_CHECK_EQUAL(most, 1);
    else {
      CAF_CHECK_GREATER(most, 1);
      CAF_CHECK_LESS_OR_EQUAL(most, parallel);
    }
  }
}

CAF_TEST(a failed chunk calls onchunkerror and the next session fetches only the missing chunks) {
  chunked_server chunked{"chunks-failed"};
  auto device = make_device("chunks-failed");
  forwarding_proxy proxy;
  proxy.on_request = [](const std::string& url, json& params) -> std::optional<json> {
    if (forwarding_proxy::endpoint_of(url) == "downloadchunk" && params["chunknumber"] == "3")
      return json{{"opstatus", 0},
                  {"d", {{"error", "true"}, {"errcode", "SY9000E"}, {"msg", "chunk store unavailable"}}}};
    return std::nullopt;
  };
  recorder events;
  auto keys = chunked.session(proxy);
  events.attach(keys);
  auto outcome = device->synchronize(keys);
  CAF_REQUIRE(!outcome.ok());
  device->flush();
  CAF_CHECK_EQUAL(outcome.error().code, 7022);
  CAF_CHECK_EQUAL(events.count("onchunkerror"), 1u);
  auto chunk_error = events.context_of("onchunkerror");
  auto info = chunk_error["errorInfo"];
  CAF_CHECK_EQUAL(info["chunkid"], 3);
  CAF_CHECK_EQUAL(info["scopename"], "FSPersistentScope");
  CAF_CHECK_EQUAL(info["chunksdownloaded"], 2);
  CAF_CHECK(info["payloadid"].is_string());
  auto count = info["chunkcount"].get<int>();
  CAF_CHECK_EQUAL(info["pendingchunks"], count - 2);
  auto message = chunk_error["errorMessage"].get<std::string>();
  CAF_CHECK(message.find("chunk store unavailable") != std::string::npos);
  auto scope_error = events.context_of("onscopeerror");
  CAF_CHECK_EQUAL(scope_error["errorCode"], "7024");
  CAF_CHECK_EQUAL(events.count("onscopesuccess"), 0u);
  // Nothing of the batch is applied; the two chunks that arrived are kept.
  CAF_CHECK_EQUAL(count_rows(*device, "WorkOrder"), 0);
  CAF_CHECK_EQUAL(stored_chunks(*device), 2);
  CAF_CHECK_EQUAL(unfinished_payloads(*device), 1);

  // The next session asks for the missing chunks only, without a new download request.
  proxy.on_request = nullptr;
  proxy.forget_calls();
  recorder resumed;
  auto again = chunked.session(proxy);
  resumed.attach(again);
  auto second = device->synchronize(again);
  if (!second.ok())
    CAF_FAIL("resumed session failed: " << second.error().to_json().dump());
  device->flush();
  CAF_CHECK_EQUAL(count_rows(*device, "WorkOrder"), 600);
  auto calls = proxy.calls();
  auto numbers = chunk_numbers(calls);
  CAF_CHECK_EQUAL(numbers.size(), static_cast<std::size_t>(count - 2));
  CAF_CHECK_EQUAL(*std::min_element(numbers.begin(), numbers.end()), 3);
  std::size_t first_chunk_call = 0;
  while (first_chunk_call < calls.size() && calls[first_chunk_call].first != "downloadchunk")
    ++first_chunk_call;
  for (std::size_t i = 0; i < first_chunk_call; ++i)
    CAF_CHECK_NOT_EQUAL(calls[i].first, "download");
  CAF_CHECK_EQUAL(stored_chunks(*device), 0);
  CAF_CHECK_EQUAL(unfinished_payloads(*device), 0);
  // The next download acknowledges the finished payload with deletechunkpayloadid.
  proxy.forget_calls();
  CAF_REQUIRE(device->synchronize(chunked.session(proxy)).ok());
  auto third = proxy.calls();
  auto download = std::find_if(third.begin(), third.end(), [](const auto& c) { return c.first == "download"; });
  CAF_REQUIRE(download != third.end());
  CAF_CHECK_EQUAL(download->second["deletechunkpayloadid"], info["payloadid"]);
}

CAF_TEST(a payload the server no longer has is dropped and its batch asked for again) {
  chunked_server chunked{"chunks-expired"};
  auto device = make_device("chunks-expired");
  forwarding_proxy proxy;
  std::atomic<bool> once{true};
  // The real server answers SY3008E for a payload id it does not know.
  proxy.on_request = [&once](const std::string& url, json& params) -> std::optional<json> {
    if (forwarding_proxy::endpoint_of(url) == "downloadchunk" && params["chunknumber"] == "2"
        && once.exchange(false))
      params["payloadid"] = "expired-payload";
    return std::nullopt;
  };
  recorder events;
  auto keys = chunked.session(proxy);
  events.attach(keys);
  auto outcome = device->synchronize(keys);
  if (!outcome.ok())
    CAF_FAIL("session failed: " << outcome.error().to_json().dump());
  device->flush();
  CAF_CHECK_EQUAL(count_rows(*device, "WorkOrder"), 600);
  CAF_CHECK_EQUAL(events.count("onchunkerror"), 1u);
  auto chunk_error = events.context_of("onchunkerror");
  auto reason = chunk_error.dump();
  CAF_CHECK(reason.find("SY3008E") != std::string::npos);
  // The batch was asked for twice from the same position.
  auto calls = proxy.calls();
  std::vector<json> downloads;
  for (const auto& [endpoint, params] : calls)
    if (endpoint == "download")
      downloads.push_back(params);
  CAF_REQUIRE_EQUAL(downloads.size(), 2u);
  auto first_tick = downloads[0]["tickcount"];
  auto second_tick = downloads[1]["tickcount"];
  CAF_CHECK_EQUAL(first_tick, second_tick);
  CAF_CHECK_EQUAL(stored_chunks(*device), 0);
  CAF_CHECK_EQUAL(unfinished_payloads(*device), 0);
}

CAF_TEST(a payload failing its checksum is discarded and downloaded again next time) {
  chunked_server chunked{"chunks-checksum"};
  auto device = make_device("chunks-checksum");
  forwarding_proxy proxy;
  proxy.on_answer = [](const std::string& url, const json& params, json& answer) {
    if (forwarding_proxy::endpoint_of(url) == "downloadchunk" && params["chunknumber"] == "2") {
      auto data = answer["d"]["chunkdata"].get<std::string>();
      auto at = data.find("order ");
      if (at != std::string::npos)
        data.replace(at, 6, "ORDER ");
      answer["d"]["chunkdata"] = data;
    }
  };
  recorder events;
  auto keys = chunked.session(proxy);
  events.attach(keys);
  auto outcome = device->synchronize(keys);
  CAF_REQUIRE(!outcome.ok());
  device->flush();
  CAF_CHECK_EQUAL(events.count("onchunkerror"), 1u);
  auto chunk_error = events.context_of("onchunkerror");
  CAF_CHECK_EQUAL(chunk_error["errorCode"], "7024");
  auto text = chunk_error.dump();
  CAF_CHECK(text.find("checksum") != std::string::npos);
  CAF_CHECK_EQUAL(count_rows(*device, "WorkOrder"), 0);
  CAF_CHECK_EQUAL(stored_chunks(*device), 0);
  CAF_CHECK_EQUAL(unfinished_payloads(*device), 0);
  // The next session asks for the batch again and applies the untouched payload.
  proxy.on_answer = nullptr;
  proxy.forget_calls();
  CAF_REQUIRE(device->synchronize(chunked.session(proxy)).ok());
  device->flush();
  CAF_CHECK_EQUAL(count_rows(*device, "WorkOrder"), 600);
  auto calls = proxy.calls();
  CAF_CHECK_EQUAL(count_calls(calls, "download"), 1u);
}

CAF_TEST(a stop between chunks keeps the stored chunks for the next session) {
  chunked_server chunked{"chunks-stop"};
  auto device = make_device("chunks-stop");
  forwarding_proxy proxy;
  auto* client = device.get();
  std::promise<json> stopped;
  std::atomic<bool> once{true};
  auto keys = chunked.session(proxy);
  keys.maxparallelchunks = 2;
  keys.onchunksuccess = [&](const json& context) {
    if (context["chunkid"] == 3 && once.exchange(false))
      client->stopSession([&](const json& answer) { stopped.set_value(answer); });
  };
  auto outcome = device->synchronize(keys);
  CAF_REQUIRE(outcome.ok());
  auto value = outcome.value();
  CAF_CHECK_EQUAL(value["stopped"], true);
  auto answer = stopped.get_future().get();
  CAF_CHECK_EQUAL(answer["stopped"], true);
  device->flush();
  auto kept = stored_chunks(*device);
  CAF_CHECK_GREATER_OR_EQUAL(kept, 3);
  CAF_CHECK_EQUAL(count_rows(*device, "WorkOrder"), 0);
  auto first_calls = proxy.calls();
  auto asked_before = chunk_numbers(first_calls);

  proxy.forget_calls();
  auto again = chunked.session(proxy);
  again.maxparallelchunks = 3;
  auto second = device->synchronize(again);
  if (!second.ok())
    CAF_FAIL("resumed session failed: " << second.error().to_json().dump());
  device->flush();
  CAF_CHECK_EQUAL(count_rows(*device, "WorkOrder"), 600);
  // No chunk is asked for twice across the two sessions, and none is missing.
  auto asked_after = chunk_numbers(proxy.calls());
  std::set<int> all(asked_before.begin(), asked_before.end());
  for (auto n : asked_after)
    CAF_CHECK(all.insert(n).second);
  CAF_CHECK_EQUAL(*all.begin(), 2);
  CAF_CHECK_EQUAL(static_cast<std::size_t>(*all.rbegin()), all.size() + 1);
}

CAF_TEST(the next batch of the same session acknowledges a finished chunked payload) {
  chunked_server chunked{"chunks-acknowledged"};
  auto device = make_device("chunks-acknowledged");
  forwarding_proxy proxy;
  recorder events;
  auto keys = chunked.session(proxy);
  keys.batchsize = 300; // two chunked batches
  events.attach(keys);
  auto outcome = device->synchronize(keys);
  if (!outcome.ok())
    CAF_FAIL("session failed: " << outcome.error().to_json().dump());
  device->flush();
  CAF_CHECK_EQUAL(count_rows(*device, "WorkOrder"), 600);
  auto downloads = calls_to(proxy.calls(), "download");
  CAF_REQUIRE_GREATER_OR_EQUAL(downloads.size(), 2u);
  auto first_payload = events.context_of("onchunksuccess")["payloadid"];
  CAF_CHECK(!downloads[0].contains("deletechunkpayloadid"));
  auto acknowledged = downloads[1]["deletechunkpayloadid"];
  CAF_CHECK_EQUAL(acknowledged, first_payload);
  // Nothing is left to acknowledge twice: each payload id goes out once.
  std::set<std::string> sent;
  for (const auto& params : downloads)
    if (params.contains("deletechunkpayloadid"))
      CAF_CHECK(sent.insert(params["deletechunkpayloadid"].get<std::string>()).second);
}
