// service_download: work in progress (sync core).
