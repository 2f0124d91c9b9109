#pragma once
// Starts the real mxsync-server for end-to-end tests: on a free loopback port, with
// the given config, store and users; stops it with SIGTERM when destroyed.

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace mxsync::test {

class server_process {
public:
  /// `args` follow the binary: --config ..., --db ..., --user ... (--port 0 is added).
  server_process(const std::string& binary, std::vector<std::string> args) {
    args.insert(args.begin(), binary);
    args.push_back("--port");
    args.push_back("0");
    args.push_back("--quiet");
    int out[2];
    if (pipe(out) != 0)
      throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    // Not the test's stderr: a server left behind by an aborted test must not keep
    // CTest's output pipe open.
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    int rc = posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    if (rc != 0) {
      close(out[0]);
      throw std::runtime_error("cannot start " + binary);
    }
    // The first line is "listening on http://127.0.0.1:<port>".
    std::string line;
    char c = 0;
    while (read(out[0], &c, 1) == 1 && c != '\n')
      line.push_back(c);
    stdout_ = out[0];
    auto colon = line.rfind(':');
    if (line.find("listening on") == std::string::npos || colon == std::string::npos) {
      stop();
      throw std::runtime_error("mxsync-server did not start: '" + line + "'");
    }
    port_ = line.substr(colon + 1);
    while (!port_.empty() && !std::isdigit(static_cast<unsigned char>(port_.back())))
      port_.pop_back();
  }

  server_process(const server_process&) = delete;
  server_process& operator=(const server_process&) = delete;
  ~server_process() { stop(); }

  const std::string& port() const { return port_; }
  pid_t pid() const { return pid_; }

  /// SIGTERM and wait; the exit status (or -1).
  int stop() {
    if (pid_ <= 0)
      return -1;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    if (stdout_ >= 0)
      close(stdout_);
    stdout_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  /// A loopback port that nothing listens on while the guard lives.
  class free_port_guard {
  public:
    free_port_guard() {
      fd_ = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in address{};
      address.sin_family = AF_INET;
      address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      address.sin_port = 0;
      bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
      socklen_t size = sizeof(address);
      getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size);
      port_ = std::to_string(ntohs(address.sin_port));
      // Bound but not listening: connections are refused.
    }
    ~free_port_guard() { close(fd_); }
    free_port_guard(const free_port_guard&) = delete;
    free_port_guard& operator=(const free_port_guard&) = delete;
    const std::string& port() const { return port_; }

  private:
    int fd_ = -1;
    std::string port_;
  };

private:
  pid_t pid_ = -1;
  int stdout_ = -1;
  std::string port_;
};

/// The path fresh_file(name + "-device.db") gave, without removing anything.
inline std::string fresh_file_path(const std::string& device_name) {
  return std::string{MXSYNC_BINARY_DIR} + "/" + device_name + "-device.db";
}

/// A fresh path under the build tree (old files of the same name removed).
inline std::string fresh_file(const std::string& name) {
  auto path = std::string{MXSYNC_BINARY_DIR} + "/" + name;
  for (auto suffix : {"", "-wal", "-shm"})
    std::filesystem::remove(path + suffix);
  return path;
}

} // namespace mxsync::test
