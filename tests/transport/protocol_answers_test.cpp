// Answer parsers against the responses the real client accepted, the error mapping
// of docs/protocol.md 1.9 and chunk reassembly (1.6).
#define CAF_SUITE protocol_answers
#include <caf/test/unit_test.hpp>

#include "fixture_records.hpp"
#include "transport/json_depth.hpp"
#include "transport/password_hash.hpp"
#include "transport/protocol_codec.hpp"

#include <algorithm>
#include <cctype>

using namespace mxsync::transport;
using nlohmann::json;

namespace {

std::string response_of(const std::vector<nlohmann::ordered_json>& records, int seq) {
  return mxsync::test::record(records, seq).at("response").dump();
}

std::string text(const column_value* value) {
  if (value == nullptr || !std::holds_alternative<std::string>(*value))
    return "<not text>";
  return std::get<std::string>(*value);
}

const server_details recorder{"recorder.local", "127.0.0.1"};

/// By value: CAF's check macros keep references, so never a member of a temporary.
template <class T>
int error_code_of(const result<T>& outcome) {
  return outcome.has_value() ? 0 : outcome.error().code;
}

} // namespace

// --- recorded answers ----------------------------------------------------------

CAF_TEST(every recorded answer parses) {
  for (const char* name : {"sc13-first-session.jsonl", "sc13-download-batches.jsonl", "sc13-ack.jsonl",
                           "sc13-ota-ack.jsonl", "sc13-reconcile.jsonl"}) {
    for (const auto& rec : mxsync::test::load_recording(name)) {
      auto path = rec.at("path").get<std::string>();
      auto body = rec.at("response").dump();
      CAF_MESSAGE(name << " seq " << rec.at("seq").get<int>() << " " << path);
      if (path.ends_with("registerdevice")) {
        CAF_CHECK(parse_register_answer(body).has_value());
      } else if (path.ends_with("upload")) {
        CAF_CHECK(parse_upload_answer(body).has_value());
      } else {
        auto answer = parse_download_answer(body);
        CAF_REQUIRE(answer.has_value());
        CAF_CHECK(!answer->error_after_rows);
        CAF_CHECK(answer->server == recorder);
      }
    }
  }
}

CAF_TEST(register answer gives the instance id and server details) {
  auto records = mxsync::test::load_recording("sc13-first-session.jsonl");
  auto answer = parse_register_answer(response_of(records, 1));
  CAF_REQUIRE(answer.has_value());
  CAF_CHECK_EQUAL(answer->instance_id, "rec-instance-0001");
  CAF_CHECK(answer->server == recorder);
  CAF_CHECK(!answer->session);
}

CAF_TEST(persistent upload answer has a serverblob and no acks) {
  auto records = mxsync::test::load_recording("sc13-first-session.jsonl");
  auto answer = parse_upload_answer(response_of(records, 2));
  CAF_REQUIRE(answer.has_value());
  CAF_CHECK_EQUAL(answer->server_blob, "up-0-3");
  CAF_CHECK(answer->ack_rows.empty());
  CAF_CHECK(answer->server_rows.empty());
}

CAF_TEST(OTA upload answer carries ack rows) {
  auto records = mxsync::test::load_recording("sc13-ota-ack.jsonl");
  auto answer = parse_upload_answer(response_of(records, 2));
  CAF_REQUIRE(answer.has_value());
  CAF_CHECK(answer->server_rows.empty());
  CAF_REQUIRE_EQUAL(answer->ack_rows.size(), 3u);
  const auto& ack = answer->ack_rows[0];
  CAF_CHECK_EQUAL(ack.object_type, "WorkOrder");
  CAF_CHECK_EQUAL(ack.change_type, "update");
  CAF_CHECK_EQUAL(ack.merged_with_eis.value_or(""), "1");
  CAF_CHECK_EQUAL(ack.hashsum.value_or(""), "acked-CLI-1");
  CAF_CHECK_EQUAL(ack.replay_sequence.value_or(-1), 1);
  CAF_CHECK_EQUAL(ack.version_number.value_or(-1), 0);
  CAF_CHECK_EQUAL(text(find_column(ack.columns, "orderId")), "CLI-1");
  CAF_CHECK(std::holds_alternative<std::monostate>(*find_column(ack.columns, "endDate")));
  // The konysync* bookkeeping is lifted out of the data columns.
  CAF_CHECK(find_column(ack.columns, "konysynchashsum") == nullptr);
  CAF_CHECK(find_column(ack.columns, "konysyncMergedWithEIS") == nullptr);
}

