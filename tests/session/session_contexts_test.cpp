#define CAF_SUITE session_contexts
#include <caf/test/unit_test.hpp>

#include "session/session_support.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <chrono>
#include <set>
#include <sstream>
#include <thread>

// Every documented key of every lifecycle callback of a session (docs/callbacks.md
// sections 2.1 to 2.7), against the real server: the Persistent WorkOrder config and the
// OTA two-scope config (TicketScope OTA, CatalogScope Persistent).

using namespace mxsync;
using namespace mxsync::test;
using json = nlohmann::json;

namespace {

const std::string ota_config = MXSYNC_FIXTURES_DIR "/ota-two-scope-config.json";
const std::string persistent_scope = "FSPersistentScope";

// Two context fixes need a one-line change each in actors/downloader.cpp, which another
// change is rewriting: ondownloadsuccess without batchcontext (download_success_context)
// and the OTA batchcontext without ack keys (batch_counts(result, pending, ota)). Until the
// downloader calls them, these checks only report what they see.
constexpr bool downloader_uses_success_context = true;
constexpr bool downloader_passes_strategy = true;

using key_set = std::set<std::string>;

std::string joined(const std::vector<std::string>& names) {
  std::ostringstream out;
  for (std::size_t i = 0; i < names.size(); ++i)
    out << (i ? ", " : "") << names[i];
  return out.str();
}

/// True when `object` has exactly the keys `expected`; says which are missing or extra.
bool exact_keys(const json& object, const key_set& expected, const std::string& what) {
  if (!object.is_object()) {
    CAF_MESSAGE(what << ": not an object: " << object.dump());
    return false;
  }
  std::vector<std::string> missing, unexpected;
  for (const auto& key : expected)
    if (!object.contains(key))
      missing.push_back(key);
  for (const auto& [key, value] : object.items())
    if (expected.count(key) == 0)
      unexpected.push_back(key);
  if (!missing.empty())
    CAF_MESSAGE(what << ": missing keys " << joined(missing));
  if (!unexpected.empty())
    CAF_MESSAGE(what << ": unexpected keys " << joined(unexpected));
  return missing.empty() && unexpected.empty();
}

/// True when `object` has none of `keys`.
bool lacks_keys(const json& object, const key_set& keys, const std::string& what) {
  std::vector<std::string> present;
  for (const auto& key : keys)
    if (object.is_object() && object.contains(key))
      present.push_back(key);
  if (!present.empty())
    CAF_MESSAGE(what << ": keys that should be absent " << joined(present));
  return present.empty();
}

/// object[key] is an integer number equal to `expected`.
void expect_number(const json& object, const std::string& key, std::int64_t expected,
                   const std::string& what) {
  bool ok = object.is_object() && object.contains(key) && object[key].is_number_integer()
            && object[key].get<std::int64_t>() == expected;
  if (!ok)
    CAF_MESSAGE(what << "." << key << ": expected the number " << expected << ", got "
                     << (object.is_object() && object.contains(key) ? object[key].dump()
                                                                     : std::string{"<absent>"}));
  CAF_CHECK(ok);
}

/// object[key] is the string `expected`.
void expect_string(const json& object, const std::string& key, const std::string& expected,
                   const std::string& what) {
  bool ok = object.is_object() && object.contains(key) && object[key].is_string()
            && object[key].get<std::string>() == expected;
  if (!ok)
    CAF_MESSAGE(what << "." << key << ": expected the string \"" << expected << "\", got "
                     << (object.is_object() && object.contains(key) ? object[key].dump()
                                                                     : std::string{"<absent>"}));
  CAF_CHECK(ok);
}

/// MXSYNC_DUMP_CONTEXTS=1 (with -v 4): every recorded callback with its context.
void dump(recorder& events) {
  if (!std::getenv("MXSYNC_DUMP_CONTEXTS"))
    return;
  std::lock_guard<std::mutex> lock{events.mutex};
  for (std::size_t i = 0; i < events.events.size(); ++i)
    CAF_MESSAGE(events.events[i] << " " << events.contexts[i].dump());
}

std::int64_t number_of(const json& value) {
  return value.is_number_integer() ? value.get<std::int64_t>() : -1;
}

std::string text_of(const json& value) {
  return value.is_string() ? value.get<std::string>() : std::string{"<not a string>"};
}

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0)
    return "localhost";
  return name;
}

/// serverDetails of an answer of the test server: its host name and the loopback address.
void expect_server_details(const json& context, const std::string& what) {
  CAF_REQUIRE(context.is_object());
  CAF_REQUIRE(context.contains("serverDetails"));
  auto details = context["serverDetails"];
  CAF_CHECK(exact_keys(details, {"hostName", "ipAddress"}, what + ".serverDetails"));
  expect_string(details, "hostName", host_name(), what + ".serverDetails");
  expect_string(details, "ipAddress", "127.0.0.1", what + ".serverDetails");
}

std::string url_of(const sync_server& server, const std::string& endpoint) {
  return "http://127.0.0.1:" + server.process->port() + "/syncservice/resources/" + endpoint;
}

void expect_urls(const json& context, const sync_server& server, const std::string& what) {
  expect_string(context, "uploadurl", url_of(server, "upload"), what);
  expect_string(context, "downloadurl", url_of(server, "download"), what);
}

result sync_ok(sync_client& device, session_config keys) {
  auto outcome = device.synchronize(std::move(keys));
  if (!outcome.ok())
    CAF_FAIL("session failed: " << outcome.error().to_json().dump());
  device.flush();
  return outcome;
}

/// A column of the scope's 'no filter' konysyncMETAINFO row.
json meta_info(sync_client& device, const std::string& scope, const std::string& column) {
  auto rows = device.executeSelectQuery("select " + column
                                        + " as v from konysyncMETAINFO where scopename = '" + scope
                                        + "' and filtervalue = 'no filter'");
  if (!rows.ok() || rows.value().size() != 1)
    return nullptr;
  return rows.value()[0]["v"];
}

