/*
 * mxsync C API: the Volt MX sync application API and object-level ORM for embedders
 * that speak C (C itself, Swift, Kotlin/JNI, Rust, Python ctypes ...). C99, no C++
 * types. See docs/c-api.md.
 *
 * Conventions
 * - Handles are opaque: mxsync_environment, mxsync_client. Create them with the
 *   *_create functions, release them with the matching *_destroy.
 * - Values travel as UTF-8 JSON text: arguments are borrowed (copied before the call
 *   returns); strings the library returns through a char** belong to the caller, who
 *   releases them with mxsync_free_string.
 * - Errors are JSON objects {"errorCode": "7023", "errorMessage": string, "errorInfo": any};
 *   errorCode is the numeric code as a string, as the Volt MX API page gives it.
 *   The codes are the Volt MX ones: 7023 for JSON that does not parse, 7027 for a NULL
 *   where a value is required, 7031 for an unknown sync object, 7777 before sync.init.
 * - Every call comes in two forms:
 *     blocking  int  mxsync_X(client, ..., char** out_json)
 *               returns 0 and sets *out_json to the result JSON, or returns the error
 *               code and sets *out_json to the error JSON. out_json may be NULL.
 *     callback  void mxsync_X_async(client, ..., on_success, on_error, user_data)
 *               returns at once; exactly one of the callbacks runs later on the client's
 *               callback thread, in call order, with user_data passed through. The
 *               JSON string handed to a callback is only valid during the callback.
 *               Either callback may be NULL.
 * - Argument errors of a callback form (NULL, bad JSON, unknown object) arrive through
 *   on_error like any other error, in call order. Only when `client` itself is NULL is
 *   on_error called at once, on the calling thread (there is no queue to use).
 * - Do not call a blocking form, mxsync_flush or mxsync_client_destroy from inside a
 *   callback: they wait for the callback thread, which is busy running that callback.
 * - No C++ exception ever leaves this API. In return, callbacks must return normally
 *   (no exception, no longjmp out of them).
 */
#ifndef MXSYNC_H
#define MXSYNC_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define MXSYNC_API __attribute__((visibility("default")))
#else
#define MXSYNC_API
#endif

/* Error codes this layer produces itself (the rest come from the runtime). */
#define MXSYNC_OK 0
#define MXSYNC_ERROR_PARSE 7023      /* JSON text that does not parse, or of the wrong kind */
#define MXSYNC_ERROR_NULL_VALUE 7027 /* a required pointer argument was NULL */
#define MXSYNC_ERROR_UNKNOWN 7777    /* anything unexpected (out of memory, ...) */

/* Per-process actor system shared by many clients (optional). */
typedef struct mxsync_environment mxsync_environment;
/* One device database with its sync configuration: the `sync` namespace. */
typedef struct mxsync_client mxsync_client;

/* Result of a callback-form call. `result_json` is borrowed: copy what you keep. */
typedef void (*mxsync_success_callback)(const char* result_json, void* user_data);
/* Failure of a callback-form call: {"errorCode","errorMessage","errorInfo"}, borrowed. */
typedef void (*mxsync_error_callback)(const char* error_json, void* user_data);

/* Releases a string returned by this API. NULL is fine. */
MXSYNC_API void mxsync_free_string(char* text);

/* -- environment -------------------------------------------------------------------- */

/* worker_threads 0: one per core. On failure returns the code and sets *out_error. */
MXSYNC_API int mxsync_environment_create(unsigned worker_threads,
                                         mxsync_environment** out_environment,
                                         char** out_error);
/* Drops the caller's reference; clients created with it keep it alive. NULL is fine. */
MXSYNC_API void mxsync_environment_destroy(mxsync_environment* environment);

/* -- client ------------------------------------------------------------------------- */

/* Loads the generated sync configuration (konysyncClientSyncConfig) from a file.
 * database_path: the device database file; NULL or ":memory:" for a private
 * in-memory database. environment: NULL for a private actor system.
 * An invalid configuration fails with 7004 and the fault in errorInfo. */
