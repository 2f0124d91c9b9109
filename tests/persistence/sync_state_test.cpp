#define CAF_SUITE sync_state
#include <caf/test/unit_test.hpp>

#include "persistence/sync_state.hpp"
#include "sync_test_fixture.hpp"

using namespace sync_test;
namespace syncdb = mxsync::syncdb;

CAF_TEST_FIXTURE_SCOPE(sync_state_tests, fixture)

CAF_TEST(device registration starts empty and keeps one row) {
  auto before = syncdb::read_device_registration(db);
  CAF_CHECK(!before.device_id);
  CAF_CHECK(!before.registered());
  syncdb::save_device_registration(db, "device-1", "instance-1");
  auto after = syncdb::read_device_registration(db);
  CAF_CHECK_EQUAL(after.device_id.value_or(""), "device-1");
  CAF_CHECK_EQUAL(after.instance_id.value_or(""), "instance-1");
  CAF_CHECK(after.registered());
  syncdb::save_device_registration(db, "device-2", "instance-2");
  CAF_CHECK_EQUAL(count("select count(*) from SyncConfigTable"), 1);
  CAF_CHECK_EQUAL(syncdb::read_device_registration(db).instance_id.value_or(""), "instance-2");
  // The config version written by init stays.
  CAF_CHECK_EQUAL(value("select SyncVersion from SyncConfigTable"), json("1.0"));
}

CAF_TEST(device registration recreates a missing row) {
  db.exec("delete from SyncConfigTable");
  syncdb::save_device_registration(db, "d", "i");
  CAF_CHECK_EQUAL(count("select count(*) from SyncConfigTable where DeviceID = 'd'"), 1);
}

CAF_TEST(filter value text follows the real client) {
  CAF_CHECK_EQUAL(syncdb::filter_value_text(nullptr), "no filter");
  auto filters = json::parse(R"([{"Parent":[{"Name":"id","Value1":"1,2","Value2":""}]}])");
  CAF_CHECK_EQUAL(syncdb::filter_value_text(filters),
                  R"({"d":[{"Parent":[{"Name":"id","Value1":"1,2","Value2":""}]}]})");
}

CAF_TEST(filter value of a scope comes from the session filterparams) {
  auto filterparams = json::parse(R"({"OtaScope":[{"Parent":[{"Name":"id","Value1":"1"}]}]})");
  CAF_CHECK_EQUAL(syncdb::filter_value_for_scope(filterparams, ota_scope),
                  R"({"d":[{"Parent":[{"Name":"id","Value1":"1"}]}]})");
  CAF_CHECK_EQUAL(syncdb::filter_value_for_scope(filterparams, persistent_scope), "no filter");
  CAF_CHECK_EQUAL(syncdb::filter_value_for_scope(nullptr, ota_scope), "no filter");
}

CAF_TEST(a fresh scope starts at sequence zero with empty blobs) {
  auto position = syncdb::read_scope_position(db, config, persistent_scope);
  CAF_CHECK_EQUAL(position.id, 1);
  CAF_CHECK_EQUAL(position.filter_value, "no filter");
  CAF_CHECK_EQUAL(position.upload_sequence, 0);
  CAF_CHECK_EQUAL(position.download_blob, "");
  CAF_CHECK_EQUAL(position.upload_blob, "");
  CAF_CHECK_EQUAL(syncdb::upload_sequence_number(db, config, ota_scope), 0);
}

CAF_TEST(blobs are stored per scope) {
  syncdb::save_download_blob(db, config, ota_scope, "no filter", "dl-1");
  syncdb::save_upload_blob(db, config, ota_scope, "up-1");
  auto ota = syncdb::read_scope_position(db, config, ota_scope);
  CAF_CHECK_EQUAL(ota.download_blob, "dl-1");
  CAF_CHECK_EQUAL(ota.upload_blob, "up-1");
  auto other = syncdb::read_scope_position(db, config, persistent_scope);
  CAF_CHECK_EQUAL(other.download_blob, "");
  CAF_CHECK_EQUAL(other.upload_blob, "");
}