/// Loads `groups` groups of `per_group` WorkOrders, each group with its own change time,
/// so that a download with batchsize `per_group` takes exactly one group per batch.
void load_groups(sync_server& server, const std::string& prefix, int groups, int per_group) {
  for (int g = 0; g < groups; ++g) {
    auto rows = work_orders(prefix + std::to_string(g), per_group);
    CAF_REQUIRE_EQUAL(server.admin("load", json{{"WorkOrder", rows}}), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
  }
}

const key_set download_start_keys{"uploadurl", "downloadurl", "currentScope", "lastsynctimestamp",
                                  "downloadRequest"};
const key_set batch_success_keys{"uploadurl",         "downloadurl",   "currentScope",
                                 "lastsynctimestamp", "serverDetails", "batchcontext"};
const key_set scope_end_keys{"uploadurl", "downloadurl", "currentScope", "lastsynctimestamp"};
const key_set batch_keys_common{"batchrowsdownloaded", "rowsdownloaded", "rowsinserted",
                                "rowsupdated",         "rowsdeleted",    "rowsfailedtoupload",
                                "failedrowinfo",       "objectlevelinfo", "pendingbatches"};
const key_set ack_keys{"acktotalrows", "ackinsertedrows", "ackupdatedrows", "ackdeletedrows"};
const key_set batch_object_keys{"batchrowsdownloaded", "rowsinserted",   "rowsupdated",
                                "rowsdeleted",         "ackinsertedrows", "ackupdatedrows",
                                "ackdeletedrows",      "acktotalrows",    "rowsfailedtoupload"};

key_set with(key_set keys, const key_set& more) {
  keys.insert(more.begin(), more.end());
  return keys;
}

/// The batchcontext keys (2.5): ack keys only for non-OTA scopes.
void expect_batch_context_keys(const json& batch, bool ota, const std::string& what) {
  if (!ota || downloader_passes_strategy) {
    CAF_CHECK(exact_keys(batch, ota ? batch_keys_common : with(batch_keys_common, ack_keys), what));
  } else {
    CAF_CHECK(exact_keys(batch, with(batch_keys_common, ack_keys), what));
    CAF_MESSAGE(what << ": OTA ack keys still present (actors/downloader.cpp does not pass the "
                        "strategy to contexts::batch_counts yet)");
  }
  for (const char* key : {"batchrowsdownloaded", "rowsinserted", "rowsupdated", "rowsdeleted",
                          "rowsfailedtoupload", "pendingbatches"})
    CAF_CHECK(batch[key].is_number_integer());
  CAF_CHECK(batch["failedrowinfo"].is_array());
  CAF_CHECK(batch["objectlevelinfo"].is_object());
  auto objects = batch["objectlevelinfo"];
  for (const auto& [name, entry] : objects.items()) {
    auto keys = entry.contains("reconciledprimarykeys")
                  ? with(batch_object_keys, {"reconciledprimarykeys"})
                  : batch_object_keys;
    CAF_CHECK(exact_keys(entry, keys, what + ".objectlevelinfo." + name));
    for (const auto& key : batch_object_keys)
      CAF_CHECK(entry[key].is_number_integer());
  }
  // batchrowsdownloaded: the server changes of the batch (not acks), each counted as
  // inserted, updated or deleted (a delete of a row the device does not have too). Rows
  // kept for pending local changes would be the only difference (docs/callbacks.md 10);
  // these sessions have none.
  auto downloaded = number_of(batch["batchrowsdownloaded"]);
  auto sum = number_of(batch["rowsinserted"]) + number_of(batch["rowsupdated"])
             + number_of(batch["rowsdeleted"]);
  CAF_CHECK_EQUAL(downloaded, sum);
  auto alias = number_of(batch["rowsdownloaded"]);
  CAF_CHECK_EQUAL(alias, downloaded);
  for (const auto& [name, entry] : objects.items()) {
    auto object_downloaded = number_of(entry["batchrowsdownloaded"]);
    auto object_sum = number_of(entry["rowsinserted"]) + number_of(entry["rowsupdated"])
                      + number_of(entry["rowsdeleted"]);
    CAF_CHECK_EQUAL(object_downloaded, object_sum);
  }
}

/// What every download-side callback of one scope looks like (2.2): the start contexts
/// without serverDetails/uploadsequencenumber/batchcontext, the batch successes with
/// batchcontext, serverDetails and the batch's blob (= the next batch's tickcount).
void expect_download_contexts(recorder& events, const sync_server& server,
                              const std::string& scope, std::size_t first_batch,
                              std::size_t batches, bool ota, const std::string& final_blob) {
  for (std::size_t i = first_batch; i < first_batch + batches; ++i) {
    auto what = scope + " batch " + std::to_string(i - first_batch + 1);
    auto start = events.context_of("onbatchprocessingstart", i);
    CAF_CHECK(exact_keys(start, download_start_keys, "onbatchprocessingstart " + what));
    expect_urls(start, server, "onbatchprocessingstart " + what);
    expect_string(start, "currentScope", scope, "onbatchprocessingstart " + what);
    auto request = start["downloadRequest"];
    CAF_REQUIRE(request.is_object());
    expect_string(request, "scopename", scope, "downloadRequest " + what);
    expect_string(request, "enablebatching", "true", "downloadRequest " + what);
    // lastsynctimestamp: the blob the batch starts from, i.e. the tickcount it sends.
    auto tick = request["tickcount"];
    auto blob = start["lastsynctimestamp"];
    CAF_CHECK_EQUAL(text_of(blob), text_of(tick));
    auto success = events.context_of("onbatchprocessingsuccess", i);
    CAF_CHECK(exact_keys(success, batch_success_keys, "onbatchprocessingsuccess " + what));
    expect_urls(success, server, "onbatchprocessingsuccess " + what);
    expect_string(success, "currentScope", scope, "onbatchprocessingsuccess " + what);
    expect_server_details(success, "onbatchprocessingsuccess " + what);
    auto batch = success["batchcontext"];
    expect_batch_context_keys(batch, ota, "batchcontext " + what);
    expect_number(batch, "pendingbatches",
                  static_cast<std::int64_t>(first_batch + batches - 1 - i), "batchcontext " + what);
    // This batch's blob is the tickcount of the next one, or the final blob.
    auto own_blob = success["lastsynctimestamp"];
    if (i + 1 < first_batch + batches) {
      auto next = events.context_of("onbatchprocessingstart", i + 1);
      auto next_tick = next["downloadRequest"]["tickcount"];
      CAF_CHECK_EQUAL(text_of(own_blob), text_of(next_tick));
    } else {
      CAF_CHECK_EQUAL(text_of(own_blob), final_blob);
    }
    CAF_CHECK(!text_of(own_blob).empty());
  }
}

} // namespace