CAF_TEST(download batches report serverblob moreChangesAvailable and pendingBatches) {
  auto records = mxsync::test::load_recording("sc13-download-batches.jsonl");
  auto first = parse_download_answer(response_of(records, 3));
  CAF_REQUIRE(first.has_value());
  CAF_CHECK_EQUAL(first->server_rows.size(), 3u);
  CAF_CHECK(first->ack_rows.empty());
  CAF_CHECK_EQUAL(first->server_blob, "dl-1");
  CAF_CHECK(first->more_changes_available);
  CAF_CHECK_EQUAL(first->pending_batches.value_or(-1), 1);
  const auto& row = first->server_rows[0];
  CAF_CHECK_EQUAL(row.object_type, "WorkOrder");
  CAF_CHECK_EQUAL(row.change_type, "update");
  CAF_CHECK_EQUAL(row.hashsum.value_or(""), "hash-SRV-1-1");
  CAF_CHECK_EQUAL(text(find_column(row.columns, "orderId")), "SRV-1-1");
  CAF_CHECK(!row.is_ack());

  auto last = parse_download_answer(response_of(records, 4));
  CAF_REQUIRE(last.has_value());
  CAF_CHECK_EQUAL(last->server_blob, "dl-2");
  CAF_CHECK(!last->more_changes_available);
  CAF_CHECK_EQUAL(last->pending_batches.value_or(-1), 0);
}

CAF_TEST(persistent acks arrive in a download and are split from server rows) {
  auto records = mxsync::test::load_recording("sc13-ack.jsonl");
  auto acks = parse_download_answer(response_of(records, 5));
  CAF_REQUIRE(acks.has_value());
  CAF_CHECK(acks->server_rows.empty());
  CAF_REQUIRE_EQUAL(acks->ack_rows.size(), 2u);
  CAF_CHECK_EQUAL(acks->ack_rows[0].change_type, "update");
  CAF_CHECK_EQUAL(acks->ack_rows[0].replay_sequence.value_or(-1), 5);
  CAF_CHECK_EQUAL(acks->ack_rows[1].object_type, "Part");
  CAF_CHECK_EQUAL(acks->ack_rows[1].change_type, "delete");
  CAF_CHECK_EQUAL(acks->ack_rows[1].change_type_code.value_or(-1), 2);
  CAF_CHECK_EQUAL(acks->server_blob, "dl-1");
}

CAF_TEST(reconciliation answers carry rows without a change type) {
  auto records = mxsync::test::load_recording("sc13-reconcile.jsonl");
  auto pks = parse_download_answer(response_of(records, 4));
  CAF_REQUIRE(pks.has_value());
  CAF_CHECK_EQUAL(pks->server_rows.size(), 6u);
  CAF_CHECK_EQUAL(pks->server_rows[0].change_type, "");
  CAF_CHECK_EQUAL(pks->server_rows[0].columns.size(), 1u);
  CAF_CHECK_EQUAL(pks->server_blob, "pk-6");
  auto rows = parse_download_answer(response_of(records, 5));
  CAF_REQUIRE(rows.has_value());
  CAF_REQUIRE_EQUAL(rows->server_rows.size(), 1u);
  CAF_CHECK(!rows->server_rows[0].hashsum); // bulkGet rows have no hashsum (8.11)
}

