// sqlite_store: work in progress (sync core).