CAF_TEST(a first persistent session gives every callback its documented keys) {
  sync_server server{"ctx-first"};
  load_groups(server, "SRV", 3, 4);
  auto device = make_device("ctx-first");
  recorder events;
  auto keys = server.session();
  keys.batchsize = 4;
  events.attach(keys);
  sync_ok(*device, keys);
  dump(events);
  CAF_CHECK_EQUAL(count_rows(*device, "WorkOrder"), 12);

  // onsyncstart: exactly {uploadurl, downloadurl} (1.1).
  auto start = events.context_of("onsyncstart");
  CAF_CHECK(exact_keys(start, {"uploadurl", "downloadurl"}, "onsyncstart"));
  expect_urls(start, server, "onsyncstart");

  // onscopestart: the keys the API page lists (issue 10); a scope that never synced has no
  // blob and sequence number 0. Nothing of an upload or a download yet.
  const key_set scope_start_keys{"uploadurl", "downloadurl", "currentScope", "lastsynctimestamp",
                                 "uploadsequencenumber"};
  auto scope_start = events.context_of("onscopestart");
  CAF_CHECK(exact_keys(scope_start, scope_start_keys, "onscopestart"));
  expect_urls(scope_start, server, "onscopestart");
  expect_string(scope_start, "currentScope", persistent_scope, "onscopestart");
  expect_string(scope_start, "lastsynctimestamp", "", "onscopestart");
  expect_number(scope_start, "uploadsequencenumber", 0, "onscopestart");

  // Nothing to upload: no upload callback at all (1.4).
  for (const char* name : {"onuploadstart", "onuploadbatchstart", "onuploadbatchsuccess",
                           "onuploadsuccess"})
    CAF_CHECK_EQUAL(events.count(name), 0u);

  // ondownloadstart: the first batch's request, no serverDetails/uploadsequencenumber.
  CAF_REQUIRE_EQUAL(events.count("ondownloadstart"), 1u);
  auto download_start = events.context_of("ondownloadstart");
  CAF_CHECK(exact_keys(download_start, download_start_keys, "ondownloadstart"));
  CAF_CHECK(lacks_keys(download_start,
                       {"serverDetails", "uploadsequencenumber", "uploadcontext", "batchcontext"},
                       "ondownloadstart"));
  expect_urls(download_start, server, "ondownloadstart");
  auto request = download_start["downloadRequest"];
  CAF_REQUIRE(request.is_object());
  expect_string(request, "scopename", persistent_scope, "downloadRequest");
  expect_string(request, "batchsize", "4", "downloadRequest");
  expect_string(request, "tickcount", "", "downloadRequest");
  expect_string(request, "enablebatching", "true", "downloadRequest");
  expect_string(request, "userid", "testuser", "downloadRequest");
  CAF_CHECK(request.contains("strategy") && request.contains("instanceid")
            && request.contains("clientid") && request.contains("AppID"));
  // clientcontext is an object in the callbacks, with InitialSync on a first download (3).
  auto client_context = request["clientcontext"];
  CAF_CHECK(client_context.is_object());
  expect_string(client_context, "InitialSync", "true", "downloadRequest.clientcontext");

  // Three batches: 4 rows each, pendingbatches 2, 1, 0.
  CAF_REQUIRE_EQUAL(events.count("onbatchprocessingstart"), 3u);
  CAF_REQUIRE_EQUAL(events.count("onbatchprocessingsuccess"), 3u);
  auto final_blob = text_of(meta_info(*device, persistent_scope, "lastserversynccontext"));
  expect_download_contexts(events, server, persistent_scope, 0, 3, false, final_blob);
  for (std::size_t i = 0; i < 3; ++i) {
    auto what = "batchcontext " + std::to_string(i + 1);
    auto batch = events.context_of("onbatchprocessingsuccess", i)["batchcontext"];
    expect_number(batch, "batchrowsdownloaded", 4, what);
    expect_number(batch, "rowsinserted", 4, what);
    expect_number(batch, "rowsupdated", 0, what);
    expect_number(batch, "rowsdeleted", 0, what);
    expect_number(batch, "rowsfailedtoupload", 0, what);
    expect_number(batch, "acktotalrows", 0, what);
    auto failed = batch["failedrowinfo"];
    CAF_CHECK_EQUAL(failed.size(), 0u);
    // objectlevelinfo: only the objects of the batch.
    auto objects = batch["objectlevelinfo"];
    CAF_CHECK(exact_keys(objects, {"WorkOrder"}, what + ".objectlevelinfo"));
    auto work_order = objects["WorkOrder"];
    expect_number(work_order, "batchrowsdownloaded", 4, what + ".WorkOrder");
    expect_number(work_order, "rowsinserted", 4, what + ".WorkOrder");
    expect_number(work_order, "acktotalrows", 0, what + ".WorkOrder");
    // Every batch of the first download says InitialSync.
    auto batch_request = events.context_of("onbatchprocessingstart", i)["downloadRequest"];
    auto batch_client_context = batch_request["clientcontext"];
    expect_string(batch_client_context, "InitialSync", "true", what + " clientcontext");
    expect_string(batch_request, "batchsize", "4", what + " downloadRequest");
  }

  // ondownloadsuccess, onscopesuccess, onsyncsuccess: the final blob, no batchcontext.
  auto download_success = events.context_of("ondownloadsuccess");
  if (downloader_uses_success_context) {
    CAF_CHECK(exact_keys(download_success, with(scope_end_keys, {"serverDetails"}),
                         "ondownloadsuccess"));
    expect_server_details(download_success, "ondownloadsuccess");
  } else {
    CAF_MESSAGE("ondownloadsuccess keys: " << download_success.dump()
                                           << " (batchcontext goes once actors/downloader.cpp "
                                              "calls contexts::download_success_context)");
  }
  expect_urls(download_success, server, "ondownloadsuccess");
  expect_string(download_success, "currentScope", persistent_scope, "ondownloadsuccess");
  expect_string(download_success, "lastsynctimestamp", final_blob, "ondownloadsuccess");
  CAF_CHECK(lacks_keys(download_success, {"uploadsequencenumber", "uploadcontext"},
                       "ondownloadsuccess"));
  for (const char* name : {"onscopesuccess", "onsyncsuccess"}) {
    auto context = events.context_of(name);
    // serverDetails: of the scope's last answer (docs/callbacks.md 2.1).
    CAF_CHECK(exact_keys(context, with(scope_end_keys, {"serverDetails"}), name));
    expect_server_details(context, name);
    expect_urls(context, server, name);
    expect_string(context, "currentScope", persistent_scope, name);
    expect_string(context, "lastsynctimestamp", final_blob, name);
    CAF_CHECK(lacks_keys(context, {"batchcontext", "uploadcontext", "uploadsequencenumber"}, name));
  }
  // onbatchstored is mxsync's own (README): once per stored batch.
  CAF_CHECK_EQUAL(events.count("onbatchstored"), 3u);
  CAF_CHECK_EQUAL(events.count("onscopeerror"), 0u);
  CAF_CHECK_EQUAL(events.count("onsyncerror"), 0u);
}