CAF_TEST(session ids upload errors and client keys are read) {
  auto answer = parse_download_answer(R"({"opstatus":0,"d":{"error":"false","results":[
      {"__metadata":{"type":"Media","changeType":"update","errorMessage":"bad","errorRootCause":"fk",
                     "intermediateErrors":["e1"]},
       "id":42,"konysyncClientid":-1,"konysyncMergedWithEIS":0,"konysyncreplaysequence":"7",
       "flag":true,"ratio":0.5,"blob":{"a":1}}],
     "__sync":{"serverblob":"b","moreChangesAvailable":"TRUE","pendingBatches":"3",
               "UploadErrors":[{"k1":{"primaryKeys":{"id":-2},"type":"Media","errorMessage":"dup"}}]},
     "__session":{"id":"s-1","requestnumber":5}}})");
  CAF_REQUIRE(answer.has_value());
  CAF_CHECK(answer->more_changes_available);
  CAF_CHECK_EQUAL(answer->pending_batches.value_or(-1), 3);
  CAF_REQUIRE(answer->session.has_value());
  CAF_CHECK(*answer->session == (session_info{"s-1", "5"}));
  CAF_REQUIRE_EQUAL(answer->ack_rows.size(), 1u);
  const auto& ack = answer->ack_rows[0];
  CAF_CHECK_EQUAL(ack.merged_with_eis.value_or(""), "0");
  CAF_CHECK_EQUAL(ack.replay_sequence.value_or(-1), 7);
  CAF_CHECK_EQUAL(ack.error_message.value_or(""), "bad");
  CAF_CHECK_EQUAL(ack.error_root_cause.value_or(""), "fk");
  CAF_CHECK_EQUAL(ack.intermediate_errors, std::vector<std::string>{"e1"});
  CAF_REQUIRE_EQUAL(ack.client_keys.size(), 1u);
  CAF_CHECK_EQUAL(ack.client_keys[0].first, "id");
  CAF_CHECK(std::get<std::int64_t>(ack.client_keys[0].second) == -1);
  CAF_CHECK(std::get<std::int64_t>(*find_column(ack.columns, "id")) == 42);
  CAF_CHECK(std::get<std::int64_t>(*find_column(ack.columns, "flag")) == 1);
  CAF_CHECK(std::get<double>(*find_column(ack.columns, "ratio")) == 0.5);
  CAF_CHECK_EQUAL(text(find_column(ack.columns, "blob")), R"({"a":1})");
  CAF_REQUIRE_EQUAL(answer->upload_errors.size(), 1u);
  CAF_CHECK_EQUAL(answer->upload_errors[0].key, "k1");
  CAF_CHECK_EQUAL(answer->upload_errors[0].object_type, "Media");
  CAF_CHECK_EQUAL(answer->upload_errors[0].error_message, "dup");
  CAF_CHECK(std::get<std::int64_t>(answer->upload_errors[0].primary_keys.at(0).second) == -2);
}

CAF_TEST(moreChangesAvailable accepts booleans and strings) {
  CAF_CHECK(is_true_flag(json("true")));
  CAF_CHECK(is_true_flag(json("True")));
  CAF_CHECK(is_true_flag(json(true)));
  CAF_CHECK(!is_true_flag(json("false")));
  CAF_CHECK(!is_true_flag(json(false)));
  CAF_CHECK(!is_true_flag(json(nullptr)));
  CAF_CHECK(!is_true_flag(json(1)));
  for (const char* more : {R"("true")", "true"}) {
    auto answer = parse_download_answer(
      std::string{R"({"d":{"error":"false","results":[],"__sync":{"serverblob":"x","moreChangesAvailable":)"}
      + more + "}}}");
    CAF_REQUIRE(answer.has_value());
    CAF_CHECK(answer->more_changes_available);
  }
  for (const char* more : {R"("false")", "false"}) {
    auto answer = parse_download_answer(
      std::string{R"({"d":{"error":"false","results":[],"__sync":{"serverblob":"x","moreChangesAvailable":)"}
      + more + "}}}");
    CAF_REQUIRE(answer.has_value());
    CAF_CHECK(!answer->more_changes_available);
  }
}

// --- error mapping (1.9) --------------------------------------------------------

