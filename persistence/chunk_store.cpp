#include "persistence/chunk_store.hpp"

#include "mxsync/error.hpp"

namespace mxsync::syncdb {

namespace {

// konysyncCHUNKMETAINFO.chunkacknowledged: 0 while chunks arrive, 1 once the payload
// was applied and only the server still has to hear of it (deletechunkpayloadid).
constexpr int payload_receiving = 0;
constexpr int payload_finished = 1;

template <class Work>
decltype(auto) with_chunk_errors(const char* operation, Work&& work) {
  try {
    return std::forward<Work>(work)();
  } catch (const db::sqlite_error& error) {
    throw sync_exception(error_code::chunking,
                         "Error occurred while downloading one or more chunks.",
                         {{"operation", operation}, {"sqlite", error.what()}});
  }
}

chunk_payload read_payload(const db::statement& stmt) {
  chunk_payload out;
  out.payload_id = stmt.column_text(0);
  out.chunk_count = stmt.is_null(1) ? 0 : static_cast<std::uint32_t>(stmt.column_int64(1));
  out.checksum = stmt.is_null(2) ? std::string{} : stmt.column_text(2);
  out.finished = !stmt.is_null(3) && stmt.column_int64(3) == payload_finished;
  return out;
}

constexpr const char* payload_columns = "payloadid, chunkcount, chunkhashsum, chunkacknowledged";

void delete_chunks(db::connection& db, const std::string& scope, const std::string& payload_id) {
  auto& stmt = db.cached("delete from konysyncCHUNKDATA where scopename = ? and payloadid = ?");
  stmt.bind(1, scope).bind(2, payload_id);
  stmt.run();
  stmt.reset();
}

} // namespace

void begin_payload(db::connection& db, const std::string& scope, const std::string& payload_id,
                   std::uint32_t chunk_count, const std::string& checksum) {
  with_chunk_errors("begin chunked payload", [&] {
    db::transaction tx{db};
    auto& stale = db.cached("delete from konysyncCHUNKDATA where scopename = ?1 and payloadid "
                            "<> ?2 and payloadid in (select payloadid from konysyncCHUNKMETAINFO "
                            "where scopename = ?1 and coalesce(chunkacknowledged, 0) = 0)");
    stale.bind(1, scope).bind(2, payload_id);
    stale.run();
    stale.reset();
    auto& stale_meta = db.cached("delete from konysyncCHUNKMETAINFO where scopename = ? and "
                                 "payloadid <> ? and coalesce(chunkacknowledged, 0) = 0");
    stale_meta.bind(1, scope).bind(2, payload_id);
    stale_meta.run();
    stale_meta.reset();
    auto& stmt = db.cached(
      "insert into konysyncCHUNKMETAINFO (payloadid, scopename, chunkacknowledged, chunksize, "
      "chunkcount, chunkhashsum, chunkdiscarded) values (?, ?, 0, NULL, ?, ?, 0) "
      "on conflict(payloadid, scopename) do update set chunkcount = excluded.chunkcount, "
      "chunkhashsum = excluded.chunkhashsum, chunkacknowledged = 0, chunkdiscarded = 0");
    stmt.bind(1, payload_id).bind(2, scope).bind(3, static_cast<std::int64_t>(chunk_count));
    stmt.bind(4, checksum);
    stmt.run();
    stmt.reset();
    tx.commit();
  });
}

void store_chunk(db::connection& db, const std::string& scope, const std::string& payload_id,
                 std::uint32_t chunk_number, const std::string& data) {
  with_chunk_errors("store chunk", [&] {
    db::transaction tx{db};
    auto& stmt = db.cached("insert or replace into konysyncCHUNKDATA (chunkid, payloadid, "
                           "scopename, chunkdata, timestamp) values (?, ?, ?, ?, "
                           "strftime('%Y-%m-%d %H:%M:%f','now'))");
    stmt.bind(1, static_cast<std::int64_t>(chunk_number)).bind(2, payload_id).bind(3, scope);
    stmt.bind(4, data);
    stmt.run();
    stmt.reset();
    tx.commit();
  });
}

std::optional<chunk_payload> find_payload(db::connection& db, const std::string& scope,
                                          const std::string& payload_id) {
  return with_chunk_errors("read chunked payload", [&] {
    auto& stmt = db.cached(std::string{"select "} + payload_columns
                           + " from konysyncCHUNKMETAINFO where scopename = ? and payloadid = ?");
    stmt.bind(1, scope).bind(2, payload_id);
    std::optional<chunk_payload> out;
    if (stmt.step())
      out = read_payload(stmt);
    stmt.reset();
    return out;
  });
}

std::optional<chunk_payload> unfinished_payload(db::connection& db, const std::string& scope) {
  return with_chunk_errors("read chunked payload", [&] {
    auto& stmt = db.cached(std::string{"select "} + payload_columns
                           + " from konysyncCHUNKMETAINFO where scopename = ? and "
                             "coalesce(chunkacknowledged, 0) = "
                           + std::to_string(payload_receiving) + " limit 1");
    stmt.bind(1, scope);
    std::optional<chunk_payload> out;
    if (stmt.step())
      out = read_payload(stmt);
    stmt.reset();
    return out;
  });
}

std::optional<std::string> payload_to_acknowledge(db::connection& db, const std::string& scope) {
  return with_chunk_errors("read chunked payload", [&] {
    auto& stmt = db.cached("select payloadid from konysyncCHUNKMETAINFO where scopename = ? and "
                           "chunkacknowledged = "
                           + std::to_string(payload_finished) + " limit 1");
    stmt.bind(1, scope);
    std::optional<std::string> out;
    if (stmt.step())
      out = stmt.column_text(0);
    stmt.reset();
    return out;
  });
}

std::map<std::uint32_t, std::string> load_chunks(db::connection& db, const std::string& scope,
                                                 const std::string& payload_id) {
  return with_chunk_errors("load chunks", [&] {
    auto& stmt = db.cached("select chunkid, chunkdata from konysyncCHUNKDATA where scopename = ? "
                           "and payloadid = ? order by chunkid");
    stmt.bind(1, scope).bind(2, payload_id);
    std::map<std::uint32_t, std::string> out;
    while (stmt.step())
      out.emplace(static_cast<std::uint32_t>(stmt.column_int64(0)),
                  stmt.is_null(1) ? std::string{} : stmt.column_text(1));
    stmt.reset();
    return out;
  });
}

std::vector<std::uint32_t> missing_chunks(db::connection& db, const std::string& scope,
                                          const std::string& payload_id) {
  const auto payload = find_payload(db, scope, payload_id);
  if (!payload)
    return {};
  const auto stored = with_chunk_errors("list chunks", [&] {
    auto& stmt = db.cached("select chunkid from konysyncCHUNKDATA where scopename = ? and "
                           "payloadid = ? order by chunkid");
    stmt.bind(1, scope).bind(2, payload_id);
    std::vector<std::uint32_t> out;
    while (stmt.step())
      out.push_back(static_cast<std::uint32_t>(stmt.column_int64(0)));
    stmt.reset();
    return out;
  });
  std::vector<std::uint32_t> out;
  auto next_stored = stored.begin();
  for (std::uint32_t number = 1; number <= payload->chunk_count; ++number) {
    while (next_stored != stored.end() && *next_stored < number)
      ++next_stored;
    if (next_stored == stored.end() || *next_stored != number)
      out.push_back(number);
  }
  return out;
}

void finish_payload(db::connection& db, const std::string& scope, const std::string& payload_id) {
  with_chunk_errors("finish chunked payload", [&] {
    db::transaction tx{db};
    delete_chunks(db, scope, payload_id);
    auto& stmt = db.cached("update konysyncCHUNKMETAINFO set chunkacknowledged = ? where "
                           "scopename = ? and payloadid = ?");
    stmt.bind(1, payload_finished).bind(2, scope).bind(3, payload_id);
    stmt.run();
    stmt.reset();
    tx.commit();
  });
}

void clear_payload(db::connection& db, const std::string& scope, const std::string& payload_id) {
  with_chunk_errors("clear chunked payload", [&] {
    db::transaction tx{db};
    delete_chunks(db, scope, payload_id);
    auto& stmt = db.cached("delete from konysyncCHUNKMETAINFO where scopename = ? and "
                           "payloadid = ?");
    stmt.bind(1, scope).bind(2, payload_id);
    stmt.run();
    stmt.reset();
    tx.commit();
  });
}

} // namespace mxsync::syncdb
