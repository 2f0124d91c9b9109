// An app that embeds mxsync: opens a device database with a sync configuration,
// initializes it, writes records through the ORM and reads them back.
//   app <sync-config.json> [device.db]     (default: an in-memory database)
#include <mxsync/sync_client.hpp>
#include <mxsync/sync_object.hpp>

#include <future>
#include <iostream>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: " << argv[0] << " <sync-config.json> [device.db]\n";
    return 2;
  }
  try {
    mxsync::client_options options;
    options.config_path = argv[1];
    options.database_path = argc > 2 ? argv[2] : ":memory:";
    mxsync::sync_client sync{options};

    auto init = sync.init(); // blocking form
    if (!init) {
      std::cerr << "init failed: " << init.error().to_json() << "\n";
      return 1;
    }
    auto orders = sync.object("WorkOrder");
    orders.create({{"orderId", "WO-1"}, {"customerId", "C-1"}, {"status", "New"}})
      .value_or_throw();

    // Callback form: the result arrives on mxsync's callback thread.
    std::promise<nlohmann::json> created;
    orders.create(
      {{"orderId", "WO-2"}, {"customerId", "C-2"}, {"status", "New"}},
      [&](const nlohmann::json& key) { created.set_value(key); },
      [&](const mxsync::sync_error& e) {
        created.set_exception(std::make_exception_ptr(mxsync::sync_exception(e)));
      });
    std::cout << "created " << created.get_future().get() << "\n";

    auto found = orders.find(mxsync::where_clause{"status = ?", {"New"}}).value_or_throw();
    std::cout << "found " << found << "\n";
    auto pending = sync.getPendingUpload().value_or_throw();
    std::cout << "pending upload " << pending["totalCount"] << "\n";
    return found.size() == 2 ? 0 : 1;
  } catch (const mxsync::sync_exception& e) {
    std::cerr << "mxsync error " << e.error().to_json() << "\n";
    return 1;
  }
}
