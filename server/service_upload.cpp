// service_upload: work in progress (sync core).