CAF_TEST(persistent uploads report per batch and cumulative counts of inserts updates and deletes) {
  sync_server server{"ctx-upload"};
  CAF_REQUIRE_EQUAL(server.admin("load", json{{"WorkOrder", work_orders("SRV", 6)}}), 0);
  auto device = make_device("ctx-upload");
  sync_ok(*device, server.session());
  CAF_REQUIRE_EQUAL(count_rows(*device, "WorkOrder"), 6);
  // In replay order: 3 inserts, 2 updates, 1 delete; uploadbatchsize 4 gives batches of
  // {3 inserts, 1 update} and {1 update, 1 delete}.
  auto orders = device->object("WorkOrder");
  for (auto& row : work_orders("CLI", 3))
    CAF_REQUIRE(orders.create(row).ok());
  CAF_REQUIRE(orders.updateByPK("SRV-1", {{"status", "Closed"}}).ok());
  CAF_REQUIRE(orders.updateByPK("SRV-2", {{"status", "Closed"}}).ok());
  CAF_REQUIRE(orders.deleteByPK("SRV-3").ok());
  auto sequence_before = number_of(meta_info(*device, persistent_scope, "versionnumber"));
  auto upload_blob_before = text_of(meta_info(*device, persistent_scope, "lastserveruploadsynccontext"));
  CAF_REQUIRE_GREATER_OR_EQUAL(sequence_before, 0);

  auto download_blob_before = text_of(meta_info(*device, persistent_scope, "lastserversynccontext"));
  CAF_REQUIRE(!download_blob_before.empty());

  recorder events;
  auto keys = server.session();
  keys.uploadbatchsize = 4;
  events.attach(keys);
  sync_ok(*device, keys);
  dump(events);
  // onscopestart: where the scope stood before this session.
  auto scope_start = events.context_of("onscopestart");
  expect_string(scope_start, "lastsynctimestamp", download_blob_before, "onscopestart");
  expect_number(scope_start, "uploadsequencenumber", sequence_before, "onscopestart");
  auto sequence_after = number_of(meta_info(*device, persistent_scope, "versionnumber"));
  auto upload_blob_after = text_of(meta_info(*device, persistent_scope, "lastserveruploadsynccontext"));
  CAF_CHECK_EQUAL(sequence_after, sequence_before + 2);

  // onuploadstart: once, for the first batch.
  CAF_REQUIRE_EQUAL(events.count("onuploadstart"), 1u);
  CAF_REQUIRE_EQUAL(events.count("onuploadbatchstart"), 2u);
  CAF_REQUIRE_EQUAL(events.count("onuploadbatchsuccess"), 2u);
  CAF_REQUIRE_EQUAL(events.count("onuploadsuccess"), 1u);
  const key_set upload_start_keys{"uploadurl",         "downloadurl",         "currentScope",
                                  "lastsynctimestamp", "uploadsequencenumber", "uploadRequest"};
  auto upload_start = events.context_of("onuploadstart");
  CAF_CHECK(exact_keys(upload_start, upload_start_keys, "onuploadstart"));
  expect_urls(upload_start, server, "onuploadstart");
  expect_string(upload_start, "currentScope", persistent_scope, "onuploadstart");
  expect_string(upload_start, "lastsynctimestamp", upload_blob_before, "onuploadstart");
  expect_number(upload_start, "uploadsequencenumber", sequence_before, "onuploadstart");
  auto upload_request = upload_start["uploadRequest"];
  CAF_REQUIRE(upload_request.is_object());
  expect_string(upload_request, "scopename", persistent_scope, "uploadRequest");
  expect_string(upload_request, "strategy", "PERSISTENT_SYNC", "uploadRequest");
  expect_string(upload_request, "userid", "testuser", "uploadRequest");
  CAF_CHECK(upload_request["UploadRequest"].is_string());
  CAF_CHECK(upload_request["clientcontext"].is_object());
  auto changes = json::parse(text_of(upload_request["UploadRequest"]), nullptr, false);
  CAF_CHECK(changes.is_object());

  for (std::size_t i = 0; i < 2; ++i) {
    auto what = "onuploadbatchstart " + std::to_string(i + 1);
    auto batch_start = events.context_of("onuploadbatchstart", i);
    CAF_CHECK(exact_keys(batch_start, upload_start_keys, what));
    expect_urls(batch_start, server, what);
    expect_number(batch_start, "uploadsequencenumber",
                  sequence_before + static_cast<std::int64_t>(i), what);
    auto batch_request = batch_start["uploadRequest"];
    expect_string(batch_request, "scopename", persistent_scope, what + ".uploadRequest");
  }
  // Batch 1 starts from the stored upload blob, batch 2 from the one batch 1 stored.
  auto first_batch_start = events.context_of("onuploadbatchstart", 0);
  expect_string(first_batch_start, "lastsynctimestamp", upload_blob_before, "onuploadbatchstart 1");
  auto second_batch_start = events.context_of("onuploadbatchstart", 1);
  auto second_blob = text_of(second_batch_start["lastsynctimestamp"]);
  CAF_CHECK(!second_blob.empty() && second_blob != upload_blob_before
            && second_blob != upload_blob_after);

  // onuploadbatchsuccess: exactly {uploadcontext, uploadbatchcontext}; per batch counts
  // and the cumulative persistent uploadcontext (no objectlevelinfo, no ack keys).
  const key_set persistent_upload_keys{"rowsuploaded", "rowsinserted", "rowsupdated",
                                       "rowsdeleted"};
  struct counts {
    std::int64_t inserted, updated, deleted;
  };
  const counts per_batch[2] = {{3, 1, 0}, {0, 1, 1}};
  const counts cumulative[2] = {{3, 1, 0}, {3, 2, 1}};
  for (std::size_t i = 0; i < 2; ++i) {
    auto what = "onuploadbatchsuccess " + std::to_string(i + 1);
    auto success = events.context_of("onuploadbatchsuccess", i);
    CAF_CHECK(exact_keys(success, {"uploadcontext", "uploadbatchcontext"}, what));
    auto batch = success["uploadbatchcontext"];
    CAF_CHECK(exact_keys(batch, with(persistent_upload_keys, {"serverDetails"}),
                         what + ".uploadbatchcontext"));
    expect_server_details(batch, what + ".uploadbatchcontext");
    expect_number(batch, "rowsinserted", per_batch[i].inserted, what + ".uploadbatchcontext");
    expect_number(batch, "rowsupdated", per_batch[i].updated, what + ".uploadbatchcontext");
    expect_number(batch, "rowsdeleted", per_batch[i].deleted, what + ".uploadbatchcontext");
    expect_number(batch, "rowsuploaded",
                  per_batch[i].inserted + per_batch[i].updated + per_batch[i].deleted,
                  what + ".uploadbatchcontext");
    auto total = success["uploadcontext"];
    CAF_CHECK(exact_keys(total, persistent_upload_keys, what + ".uploadcontext"));
    expect_number(total, "rowsinserted", cumulative[i].inserted, what + ".uploadcontext");
    expect_number(total, "rowsupdated", cumulative[i].updated, what + ".uploadcontext");
    expect_number(total, "rowsdeleted", cumulative[i].deleted, what + ".uploadcontext");
    expect_number(total, "rowsuploaded",
                  cumulative[i].inserted + cumulative[i].updated + cumulative[i].deleted,
                  what + ".uploadcontext");
  }

  // onuploadsuccess: the cumulative uploadcontext, the last blob and sequence number.
  auto upload_success = events.context_of("onuploadsuccess");
  CAF_CHECK(exact_keys(upload_success,
                       {"uploadurl", "downloadurl", "currentScope", "lastsynctimestamp",
                        "uploadsequencenumber", "serverDetails", "uploadcontext"},
                       "onuploadsuccess"));
  expect_urls(upload_success, server, "onuploadsuccess");
  expect_string(upload_success, "currentScope", persistent_scope, "onuploadsuccess");
  expect_string(upload_success, "lastsynctimestamp", upload_blob_after, "onuploadsuccess");
  CAF_CHECK(!upload_blob_after.empty());
  expect_number(upload_success, "uploadsequencenumber", sequence_after, "onuploadsuccess");
  expect_server_details(upload_success, "onuploadsuccess");
  auto upload_context = upload_success["uploadcontext"];
  CAF_CHECK(exact_keys(upload_context, persistent_upload_keys, "onuploadsuccess.uploadcontext"));
  expect_number(upload_context, "rowsuploaded", 6, "onuploadsuccess.uploadcontext");
  expect_number(upload_context, "rowsinserted", 3, "onuploadsuccess.uploadcontext");
  expect_number(upload_context, "rowsupdated", 2, "onuploadsuccess.uploadcontext");
  expect_number(upload_context, "rowsdeleted", 1, "onuploadsuccess.uploadcontext");

  // The download after it: the start contexts lose the upload keys; persistent acks
  // come in the batchcontext.
  auto download_start = events.context_of("ondownloadstart");
  CAF_CHECK(exact_keys(download_start, download_start_keys, "ondownloadstart"));
  auto download_request = download_start["downloadRequest"];
  expect_string(download_request, "batchsize", "500", "ondownloadstart.downloadRequest");
  CAF_CHECK(!text_of(download_request["tickcount"]).empty());
  auto download_client_context = download_request["clientcontext"];
  CAF_CHECK(download_client_context.is_object());
  CAF_CHECK(!download_client_context.contains("InitialSync")); // initialized by session 1
  auto batches = events.count("onbatchprocessingsuccess");
  CAF_REQUIRE_GREATER_OR_EQUAL(batches, 1u);
  auto final_blob = text_of(meta_info(*device, persistent_scope, "lastserversynccontext"));
  expect_download_contexts(events, server, persistent_scope, 0, batches, false, final_blob);
  std::int64_t acked = 0, ack_inserted = 0, ack_updated = 0, ack_deleted = 0;
  for (std::size_t i = 0; i < batches; ++i) {
    auto batch = events.context_of("onbatchprocessingsuccess", i)["batchcontext"];
    acked += number_of(batch["acktotalrows"]);
    ack_inserted += number_of(batch["ackinsertedrows"]);
    ack_updated += number_of(batch["ackupdatedrows"]);
    ack_deleted += number_of(batch["ackdeletedrows"]);
    auto objects = batch["objectlevelinfo"];
    for (const auto& [name, entry] : objects.items()) {
      CAF_CHECK_EQUAL(name, "WorkOrder");
      // Per object: the same kinds as the batch's totals (its only object).
      for (const char* key :
           {"acktotalrows", "ackinsertedrows", "ackupdatedrows", "ackdeletedrows"}) {
        auto mine = number_of(entry[key]);
        auto total = number_of(batch[key]);
        CAF_CHECK_EQUAL(mine, total);
      }
    }
  }
  CAF_CHECK_EQUAL(acked, 6);
  CAF_CHECK_EQUAL(ack_inserted + ack_updated + ack_deleted, acked);
  // docs/callbacks.md 2.5: the inserts of keys the app gave (CLI-1..3, not
  // autogenerated) count as ackupdatedrows, with the 2 updates; the delete as deleted.
  CAF_CHECK_EQUAL(ack_inserted, 0);
  CAF_CHECK_EQUAL(ack_updated, 5);
  CAF_CHECK_EQUAL(ack_deleted, 1);
  auto pending = device->getPendingAcknowledgement();
  CAF_CHECK_EQUAL(pending.value()["totalCount"], 0);
}

