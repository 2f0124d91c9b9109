// mxsync-server: the reference Volt MX / Kony Sync Server (docs/server.md).
//
//   mxsync-server --config <sync-config.json> --db <server.db> --port <n> --user <id>:<password> ...
//   mxsync-server admin load|upsert|delete --config .. --db .. [--table T] --rows rows.json
//   mxsync-server generate --config .. [--rows-per-table N] [--table T] [--seed S] [--out FILE | --db ..]
//
// The first line on stdout is the address it listens on ("listening on http://127.0.0.1:43567").
// SIGTERM and SIGINT stop it cleanly (exit code 0). Exit code 2: bad command line,
// settings or sync configuration; 1: a failure while running (port taken, store).

#include "server/admin.hpp"
#include "server/auth.hpp"
#include "server/http_server.hpp"
#include "server/settings.hpp"
#include "server/sqlite_store.hpp"
#include "server/sync_service.hpp"

#include <openssl/crypto.h>
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace mxsync;
using namespace mxsync::server;
using json = nlohmann::json;

constexpr const char* usage_text = R"(usage:
  mxsync-server [serve] --config <sync-config.json> --db <server.db> [options]
      --port <n>              listen port (default 8080; 0 picks a free port)
      --host <address>        listen address (default 127.0.0.1)
      --user <id>:<password>  a user (repeatable); every passwordhashalgo digest is accepted
      --token <id>:<token>    a claims token (X-Kony-Authorization) that logs in <id> (repeatable)
      --settings <file>       JSON settings file (docs/server.md); options override it
      --tls-cert <pem> --tls-key <pem>   serve https
      --threads <n>           maximum worker threads = concurrent connections (default 256)
      --max-body-bytes <n>    request body limit (default 67108864)
      --gzip-level <0-9>      gzip level of answers to clients that accept gzip (default 1; 0 = off)
      --log-level <level>     error, warning, info (default) or debug
      --quiet                 same as --log-level error
      --admin-http            serve POST /mxsync/admin/{load,upsert,delete} (data set body; loopback only)
      --upload-context <name>    also serve upload under <name> (the client's uploadwebcontext)
      --download-context <name>  also serve download under <name> (the client's downloadwebcontext)
  mxsync-server admin load|upsert|delete --config <file> --db <file> [--table <T>] --rows <file.json>
      load: rows replace stored rows; upsert: given columns are merged into existing rows;
      delete: rows name keys to delete. Without --table the file is {"<Table>": [rows], ...}.
  mxsync-server generate --config <file> [--rows-per-table <n>] [--table <T>] [--seed <n>]
                         [--out <file.json> | --db <file>]
      writes a demo data set (to stdout, a file, or straight into a store)
)";

class usage_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// The command line as (name, value) options after the subcommand words.
class arguments {
public:
  arguments(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) words_.emplace_back(argv[i]);
  }

  /// Leading words that are not options ("admin", "load").
  std::vector<std::string> commands() const {
    std::vector<std::string> result;
    for (const auto& word : words_) {
      if (word.rfind("--", 0) == 0) break;
      result.push_back(word);
    }
    return result;
  }

  /// Walks the options; `flag` gets (name, value or nullopt for flags).
  template <class Visitor>
  void each_option(const std::vector<std::string>& flags, Visitor visit) const {
    std::size_t i = commands().size();
    while (i < words_.size()) {
      const auto& word = words_[i];
      if (word.rfind("--", 0) != 0) throw usage_error("unexpected argument '" + word + "'");
      auto name = word.substr(2);
      std::optional<std::string> value;
      if (auto equals = name.find('='); equals != std::string::npos) {
        value = name.substr(equals + 1);
        name = name.substr(0, equals);
      } else if (std::find(flags.begin(), flags.end(), name) == flags.end()) {
        if (i + 1 >= words_.size()) throw usage_error("option --" + name + " needs a value");
        value = words_[++i];
      }
      visit(name, value);
      ++i;
    }
  }

private:
  std::vector<std::string> words_;
};

long long parse_number(const std::string& option, const std::string& text, long long min, long long max) {
  try {
    std::size_t used = 0;
    auto number = std::stoll(text, &used);
    if (used != text.size() || number < min || number > max) throw std::out_of_range(text);
    return number;
  } catch (const std::exception&) {
    throw usage_error("--" + option + " expects a number between " + std::to_string(min) + " and " +
                      std::to_string(max) + ", got '" + text + "'");
  }
}

json read_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw usage_error("cannot read '" + path + "'");
  std::stringstream text;
  text << in.rdbuf();
  try {
    return json::parse(text.str());
  } catch (const json::parse_error& e) {
    throw usage_error("'" + path + "' is not valid JSON: " + e.what());
  }
}