CAF_TEST(each distinct filter value gets its own row) {
  const auto first = syncdb::filter_value_text(json::parse(R"([{"Parent":[{"Name":"a"}]}])"));
  const auto second = syncdb::filter_value_text(json::parse(R"([{"Parent":[{"Name":"b"}]}])"));
  auto a = syncdb::read_scope_position(db, config, ota_scope, first);
  CAF_CHECK_EQUAL(a.id, 2); // after the two scope rows
  CAF_CHECK_EQUAL(a.download_blob, "");
  syncdb::save_download_blob(db, config, ota_scope, first, "dl-a");
  syncdb::save_download_blob(db, config, ota_scope, second, "dl-b");
  auto a_again = syncdb::read_scope_position(db, config, ota_scope, first);
  auto b = syncdb::read_scope_position(db, config, ota_scope, second);
  CAF_CHECK_EQUAL(a_again.id, 2);
  CAF_CHECK_EQUAL(a_again.download_blob, "dl-a");
  CAF_CHECK_EQUAL(b.id, 3);
  CAF_CHECK_EQUAL(b.download_blob, "dl-b");
  // The unfiltered row is untouched; counters stay on it.
  CAF_CHECK_EQUAL(syncdb::read_scope_position(db, config, ota_scope).download_blob, "");
  CAF_CHECK_EQUAL(count("select count(*) from konysyncMETAINFO where scopename = 'OtaScope'"), 3);
  CAF_CHECK_EQUAL(value("select filtervalue from konysyncMETAINFO where id = 2"), json(first));
}

CAF_TEST(scope reset drops the filter rows) {
  syncdb::save_download_blob(db, config, ota_scope, "{\"d\":[]}", "x");
  mxsync::schema::reset_scope(db, config, ota_scope);
  CAF_CHECK_EQUAL(count("select count(*) from konysyncMETAINFO where scopename = 'OtaScope'"), 1);
}

CAF_TEST(the initialized flag is kept per scope) {
  CAF_CHECK(!syncdb::is_scope_initialized(db, ota_scope));
  syncdb::mark_scope_initialized(db, ota_scope);
  CAF_CHECK(syncdb::is_scope_initialized(db, ota_scope));
  CAF_CHECK(!syncdb::is_scope_initialized(db, persistent_scope));
  syncdb::mark_scope_initialized(db, persistent_scope);
  auto details = json::parse(value("select details from konysyncDIAGNOSTICS where id = 1")
                               .get<std::string>());
  CAF_CHECK_EQUAL(details, json::parse(R"({"scopeSettings":{"OtaScope":{"initialize":true},
                                          "PersistScope":{"initialize":true}}})"));
  mxsync::schema::reset_scope(db, config, ota_scope);
  CAF_CHECK(!syncdb::is_scope_initialized(db, ota_scope));
  CAF_CHECK(syncdb::is_scope_initialized(db, persistent_scope));
}

CAF_TEST(a missing diagnostics row is recreated) {
  db.exec("delete from konysyncDIAGNOSTICS");
  CAF_CHECK(!syncdb::is_scope_initialized(db, ota_scope));
  syncdb::mark_scope_initialized(db, ota_scope);
  CAF_CHECK(syncdb::is_scope_initialized(db, ota_scope));
}

CAF_TEST(writes join the caller transaction) {
  {
    mxsync::db::transaction tx{db};
    syncdb::save_upload_blob(db, config, ota_scope, "up-x");
    syncdb::mark_scope_initialized(db, ota_scope);
    // not committed: rolled back with the caller's transaction
  }
  CAF_CHECK_EQUAL(syncdb::read_scope_position(db, config, ota_scope).upload_blob, "");
  CAF_CHECK(!syncdb::is_scope_initialized(db, ota_scope));
}

CAF_TEST(unknown scopes and missing meta rows are reported) {
  CAF_CHECK_EQUAL(error_of([&] { syncdb::read_scope_position(db, config, "Nope"); }), 7030);
  CAF_CHECK_EQUAL(error_of([&] { syncdb::save_upload_blob(db, config, "Nope", "x"); }), 7030);
  db.exec("delete from konysyncMETAINFO where scopename = 'OtaScope'");
  CAF_CHECK_EQUAL(error_of([&] { syncdb::read_scope_position(db, config, ota_scope); }), 7026);
  CAF_CHECK_EQUAL(error_of([&] { syncdb::save_upload_blob(db, config, ota_scope, "x"); }), 7026);
  CAF_CHECK_EQUAL(
    error_of([&] { syncdb::save_download_blob(db, config, ota_scope, "no filter", "x"); }), 7026);
}

CAF_TEST(sql failures become 7019) {
  db.exec("drop table konysyncDIAGNOSTICS");
  CAF_CHECK_EQUAL(error_of([&] { syncdb::mark_scope_initialized(db, ota_scope); }), 7019);
}

CAF_TEST_FIXTURE_SCOPE_END()
