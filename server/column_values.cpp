// column_values: work in progress (sync core).
