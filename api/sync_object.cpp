#include "mxsync/sync_object.hpp"

#include "api/client_internals.hpp"
#include "persistence/orm.hpp"

namespace mxsync {

namespace {

using json = nlohmann::json;
using work_fn = std::function<json(msg::db_context&)>;

/// One ORM operation: where it runs, its name for status and errors, and the work.
struct operation {
  bool write;
  std::string label;
  work_fn work;
};

void dispatch(sync_client::internals& client, operation op, success_callback s, error_callback e) {
  client.call(op.write, std::move(op.label), client.requires_init(std::move(op.work)),
              std::move(s), std::move(e));
}

result dispatch(sync_client::internals& client, operation op) {
  return client.call(op.write, std::move(op.label), client.requires_init(std::move(op.work)));
}

where::clause to_clause(const where_clause& w) { return where::clause{w.text, w.params}; }

std::string label(const std::string& table, const char* function) {
  return table + "." + function;
}

// -- the operations: each captures its arguments by value ------------------------------

operation create_op(std::string t, json values, bool mark) {
  auto l = label(t, "create");
  return {true, l, [t = std::move(t), values = std::move(values), mark](msg::db_context& c) {
            return orm::create(c.connection, c.config, t, values, mark);
          }};
}

operation create_all_op(std::string t, json rows, bool mark) {
  auto l = label(t, "createAll");
  return {true, l, [t = std::move(t), rows = std::move(rows), mark](msg::db_context& c) {
            return orm::create_all(c.connection, c.config, t, rows, mark);
          }};
}

operation update_by_pk_op(std::string t, json pk, json values, bool mark) {
  auto l = label(t, "updateByPK");
  return {true, l,
          [t = std::move(t), pk = std::move(pk), values = std::move(values),
           mark](msg::db_context& c) {
            orm::update_by_pk(c.connection, c.config, t, pk, values, mark);
            return json{{"rowsupdated", 1}};
          }};
}

operation update_op(std::string t, where::clause w, json values, bool mark) {
  auto l = label(t, "update");
  return {true, l,
          [t = std::move(t), w = std::move(w), values = std::move(values),
           mark](msg::db_context& c) {
            return json{{"rowsupdated", orm::update(c.connection, c.config, t, w, values, mark)}};
          }};
}

operation update_all_op(std::string t, json changes, bool mark) {
  auto l = label(t, "updateAll");
  return {true, l, [t = std::move(t), changes = std::move(changes), mark](msg::db_context& c) {
            return json{
              {"rowsupdated", orm::update_all(c.connection, c.config, t, changes, mark)}};
          }};
}

operation delete_by_pk_op(std::string t, json pk, bool mark) {
  auto l = label(t, "deleteByPK");
  return {true, l, [t = std::move(t), pk = std::move(pk), mark](msg::db_context& c) {
            orm::delete_by_pk(c.connection, c.config, t, pk, mark);
            return json{{"rowsdeleted", 1}};
          }};
}

operation remove_op(std::string t, where::clause w, bool mark) {
  auto l = label(t, "remove");
  return {true, l, [t = std::move(t), w = std::move(w), mark](msg::db_context& c) {
            return json{{"rowsdeleted", orm::remove(c.connection, c.config, t, w, mark)}};
          }};
}

operation remove_device_instance_by_pk_op(std::string t, json pk) {
  auto l = label(t, "removeDeviceInstanceByPK");
  return {true, l, [t = std::move(t), pk = std::move(pk)](msg::db_context& c) {
            orm::remove_device_instance_by_pk(c.connection, c.config, t, pk);
            return json{{"rowsdeleted", 1}};
          }};
}

operation remove_device_instance_op(std::string t, where::clause w) {
  auto l = label(t, "removeDeviceInstance");
  return {true, l, [t = std::move(t), w = std::move(w)](msg::db_context& c) {
            return json{
              {"rowsdeleted", orm::remove_device_instance(c.connection, c.config, t, w)}};
          }};
}

operation mark_for_upload_by_pk_op(std::string t, json pk) {
  auto l = label(t, "markForUploadByPK");
  return {true, l, [t = std::move(t), pk = std::move(pk)](msg::db_context& c) {
            orm::mark_for_upload_by_pk(c.connection, c.config, t, pk);
            return json{{"rowsmarked", 1}};
          }};
}

operation mark_for_upload_op(std::string t, where::clause w) {
  auto l = label(t, "markForUpload");
  return {true, l, [t = std::move(t), w = std::move(w)](msg::db_context& c) {
            return json{{"rowsmarked", orm::mark_for_upload(c.connection, c.config, t, w)}};
          }};
}

operation rollback_op(std::string t) {
  auto l = label(t, "rollbackPendingLocalChanges");
  return {true, l, [t = std::move(t)](msg::db_context& c) {
            return json{
              {"rowsrolledback", orm::rollback_pending_local_changes(c.connection, c.config, t)}};
          }};
}

operation rollback_by_pk_op(std::string t, json pk) {
  auto l = label(t, "rollbackPendingLocalChangesByPK");
  return {true, l, [t = std::move(t), pk = std::move(pk)](msg::db_context& c) {
            bool undone =
              orm::rollback_pending_local_changes_by_pk(c.connection, c.config, t, pk);
            return json{{"rowsrolledback", undone ? 1 : 0}};
          }};
}

operation get_all_op(std::string t, json order_by, std::optional<std::int64_t> limit,
                     std::optional<std::int64_t> offset) {
  auto l = label(t, "getAll");
  return {false, l,
          [t = std::move(t), order_by = std::move(order_by), limit,
           offset](msg::db_context& c) {
            return orm::get_all(c.connection, c.config, t, order_by, limit, offset);
          }};
}

operation get_all_count_op(std::string t) {
  auto l = label(t, "getAllCount");
  return {false, l, [t = std::move(t)](msg::db_context& c) {
            return json{{"count", orm::get_all_count(c.connection, c.config, t)}};
          }};
}

operation get_count_op(std::string t, where::clause w) {
  auto l = label(t, "getCount");
  return {false, l, [t = std::move(t), w = std::move(w)](msg::db_context& c) {
            return json{{"count", orm::get_count(c.connection, c.config, t, w)}};
          }};
}

operation find_op(std::string t, where::clause w) {
  auto l = label(t, "find");
  return {false, l, [t = std::move(t), w = std::move(w)](msg::db_context& c) {
            return orm::find(c.connection, c.config, t, w);
          }};
}

operation details_op(std::string t, json pk) {
  auto l = label(t, "getAllDetailsByPK");
  return {false, l, [t = std::move(t), pk = std::move(pk)](msg::db_context& c) {
            return orm::get_all_details_by_pk(c.connection, c.config, t, pk);
          }};
}

operation pending_upload_op(std::string t, where::clause w) {
  auto l = label(t, "getPendingUpload");
  return {false, l, [t = std::move(t), w = std::move(w)](msg::db_context& c) {
            return orm::get_pending_upload(c.connection, c.config, t, w);
          }};
}

operation pending_ack_op(std::string t) {
  auto l = label(t, "getPendingAcknowledgement");
  return {false, l, [t = std::move(t)](msg::db_context& c) {
            return orm::get_pending_acknowledgement(c.connection, c.config, t);
          }};
}

operation deferred_op(std::string t, where::clause w) {
  auto l = label(t, "getDeferredUpload");
  return {false, l, [t = std::move(t), w = std::move(w)](msg::db_context& c) {
            return orm::get_deferred_upload(c.connection, c.config, t, w);
          }};
}

operation is_deferred_op(std::string t, json pk) {
  auto l = label(t, "isRecordDeferredForUpload");
  return {false, l, [t = std::move(t), pk = std::move(pk)](msg::db_context& c) {
            return json(orm::is_record_deferred_for_upload(c.connection, c.config, t, pk));
          }};
}

operation is_pending_op(std::string t, json pk) {
  auto l = label(t, "isRecordPendingForUpload");
  return {false, l, [t = std::move(t), pk = std::move(pk)](msg::db_context& c) {
            return json(orm::is_record_pending_for_upload(c.connection, c.config, t, pk));
          }};
}

operation related_op(std::string t, std::string target, json pk, std::string attribute) {
  auto l = label(t, "get") + target + "With" + attribute;
  return {false, l,
          [t = std::move(t), target = std::move(target), pk = std::move(pk),
           attribute = std::move(attribute)](msg::db_context& c) {
            return orm::get_related(c.connection, c.config, t, pk, target, attribute);
          }};
}

operation related_count_op(std::string t, std::string target, json pk, std::string attribute) {
  auto l = label(t, "getCountOf") + target + "With" + attribute;
  return {false, l,
          [t = std::move(t), target = std::move(target), pk = std::move(pk),
           attribute = std::move(attribute)](msg::db_context& c) {
            return json{
              {"count", orm::get_related_count(c.connection, c.config, t, pk, target, attribute)}};
          }};
}

} // namespace

// -- the public methods: callback form, then blocking form ------------------------------

void sync_object::create(const json& v, success_callback s, error_callback e, bool m) {
  dispatch(*client_, create_op(name_, v, m), std::move(s), std::move(e));
}
result sync_object::create(const json& v, bool m) { return dispatch(*client_, create_op(name_, v, m)); }

void sync_object::createAll(const json& r, success_callback s, error_callback e, bool m) {
  dispatch(*client_, create_all_op(name_, r, m), std::move(s), std::move(e));
}
result sync_object::createAll(const json& r, bool m) {
  return dispatch(*client_, create_all_op(name_, r, m));
}

void sync_object::updateByPK(const json& pk, const json& v, success_callback s, error_callback e,
                             bool m) {
  dispatch(*client_, update_by_pk_op(name_, pk, v, m), std::move(s), std::move(e));
}
result sync_object::updateByPK(const json& pk, const json& v, bool m) {
  return dispatch(*client_, update_by_pk_op(name_, pk, v, m));
}

void sync_object::update(const where_clause& w, const json& v, success_callback s,
                         error_callback e, bool m) {
  dispatch(*client_, update_op(name_, to_clause(w), v, m), std::move(s), std::move(e));
}
result sync_object::update(const where_clause& w, const json& v, bool m) {
  return dispatch(*client_, update_op(name_, to_clause(w), v, m));
}

void sync_object::updateAll(const json& c, success_callback s, error_callback e, bool m) {
  dispatch(*client_, update_all_op(name_, c, m), std::move(s), std::move(e));
}
result sync_object::updateAll(const json& c, bool m) {
  return dispatch(*client_, update_all_op(name_, c, m));
}

void sync_object::deleteByPK(const json& pk, success_callback s, error_callback e, bool m) {
  dispatch(*client_, delete_by_pk_op(name_, pk, m), std::move(s), std::move(e));
}
result sync_object::deleteByPK(const json& pk, bool m) {
  return dispatch(*client_, delete_by_pk_op(name_, pk, m));
}

void sync_object::remove(const where_clause& w, success_callback s, error_callback e, bool m) {
  dispatch(*client_, remove_op(name_, to_clause(w), m), std::move(s), std::move(e));
}
result sync_object::remove(const where_clause& w, bool m) {
  return dispatch(*client_, remove_op(name_, to_clause(w), m));
}

void sync_object::removeDeviceInstanceByPK(const json& pk, success_callback s, error_callback e) {
  dispatch(*client_, remove_device_instance_by_pk_op(name_, pk), std::move(s), std::move(e));
}
result sync_object::removeDeviceInstanceByPK(const json& pk) {
  return dispatch(*client_, remove_device_instance_by_pk_op(name_, pk));
}

void sync_object::removeDeviceInstance(const where_clause& w, success_callback s,
                                       error_callback e) {
  dispatch(*client_, remove_device_instance_op(name_, to_clause(w)), std::move(s), std::move(e));
}
result sync_object::removeDeviceInstance(const where_clause& w) {
  return dispatch(*client_, remove_device_instance_op(name_, to_clause(w)));
}

void sync_object::markForUploadByPK(const json& pk, success_callback s, error_callback e) {
  dispatch(*client_, mark_for_upload_by_pk_op(name_, pk), std::move(s), std::move(e));
}
result sync_object::markForUploadByPK(const json& pk) {
  return dispatch(*client_, mark_for_upload_by_pk_op(name_, pk));
}

void sync_object::markForUpload(const where_clause& w, success_callback s, error_callback e) {
  dispatch(*client_, mark_for_upload_op(name_, to_clause(w)), std::move(s), std::move(e));
}
result sync_object::markForUpload(const where_clause& w) {
  return dispatch(*client_, mark_for_upload_op(name_, to_clause(w)));
}

void sync_object::rollbackPendingLocalChanges(success_callback s, error_callback e) {
  dispatch(*client_, rollback_op(name_), std::move(s), std::move(e));
}
result sync_object::rollbackPendingLocalChanges() { return dispatch(*client_, rollback_op(name_)); }

void sync_object::rollbackPendingLocalChangesByPK(const json& pk, success_callback s,
                                                  error_callback e) {
  dispatch(*client_, rollback_by_pk_op(name_, pk), std::move(s), std::move(e));
}
result sync_object::rollbackPendingLocalChangesByPK(const json& pk) {
  return dispatch(*client_, rollback_by_pk_op(name_, pk));
}

void sync_object::getAll(success_callback s, error_callback e, const json& o,
                         std::optional<std::int64_t> limit, std::optional<std::int64_t> offset) {
  dispatch(*client_, get_all_op(name_, o, limit, offset), std::move(s), std::move(e));
}
result sync_object::getAll(const json& o, std::optional<std::int64_t> limit,
                           std::optional<std::int64_t> offset) {
  return dispatch(*client_, get_all_op(name_, o, limit, offset));
}

void sync_object::getAllCount(success_callback s, error_callback e) {
  dispatch(*client_, get_all_count_op(name_), std::move(s), std::move(e));
}
result sync_object::getAllCount() { return dispatch(*client_, get_all_count_op(name_)); }

void sync_object::getCount(const where_clause& w, success_callback s, error_callback e) {
  dispatch(*client_, get_count_op(name_, to_clause(w)), std::move(s), std::move(e));
}
result sync_object::getCount(const where_clause& w) {
  return dispatch(*client_, get_count_op(name_, to_clause(w)));
}

void sync_object::find(const where_clause& w, success_callback s, error_callback e) {
  dispatch(*client_, find_op(name_, to_clause(w)), std::move(s), std::move(e));
}
result sync_object::find(const where_clause& w) {
  return dispatch(*client_, find_op(name_, to_clause(w)));
}

void sync_object::getAllDetailsByPK(const json& pk, success_callback s, error_callback e) {
  dispatch(*client_, details_op(name_, pk), std::move(s), std::move(e));
}
result sync_object::getAllDetailsByPK(const json& pk) {
  return dispatch(*client_, details_op(name_, pk));
}

void sync_object::getPendingUpload(success_callback s, error_callback e, const where_clause& w) {
  dispatch(*client_, pending_upload_op(name_, to_clause(w)), std::move(s), std::move(e));
}
result sync_object::getPendingUpload(const where_clause& w) {
  return dispatch(*client_, pending_upload_op(name_, to_clause(w)));
}

void sync_object::getPendingAcknowledgement(success_callback s, error_callback e) {
  dispatch(*client_, pending_ack_op(name_), std::move(s), std::move(e));
}
result sync_object::getPendingAcknowledgement() { return dispatch(*client_, pending_ack_op(name_)); }

void sync_object::getDeferredUpload(success_callback s, error_callback e, const where_clause& w) {
  dispatch(*client_, deferred_op(name_, to_clause(w)), std::move(s), std::move(e));
}
result sync_object::getDeferredUpload(const where_clause& w) {
  return dispatch(*client_, deferred_op(name_, to_clause(w)));
}

void sync_object::isRecordDeferredForUpload(const json& pk, success_callback s, error_callback e) {
  dispatch(*client_, is_deferred_op(name_, pk), std::move(s), std::move(e));
}
result sync_object::isRecordDeferredForUpload(const json& pk) {
  return dispatch(*client_, is_deferred_op(name_, pk));
}

void sync_object::isRecordPendingForUpload(const json& pk, success_callback s, error_callback e) {
  dispatch(*client_, is_pending_op(name_, pk), std::move(s), std::move(e));
}
result sync_object::isRecordPendingForUpload(const json& pk) {
  return dispatch(*client_, is_pending_op(name_, pk));
}

void sync_object::getRelated(const std::string& target, const json& pk, success_callback s,
                             error_callback e, const std::string& attribute) {
  dispatch(*client_, related_op(name_, target, pk, attribute), std::move(s), std::move(e));
}
result sync_object::getRelated(const std::string& target, const json& pk,
                               const std::string& attribute) {
  return dispatch(*client_, related_op(name_, target, pk, attribute));
}

void sync_object::getRelatedCount(const std::string& target, const json& pk, success_callback s,
                                  error_callback e, const std::string& attribute) {
  dispatch(*client_, related_count_op(name_, target, pk, attribute), std::move(s), std::move(e));
}
result sync_object::getRelatedCount(const std::string& target, const json& pk,
                                    const std::string& attribute) {
  return dispatch(*client_, related_count_op(name_, target, pk, attribute));
}

} // namespace mxsync
