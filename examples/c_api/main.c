/*
 * mxsync from C: create a client on a temporary device database, init, create records
 * (blocking and callback form), find them, print the JSON answers.
 *
 *   mxsync-c-example <sync-config.json> [device.db]
 *
 * Without a database path it uses a temporary file and removes it at the end.
 * Uses nothing but the public C header.
 */
#define _POSIX_C_SOURCE 200809L /* mkstemp */

#include <mxsync.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Prints a blocking call's answer and releases it; returns nonzero when it succeeded.
 * Takes the answer's address: C evaluates arguments in no fixed order, so `json` itself
 * could be read before the call that sets it. */
static int report(const char* what, int code, char** json) {
  if (code != MXSYNC_OK)
    fprintf(stderr, "%s failed with %d: %s\n", what, code, *json ? *json : "(no details)");
  else
    printf("%s -> %s\n", what, *json ? *json : "");
  mxsync_free_string(*json); /* the caller owns returned strings */
  *json = NULL;
  return code == MXSYNC_OK;
}

/* Callback-form results land here through user_data. */
struct tally {
  int successes;
  int failures;
};

static void on_created(const char* result_json, void* user_data) {
  struct tally* counts = user_data;
  counts->successes++;
  printf("create (callback) -> %s\n", result_json); /* borrowed: valid during the call */
}

static void on_failed(const char* error_json, void* user_data) {
  struct tally* counts = user_data;
  counts->failures++;
  fprintf(stderr, "create (callback) failed: %s\n", error_json);
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s <sync-config.json> [device.db]\n", argv[0]);
    return 2;
  }
  char temporary[] = "/tmp/mxsync-c-example-XXXXXX";
  const char* database = argc > 2 ? argv[2] : NULL;
  if (!database) {
    int fd = mkstemp(temporary); /* an empty file is an empty SQLite database */
    if (fd < 0) {
      perror("mkstemp");
      return 1;
    }
    close(fd);
    database = temporary;
  } else {
    remove(database); /* start from an empty device database on every run */
  }

  int ok = 0, code = 0;
  char* json = NULL;
  struct tally counts = {0, 0};
  mxsync_client* client = NULL;
  if (mxsync_client_create(argv[1], database, NULL, &client, &json) != MXSYNC_OK) {
    fprintf(stderr, "cannot create the client: %s\n", json); /* e.g. 7004, a bad config */
    mxsync_free_string(json);
    goto done;
  }

  ok = report("init", mxsync_init(client, &json), &json)
       && report("create", mxsync_object_create(client, "WorkOrder",
                                                "{\"orderId\": \"WO-1\", \"customerId\": \"C-1\","
                                                " \"status\": \"New\"}",
                                                1, &json),
                 &json)
       && report("createAll",
                 mxsync_object_create_all(client, "WorkOrder",
                                          "[{\"orderId\": \"WO-2\", \"customerId\": \"C-2\","
                                          " \"status\": \"Done\"},"
                                          " {\"orderId\": \"WO-3\", \"customerId\": \"C-3\","
                                          " \"status\": \"New\"}]",
                                          1, &json),
                 &json);
  if (!ok)
    goto done;

  mxsync_object_create_async(client, "WorkOrder",
                             "{\"orderId\": \"WO-4\", \"customerId\": \"C-4\", \"status\": \"New\"}",
                             1, on_created, on_failed, &counts);
  mxsync_flush(client); /* every callback of earlier calls has run */

  ok = counts.successes == 1 && counts.failures == 0
       && report("find status = New",
                 mxsync_object_find(client, "WorkOrder", "status = ? order by orderId",
                                    "[\"New\"]", &json),
                 &json)
       && report("getPendingUpload", mxsync_get_pending_upload(client, &json), &json);

  code = mxsync_object_get_all_count(client, "WorkOrder", &json);
  printf("getAllCount -> %d %s\n", code, json);
  ok = ok && code == MXSYNC_OK && strcmp(json, "{\"count\":4}") == 0;
  mxsync_free_string(json);

  /* Errors are JSON objects too. */
  code = mxsync_object_create(client, "NoSuchObject", "{}", 1, &json);
  printf("create on an unknown object -> %d %s\n", code, json);
  mxsync_free_string(json);
  ok = ok && code == 7031;

done:
  mxsync_client_destroy(client); /* waits for pending callbacks; NULL is fine */
  if (database == temporary)
    remove(temporary);
  return ok ? 0 : 1;
}