MXSYNC_API int mxsync_client_create(const char* config_path, const char* database_path,
                                    mxsync_environment* environment,
                                    mxsync_client** out_client, char** out_error);
/* The same with the configuration given as JSON text. */
MXSYNC_API int mxsync_client_create_from_json(const char* config_json,
                                              const char* database_path,
                                              mxsync_environment* environment,
                                              mxsync_client** out_client, char** out_error);
/* Waits until every pending callback has run, then releases the client. NULL is fine. */
MXSYNC_API void mxsync_client_destroy(mxsync_client* client);

/* The actor tree with each actor's state, counters and mailbox size. */
MXSYNC_API int mxsync_status(mxsync_client* client, char** out_json);
/* Returns once every callback of calls made before it has run. */
MXSYNC_API int mxsync_flush(mxsync_client* client);

/* -- application level: sync.* ------------------------------------------------------- */

/* sync.init -> {"created": bool} */
MXSYNC_API int mxsync_init(mxsync_client* client, char** out_json);
MXSYNC_API void mxsync_init_async(mxsync_client* client, mxsync_success_callback on_success,
                                  mxsync_error_callback on_error, void* user_data);
/* sync.reset */
MXSYNC_API int mxsync_reset(mxsync_client* client, char** out_json);
MXSYNC_API void mxsync_reset_async(mxsync_client* client, mxsync_success_callback on_success,
                                   mxsync_error_callback on_error, void* user_data);
/* <scope>.reset */
MXSYNC_API int mxsync_reset_scope(mxsync_client* client, const char* scope, char** out_json);
MXSYNC_API void mxsync_reset_scope_async(mxsync_client* client, const char* scope,
                                         mxsync_success_callback on_success,
                                         mxsync_error_callback on_error, void* user_data);
/* sync.rollbackPendingLocalChanges -> {"rowsrolledback": n} */
MXSYNC_API int mxsync_rollback_pending_local_changes(mxsync_client* client, char** out_json);
MXSYNC_API void mxsync_rollback_pending_local_changes_async(mxsync_client* client,
                                                            mxsync_success_callback on_success,
                                                            mxsync_error_callback on_error,
                                                            void* user_data);
/* sync.getPendingAcknowledgement / getPendingUpload / getDeferredUpload
 * -> {"totalCount": n, "totalData": {<table>: {"count": n, "data": [rows]}}} */
MXSYNC_API int mxsync_get_pending_acknowledgement(mxsync_client* client, char** out_json);
MXSYNC_API void mxsync_get_pending_acknowledgement_async(mxsync_client* client,
                                                         mxsync_success_callback on_success,
                                                         mxsync_error_callback on_error,
                                                         void* user_data);
MXSYNC_API int mxsync_get_pending_upload(mxsync_client* client, char** out_json);
MXSYNC_API void mxsync_get_pending_upload_async(mxsync_client* client,
                                                mxsync_success_callback on_success,
                                                mxsync_error_callback on_error,
                                                void* user_data);
MXSYNC_API int mxsync_get_deferred_upload(mxsync_client* client, char** out_json);
MXSYNC_API void mxsync_get_deferred_upload_async(mxsync_client* client,
                                                 mxsync_success_callback on_success,
                                                 mxsync_error_callback on_error,
                                                 void* user_data);
/* sync.executeSelectQuery: one read-only SELECT -> [rows] */
MXSYNC_API int mxsync_execute_select_query(mxsync_client* client, const char* sql,
                                           char** out_json);
MXSYNC_API void mxsync_execute_select_query_async(mxsync_client* client, const char* sql,
                                                  mxsync_success_callback on_success,
                                                  mxsync_error_callback on_error,
                                                  void* user_data);

/* -- sync sessions: sync.startSession / stopSession ------------------------------------- */

/* A lifecycle callback: receives the context object of the original, borrowed. */
typedef void (*mxsync_event_callback)(const char* context_json, void* user_data);
/* onuploadstart / onuploadbatchstart / ondownloadstart: return NULL to leave the request
 * as it is, or a JSON object allocated with malloc whose keys replace the request's
 * parameters; the library frees it with free(). Text that does not parse is ignored. */
