#pragma once
// Runs a command for end-to-end tests and captures its exit code and output.

#include <array>
#include <cstdio>
#include <string>
#include <sys/wait.h>

namespace mxsync::test {

struct process_result {
  int exit_code = -1;
  std::string output; ///< stdout (stderr too when the command redirects it)
};

/// Runs `command` through /bin/sh and waits for it.
inline process_result run_command(const std::string& command) {
  process_result result;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe)
    return result;
  std::array<char, 4096> buffer{};
  size_t n = 0;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    result.output.append(buffer.data(), n);
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

} // namespace mxsync::test