CAF_TEST(error mapping table) {
  struct row {
    const char* body;
    operation op;
    int code;
    const char* message;
  };
  const row table[] = {
    // network / platform layer: errorCode = opstatus
    {R"({"opstatus":1012,"errmsg":"Request Failed"})", operation::download, 1012, "Request Failed"},
    {R"({"opstatus":"1014"})", operation::upload, 1014, "Request timed out"},
    // application layer with a numeric errcode
    {R"({"opstatus":0,"d":{"error":"true","errcode":1001,"msg":"Invalid userID/password"}})",
     operation::register_device, 1001, "Invalid userID/password"},
    {R"({"d":{"error":"true","errcode":"1004","msg":"unknown app"}})", operation::download, 1004, "unknown app"},
    // textual errcodes keep the operation's code; the errcode goes into errorInfo
    {R"({"d":{"error":"true","errcode":"SY3001E","msg":"version"}})", operation::upload, 7020, "version"},
    {R"({"d":{"error":"true","errcode":"SY0000E","msg":"bad"}})", operation::download, 7021, "bad"},
    {R"({"d":{"error":"true","errcode":"SY0000E"}})", operation::register_device, 8888,
     "Unknown Error from the server"},
    // no errcode at all
    {R"({"d":{"error":"true"}})", operation::upload, 7020, "Error occurred in Uploading changes to Server"},
    {R"({"d":{"error":"true","msg":"m"}})", operation::reconcile, 7021, "m"},
    {R"({"d":{"error":"true"}})", operation::other, 8888, "Unknown Error from the server"},
  };
  for (const auto& entry : table) {
    CAF_MESSAGE(entry.body);
    auto answer = parse_answer_json(entry.body);
    CAF_REQUIRE(answer.has_value());
    auto error = answer_error(answer.value(), entry.op);
    CAF_REQUIRE(error.has_value());
    CAF_CHECK_EQUAL(error->code, entry.code);
    CAF_CHECK_EQUAL(error->message, entry.message);
  }
  // No error: opstatus 0 or absent and d.error "false" or absent.
  for (const char* fine : {R"({"opstatus":0,"d":{"error":"false"}})", R"({"d":{}})", R"({"opstatus":"0"})"})
    CAF_CHECK(!answer_error(parse_answer_json(fine).value(), operation::download));
}

CAF_TEST(error details carry errcode stacktrace server and versions) {
  auto error = answer_error(json::parse(R"({"opstatus":0,"d":{"error":"true","errcode":"SY3001E",
      "msg":"Application version is not the latest","stacktrace":"at x","mfcode":"Auth-5",
      "newapplicationversion":"v2","oldapplicationversion":"v1",
      "server":{"hostName":"h","ipAddress":"10.0.0.1"}}})"),
                            operation::upload);
  CAF_REQUIRE(error.has_value());
  CAF_CHECK_EQUAL(error->code, 7020);
  CAF_CHECK_EQUAL(error->server_errcode().value_or(""), "SY3001E");
  CAF_CHECK_EQUAL(error->info.at("stacktrace").get<std::string>(), "at x");
  CAF_CHECK_EQUAL(error->new_application_version.value_or(""), "v2");
  CAF_CHECK_EQUAL(error->old_application_version.value_or(""), "v1");
  CAF_CHECK_EQUAL(error->mfcode.value_or(""), "Auth-5");
  CAF_CHECK(error->server == (server_details{"h", "10.0.0.1"}));
  auto api = error->to_sync_error();
  CAF_CHECK_EQUAL(api.code, 7020);
  CAF_CHECK_EQUAL(api.info.at("errcode").get<std::string>(), "SY3001E");
  CAF_CHECK_EQUAL(api.info.at("serverDetails").at("hostName").get<std::string>(), "h");
  CAF_CHECK_EQUAL(api.info.at("newApplicationVersion").get<std::string>(), "v2");
  // camelCase spellings are read too
  auto camel = answer_error(json::parse(R"({"d":{"error":"true","newApplicationVersion":"n"}})"),
                            operation::download);
  CAF_CHECK_EQUAL(camel->new_application_version.value_or(""), "n");
  // numeric errcode: no textual server errcode
  auto numeric = answer_error(json::parse(R"({"d":{"error":"true","errcode":1001}})"), operation::upload);
  CAF_CHECK(!numeric->server_errcode());
}

CAF_TEST(a body that is not a JSON object is 1013) {
  for (const char* body : {"", "<html>502 Bad Gateway</html>", "[1,2]", "\"text\"", "{\"d\":"}) {
    CAF_MESSAGE("body: " << body);
    auto answer = parse_download_answer(std::string_view{body});
    CAF_REQUIRE(!answer.has_value());
    CAF_CHECK_EQUAL(error_code_of(answer), 1013);
    CAF_CHECK(!parse_upload_answer(body).has_value());
    CAF_CHECK_EQUAL(error_code_of(parse_register_answer(body)), 1013);
  }
}