typedef char* (*mxsync_request_callback)(const char* context_json, void* user_data);
/* passwordhashalgo given as a function: return the hash of `plain`, allocated with
 * malloc (the library frees it with free()). */
typedef char* (*mxsync_hash_callback)(const char* plain, void* user_data);

/* invokeservicefunction: the app makes the session's network calls itself (its own HTTP
 * stack, a proxy, a test double). It receives the URL, the request parameters and the
 * context, borrowed, and a handle for the answer: call mxsync_service_call_complete on
 * it exactly once, from any thread, now or later. */
typedef struct mxsync_service_call mxsync_service_call;
typedef void (*mxsync_service_callback)(const char* url, const char* params_json,
                                        const char* context_json, mxsync_service_call* call,
                                        void* user_data);
/* Answers an invokeservicefunction call and releases `call`. status 400 means "finished"
 * (the original's convention) with result_json the server's answer object; any other
 * status is a failed call. result_json may be NULL; text that does not parse is null. */
MXSYNC_API void mxsync_service_call_complete(mxsync_service_call* call, int status,
                                             const char* result_json);

/* Releases what user_data points to (see `release` below). */
typedef void (*mxsync_release_callback)(void* user_data);

/* Every startSession callback; NULL members are not called. Zero-initialize the struct
 * ({0} or memset) and set what you need. The struct is copied: it need not outlive the
 * call, but user_data must stay valid until `release` runs. All callbacks run on the
 * client's callback thread, one at a time, in the order of the session's events.
 *
 * A session that started ends with exactly one terminal event: onsyncsuccess,
 * onsyncerror, or, for a session that stopSession stopped, the stop callback with
 * {"stopped": true} (a stopped session calls neither onsyncsuccess nor onsyncerror, as in
 * the original). A start that is refused (7008 while a session runs, an unknown scope,
 * before init) ends with onsyncerror. The session is over when its terminal event runs:
 * a new one may be started from inside it. */
typedef struct mxsync_session_callbacks {
  void* user_data; /* passed to every callback below */
  mxsync_event_callback onsyncstart;
  mxsync_event_callback onscopestart;
  mxsync_request_callback onuploadstart;
  mxsync_request_callback onuploadbatchstart;
  mxsync_event_callback onuploadbatchsuccess;
  mxsync_event_callback onuploadsuccess;
  mxsync_request_callback ondownloadstart;
  mxsync_event_callback onbatchprocessingstart;
  mxsync_event_callback onbatchstored;
  mxsync_event_callback onbatchprocessingsuccess;
  mxsync_event_callback ondownloadsuccess;
  mxsync_event_callback onchunkstart;
  mxsync_event_callback onchunksuccess;
  mxsync_event_callback onretry;
  mxsync_event_callback onscopesuccess;
  mxsync_event_callback onsyncsuccess;
  mxsync_error_callback onchunkerror;
  mxsync_error_callback onscopeerror;
  mxsync_error_callback onsyncerror;
  mxsync_hash_callback passwordhashfunction;
  mxsync_service_callback invokeservicefunction;
  /* Runs exactly once per mxsync_start_session / mxsync_synchronize call, on the callback
   * thread after the session's last callback (its terminal event and any stop callback
   * have run): release user_data here. When the call is refused at once (nonzero return)
   * it runs before the call returns; mxsync_synchronize returns after it ran. */
  mxsync_release_callback release;
} mxsync_session_callbacks;

/* sync.startSession. session_json holds the page's keys (userid, password, serverhost,
 * serverport, issecure, batchsize, sessiontasks, filterparams, ...); callbacks may be
 * NULL. Returns 0 once the session is handed to the runtime: from then on its outcome
 * arrives through its terminal event (onsyncsuccess, onsyncerror or the stop callback).
 * Keys that do not parse are refused at once with 7023 (and *out_error); no callback but
 * `release` runs then. out_error may be NULL. */
MXSYNC_API int mxsync_start_session(mxsync_client* client, const char* session_json,
                                    const mxsync_session_callbacks* callbacks,
                                    char** out_error);
