// sync_service: work in progress (sync core).
