// The relay: moves newline-delimited JSON-RPC between the client (mcpcell's stdin/stdout) and the
// server (pipes to the sandboxed child), runs every line through the filter chain, records it, and
// supervises the child's lifetime.
//
// One thread, one epoll loop. Each direction has its own framer and output queue, so a peer that
// stops reading backs up only the direction it reads; the other keeps flowing. When an output queue
// grows past a bound, reading from the side that feeds it pauses (backpressure) instead of
// buffering without limit.
//
// Shutdown follows the client's budget (reference/protocol.md A3, B8): on stdin EOF the server's
// stdin is closed; if the server is still there after `eof_grace` it gets SIGTERM, and SIGKILL
// after `term_grace`. SIGTERM/SIGINT/SIGHUP to mcpcell start at the SIGTERM step.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "core/filter.h"
#include "io/audit.h"
#include "sandbox/sandbox.h"

namespace mcpcell {

struct RelayConfig {
  size_t max_line = 16u << 20;
  int client_in = 0;
  int client_out = 1;
  int log_fd = 2;  // where mcpcell and the server's stderr speak
  std::chrono::milliseconds eof_grace{500};
  std::chrono::milliseconds term_grace{500};
  // Turns a line of the server's stderr into what the audit record may hold (secrets removed).
  // Without one, stderr lines are recorded by size and hash only.
  std::function<std::string(std::string_view)> redact_text;
};

struct ServerPipes {
  int in = -1;   // we write the server's stdin
  int out = -1;  // we read the server's stdout
  int err = -1;  // we read the server's stderr
};

class Relay {
 public:
  Relay(RelayConfig config, FilterChain& chain, AuditLog& audit, SessionInfo session);
  ~Relay();

  // Runs until the session is over; returns mcpcell's exit status (the server's status, or
  // 128+N when it died from signal N). `reason` receives why the session ended.
  int run(const sandbox::Child& child, ServerPipes pipes, std::string* reason);

 private:
  class Impl;
  Impl* impl_;
};

}  // namespace mcpcell