/* Blocking form of startSession: returns once the session ended, 0 with its outcome
 * ({"stopped": bool, ...}) or the onsyncerror error in *out_json. The callbacks run too. */
MXSYNC_API int mxsync_synchronize(mxsync_client* client, const char* session_json,
                                  const mxsync_session_callbacks* callbacks, char** out_json);
/* -- sync.startReconciliation ------------------------------------------------------------- */

/* Every startReconciliation callback; NULL members are not called. Zero-initialize it.
 * Copied like mxsync_session_callbacks; user_data must stay valid until the run ended
 * (onreconciliationsuccess or onreconciliationerror ran). Contexts: docs/reconciliation.md. */
typedef struct mxsync_reconciliation_callbacks {
  void* user_data; /* passed to every callback below */
  mxsync_event_callback onreconciliationstart;
  mxsync_event_callback onreconciliationscopestart;
  mxsync_event_callback onreconciliationdownloadstart;
  mxsync_event_callback onreconciliationbatchprocessingstart;
  mxsync_event_callback onreconciliationbatchprocessingsuccess;
  mxsync_event_callback onreconciliationbulkgetdownloadstart;
  mxsync_event_callback onreconciliationbulkgetbatchprocessingstart;
  mxsync_event_callback onreconciliationbulkgetbatchprocessingsuccess;
  mxsync_event_callback onreconciliationscopesuccess;
  mxsync_event_callback onreconciliationsuccess;
  mxsync_error_callback onreconciliationscopeerror;
  mxsync_error_callback onreconciliationerror;
} mxsync_reconciliation_callbacks;

/* sync.startReconciliation. config_json holds the reconciliation keys (reconciliation,
 * reconciledownloadbatchsize, reconcilebulkgetbatchsize) and the startSession server keys
 * (userid, password, serverhost, serverport, ...); callbacks may be NULL. Returns 0 once the
 * run is handed to the runtime; its outcome arrives through onreconciliationsuccess /
 * onreconciliationerror (7030-7034 refusals included). Keys that do not parse are refused at
 * once with 7032 (and *out_error); no callback runs then. out_error may be NULL. */
MXSYNC_API int mxsync_start_reconciliation(mxsync_client* client, const char* config_json,
                                           const mxsync_reconciliation_callbacks* callbacks,
                                           char** out_error);
/* Blocking form: returns once the run ended, 0 with the onreconciliationsuccess context
 * (reconcileobjectlevelinfo, reconciletotal*, pendingreconcilescopeswithhistorychanges) or
 * the error in *out_json. The callbacks run too. */
MXSYNC_API int mxsync_reconcile(mxsync_client* client, const char* config_json,
                                const mxsync_reconciliation_callbacks* callbacks,
                                char** out_json);

/* sync.stopSession -> {"stopped": true} once the running session stopped (the network
 * call in flight completes; the session's callbacks run first, and this is its terminal
 * event), or {"stopped": false} when no session was stopped: none ran (the original never
 * calls back then) or it ended before the stop took effect. A second stop while stopping
 * fails with 7008. The stop is recorded before the call returns: from a callback the
 * session waits for (onuploadstart, onuploadbatchstart, ondownloadstart,
 * invokeservicefunction) it takes effect at the session's next check point. */
MXSYNC_API int mxsync_stop_session(mxsync_client* client, char** out_json);
MXSYNC_API void mxsync_stop_session_async(mxsync_client* client,
                                          mxsync_success_callback on_stopped,
                                          mxsync_error_callback on_error, void* user_data);

/* -- object level: <namespace>.<Object>.* ---------------------------------------------------
 * object_name: a sync object (table) of the configuration, matched case-insensitively.
 * Primary keys (pk_json): a JSON scalar for a single-column key ("\"17\"" or "17"), or an
 * object {"col": value, ...}. Values and rows: JSON objects keyed by attribute name.
 * Where clauses: SQL text as the original takes it ("status = 'New'"; "where " is
 * prepended unless it starts with where/order/limit/group) or text with ? placeholders
 * plus params_json, a JSON array of their values (NULL: no parameters).
 * mark_for_upload: nonzero uploads the change with the next session, 0 defers it. */