CAF_TEST(OTA and persistent scopes of one session carry their own context keys) {
  sync_server server{"ctx-ota", ota_config};
  CAF_REQUIRE_EQUAL(server.admin("load", json{{"Category", json::array({{{"code", "A"}, {"name", "alpha"}},
                                                                        {{"code", "B"}, {"name", "beta"}}})}}),
                    0);
  auto device = make_device("ctx-ota", ota_config);
  auto tickets = device->object("Ticket");
  for (const char* title : {"one", "two"})
    CAF_REQUIRE(tickets.create({{"title", title}, {"status", "new"}, {"priority", 1}}).ok());
  sync_ok(*device, server.session());
  auto all = tickets.getAll();
  CAF_REQUIRE_EQUAL(all.value().size(), 2u);
  auto first_id = all.value()[0]["ticketId"].get<std::int64_t>();
  auto second_id = all.value()[1]["ticketId"].get<std::int64_t>();
  CAF_REQUIRE_GREATER(first_id, 0);
  // One insert, one update, one delete in TicketScope; nothing for CatalogScope.
  CAF_REQUIRE(tickets.create({{"title", "three"}, {"status", "new"}, {"priority", 2}}).ok());
  CAF_REQUIRE(tickets.updateByPK(first_id, {{"status", "closed"}}).ok());
  CAF_REQUIRE(tickets.deleteByPK(second_id).ok());
  CAF_REQUIRE_EQUAL(server.admin("load", json{{"Category", json::array({{{"code", "C"}, {"name", "gamma"}}})}}), 0);

  recorder events;
  auto keys = server.session();
  events.attach(keys);
  sync_ok(*device, keys);
  dump(events);

  // Two scopes in config order, each with onscopestart and onscopesuccess.
  CAF_REQUIRE_EQUAL(events.count("onscopestart"), 2u);
  CAF_REQUIRE_EQUAL(events.count("onscopesuccess"), 2u);
  const char* scopes[2] = {"TicketScope", "CatalogScope"};
  for (std::size_t i = 0; i < 2; ++i) {
    auto scope_start = events.context_of("onscopestart", i);
    CAF_CHECK(exact_keys(scope_start,
                         {"uploadurl", "downloadurl", "currentScope", "lastsynctimestamp",
                          "uploadsequencenumber"},
                         "onscopestart"));
    expect_string(scope_start, "currentScope", scopes[i], "onscopestart");
    auto blob = text_of(meta_info(*device, scopes[i], "lastserversynccontext"));
    auto scope_success = events.context_of("onscopesuccess", i);
    expect_string(scope_success, "currentScope", scopes[i], "onscopesuccess");
    expect_string(scope_success, "lastsynctimestamp", blob, "onscopesuccess");
    CAF_CHECK(lacks_keys(scope_success, {"batchcontext", "uploadcontext", "uploadsequencenumber"},
                         "onscopesuccess"));
  }
  // onsyncsuccess: the context after the last scope.
  auto sync_success = events.context_of("onsyncsuccess");
  expect_urls(sync_success, server, "onsyncsuccess");
  expect_string(sync_success, "currentScope", "CatalogScope", "onsyncsuccess");
  expect_string(sync_success, "lastsynctimestamp",
                text_of(meta_info(*device, "CatalogScope", "lastserversynccontext")), "onsyncsuccess");

  // Only TicketScope uploads.
  CAF_REQUIRE_EQUAL(events.count("onuploadstart"), 1u);
  CAF_REQUIRE_EQUAL(events.count("onuploadsuccess"), 1u);
  auto upload_start = events.context_of("onuploadstart");
  expect_string(upload_start, "currentScope", "TicketScope", "onuploadstart");
  auto upload_request = upload_start["uploadRequest"];
  expect_string(upload_request, "strategy", "OTA_SYNC", "uploadRequest");

  // The OTA uploadcontext: counts, acks, failedrowinfo and an objectlevelinfo entry for
  // every object of the scope, also TicketNote without rows (2.3).
  const key_set ota_upload_keys{"rowsuploaded",   "rowsinserted",    "rowsupdated",
                                "rowsdeleted",    "objectlevelinfo", "acktotalrows",
                                "ackinsertedrows", "ackupdatedrows",  "ackdeletedrows",
                                "failedrowinfo",  "rowsfailedtoupload"};
  const key_set ota_object_keys{"rowsuploaded",   "rowsinserted",    "rowsupdated",
                                "rowsdeleted",    "ackinsertedrows", "ackupdatedrows",
                                "ackdeletedrows", "acktotalrows",    "rowsfailedtoupload"};
  auto upload_success = events.context_of("onuploadsuccess");
  expect_server_details(upload_success, "onuploadsuccess");
  auto upload = upload_success["uploadcontext"];
  CAF_CHECK(exact_keys(upload, ota_upload_keys, "uploadcontext"));
  expect_number(upload, "rowsuploaded", 3, "uploadcontext");
  expect_number(upload, "rowsinserted", 1, "uploadcontext");
  expect_number(upload, "rowsupdated", 1, "uploadcontext");
  expect_number(upload, "rowsdeleted", 1, "uploadcontext");
  expect_number(upload, "acktotalrows", 3, "uploadcontext");
  expect_number(upload, "ackinsertedrows", 1, "uploadcontext");
  expect_number(upload, "ackupdatedrows", 1, "uploadcontext");
  expect_number(upload, "ackdeletedrows", 1, "uploadcontext");
  expect_number(upload, "rowsfailedtoupload", 0, "uploadcontext");
  auto failed = upload["failedrowinfo"];
  CAF_CHECK(failed.is_array() && failed.empty());
  auto objects = upload["objectlevelinfo"];
  CAF_CHECK(exact_keys(objects, {"Ticket", "TicketNote"}, "uploadcontext.objectlevelinfo"));
  auto ticket = objects["Ticket"];
  CAF_CHECK(exact_keys(ticket, with(ota_object_keys, {"reconciledprimarykeys"}),
                       "objectlevelinfo.Ticket"));
  expect_number(ticket, "rowsuploaded", 3, "objectlevelinfo.Ticket");
  expect_number(ticket, "rowsinserted", 1, "objectlevelinfo.Ticket");
  expect_number(ticket, "rowsupdated", 1, "objectlevelinfo.Ticket");
  expect_number(ticket, "rowsdeleted", 1, "objectlevelinfo.Ticket");
  expect_number(ticket, "acktotalrows", 3, "objectlevelinfo.Ticket");
  expect_number(ticket, "ackinsertedrows", 1, "objectlevelinfo.Ticket");
  expect_number(ticket, "ackupdatedrows", 1, "objectlevelinfo.Ticket");
  expect_number(ticket, "ackdeletedrows", 1, "objectlevelinfo.Ticket");
  expect_number(ticket, "rowsfailedtoupload", 0, "objectlevelinfo.Ticket");
  auto reconciled = ticket["reconciledprimarykeys"];
  CAF_REQUIRE(reconciled.is_array());
  CAF_REQUIRE_EQUAL(reconciled.size(), 1u); // the new ticket's autogenerated key
  auto pair = reconciled[0]["ticketId"];
  CAF_CHECK(pair.is_object() && pair["oldpk"].is_number_integer() && pair["newpk"].is_number_integer());
  CAF_CHECK_LESS(number_of(pair["oldpk"]), 0);
  CAF_CHECK_GREATER(number_of(pair["newpk"]), 0);
  auto note = objects["TicketNote"];
  CAF_CHECK(exact_keys(note, ota_object_keys, "objectlevelinfo.TicketNote"));
  for (const auto& key : ota_object_keys)
    expect_number(note, key, 0, "objectlevelinfo.TicketNote");
  // onuploadbatchsuccess holds the same cumulative map.
  auto batch_success = events.context_of("onuploadbatchsuccess");
  CAF_CHECK(exact_keys(batch_success, {"uploadcontext", "uploadbatchcontext"}, "onuploadbatchsuccess"));
  auto same = batch_success["uploadcontext"] == upload;
  CAF_CHECK(same);

  // Downloads: TicketScope (OTA) then CatalogScope (persistent), one batch each.
  CAF_REQUIRE_EQUAL(events.count("ondownloadstart"), 2u);
  CAF_REQUIRE_EQUAL(events.count("onbatchprocessingsuccess"), 2u);
  expect_download_contexts(events, server, "TicketScope", 0, 1, true,
                           text_of(meta_info(*device, "TicketScope", "lastserversynccontext")));
  expect_download_contexts(events, server, "CatalogScope", 1, 1, false,
                           text_of(meta_info(*device, "CatalogScope", "lastserversynccontext")));
  auto catalog = events.context_of("onbatchprocessingsuccess", 1)["batchcontext"];
  expect_number(catalog, "batchrowsdownloaded", 1, "CatalogScope batchcontext");
  expect_number(catalog, "rowsinserted", 1, "CatalogScope batchcontext");
  auto catalog_objects = catalog["objectlevelinfo"];
  CAF_CHECK(exact_keys(catalog_objects, {"Category"}, "CatalogScope objectlevelinfo"));
  auto ticket_batch = events.context_of("onbatchprocessingsuccess", 0)["batchcontext"];
  auto ticket_objects = ticket_batch["objectlevelinfo"];
  for (const auto& [name, entry] : ticket_objects.items())
    CAF_CHECK(name == "Ticket" || name == "TicketNote");
}

