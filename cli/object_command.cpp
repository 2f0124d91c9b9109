#include "cli/object_command.hpp"

#include "cli/client_support.hpp"
#include "cli/command_line.hpp"
#include "mxsync/sync_object.hpp"

#include <optional>

namespace mxsync::cli {

namespace {

nlohmann::json parse_json_option(const arguments& parsed, const std::string& name) {
  auto text = parsed.require(name);
  auto value = nlohmann::json::parse(text, nullptr, false);
  if (value.is_discarded()) {
    if (name == "pk")
      return text; // a bare single-column key
    throw usage_error("--" + name + " is not JSON: " + text);
  }
  return value;
}

} // namespace

int run_object(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  arguments parsed{args, {"json", "no-upload"}, {"config", "db", "values", "pk", "where"}};
  const auto& words = parsed.positional();
  if (words.size() != 2)
    throw usage_error("object needs <Object> and one of create, update, delete, get, find, "
                      "mark-for-upload");
  const auto& action = words[1];
  bool mark = !parsed.flag("no-upload");
  auto client = open_initialized_client(parsed);
  auto where = parsed.get("where");
  auto outcome = [&]() -> result {
    // An unknown object (7031) is reported like any failed call, --json included.
    std::optional<sync_object> found;
    try {
      found.emplace(client->object(words[0]));
    } catch (const sync_exception& e) {
      return e.error();
    }
    auto& object = *found;
    if (action == "create")
      return object.create(parse_json_option(parsed, "values"), mark);
    if (action == "update")
      return where ? object.update(*where, parse_json_option(parsed, "values"), mark)
                   : object.updateByPK(parse_json_option(parsed, "pk"),
                                       parse_json_option(parsed, "values"), mark);
    if (action == "delete")
      return where ? object.remove(*where, mark)
                   : object.deleteByPK(parse_json_option(parsed, "pk"), mark);
    if (action == "get")
      return parsed.get("pk") ? object.getAllDetailsByPK(parse_json_option(parsed, "pk"))
                              : object.getAll();
    if (action == "find")
      return object.find(parsed.require("where"));
    if (action == "mark-for-upload")
      return where ? object.markForUpload(*where)
                   : object.markForUploadByPK(parse_json_option(parsed, "pk"));
    throw usage_error("unknown object action '" + action + "'");
  }();
  return report_result("object", outcome, parsed.flag("json"), out, err);
}

} // namespace mxsync::cli