/* -> the key {pk: value}; an autogenerated key gets a negative id */
MXSYNC_API int mxsync_object_create(mxsync_client* client, const char* object_name,
                                    const char* values_json, int mark_for_upload,
                                    char** out_json);
MXSYNC_API void mxsync_object_create_async(mxsync_client* client, const char* object_name,
                                           const char* values_json, int mark_for_upload,
                                           mxsync_success_callback on_success,
                                           mxsync_error_callback on_error, void* user_data);
/* rows_json: [rows] -> [keys]; all rows or none */
MXSYNC_API int mxsync_object_create_all(mxsync_client* client, const char* object_name,
                                        const char* rows_json, int mark_for_upload,
                                        char** out_json);
MXSYNC_API void mxsync_object_create_all_async(mxsync_client* client, const char* object_name,
                                               const char* rows_json, int mark_for_upload,
                                               mxsync_success_callback on_success,
                                               mxsync_error_callback on_error,
                                               void* user_data);
/* -> {"rowsupdated": n} */
MXSYNC_API int mxsync_object_update_by_pk(mxsync_client* client, const char* object_name,
                                          const char* pk_json, const char* values_json,
                                          int mark_for_upload, char** out_json);
MXSYNC_API void mxsync_object_update_by_pk_async(mxsync_client* client, const char* object_name,
                                                 const char* pk_json, const char* values_json,
                                                 int mark_for_upload,
                                                 mxsync_success_callback on_success,
                                                 mxsync_error_callback on_error,
                                                 void* user_data);
MXSYNC_API int mxsync_object_update(mxsync_client* client, const char* object_name,
                                    const char* where_clause, const char* params_json,
                                    const char* values_json, int mark_for_upload,
                                    char** out_json);
MXSYNC_API void mxsync_object_update_async(mxsync_client* client, const char* object_name,
                                           const char* where_clause, const char* params_json,
                                           const char* values_json, int mark_for_upload,
                                           mxsync_success_callback on_success,
                                           mxsync_error_callback on_error, void* user_data);
/* changes_json: [{"changeSet": {...}, "whereClause": "..."}] -> {"rowsupdated": n} */
MXSYNC_API int mxsync_object_update_all(mxsync_client* client, const char* object_name,
                                        const char* changes_json, int mark_for_upload,
                                        char** out_json);
MXSYNC_API void mxsync_object_update_all_async(mxsync_client* client, const char* object_name,
                                               const char* changes_json, int mark_for_upload,
                                               mxsync_success_callback on_success,
                                               mxsync_error_callback on_error,
                                               void* user_data);
/* -> {"rowsdeleted": n}; cascading relationships delete (and track) children */
MXSYNC_API int mxsync_object_delete_by_pk(mxsync_client* client, const char* object_name,
                                          const char* pk_json, int mark_for_upload,
                                          char** out_json);
MXSYNC_API void mxsync_object_delete_by_pk_async(mxsync_client* client, const char* object_name,
                                                 const char* pk_json, int mark_for_upload,
                                                 mxsync_success_callback on_success,
                                                 mxsync_error_callback on_error,
                                                 void* user_data);
MXSYNC_API int mxsync_object_remove(mxsync_client* client, const char* object_name,
                                    const char* where_clause, const char* params_json,
                                    int mark_for_upload, char** out_json);
MXSYNC_API void mxsync_object_remove_async(mxsync_client* client, const char* object_name,
                                           const char* where_clause, const char* params_json,
                                           int mark_for_upload,
                                           mxsync_success_callback on_success,
                                           mxsync_error_callback on_error, void* user_data);
/* Local only, nothing is uploaded -> {"rowsdeleted": n} */
MXSYNC_API int mxsync_object_remove_device_instance_by_pk(mxsync_client* client,
                                                          const char* object_name,
                                                          const char* pk_json, char** out_json);
MXSYNC_API void mxsync_object_remove_device_instance_by_pk_async(
  mxsync_client* client, const char* object_name, const char* pk_json,
  mxsync_success_callback on_success, mxsync_error_callback on_error, void* user_data);