CAF_TEST(parsers report errors with the operation code) {
  auto upload = parse_upload_answer(R"({"opstatus":0,"d":{"error":"true","msg":"nope",
                                      "server":{"hostName":"h","ipAddress":"i"}}})");
  CAF_REQUIRE(!upload.has_value());
  CAF_CHECK_EQUAL(error_code_of(upload), 7020);
  CAF_CHECK(upload.error().server == (server_details{"h", "i"}));
  // A success answer without the mandatory part is malformed.
  CAF_CHECK_EQUAL(error_code_of(parse_upload_answer(R"({"d":{"error":"false"}})")), 7020);
  CAF_CHECK_EQUAL(error_code_of(parse_register_answer(R"({"d":{"error":"false"}})")), 8888);
  CAF_CHECK_EQUAL(error_code_of(parse_download_answer(R"({"opstatus":0})")), 7021);
  CAF_CHECK_EQUAL(error_code_of(parse_download_answer(R"({"opstatus":1016,"errmsg":"x"})")), 1016);
  auto failed = parse_download_answer(R"({"d":{"error":"true","errcode":"SY0000E","msg":"Strategy mismatch"}})");
  CAF_REQUIRE(!failed.has_value());
  CAF_CHECK_EQUAL(error_code_of(failed), 7021);
  CAF_CHECK_EQUAL(failed.error().message, "Strategy mismatch");
}

CAF_TEST(a download error with rows keeps the rows and the error) {
  auto answer = parse_download_answer(R"({"opstatus":0,"d":{"error":"true","msg":"half",
      "results":[{"__metadata":{"type":"T","changeType":"update"},"id":"1"}],
      "__sync":{"serverblob":"b2"}}})");
  CAF_REQUIRE(answer.has_value());
  CAF_CHECK_EQUAL(answer->server_rows.size(), 1u);
  CAF_REQUIRE(answer->error_after_rows.has_value());
  CAF_CHECK_EQUAL(answer->error_after_rows->code, 7021);
  CAF_CHECK_EQUAL(answer->error_after_rows->message, "half");
}

CAF_TEST(network errors carry the documented messages) {
  for (int code : {1000, 1011, 1012, 1013, 1014, 1015, 1016, 1022, 1200}) {
    auto error = network_error(code, "detail");
    CAF_CHECK_EQUAL(error.code, code);
    CAF_CHECK(!error.message.empty());
    CAF_CHECK_EQUAL(error.info.at("opstatus").get<int>(), code);
  }
}

// --- chunking (1.6) ---------------------------------------------------------------

namespace {

std::string upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return text;
}

const std::string chunk_payload =
  R"({"opstatus":0,"d":{"error":"false","results":[)"
  R"({"__metadata":{"type":"WorkOrder","changeType":"update"},"orderId":"C-1","konysynchashsum":"h1"},)"
  R"({"__metadata":{"type":"WorkOrder","changeType":"delete"},"orderId":"C-2"}],)"
  R"("__sync":{"serverblob":"chunked-1","moreChangesAvailable":"false","pendingBatches":0}}})";

std::vector<std::string> split(const std::string& text, std::size_t parts) {
  std::vector<std::string> out;
  std::size_t size = (text.size() + parts - 1) / parts;
  for (std::size_t at = 0; at < text.size(); at += size)
    out.push_back(text.substr(at, size));
  return out;
}

} // namespace

