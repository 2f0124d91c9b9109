#define CAF_SUITE session_data
#include <caf/test/unit_test.hpp>

#include "session/forwarding_proxy.hpp"
#include "session/session_support.hpp"

#include <set>

using namespace mxsync;
using namespace mxsync::test;
using json = nlohmann::json;

namespace {

const std::string ota_config = MXSYNC_FIXTURES_DIR "/ota-two-scope-config.json";

result sync_ok(sync_client& device, session_config keys) {
  auto outcome = device.synchronize(std::move(keys));
  if (!outcome.ok())
    CAF_FAIL("session failed: " << outcome.error().to_json().dump());
  device.flush();
  return outcome;
}

std::set<std::string> keys_of(sync_client& device, const std::string& table,
                              const std::string& key) {
  std::set<std::string> out;
  auto rows = device.object(table).getAll();
  for (const auto& row : rows.value())
    out.insert(row[key].is_string() ? row[key].get<std::string>() : row[key].dump());
  return out;
}

} // namespace

CAF_TEST(uploaded rows reach other devices and acknowledgements clear the pending state) {
  sync_server server{"data-ack"};
  CAF_REQUIRE_EQUAL(server.admin("load", json{{"WorkOrder", work_orders("SRV", 40)}}), 0);
  auto a = make_device("data-ack-a");
  for (auto& row : work_orders("CLI", 5))
    CAF_REQUIRE(a->object("WorkOrder").create(row).ok());
  auto pending_before = a->getPendingUpload();
  CAF_CHECK_EQUAL(pending_before.value()["totalCount"], 5);
  sync_ok(*a, server.session());
  auto after_upload = a->getPendingUpload();
  CAF_CHECK_EQUAL(after_upload.value()["totalCount"], 0);
  // Persistent strategy: acks come with a download; one more session collects them all.
  sync_ok(*a, server.session());
  auto acks = a->getPendingAcknowledgement();
  CAF_CHECK_EQUAL(acks.value()["totalCount"], 0);
  CAF_CHECK_EQUAL(count_rows(*a, "WorkOrder"), 45);

  auto b = make_device("data-ack-b");
  sync_ok(*b, server.session());
  CAF_CHECK_EQUAL(count_rows(*b, "WorkOrder"), 45);
  CAF_CHECK(keys_of(*b, "WorkOrder", "orderId").count("CLI-3") == 1);

  // An update and a delete on A reach B.
  CAF_REQUIRE(a->object("WorkOrder").updateByPK("CLI-1", {{"status", "Closed"}}).ok());
  CAF_REQUIRE(a->object("WorkOrder").deleteByPK("CLI-2").ok());
  sync_ok(*a, server.session());
  sync_ok(*b, server.session());
  CAF_CHECK_EQUAL(count_rows(*b, "WorkOrder"), 44);
  auto updated = b->object("WorkOrder").getAllDetailsByPK("CLI-1");
  CAF_REQUIRE_EQUAL(updated.value().size(), 1u);
  auto status = updated.value()[0]["status"];
  CAF_CHECK_EQUAL(status, "Closed");
}

CAF_TEST(same timestamp groups larger than the batch size arrive whole and once) {
  sync_server server{"data-groups"};
  CAF_REQUIRE_EQUAL(server.admin("load", json{{"WorkOrder", work_orders("SRV", 1203)}}), 0);
  auto device = make_device("data-groups");
  recorder events;
  auto keys = server.session();
  keys.batchsize = 10;
  events.attach(keys);
  sync_ok(*device, keys);
  CAF_CHECK_EQUAL(count_rows(*device, "WorkOrder"), 1203);
  CAF_CHECK_EQUAL(keys_of(*device, "WorkOrder", "orderId").size(), 1203u);
  std::int64_t total = 0;
  std::int64_t largest = 0;
  auto batches = events.count("onbatchprocessingsuccess");
  for (std::size_t i = 0; i < batches; ++i) {
    auto context = events.context_of("onbatchprocessingsuccess", i);
    auto rows = context["batchcontext"]["batchrowsdownloaded"].get<std::int64_t>();
    total += rows;
    largest = std::max(largest, rows);
  }
  CAF_CHECK_EQUAL(total, 1203);
  // Rows loaded in one go share change times: such groups exceed batchsize 10.
  CAF_CHECK_GREATER(largest, 10);
  // A second session finds nothing new.
  recorder again;
  auto keys2 = server.session();
  again.attach(keys2);
  sync_ok(*device, keys2);
  auto last = again.context_of("onbatchprocessingsuccess");
  CAF_CHECK_EQUAL(last["batchcontext"]["batchrowsdownloaded"], 0);
}

