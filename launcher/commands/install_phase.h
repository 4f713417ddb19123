// The package download phase of a package runner (`npx -y PKG`, `uvx PKG`, `pnpm dlx PKG`, ...),
// apart from the server: the profile's `network.install` hosts are reachable only by a separate
// sandboxed prefetch step that fills the server's own private cache, and the server then runs
// offline from that cache with only `network.allow`. Runners with no reliable offline mode keep
// the install hosts only until the server's first message (docs/network.md, "Install phase").
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "io/audit.h"
#include "sandbox/sandbox.h"

namespace mcpcell {

// How a runner's prefetch step names the package and what it runs instead of the server.
enum class PrefetchShape {
  kNone,         // no prefetch that leaves a cache the offline run can use: the fallback
  kNpmPackage,   // RUNNER [SUB...] --yes --package=SPEC -- true
  kUvFrom,       // RUNNER [SUB...] [OPTIONS...] --from SPEC true   (the options as written)
  kPnpmPackage,  // RUNNER --package=SPEC [SUB...] true
};

// One package runner, as data: how to recognise its command, find the package in it, prefetch
// it, and make the server's run offline. Lists are words separated by spaces, so the whole table
// reads as one block (install_phase.cc).
struct RunnerSpec {
  std::string_view name;             // in records and messages: "npx", "uv tool run"
  std::string_view tool;             // argv[0]'s file name
  std::string_view sub;              // the words that must follow it: "tool run"
  std::string_view value_options;    // its options that take the next argument
  std::string_view package_options;  // its options naming the package: "--from"
  PrefetchShape prefetch = PrefetchShape::kNone;
  std::string_view offline_env;   // NAME=VALUE words set for the server's run
  std::string_view fallback_why;  // kNone: why there is no offline run (for session.start)
};

// Every runner mcpcell knows, in match order.
std::span<const RunnerSpec> package_runners();

// Splits a table list ("tool run") into its words.
std::vector<std::string_view> words(std::string_view list);

struct InstallPlan {
  enum class Mode {
    kNone,        // not a package runner, no install hosts, or not sandboxed
    kSeparate,    // a separate prefetch step; the server gets no install hosts
    kUntilReady,  // no reliable offline run: the server gets the install hosts until its first
                  // message on stdout, then they are revoked
  } mode = Mode::kNone;
  std::string runner;                                            // RunnerSpec::name
  std::string spec;                                              // the package as written
  std::vector<std::string> argv;                                 // the prefetch (kSeparate)
  std::vector<std::pair<std::string, std::string>> offline_env;  // set for the server (kSeparate)
  std::vector<std::string> hosts;                                // network.install
  std::string why;                                               // kUntilReady: why
};

// Pure: what to do for `argv` with these install hosts.
InstallPlan plan_install(const std::vector<std::string>& argv,
                         const std::vector<std::string>& install_hosts, bool isolated);

// Runs the prefetch step under `policy` (the server's: same private HOME and cache) with only the
// install hosts reachable, waits for it (at most `timeout_s`), and records install.start, its
// net.* records (phase "install") and install.end. Its output goes to mcpcell's stderr. An error
// when it could not run or did not succeed. *summary gets what session.start reports.
Status run_install_phase(const InstallPlan& plan, const sandbox::Policy& policy, AuditLog& audit,
                         nlohmann::json* summary, int timeout_s = 600);

}  // namespace mcpcell