CAF_TEST(the first chunked answer announces payload chunk count and checksum) {
  auto chunks = split(chunk_payload, 3);
  json first = {{"opstatus", 0},
                {"d", {{"error", "false"},
                       {"chunkdata", chunks[0]},
                       {"__sync", {{"payloadid", "p-1"}, {"chunkcount", "3"},
                                   {"checksum", sha256_hex(chunk_payload)}}}}}};
  auto answer = parse_download_answer(first.dump());
  CAF_REQUIRE(answer.has_value());
  CAF_REQUIRE(answer->chunking.has_value());
  CAF_CHECK_EQUAL(answer->chunking->payload_id, "p-1");
  CAF_CHECK_EQUAL(answer->chunking->chunk_count, 3u);
  CAF_CHECK_EQUAL(answer->chunking->first_chunk, chunks[0]);
  json next = {{"opstatus", 0}, {"d", {{"error", "false"}, {"chunkdata", chunks[1]}}}};
  auto data = parse_download_chunk_answer(next.dump());
  CAF_REQUIRE(data.has_value());
  CAF_CHECK_EQUAL(data.value(), chunks[1]);
  CAF_CHECK_EQUAL(error_code_of(parse_download_chunk_answer(R"({"d":{"error":"true","errcode":"SY3008E"}})")),
                  7021);
  CAF_CHECK(!parse_download_chunk_answer(R"({"d":{"error":"false"}})").has_value());
}

CAF_TEST(chunks reassemble with a good checksum in any case) {
  auto chunks = split(chunk_payload, 3);
  CAF_REQUIRE_EQUAL(chunks.size(), 3u);
  auto checksum = upper(sha256_hex(chunk_payload));
  auto answer = assemble_chunks(chunks, checksum);
  CAF_REQUIRE(answer.has_value());
  CAF_CHECK_EQUAL(answer->server_rows.size(), 2u);
  CAF_CHECK_EQUAL(answer->server_blob, "chunked-1");
  CAF_CHECK(!answer->more_changes_available);
  std::map<std::uint32_t, std::string> stored{{3, chunks[2]}, {1, chunks[0]}, {2, chunks[1]}};
  auto from_store = assemble_chunks(stored, 3, sha256_hex(chunk_payload));
  CAF_REQUIRE(from_store.has_value());
  CAF_CHECK_EQUAL(from_store->server_rows[1].change_type, "delete");
  // A payload without the {"d": ...} envelope is accepted too.
  std::string bare = R"({"error":"false","results":[],"__sync":{"serverblob":"z"}})";
  auto unwrapped = assemble_chunks(std::vector<std::string>{bare}, sha256_hex(bare));
  CAF_REQUIRE(unwrapped.has_value());
  CAF_CHECK_EQUAL(unwrapped->server_blob, "z");
}

CAF_TEST(bad checksums missing chunks and broken payloads are 7024) {
  auto chunks = split(chunk_payload, 3);
  auto checksum = sha256_hex(chunk_payload);
  std::vector<std::string> swapped{chunks[1], chunks[0], chunks[2]};
  CAF_CHECK_EQUAL(error_code_of(assemble_chunks(swapped, checksum)), 7024);
  CAF_CHECK_EQUAL(error_code_of(assemble_chunks(chunks, std::string(64, '0'))), 7024);
  std::map<std::uint32_t, std::string> gap{{1, chunks[0]}, {3, chunks[2]}};
  CAF_CHECK_EQUAL(error_code_of(assemble_chunks(gap, 3, checksum)), 7024);
  std::string broken = R"({"d":)";
  CAF_CHECK_EQUAL(error_code_of(assemble_chunks(std::vector<std::string>{broken}, sha256_hex(broken))), 7024);
}

CAF_TEST(answers nesting deeper than the bound are 1013 before they are parsed) {
  CAF_CHECK_EQUAL(json_depth(R"({"a":[1,{"b":"[[[[\"{{"}]})"), 3u); // brackets in strings do not count
  CAF_CHECK_EQUAL(json_depth("[[]][[[]]]"), 3u);
  CAF_CHECK(!too_deep(std::string(64, '[') + std::string(64, ']')));
  CAF_CHECK(too_deep(std::string(65, '[') + std::string(65, ']')));
  auto deep = "{\"d\":{\"results\":" + std::string(200'000, '[') + std::string(200'000, ']') + "}}";
  auto parsed = parse_answer_json(deep);
  CAF_REQUIRE(!parsed);
  CAF_CHECK_EQUAL(parsed.error().code, 1013);
  CAF_CHECK(parsed.error().to_sync_error().to_json().dump().find("deeper than 64") != std::string::npos);
  auto download = parse_download_answer(deep);
  CAF_REQUIRE(!download);
  CAF_CHECK_EQUAL(download.error().code, 1013);
}