CAF_TEST(filters download only the matching rows) {
  sync_server server{"data-filter"};
  auto rows = work_orders("SRV", 30);
  for (std::size_t i = 0; i < rows.size(); ++i)
    rows[i]["status"] = i % 3 == 0 ? "Closed" : "Open";
  CAF_REQUIRE_EQUAL(server.admin("load", json{{"WorkOrder", rows}}), 0);
  auto device = make_device("data-filter");
  auto keys = server.session();
  keys.filterparams["FSPersistentScope"] =
    json::array({{{"WorkOrder", json::array({{{"Name", "status"}, {"Value1", "Closed"}}})}}});
  sync_ok(*device, keys);
  CAF_CHECK_EQUAL(count_rows(*device, "WorkOrder"), 10);
  auto open = device->object("WorkOrder").getCount("status = 'Open'");
  CAF_CHECK_EQUAL(open.value()["count"], 0);
  // The filter keeps its own download position.
  auto positions = device->executeSelectQuery(
    "select filtervalue from konysyncMETAINFO where scopename = 'FSPersistentScope'");
  CAF_CHECK_EQUAL(positions.value().size(), 2u);
}

CAF_TEST(a chunked download is fetched chunk by chunk and verified) {
  sync_server server{"data-chunks"};
  CAF_REQUIRE_EQUAL(server.admin("load", json{{"WorkOrder", work_orders("SRV", 300)}}), 0);
  auto device = make_device("data-chunks");
  recorder events;
  auto keys = server.session();
  keys.chunksize = 4; // KB
  events.attach(keys);
  sync_ok(*device, keys);
  CAF_CHECK_EQUAL(count_rows(*device, "WorkOrder"), 300);
  CAF_CHECK_GREATER(events.count("onchunkstart"), 1u);
  CAF_CHECK_EQUAL(events.count("onchunkerror"), 0u);
  auto first = events.context_of("onchunksuccess");
  CAF_CHECK_EQUAL(first["chunkid"], 1);
  CAF_CHECK_GREATER(first["chunkcount"].get<int>(), 1);
  // Chunks are dropped once the batch is stored.
  auto stored = device->executeSelectQuery("select count(*) as n from konysyncCHUNKDATA");
  CAF_CHECK_EQUAL(stored.value()[0]["n"], 0);
}

CAF_TEST(OTA uploads replace autogenerated keys in parents and children) {
  sync_server server{"data-ota", ota_config};
  auto device = make_device("data-ota", ota_config);
  auto tickets = device->object("Ticket");
  auto notes = device->object("TicketNote");
  auto created = tickets.create({{"title", "printer jam"}, {"status", "new"}, {"priority", 2}});
  CAF_REQUIRE(created.ok());
  auto local_id = created.value()["ticketId"];
  CAF_CHECK_LESS(local_id.get<std::int64_t>(), 0);
  CAF_REQUIRE(notes.create({{"ticketId", local_id}, {"body", "first"}, {"billable", true}}).ok());
  CAF_REQUIRE(notes.create({{"ticketId", local_id}, {"body", "second"}, {"minutes", 1.5}}).ok());
  recorder events;
  auto keys = server.session();
  events.attach(keys);
  sync_ok(*device, keys);
  auto all = tickets.getAll();
  CAF_REQUIRE_EQUAL(all.value().size(), 1u);
  auto server_id = all.value()[0]["ticketId"].get<std::int64_t>();
  CAF_CHECK_GREATER(server_id, 0);
  auto children = notes.find(where_clause{"ticketId = ?", {server_id}});
  CAF_CHECK_EQUAL(children.value().size(), 2u);
  for (const auto& note : children.value())
    CAF_CHECK_GREATER(note["noteId"].get<std::int64_t>(), 0);
  auto pending = device->getPendingUpload();
  CAF_CHECK_EQUAL(pending.value()["totalCount"], 0);
  auto unacknowledged = device->getPendingAcknowledgement();
  CAF_CHECK_EQUAL(unacknowledged.value()["totalCount"], 0);
  auto upload = events.context_of("onuploadsuccess");
  CAF_CHECK_EQUAL(upload["uploadcontext"]["rowsinserted"], 3);
  CAF_CHECK_EQUAL(upload["uploadcontext"]["acktotalrows"], 3);
  CAF_CHECK(upload["uploadcontext"]["objectlevelinfo"]["Ticket"].contains("reconciledprimarykeys"));
  // Another device sees the ticket with its notes.
  auto other = make_device("data-ota-b", ota_config);
  sync_ok(*other, server.session());
  auto notes_there = other->object("TicketNote").find(where_clause{"ticketId = ?", {server_id}});
  CAF_CHECK_EQUAL(notes_there.value().size(), 2u);
}

