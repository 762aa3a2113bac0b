// Test helpers: run a child process with its output captured in files, and talk HTTP/1.1 over a
// raw loopback socket (so a test can send half a request).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace kefu::testing {

class ChildProcess {
 public:
  // Starts `argv[0]` with `argv`, stdout and stderr redirected to `out_file` / `err_file`.
  ChildProcess(const std::vector<std::string>& argv, const std::string& out_file,
               const std::string& err_file);
  // Kills (SIGKILL) and reaps the child if still running.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  void Signal(int signal_number);
  // Waits up to `timeout` for the exit: the exit code, or -signal if killed by one, or nullopt on
  // timeout.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  bool running() const { return !exited_; }

 private:
  pid_t pid_ = -1;
  bool exited_ = false;
};

// Runs a command to completion (timeout 30 s); returns exit code, stdout and stderr.
struct CommandResult {
  int code;
  std::string out;
  std::string err;
};
CommandResult RunCommand(const std::vector<std::string>& argv, const std::string& scratch_dir);

std::string ReadWholeFile(const std::string& path);

// The last non-empty line of `text` (kefuctl prints a created token alone on its last line).
std::string LastNonEmptyLine(const std::string& text);

// Percent-encodes every byte but ASCII letters and digits (query parameters in tests).
std::string UrlEncode(const std::string& s);

// A port that was free a moment ago on 127.0.0.1.
int FreePort();

// A connected loopback TCP socket (fd), or -1.
int ConnectLoopback(int port);
// Sends all of `data`; false on error.
bool SendAll(int fd, const std::string& data);
// Reads until the peer closes (or `timeout`), returns what arrived.
std::string ReadUntilClose(int fd, std::chrono::milliseconds timeout);

struct HttpReply {
  int status = 0;  // 0: no answer
  std::string headers;
  std::string body;
};
// One request with "Connection: close"; `extra_headers` are "Name: value\r\n" lines.
HttpReply HttpCall(int port, const std::string& method, const std::string& path,
                   const std::string& extra_headers = "", const std::string& body = "");
// Parses a raw HTTP/1.1 response.
HttpReply ParseReply(const std::string& raw);

}  // namespace kefu::testing
