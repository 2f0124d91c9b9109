// download_cursor: work in progress (sync core).