MXSYNC_API int mxsync_object_remove_device_instance(mxsync_client* client,
                                                    const char* object_name,
                                                    const char* where_clause,
                                                    const char* params_json, char** out_json);
MXSYNC_API void mxsync_object_remove_device_instance_async(
  mxsync_client* client, const char* object_name, const char* where_clause,
  const char* params_json, mxsync_success_callback on_success, mxsync_error_callback on_error,
  void* user_data);
/* -> [rows]. order_by_json: NULL or [{"key": col, "sortType": "asc"|"desc"}];
 * limit / offset: negative for none. */
MXSYNC_API int mxsync_object_get_all(mxsync_client* client, const char* object_name,
                                     const char* order_by_json, int64_t limit, int64_t offset,
                                     char** out_json);
MXSYNC_API void mxsync_object_get_all_async(mxsync_client* client, const char* object_name,
                                            const char* order_by_json, int64_t limit,
                                            int64_t offset, mxsync_success_callback on_success,
                                            mxsync_error_callback on_error, void* user_data);
/* -> {"count": n} */
MXSYNC_API int mxsync_object_get_all_count(mxsync_client* client, const char* object_name,
                                           char** out_json);
MXSYNC_API void mxsync_object_get_all_count_async(mxsync_client* client,
                                                  const char* object_name,
                                                  mxsync_success_callback on_success,
                                                  mxsync_error_callback on_error,
                                                  void* user_data);
MXSYNC_API int mxsync_object_get_count(mxsync_client* client, const char* object_name,
                                       const char* where_clause, const char* params_json,
                                       char** out_json);
MXSYNC_API void mxsync_object_get_count_async(mxsync_client* client, const char* object_name,
                                              const char* where_clause, const char* params_json,
                                              mxsync_success_callback on_success,
                                              mxsync_error_callback on_error, void* user_data);
/* -> [rows] */
MXSYNC_API int mxsync_object_find(mxsync_client* client, const char* object_name,
                                  const char* where_clause, const char* params_json,
                                  char** out_json);
MXSYNC_API void mxsync_object_find_async(mxsync_client* client, const char* object_name,
                                         const char* where_clause, const char* params_json,
                                         mxsync_success_callback on_success,
                                         mxsync_error_callback on_error, void* user_data);
/* -> [row], empty when there is none */
MXSYNC_API int mxsync_object_get_all_details_by_pk(mxsync_client* client,
                                                   const char* object_name, const char* pk_json,
                                                   char** out_json);
MXSYNC_API void mxsync_object_get_all_details_by_pk_async(mxsync_client* client,
                                                          const char* object_name,
                                                          const char* pk_json,
                                                          mxsync_success_callback on_success,
                                                          mxsync_error_callback on_error,
                                                          void* user_data);
/* -> {"rowsmarked": n} */
MXSYNC_API int mxsync_object_mark_for_upload_by_pk(mxsync_client* client,
                                                   const char* object_name, const char* pk_json,
                                                   char** out_json);
MXSYNC_API void mxsync_object_mark_for_upload_by_pk_async(mxsync_client* client,
                                                          const char* object_name,
                                                          const char* pk_json,
                                                          mxsync_success_callback on_success,
                                                          mxsync_error_callback on_error,
                                                          void* user_data);
MXSYNC_API int mxsync_object_mark_for_upload(mxsync_client* client, const char* object_name,
                                             const char* where_clause, const char* params_json,
                                             char** out_json);
MXSYNC_API void mxsync_object_mark_for_upload_async(mxsync_client* client,
                                                    const char* object_name,
                                                    const char* where_clause,
                                                    const char* params_json,
                                                    mxsync_success_callback on_success,
                                                    mxsync_error_callback on_error,
                                                    void* user_data);
/* -> [rows with konysyncchangetype and konysyncversionnumber];
 * where_clause may be NULL (every row) */
MXSYNC_API int mxsync_object_get_pending_upload(mxsync_client* client, const char* object_name,
                                                const char* where_clause,
                                                const char* params_json, char** out_json);