CAF_TEST(chunk callbacks carry their documented keys with consistent numbers) {
  sync_server server{"ctx-chunks"};
  CAF_REQUIRE_EQUAL(server.admin("load", json{{"WorkOrder", work_orders("SRV", 300)}}), 0);
  auto device = make_device("ctx-chunks");
  recorder events;
  auto keys = server.session();
  keys.chunksize = 4; // KB
  events.attach(keys);
  sync_ok(*device, keys);
  dump(events);
  CAF_CHECK_EQUAL(count_rows(*device, "WorkOrder"), 300);
  CAF_CHECK_EQUAL(events.count("onchunkerror"), 0u);
  auto successes = events.count("onchunksuccess");
  CAF_REQUIRE_GREATER(successes, 1u);
  auto first = events.context_of("onchunksuccess");
  auto chunk_count = number_of(first["chunkcount"]);
  auto payload = text_of(first["payloadid"]);
  CAF_REQUIRE_GREATER(chunk_count, 1);
  CAF_CHECK(!payload.empty());
  CAF_CHECK_EQUAL(successes, static_cast<std::size_t>(chunk_count));

  // onchunksuccess: every chunk id 1..chunkcount once; chunksdownloaded counts up to
  // chunkcount and pendingchunks is what is left.
  std::multiset<std::int64_t> ids, downloaded;
  for (std::size_t i = 0; i < successes; ++i) {
    auto what = "onchunksuccess " + std::to_string(i + 1);
    auto chunk = events.context_of("onchunksuccess", i);
    CAF_CHECK(exact_keys(chunk, {"chunkcount", "payloadid", "scopename", "chunkid", "pendingchunks",
                                 "chunksdownloaded", "serverDetails"},
                         what));
    expect_number(chunk, "chunkcount", chunk_count, what);
    expect_string(chunk, "payloadid", payload, what);
    expect_string(chunk, "scopename", persistent_scope, what);
    auto got = number_of(chunk["chunksdownloaded"]);
    expect_number(chunk, "pendingchunks", chunk_count - got, what);
    ids.insert(number_of(chunk["chunkid"]));
    downloaded.insert(got);
    auto details = chunk["serverDetails"];
    CAF_CHECK(exact_keys(details, {"hostName", "ipAddress"}, what + ".serverDetails"));
    for (const char* key : {"hostName", "ipAddress"})
      CAF_CHECK(details[key].is_string() || details[key].is_null());
  }
  for (std::int64_t id = 1; id <= chunk_count; ++id) {
    CAF_CHECK_EQUAL(ids.count(id), 1u);
    CAF_CHECK_EQUAL(downloaded.count(id), 1u);
  }

  // onchunkstart: the chunks fetched with downloadchunk (chunk 1 comes with the download
  // answer), each once, with the request that asks for it.
  auto starts = events.count("onchunkstart");
  CAF_CHECK_EQUAL(starts, static_cast<std::size_t>(chunk_count - 1));
  std::multiset<std::int64_t> started;
  for (std::size_t i = 0; i < starts; ++i) {
    auto what = "onchunkstart " + std::to_string(i + 1);
    auto chunk = events.context_of("onchunkstart", i);
    CAF_CHECK(exact_keys(chunk, {"chunkcount", "payloadid", "scopename", "chunkid", "chunkrequest"},
                         what));
    expect_number(chunk, "chunkcount", chunk_count, what);
    expect_string(chunk, "payloadid", payload, what);
    expect_string(chunk, "scopename", persistent_scope, what);
    auto id = number_of(chunk["chunkid"]);
    started.insert(id);
    auto request = chunk["chunkrequest"];
    CAF_REQUIRE(request.is_object());
    expect_string(request, "chunknumber", std::to_string(id), what + ".chunkrequest");
    expect_string(request, "payloadid", payload, what + ".chunkrequest");
    expect_string(request, "chunkcount", std::to_string(chunk_count), what + ".chunkrequest");
  }
  for (std::int64_t id = 2; id <= chunk_count; ++id)
    CAF_CHECK_EQUAL(started.count(id), 1u);
  // The chunked batch is still one batch with its batchcontext.
  CAF_REQUIRE_EQUAL(events.count("onbatchprocessingsuccess"), 1u);
  auto batch = events.context_of("onbatchprocessingsuccess")["batchcontext"];
  expect_number(batch, "batchrowsdownloaded", 300, "chunked batchcontext");
  expect_number(batch, "pendingbatches", 0, "chunked batchcontext");
  auto download_request = events.context_of("ondownloadstart")["downloadRequest"];
  expect_string(download_request, "chunksize", "4", "downloadRequest");
  expect_string(download_request, "batchsize", "500", "downloadRequest");
}

