// Starting the server: with isolation (namespaces, mounts, seccomp, Landlock, no capabilities,
// scrubbed environment) or, with --no-sandbox, as a plain child. Either way the child gets the
// relay's pipes as stdin/stdout/stderr, a new session, no other file descriptors, and dies with
// mcpcell.
#pragma once

#include <sys/types.h>
#include <sys/wait.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace mcpcell::sandbox {

struct Limits {
  uint64_t memory_bytes = 0;  // 0 = mcpcell's default
  uint64_t tasks = 0;         // processes/threads; 0 = default
  uint64_t files = 0;         // open files; 0 = default
};

// What the server may touch. Paths are absolute and already expanded (no ~). Empty lists mean
// nothing.
struct Policy {
  bool isolate = true;                // false: --no-sandbox
  std::string server_name;            // identity; names the private home
  std::filesystem::path state_dir;    // $XDG_STATE_HOME/mcpcell
  std::filesystem::path config_dir;   // $XDG_CONFIG_HOME/mcpcell
  std::vector<std::string> fs_read;   // read-only grants
  std::vector<std::string> fs_write;  // read-write grants
  std::vector<std::string> fs_hide;   // always hidden, wins over grants
  std::vector<std::string> env_pass;  // variable names passed from mcpcell's environment
  std::vector<std::pair<std::string, std::string>> env_set;  // variables set to fixed values
  Limits limits;
  std::vector<std::string> syscall_groups;  // extra systemd-style groups to allow, e.g. "@debug"
  std::string cwd;                          // working directory inside (default: mcpcell's cwd)
  // Runs in the child inside the new network namespace while it still holds capabilities there,
  // before the filesystem is built (e.g. net::open_sockets_in_netns). Must be async-signal-safe
  // and allocation-free. Returns 0 or an errno value and points *step at what failed.
  struct NetnsSetup {
    int (*fn)(const void* arg, int channel_fd, const char** step) = nullptr;
    const void* arg = nullptr;  // alive until spawn() returns
    int channel_fd = -1;        // the child's end of the caller's channel (closed in the child)
  } netns_setup;
  std::string resolv_conf;  // /etc/resolv.conf inside; empty: a resolver that fails fast
};

struct Stdio {
  int in = -1, out = -1, err = -1;  // the child's ends; the caller closes them after spawn
};

struct Child {
  pid_t pid = -1;       // the process mcpcell waits for (the sandbox init, or the server itself)
  int pidfd = -1;       // pidfd of `pid` (pollable: readable when it exits)
  int notify_fd = -1;   // seccomp user-notification listener, or -1
  int status_fd = -1;   // init's InitNote with the server's wait status (isolated only), or -1
  nlohmann::json info;  // what isolation is in force, for session.start's "sandbox" field
};

struct SpawnResult {
  bool ok = false;
  Child child;
  int exit_code = 0;  // when !ok: 125 (sandbox/option), 126 (not executable), 127 (not found)
  std::string error;  // when !ok: what failed, which step, and what to do about it
};

// Resolves argv[0] like execvp does (PATH search), before anything is forked.
// On failure returns an empty path and sets exit_code 127/126 and error.
std::filesystem::path resolve_command(const std::string& name, int* exit_code, std::string* error);

// Starts argv under `policy`. Never throws. `meanwhile` (optional) runs in mcpcell once the child
// exists, while the child builds its sandbox and execs, so that mcpcell's own start-up work
// overlaps the child's; it does not run when the child could not be created.
SpawnResult spawn(const Policy& policy, const std::vector<std::string>& argv, const Stdio& stdio,
                  const std::function<void()>& meanwhile = {});

// mcpcell's exit status for the server's wait status: its own status, or 128+N for signal N.
inline int exit_code_of(int wait_status) {
  return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
}

// Decodes a note read from `status_fd`: true and the server's wait status when it says the server
// exited.
bool read_exit_note(int status_fd, int* wait_status);

// Waits (at most timeout_ms) until `child` is gone, and reaps it. After an exit note the sandbox's
// init is still tearing down its namespaces; mcpcell finishes the session meanwhile and waits here
// last, so that nothing of the sandbox outlives mcpcell.
void reap(const Child& child, int timeout_ms);

// Sends `sig` to every process of the server: the whole pid namespace when isolated, else the
// server's process group and every descendant reparented to mcpcell (a child subreaper).
void signal_tree(const Child& child, int sig);

// A syscall the sandbox refused, read from the seccomp notification fd.
struct Denial {
  std::string syscall;  // name, e.g. "io_uring_setup"
  int nr = -1;
  pid_t pid = -1;    // pid inside the sandbox (-1 if the task vanished meanwhile)
  std::string comm;  // executable name, if readable
  uint64_t args[6] = {};
  uint32_t arch = 0;    // AUDIT_ARCH_* of the call (a foreign one for int 0x80 / x32)
  pid_t host_pid = -1;  // the same task as seen from mcpcell
  int error = 0;        // what the call returned: EPERM, or ENOSYS for probed calls
};

// Reads one pending notification from `notify_fd`, refuses the call (EPERM or ENOSYS) and returns
// what it was. Returns nullopt when nothing could be read.
std::optional<Denial> answer_notification(int notify_fd);

// Call once at startup in mcpcell itself (makes mcpcell a child subreaper so orphaned server
// processes come back to it and can be reaped and killed).
void prepare_supervisor();

}  // namespace mcpcell::sandbox