std::shared_ptr<store> open_store(const std::string& path, const sync_config& config) {
  return std::make_shared<sqlite_store>(config, path);
}

// ---------------------------------------------------------------- serve

/// Blocks the stop signals in the calling thread (and so in every thread it
/// creates later): they are taken only by sigwait on the signal thread.
sigset_t block_stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGUSR1); // the main thread's "serving ended" wake-up
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

int serve(const arguments& args, const sigset_t& stop_signals) {
  server_settings settings;
  std::vector<user_entry> cli_users;
  std::optional<std::string> settings_file;
  std::optional<log_level> cli_level;
  std::vector<std::pair<std::string, std::string>> overrides;
  bool admin_http = false;
  std::vector<std::pair<std::string, std::string>> cli_tokens;
  args.each_option({"quiet", "help", "admin-http"}, [&](const std::string& name, const std::optional<std::string>& value) {
    if (name == "settings") settings_file = *value;
    else if (name == "admin-http") admin_http = true;
    else if (name == "token") cli_tokens.push_back(parse_token_option(*value));
    else if (name == "user") cli_users.push_back(parse_user_option(*value));
    else if (name == "quiet") cli_level = log_level::error;
    else if (name == "log-level") cli_level = parse_log_level(*value);
    else if (name == "help") throw usage_error("");
    else if (name == "config" || name == "db" || name == "host" || name == "port" || name == "tls-cert" ||
             name == "tls-key" || name == "threads" || name == "max-body-bytes" || name == "upload-context" ||
             name == "download-context" || name == "gzip-level")
      overrides.emplace_back(name, *value);
    else throw usage_error("unknown option --" + name);
  });
  if (settings_file) apply_settings_file(settings, *settings_file);
  for (const auto& [name, value] : overrides) {
    if (name == "config") settings.config_path = value;
    else if (name == "db") settings.db_path = value;
    else if (name == "host") settings.host = value;
    else if (name == "port") settings.port = static_cast<int>(parse_number(name, value, 0, 65535));
    else if (name == "tls-cert") settings.tls_cert = value;
    else if (name == "tls-key") settings.tls_key = value;
    else if (name == "threads") settings.threads = static_cast<std::size_t>(parse_number(name, value, 1, 4096));
    else if (name == "max-body-bytes")
      settings.max_body_bytes = static_cast<std::size_t>(parse_number(name, value, 1024, 1LL << 40));
    else if (name == "gzip-level") settings.compression.gzip_level = static_cast<int>(parse_number(name, value, 0, 9));
    else if (name == "upload-context") settings.web_contexts.upload = value;
    else if (name == "download-context") settings.web_contexts.download = value;
  }
  for (auto& user : cli_users) settings.users.push_back(std::move(user));
  for (auto& token : cli_tokens) settings.tokens.push_back(std::move(token));
  if (cli_level) settings.level = *cli_level;
  if (admin_http) settings.admin_http = true;
  validate_settings(settings);

  auto config = sync_config::load_file(settings.config_path);
  validate_against_config(settings, config);

  user_directory users;
  for (auto& user : settings.users) {
    if (user.password) {
      users.add_user(user.userid, *user.password);
      OPENSSL_cleanse(user.password->data(), user.password->size()); // no plain text kept
      user.password.reset();
    }
    if (!user.digests.empty()) {
      std::vector<std::string> forms;
      for (const auto& [algorithm, digest] : user.digests) forms.push_back(digest);
      users.add_user_digests(user.userid, forms);
    }
  }

  for (auto& [userid, token] : settings.tokens) {
    users.add_token(userid, token);
    OPENSSL_cleanse(token.data(), token.size());
  }
  settings.tokens.clear();

  request_log log(settings.level, std::cerr);
  auto data = open_store(settings.db_path, config);
  sync_service service(config, data, settings.service);
  sync_front front(config, users, [&service](const sync_request& request) { return service.handle(request); },
                   sync_front::options{settings.previous_versions, {}, settings.web_contexts});
  auto options = http_server_options::from(settings);
  if (settings.admin_http) {
    // Writes go through the same store as the sync requests (one process owns the file).
    options.admin = [&config, &data](const std::string& command, const json& body, const std::string& table) {
      auto mode = command == "load" ? admin_write::load : command == "upsert" ? admin_write::upsert : admin_write::remove;
      return apply_data_set(*data, config, normalize_data_set(config, body, table), mode);
    };
  }
  http_server server(std::move(options), front, log);
  server.bind();
  std::cout << "listening on " << server.url() << std::endl; // the first line; endl flushes
  log.write(log_level::info, "serving app " + config.app_id + " (config version " + config.version + ") from " +
                                 settings.db_path + " with " + std::to_string(users.size()) + " user(s)");
  log.write(log_level::info, "store " + data->durability());
  if (settings.web_contexts != web_context_names{})
    log.write(log_level::info, "upload also served as '" + settings.web_contexts.upload + "', download as '" +
                                   settings.web_contexts.download + "'");

  // The signal thread: waits for SIGTERM/SIGINT and stops the server; SIGUSR1
  // from the main thread means serving ended on its own.
  std::thread signal_thread([&] {
    int received = 0;
    while (sigwait(&stop_signals, &received) == 0) {
      if (received == SIGUSR1) return;
      log.write(log_level::info, std::string{"stopping on "} + (received == SIGINT ? "SIGINT" : "SIGTERM"));
      server.stop();
      return;
    }
  });
  bool served = server.run();
  pthread_kill(signal_thread.native_handle(), SIGUSR1); // no-op if it has already returned
  signal_thread.join();
  log.write(log_level::info, "stopped");
  return served ? 0 : 1;
}