CAF_TEST(retries and failed scopes give onretry and the error objects their documented keys) {
  sync_server server{"ctx-errors", ota_config};
  auto device = make_device("ctx-errors", ota_config);
  sync_ok(*device, server.session()); // registers the device
  // Nothing listens on the port: every download is refused (1016) and retried twice.
  server_process::free_port_guard guard;
  auto keys = server.session();
  keys.serverport = guard.port();
  keys.numberofretryattempts = 2;
  keys.retrywaittime = 0.05;
  keys.retryerrorcodes = {1016};
  recorder events;
  events.attach(keys);
  auto outcome = device->synchronize(keys);
  device->flush();
  dump(events);
  CAF_REQUIRE(!outcome.ok());

  // Both scopes ran and failed: nothing to upload, each download failed after 2 retries.
  CAF_CHECK_EQUAL(events.count("onscopestart"), 2u);
  CAF_CHECK_EQUAL(events.count("onuploadstart"), 0u);
  CAF_CHECK_EQUAL(events.count("ondownloadstart"), 2u);
  CAF_CHECK_EQUAL(events.count("onbatchprocessingstart"), 2u);
  CAF_CHECK_EQUAL(events.count("onbatchprocessingsuccess"), 0u);
  CAF_CHECK_EQUAL(events.count("ondownloadsuccess"), 0u);
  CAF_CHECK_EQUAL(events.count("onscopesuccess"), 0u);
  CAF_CHECK_EQUAL(events.count("onsyncsuccess"), 0u);
  CAF_REQUIRE_EQUAL(events.count("onretry"), 4u);
  const char* scopes[2] = {"TicketScope", "CatalogScope"};
  for (std::size_t i = 0; i < 4; ++i) {
    auto what = "onretry " + std::to_string(i + 1);
    auto retry = events.context_of("onretry", i);
    CAF_CHECK(exact_keys(retry, {"request", "errorResponse", "retryCount"}, what));
    // retryCount counts per request: 1, 2 for each scope's download.
    expect_number(retry, "retryCount", static_cast<std::int64_t>(i % 2 + 1), what);
    auto request = retry["request"];
    CAF_REQUIRE(request.is_object());
    expect_string(request, "scopename", scopes[i / 2], what + ".request");
    CAF_CHECK(request.contains("tickcount") && request.contains("batchsize"));
    auto response = retry["errorResponse"];
    CAF_REQUIRE(response.is_object());
    expect_number(response, "opstatus", 1016, what + ".errorResponse");
    CAF_CHECK(response["errmsg"].is_string());
  }

  // onscopeerror: the error object of each scope (2.7, docs/errors.md).
  CAF_REQUIRE_EQUAL(events.count("onscopeerror"), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    auto what = std::string{"onscopeerror "} + scopes[i];
    auto error = events.context_of("onscopeerror", i);
    CAF_CHECK(exact_keys(error, {"errorCode", "errorMessage", "errorInfo"}, what));
    expect_string(error, "errorCode", "1016", what);
    CAF_CHECK(error["errorMessage"].is_string() && !text_of(error["errorMessage"]).empty());
    auto info = error["errorInfo"];
    expect_string(info, "currentScope", scopes[i], what + ".errorInfo");
    expect_number(info, "opstatus", 1016, what + ".errorInfo");
  }

  // onsyncerror: 7022 with errorInfo {<scope>: that scope's error}.
  CAF_REQUIRE_EQUAL(events.count("onsyncerror"), 1u);
  auto sync_error = events.context_of("onsyncerror");
  CAF_CHECK(exact_keys(sync_error, {"errorCode", "errorMessage", "errorInfo"}, "onsyncerror"));
  expect_string(sync_error, "errorCode", "7022", "onsyncerror");
  expect_string(sync_error, "errorMessage", "Error occurred while syncing one or more scopes",
                "onsyncerror");
  auto per_scope = sync_error["errorInfo"];
  CAF_CHECK(exact_keys(per_scope, {"TicketScope", "CatalogScope"}, "onsyncerror.errorInfo"));
  for (std::size_t i = 0; i < 2; ++i) {
    auto entry = per_scope[scopes[i]];
    CAF_CHECK(exact_keys(entry, {"errorCode", "errorMessage", "errorInfo"},
                         std::string{"onsyncerror.errorInfo."} + scopes[i]));
    expect_string(entry, "errorCode", "1016", std::string{"onsyncerror.errorInfo."} + scopes[i]);
    auto scope_error = events.context_of("onscopeerror", i);
    auto equal = entry == scope_error;
    CAF_CHECK(equal);
  }
  CAF_CHECK_EQUAL(outcome.error().code, 7022);
  // The order: the scope errors before the session error, which comes last.
  std::lock_guard<std::mutex> lock{events.mutex};
  CAF_CHECK_EQUAL(events.events.back(), "onsyncerror");
}