MXSYNC_API void mxsync_object_get_pending_upload_async(mxsync_client* client,
                                                       const char* object_name,
                                                       const char* where_clause,
                                                       const char* params_json,
                                                       mxsync_success_callback on_success,
                                                       mxsync_error_callback on_error,
                                                       void* user_data);
MXSYNC_API int mxsync_object_get_pending_acknowledgement(mxsync_client* client,
                                                         const char* object_name,
                                                         char** out_json);
MXSYNC_API void mxsync_object_get_pending_acknowledgement_async(
  mxsync_client* client, const char* object_name, mxsync_success_callback on_success,
  mxsync_error_callback on_error, void* user_data);
MXSYNC_API int mxsync_object_get_deferred_upload(mxsync_client* client, const char* object_name,
                                                 const char* where_clause,
                                                 const char* params_json, char** out_json);
MXSYNC_API void mxsync_object_get_deferred_upload_async(mxsync_client* client,
                                                        const char* object_name,
                                                        const char* where_clause,
                                                        const char* params_json,
                                                        mxsync_success_callback on_success,
                                                        mxsync_error_callback on_error,
                                                        void* user_data);
/* -> {"rowsrolledback": n} */
MXSYNC_API int mxsync_object_rollback_pending_local_changes(mxsync_client* client,
                                                            const char* object_name,
                                                            char** out_json);
MXSYNC_API void mxsync_object_rollback_pending_local_changes_async(
  mxsync_client* client, const char* object_name, mxsync_success_callback on_success,
  mxsync_error_callback on_error, void* user_data);
MXSYNC_API int mxsync_object_rollback_pending_local_changes_by_pk(mxsync_client* client,
                                                                  const char* object_name,
                                                                  const char* pk_json,
                                                                  char** out_json);
MXSYNC_API void mxsync_object_rollback_pending_local_changes_by_pk_async(
  mxsync_client* client, const char* object_name, const char* pk_json,
  mxsync_success_callback on_success, mxsync_error_callback on_error, void* user_data);
/* -> true / false */
MXSYNC_API int mxsync_object_is_record_deferred_for_upload(mxsync_client* client,
                                                           const char* object_name,
                                                           const char* pk_json, char** out_json);
MXSYNC_API void mxsync_object_is_record_deferred_for_upload_async(
  mxsync_client* client, const char* object_name, const char* pk_json,
  mxsync_success_callback on_success, mxsync_error_callback on_error, void* user_data);
MXSYNC_API int mxsync_object_is_record_pending_for_upload(mxsync_client* client,
                                                          const char* object_name,
                                                          const char* pk_json, char** out_json);
MXSYNC_API void mxsync_object_is_record_pending_for_upload_async(
  mxsync_client* client, const char* object_name, const char* pk_json,
  mxsync_success_callback on_success, mxsync_error_callback on_error, void* user_data);
/* get<Target>With<Attribute>(pk): the target object's records related to this record.
 * attribute: NULL, or the attribute that picks the relationship when several lead to
 * the target. -> [rows] */
MXSYNC_API int mxsync_object_get_related(mxsync_client* client, const char* object_name,
                                         const char* target_object, const char* pk_json,
                                         const char* attribute, char** out_json);
MXSYNC_API void mxsync_object_get_related_async(mxsync_client* client, const char* object_name,
                                                const char* target_object, const char* pk_json,
                                                const char* attribute,
                                                mxsync_success_callback on_success,
                                                mxsync_error_callback on_error,
                                                void* user_data);
/* getCountOf<Target>With<Attribute>(pk) -> {"count": n} */
MXSYNC_API int mxsync_object_get_related_count(mxsync_client* client, const char* object_name,
                                               const char* target_object, const char* pk_json,
                                               const char* attribute, char** out_json);
MXSYNC_API void mxsync_object_get_related_count_async(mxsync_client* client,
                                                      const char* object_name,
                                                      const char* target_object,
                                                      const char* pk_json,
                                                      const char* attribute,
                                                      mxsync_success_callback on_success,
                                                      mxsync_error_callback on_error,
                                                      void* user_data);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MXSYNC_H */
