// row_hash: work in progress (sync core).