CAF_TEST(a scope without download ends with the upload state in onscopesuccess) {
  sync_server server{"ctx-upload-only"};
  auto device = make_device("ctx-upload-only");
  sync_ok(*device, server.session());
  for (auto& row : work_orders("CLI", 2))
    CAF_REQUIRE(device->object("WorkOrder").create(row).ok());
  recorder events;
  auto keys = server.session();
  keys.sessiontasks = std::map<std::string, session_task>{
    {persistent_scope, session_task{true, false, std::nullopt}}};
  events.attach(keys);
  sync_ok(*device, keys);
  dump(events);
  CAF_CHECK_EQUAL(events.count("onuploadsuccess"), 1u);
  CAF_CHECK_EQUAL(events.count("ondownloadstart"), 0u);
  CAF_REQUIRE_EQUAL(events.count("onscopesuccess"), 1u);
  // With dodownload false, onscopesuccess follows the upload (docs/callbacks.md 1.5, 2.2).
  auto upload_blob = text_of(meta_info(*device, persistent_scope, "lastserveruploadsynccontext"));
  auto sequence = number_of(meta_info(*device, persistent_scope, "versionnumber"));
  CAF_CHECK(!upload_blob.empty());
  for (const char* name : {"onscopesuccess", "onsyncsuccess"}) {
    auto context = events.context_of(name);
    // serverDetails: of the last upload answer.
    CAF_CHECK(exact_keys(context, with(scope_end_keys, {"uploadsequencenumber", "serverDetails"}), name));
    expect_server_details(context, name);
    expect_urls(context, server, name);
    expect_string(context, "currentScope", persistent_scope, name);
    expect_string(context, "lastsynctimestamp", upload_blob, name);
    expect_number(context, "uploadsequencenumber", sequence, name);
  }
}