CAF_TEST(acks of several objects in one batch are told apart per object) {
  sync_server server{"data-acks-per-object"};
  auto device = make_device("data-acks-per-object");
  for (auto& row : work_orders("CLI", 2))
    CAF_REQUIRE(device->object("WorkOrder").create(row).ok());
  auto part = device->object("Part").create({{"partId", "P-1"}, {"partName", "valve"}});
  if (!part.ok())
    CAF_FAIL("Part create failed: " << part.error().to_json().dump());
  recorder events;
  auto keys = server.session();
  events.attach(keys);
  sync_ok(*device, keys);
  // Persistent acks come with the download; keys the app gave count as updated acks.
  json acks;
  for (std::size_t i = 0; i < events.count("onbatchprocessingsuccess"); ++i) {
    auto batch = events.context_of("onbatchprocessingsuccess", i)["batchcontext"];
    if (batch.value("acktotalrows", 0) > 0)
      acks = batch;
  }
  CAF_REQUIRE(acks.is_object());
  CAF_CHECK_EQUAL(acks["acktotalrows"], 3);
  CAF_CHECK_EQUAL(acks["ackupdatedrows"], 3);
  auto orders = acks["objectlevelinfo"]["WorkOrder"];
  auto parts = acks["objectlevelinfo"]["Part"];
  CAF_CHECK_EQUAL(orders["acktotalrows"], 2);
  CAF_CHECK_EQUAL(orders["ackupdatedrows"], 2);
  CAF_CHECK_EQUAL(orders["ackinsertedrows"], 0);
  CAF_CHECK_EQUAL(parts["acktotalrows"], 1);
  CAF_CHECK_EQUAL(parts["ackupdatedrows"], 1);
}

CAF_TEST(a server change never overwrites a row with pending local changes) {
  sync_server server{"data-pending-kept"};
  CAF_REQUIRE_EQUAL(server.admin("load", json{{"WorkOrder", work_orders("SRV", 3)}}), 0);
  auto device = make_device("data-pending-kept");
  sync_ok(*device, server.session());
  auto orders = device->object("WorkOrder");
  CAF_REQUIRE(orders.updateByPK("SRV-1", {{"orderDesc", "changed on the device"}}).ok());
  CAF_REQUIRE_EQUAL(server.admin("upsert", json{{"WorkOrder", json::array({{{"orderId", "SRV-1"}, {"orderDesc", "changed on the server"}},
                                                                          {{"orderId", "SRV-2"}, {"orderDesc", "changed on the server"}}})}}),
                    0);
  // Download only: the local change stays pending while the server's changes arrive.
  auto download_only = server.session();
  download_only.sessiontasks = std::map<std::string, session_task>{{"FSPersistentScope", {false, true, std::nullopt}}};
  sync_ok(*device, download_only);
  auto desc_of = [&orders](const std::string& id) {
    auto rows = orders.getAllDetailsByPK(id);
    return rows.ok() && rows.value().size() == 1 ? rows.value()[0]["orderDesc"] : json{};
  };
  CAF_CHECK_EQUAL(desc_of("SRV-1"), "changed on the device");
  CAF_CHECK_EQUAL(desc_of("SRV-2"), "changed on the server");
  auto pending = device->getPendingUpload();
  CAF_CHECK_EQUAL(pending.value()["totalCount"], 1);
  // The next full session uploads it; the device still has its own value.
  sync_ok(*device, server.session());
  CAF_CHECK_EQUAL(desc_of("SRV-1"), "changed on the device");
  auto none = device->getPendingUpload();
  CAF_CHECK_EQUAL(none.value()["totalCount"], 0);
}

CAF_TEST(onuploadbatchstart may replace the parameters of each upload batch) {
  sync_server server{"data-batch-params"};
  auto device = make_device("data-batch-params");
  for (auto& row : work_orders("CLI", 3))
    CAF_REQUIRE(device->object("WorkOrder").create(row).ok());
  forwarding_proxy proxy;
  auto keys = server.session();
  keys.uploadbatchsize = 1;
  keys.invokeservicefunction = proxy.function();
  std::atomic<int> batch{0};
  keys.onuploadbatchstart = [&batch](const json& context) -> json {
    auto params = context["uploadRequest"];
    params["clientcontext"] = {{"BATCH", std::to_string(++batch)}};
    return params;
  };
  sync_ok(*device, keys);
  auto uploads = calls_to(proxy.calls(), "upload");
  CAF_REQUIRE_EQUAL(uploads.size(), 3u);
  for (std::size_t i = 0; i < uploads.size(); ++i) {
    auto context = json::parse(uploads[i]["clientcontext"].get<std::string>());
    CAF_CHECK_EQUAL(context["BATCH"], std::to_string(i + 1));
  }
  auto left = device->getPendingUpload();
  CAF_CHECK_EQUAL(left.value()["totalCount"], 0);
}
