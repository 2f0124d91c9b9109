#define CAF_SUITE session_ack
#include <caf/test/unit_test.hpp>

#include "persistence/sqlite.hpp"
#include "session/forwarding_proxy.hpp"
#include "session/session_support.hpp"

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

using namespace mxsync;
using namespace mxsync::test;
using json = nlohmann::json;

namespace {

const std::string scope_name = "FSPersistentScope";

/// A device whose database path the test knows (to hold its lock, to poison it).
struct known_device {
  std::string path;
  std::unique_ptr<sync_client> client;

  explicit known_device(const std::string& name) : path(fresh_file(name + "-device.db")) {
    client_options options;
    options.config_path = fixture_config;
    options.database_path = path;
    client = std::make_unique<sync_client>(std::move(options));
    if (!client->init().ok())
      throw std::runtime_error("init failed");
  }
};

std::int64_t pending_acks(sync_client& device) {
  return device.getPendingAcknowledgement().value()["totalCount"].get<std::int64_t>();
}

/// The download blobs the device has committed for the scope.
std::vector<std::string> committed_blobs(const std::string& path) {
  db::connection reader{path};
  std::vector<std::string> out;
  for (const auto& row : reader.query("select lastserversynccontext from konysyncMETAINFO "
                                      "where scopename = ?",
                                      {scope_name}))
    if (const auto& blob = row.at("lastserversynccontext"); blob.is_string())
      out.push_back(blob.get<std::string>());
  return out;
}

/// Another writer holding the device database for 400 ms, from take() on: the batch being
/// stored waits for it. `while_held` runs inside the held transaction; `finish` ends it
/// ("rollback", or "commit" to keep what while_held wrote).
class write_lock_holder {
public:
  write_lock_holder(std::string path, std::string finish)
      : path_(std::move(path)), finish_(std::move(finish)) {}
  ~write_lock_holder() { join(); }

  void take(const std::string& while_held = {}) {
    std::lock_guard<std::mutex> guard{mutex_};
    blocker_.emplace(path_);
    blocker_->exec("begin immediate");
    if (!while_held.empty())
      blocker_->exec(while_held);
    releaser_ = std::thread([this] {
      std::this_thread::sleep_for(std::chrono::milliseconds(400));
      std::lock_guard<std::mutex> release_guard{mutex_};
      blocker_->exec(finish_);
      blocker_.reset();
    });
  }

  void join() {
    if (releaser_.joinable())
      releaser_.join();
  }

private:
  std::string path_, finish_;
  std::mutex mutex_;
  std::optional<db::connection> blocker_;
  std::thread releaser_;
};

} // namespace

// The persistent strategy's server drops queued acknowledgements once a download request
// carries the blob of the batch that brought them: the blob is the client's proof that it
// committed that batch (docs/protocol.md 5). mxsync asks for the next batch while the
// current one is being stored; it must not do so past a batch holding acknowledgements.
CAF_TEST(a batch with acknowledgements is committed before its blob goes back to the server) {
  sync_server server{"ack-commit-first"};
  known_device device{"ack-commit-first"};
  for (auto& row : work_orders("CLI", 20))
    CAF_REQUIRE(device.client->object("WorkOrder").create(row).ok());

  // Download 1 of the session finds the database locked by another writer for a moment:
  // batch 1 (8 acknowledgements) waits to be stored. Any later download request must carry
  // a blob the device has already committed.
  write_lock_holder lock{device.path, "rollback"};
  std::atomic<int> downloads{0};
  std::atomic<int> uncommitted_blobs_sent{0};
  forwarding_proxy proxy;
  proxy.on_request = [&](const std::string& url, json& params) -> std::optional<json> {
    if (forwarding_proxy::endpoint_of(url) != "download")
      return std::nullopt;
    auto n = ++downloads;
    if (n == 1) {
      lock.take();
    } else {
      auto tick = params.value("tickcount", std::string{});
      auto blobs = committed_blobs(device.path);
      if (std::find(blobs.begin(), blobs.end(), tick) == blobs.end())
        ++uncommitted_blobs_sent;
    }
    return std::nullopt;
  };
  auto keys = server.session();
  keys.batchsize = 8;
  keys.invokeservicefunction = proxy.function();
  auto outcome = device.client->synchronize(keys);
  lock.join();
  if (!outcome.ok())
    CAF_FAIL("session failed: " << outcome.error().to_json().dump());
  device.client->flush();
  CAF_CHECK_GREATER_OR_EQUAL(downloads.load(), 3);
  CAF_CHECK_EQUAL(uncommitted_blobs_sent.load(), 0);
  CAF_CHECK_EQUAL(pending_acks(*device.client), 0);
}

// The loss itself: the commit of the batch holding acknowledgements fails (here an injected
// SQLite error; in the field a crash or a database locked past the busy timeout). The
// next session must still receive every acknowledgement.
CAF_TEST(acknowledgements survive a failed commit of their batch) {
  sync_server server{"ack-failed-commit"};
  known_device device{"ack-failed-commit"};
  for (auto& row : work_orders("CLI", 20))
    CAF_REQUIRE(device.client->object("WorkOrder").create(row).ok());
  {
    db::connection poison{device.path};
    poison.exec("create table test_poison (on_ integer)");
    poison.exec("create trigger test_fail_blob before update of lastserversynccontext on "
                "konysyncMETAINFO when (select count(*) from test_poison) > 0 "
                "begin select raise(abort, 'injected commit failure'); end");
  }
  write_lock_holder lock{device.path, "commit"};
  std::atomic<int> downloads{0};
  forwarding_proxy proxy;
  proxy.on_request = [&](const std::string& url, json&) -> std::optional<json> {
    if (forwarding_proxy::endpoint_of(url) != "download" || ++downloads != 1)
      return std::nullopt;
    // Batch 1 waits for the lock (so a request sent ahead would leave first), then its
    // commit fails on the poisoned blob update.
    lock.take("insert into test_poison values (1)");
    return std::nullopt;
  };
  auto keys = server.session();
  keys.batchsize = 8;
  keys.invokeservicefunction = proxy.function();
  auto failed = device.client->synchronize(keys);
  lock.join();
  CAF_REQUIRE(!failed.ok());
  CAF_MESSAGE("the poisoned session: " << failed.error().to_json().dump());
  device.client->flush();
  {
    db::connection cure{device.path};
    cure.exec("delete from test_poison");
  }
  auto healed = server.session();
  healed.batchsize = 8;
  auto outcome = device.client->synchronize(healed);
  if (!outcome.ok())
    CAF_FAIL("session failed: " << outcome.error().to_json().dump());
  device.client->flush();
  CAF_CHECK_EQUAL(pending_acks(*device.client), 0);
}