// ---------------------------------------------------------------- admin, generate

int admin(const arguments& args, const std::vector<std::string>& commands) {
  if (commands.size() != 2) throw usage_error("admin needs one of: load, upsert, delete");
  admin_write mode;
  if (commands[1] == "load") mode = admin_write::load;
  else if (commands[1] == "upsert") mode = admin_write::upsert;
  else if (commands[1] == "delete") mode = admin_write::remove;
  else throw usage_error("unknown admin command '" + commands[1] + "' (use load, upsert or delete)");
  std::string config_path, db_path, table, rows_path;
  args.each_option({}, [&](const std::string& name, const std::optional<std::string>& value) {
    if (name == "config") config_path = *value;
    else if (name == "db") db_path = *value;
    else if (name == "table") table = *value;
    else if (name == "rows") rows_path = *value;
    else throw usage_error("unknown option --" + name + " for admin");
  });
  if (config_path.empty() || db_path.empty() || rows_path.empty())
    throw usage_error("admin " + commands[1] + " needs --config, --db and --rows");
  auto config = sync_config::load_file(config_path);
  auto data_set = normalize_data_set(config, read_json_file(rows_path), table);
  auto data = open_store(db_path, config);
  auto count = apply_data_set(*data, config, data_set, mode);
  std::cout << (mode == admin_write::remove ? "deleted " : "wrote ") << count << " row(s)" << std::endl;
  return 0;
}

int generate(const arguments& args) {
  std::string config_path, db_path, table, out_path;
  std::size_t rows_per_table = 10;
  std::uint64_t seed = 1;
  args.each_option({}, [&](const std::string& name, const std::optional<std::string>& value) {
    if (name == "config") config_path = *value;
    else if (name == "db") db_path = *value;
    else if (name == "table") table = *value;
    else if (name == "out") out_path = *value;
    else if (name == "rows-per-table")
      rows_per_table = static_cast<std::size_t>(parse_number(name, *value, 0, 100'000'000));
    else if (name == "seed") seed = static_cast<std::uint64_t>(parse_number(name, *value, 0, 1LL << 62));
    else throw usage_error("unknown option --" + name + " for generate");
  });
  if (config_path.empty()) throw usage_error("generate needs --config");
  auto config = sync_config::load_file(config_path);
  auto data_set = generate_data_set(config, rows_per_table, table, seed);
  if (!db_path.empty()) {
    auto data = open_store(db_path, config);
    auto count = apply_data_set(*data, config, data_set, admin_write::load);
    std::cout << "wrote " << count << " row(s)" << std::endl;
  } else if (!out_path.empty()) {
    std::ofstream out(out_path, std::ios::binary);
    out << data_set.dump(1) << '\n';
    if (!out) throw usage_error("cannot write '" + out_path + "'");
  } else {
    std::cout << data_set.dump(1) << std::endl;
  }
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  // Before any thread exists, so that every thread inherits the blocked mask.
  auto stop_signals = block_stop_signals();
  try {
    arguments args(argc, argv);
    auto commands = args.commands();
    if (commands.empty() || commands[0] == "serve") return serve(args, stop_signals);
    if (commands[0] == "admin") return admin(args, commands);
    if (commands[0] == "generate") return generate(args);
    if (commands[0] == "help") {
      std::cout << usage_text;
      return 0;
    }
    throw usage_error("unknown command '" + commands[0] + "'");
  } catch (const usage_error& e) {
    if (*e.what()) std::cerr << "mxsync-server: " << e.what() << "\n\n";
    std::cerr << usage_text;
    return *e.what() ? 2 : 0;
  } catch (const settings_error& e) {
    std::cerr << "mxsync-server: " << e.what() << " (see: mxsync-server help)" << std::endl;
    return 2;
  } catch (const config_error& e) {
    std::cerr << "mxsync-server: invalid sync configuration: " << e.what() << std::endl;
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "mxsync-server: " << e.what() << std::endl;
    return 1;
  }
}
