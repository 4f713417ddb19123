// `mcpcell [OPTIONS] -- COMMAND [ARG...]`: the whole life of one server session, in order.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "commands/chain.h"
#include "commands/cli.h"
#include "commands/commands.h"
#include "commands/install_phase.h"
#include "commands/network.h"
#include "core/identity.h"
#include "io/audit.h"
#include "io/paths.h"
#include "io/relay.h"
#include "profiles/resolve.h"
#include "sandbox/sandbox.h"
#include "scan/module.h"
#include "scan/scan_filter.h"

namespace mcpcell {
namespace fs = std::filesystem;

int fail(int code, const std::string& what, const std::string& hint) {
  std::fprintf(stderr, "mcpcell: %s\n", what.c_str());
  if (!hint.empty()) std::fprintf(stderr, "mcpcell: %s\n", hint.c_str());
  return code;
}

int not_yet_supported(const std::string& what) {
  return fail(125, what + " is not yet supported in this version",
              "see 'mcpcell --help' for what works today");
}

namespace {

// The profile in force, with this run's --allow-* flags and SPEC's hard denials applied.
// A relative path in the command names a file under mcpcell's working directory. When the profile
// does not grant that directory the server starts in its private home and reports only "not
// found", which looks like a broken server; say what happened and how to fix it.
void hint_relative_paths(const std::vector<std::string>& argv, const sandbox::Policy& p) {
  std::error_code ec;
  fs::path cwd = fs::current_path(ec);
  if (ec) return;
  for (const auto* grants : {&p.fs_read, &p.fs_write})
    for (const std::string& g : *grants) {
      fs::path rel = cwd.lexically_relative(g);
      if (!g.empty() && !rel.empty() && *rel.begin() != "..") return;  // cwd is visible
    }
  for (size_t i = 1; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.empty() || a[0] == '/' || a[0] == '-' || a.find('/') == std::string::npos) continue;
    if (!fs::exists(cwd / a, ec)) continue;
    std::fprintf(stderr,
                 "mcpcell: '%s' is relative to %s, which the sandbox does not show the server (it "
                 "starts in its private home); use an absolute path, or grant the directory with "
                 "--allow-read %s\n",
                 a.c_str(), cwd.c_str(), cwd.c_str());
    return;
  }
}

bool resolve_profile(const RunOptions& o, const std::string& name, profiles::Resolved* out,
                     std::string* error) {
  profiles::Overrides flags{o.allow_read, o.allow_write, o.allow_net, o.allow_env};
  profiles::Context ctx = profiles::context_from_process(name);
  if (!profiles::resolve(o.profile, o.argv, flags, ctx, out, error)) return false;
  sandbox::Policy& p = out->policy;
  p.isolate = !o.no_sandbox;
  p.server_name = name;
  p.state_dir = state_dir();
  p.config_dir = config_dir();
  return profiles::prepare(*out, error);
}

// stdout must carry only the server's lines. mcpcell keeps private copies of the client's stdin and
// stdout and points fds 0 and 1 elsewhere, so no stray write can corrupt the stream.
bool take_client_fds(int* in, int* out) {
  *in = ::fcntl(0, F_DUPFD_CLOEXEC, 3);
  *out = ::fcntl(1, F_DUPFD_CLOEXEC, 3);
  if (*in < 0 || *out < 0) return false;
  int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null >= 0) {
    ::dup2(null, 0);
    ::close(null);
  }
  ::dup2(2, 1);
  return true;
}

// $XDG_CONFIG_HOME/mcpcell/settings.json holds machine-wide settings; today the audit trail's
// rotation and retention: {"audit": {"max_bytes": N, "keep_files": N, "max_age_days": N}}.
Status read_settings(const fs::path& config, AuditFileOptions* audit) {
  std::string text;
  if (!read_file(config / "settings.json", &text)) return Status::Ok();
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false, /*ignore_comments=*/true);
  if (j.is_discarded() || !j.is_object())
    return Status::Error((config / "settings.json").string() + " is not a JSON object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() != "audit" || !it->is_object())
      return Status::Error((config / "settings.json").string() + ": unknown setting '" + it.key() +
                           "' (known: audit)");
    for (auto a = it->begin(); a != it->end(); ++a) {
      if (!a->is_number_unsigned())
        return Status::Error("settings.json: audit." + a.key() + " must be a positive number");
      if (a.key() == "max_bytes")
        audit->max_bytes = a->get<uint64_t>();
      else if (a.key() == "keep_files")
        audit->keep_files = a->get<int>();
      else if (a.key() == "max_age_days")
        audit->max_age_days = a->get<int>();
      else
        return Status::Error("settings.json: unknown setting audit." + a.key() +
                             " (known: max_bytes, keep_files, max_age_days)");
    }
  }
  return Status::Ok();
}

struct Pipes {
  int server_in[2] = {-1, -1}, server_out[2] = {-1, -1}, server_err[2] = {-1, -1};
};

bool make_pipes(Pipes* p) {
  if (::pipe2(p->server_in, O_CLOEXEC) != 0 || ::pipe2(p->server_out, O_CLOEXEC) != 0 ||
      ::pipe2(p->server_err, O_CLOEXEC) != 0)
    return false;
  // Larger pipes move 1 MiB messages in fewer wakeups (best effort: capped by pipe-max-size).
  ::fcntl(p->server_in[1], F_SETPIPE_SZ, 1 << 20);
  ::fcntl(p->server_out[1], F_SETPIPE_SZ, 1 << 20);
  return true;
}

// Revokes a runner's install hosts when the server sends its first message: the package is
// installed by then (runners without an offline mode, InstallPlan::Mode::kUntilReady). Added last,
// so it is the first filter a server message meets, and the revocation is in force before the
// client sees that message.
class RevokeAtFirstMessage : public Filter {
 public:
  RevokeAtFirstMessage(Network* network, AuditLog* audit) : network_(network), audit_(audit) {}
  std::string_view name() const override { return "install-revoke"; }
  FilterStatus on_message(Message& m, FilterContext&) override {
    if (done_ || m.dir() != Direction::s2c) return FilterStatus::Continue;
    done_ = true;
    std::vector<std::string> hosts =
        network_->revoke_install("install host revoked: the server sent its first message");
    audit_->event("install.revoked", {{"hosts", hosts}, {"at", "first server message"}});
    return FilterStatus::Continue;
  }

 private:
  Network* network_;
  AuditLog* audit_;
  bool done_ = false;
};

}  // namespace

int cmd_run(const Args& args) {
  RunOptions opt;
  std::string error;
  if (!parse_run_options(args, &opt, &error))
    return fail(125, error, "usage: mcpcell [OPTIONS] -- COMMAND [ARG...]; see 'mcpcell --help'");
  if (opt.show_help) {
    print_usage();
    return 0;
  }
  if (opt.show_version) {
    std::printf("mcpcell %s\n", kVersion);
    return 0;
  }
  std::string name = opt.name.empty() ? derive_server_name(opt.argv) : opt.name;
  if (!valid_server_name(name))
    return fail(125, "invalid --name '" + name + "'",
                "use 1-128 characters of letters, digits and @/._+- (no '..')");

  fs::path state = state_dir(), config = config_dir();
  for (const fs::path& dir : {state, config})
    if (Status s = ensure_private_dir(dir); !s) return fail(125, s.message());

  profiles::Resolved profile;
  std::string error_text;
  if (!resolve_profile(opt, name, &profile, &error_text))
    return fail(125, error_text, "check the profile with 'mcpcell profile check FILE'");
  for (const std::string& w : profile.warnings) std::fprintf(stderr, "mcpcell: %s\n", w.c_str());
  if (!opt.no_sandbox) hint_relative_paths(opt.argv, profile.policy);

  SessionInfo session{name, random_hex(8), profile.name};
  Status status;
  AuditFileOptions audit_options;
  if (Status s = read_settings(config, &audit_options); !s) return fail(125, s.message());
  std::unique_ptr<AuditLog> audit =
      AuditLog::open(state, name, session.session, &status, audit_options);
  if (!audit) return fail(125, status.message(), "check that " + state.string() + " is writable");

  int client_in, client_out;
  Pipes pipes;
  if (!take_client_fds(&client_in, &client_out) || !make_pipes(&pipes))
    return fail(125, std::string("cannot set up pipes: ") + std::strerror(errno));

  sandbox::prepare_supervisor();
  sandbox::Policy& policy = profile.policy;
  // A package runner's download (plan_install's table): most runners get a separate prefetch
  // step first and the server then runs offline, without the install hosts; runners without a
  // reliable offline mode keep them only until the server's first message. session.start says
  // which.
  InstallPlan install = plan_install(opt.argv, profile.net_install, policy.isolate);
  std::vector<std::string> until_ready;
  if (install.mode == InstallPlan::Mode::kUntilReady) until_ready = install.hosts;
  nlohmann::json install_summary;
  if (install.mode == InstallPlan::Mode::kSeparate) {
    Status s = run_install_phase(install, policy, *audit, &install_summary);
    if (!s) {
      nlohmann::json cmd = nlohmann::json::array();
      for (const std::string& a : opt.argv) cmd.push_back(redact_text(a));
      audit->event("session.start", {{"command", cmd},
                                     {"profile", session.profile},
                                     {"sandbox", nlohmann::json::object()},
                                     {"started", false}});
      audit->event("session.end", {{"exit", 125}, {"reason", s.message()}});
      return fail(125, s.message(), "its output is above; the server was not started");
    }
    policy.env_set.insert(policy.env_set.end(), install.offline_env.begin(),
                          install.offline_env.end());
  }
  Network network;
  if (Status s = network.prepare(profile.net_allow, policy.isolate, &policy, until_ready); !s)
    return fail(125, s.message(), "entries are host[:port], *.domain[:port] or localhost:PORT");
  if (!network.note().empty()) std::fprintf(stderr, "mcpcell: %s\n", network.note().c_str());
  if (opt.no_sandbox && !profile.net_allow.empty())
    std::fprintf(stderr,
                 "mcpcell: WARNING: --allow-net cannot be enforced with --no-sandbox: the "
                 "server's network is unrestricted\n");
  sandbox::Stdio stdio{pipes.server_in[0], pipes.server_out[1], pipes.server_err[1]};
  ChainConfig chain_config;
  chain_config.session = session;
  chain_config.state_dir = state;
  chain_config.config_dir = config;
  chain_config.argv = opt.argv;
  std::error_code ec;
  chain_config.project_dir = fs::current_path(ec).string();
  if (profile.filter_policy.is_object()) chain_config.policy = profile.filter_policy;
  // The filters are built while the child builds its sandbox and the server's runtime loads:
  // nothing is relayed before the chain exists (the server's first output waits in its pipe, a
  // refused system call waits for the relay's answer), and a chain that cannot be built stops the
  // session before the client hears anything.
  // The scan module is loaded as the chain is built; that it is there is checked first, which is
  // cheap, so that a missing one stops the session before the server could run at all.
  std::unique_ptr<FilterChain> chain;
  sandbox::SpawnResult spawned;
  if (std::string why; !scan::scan_module_found(&why)) {
    spawned.exit_code = 125;
    spawned.error = why;
  } else {
    spawned = sandbox::spawn(policy, opt.argv, stdio,
                             [&] { chain = build_chain(chain_config, &status); });
  }
  ::close(pipes.server_in[0]);
  ::close(pipes.server_out[1]);
  ::close(pipes.server_err[1]);

  // The command line can carry a token (`--api-key sk-...`): records get it redacted.
  nlohmann::json command = nlohmann::json::array();
  for (const std::string& a : opt.argv) command.push_back(redact_text(a));
  // A session that ends before the client hears anything: both records, the tree gone, the status.
  auto not_started = [&](const nlohmann::json& sandbox_info, int code, const std::string& why) {
    if (spawned.ok) sandbox::signal_tree(spawned.child, SIGKILL);
    audit->event("session.start", {{"command", command},
                                   {"profile", session.profile},
                                   {"sandbox", sandbox_info},
                                   {"started", false}});
    audit->event("session.end", {{"exit", code}, {"reason", why}});
    return fail(code, why);
  };
  if (!spawned.ok) return not_started(nlohmann::json::object(), spawned.exit_code, spawned.error);
  if (!chain) return not_started(spawned.child.info, 125, status.message());
  if (Status s = network.start(*audit); !s)
    return not_started(spawned.child.info, 125, s.message());
  spawned.child.info["network"] = network.describe();
  if (install.mode == InstallPlan::Mode::kUntilReady) {
    spawned.child.info["network"]["install"] = {
        {"phase", "until_first_message"}, {"runner", install.runner}, {"why", install.why}};
    chain->add(std::make_unique<RevokeAtFirstMessage>(&network, audit.get()));
  }
  if (install.mode == InstallPlan::Mode::kSeparate)
    spawned.child.info["network"]["install"] = install_summary;
  if (opt.no_sandbox) {
    std::fprintf(stderr,
                 "mcpcell: WARNING: --no-sandbox: '%s' runs WITHOUT isolation, with all of your "
                 "files, credentials, environment and network. Pins, scanning and the audit log "
                 "still apply.\n",
                 name.c_str());
  }
  audit->event("session.start", {{"command", command},
                                 {"profile", session.profile},
                                 {"profile_source", profile.source},
                                 {"profile_chosen_by", profile.chosen_by},
                                 {"sandbox", spawned.child.info},
                                 {"pid", spawned.child.pid},
                                 {"version", kVersion}});

  RelayConfig rc;
  rc.max_line = opt.max_line_bytes;
  rc.client_in = client_in;
  rc.client_out = client_out;
  rc.redact_text = redact_text;
  Relay relay(rc, *chain, *audit, session);
  std::string reason;
  int exit_code =
      relay.run(spawned.child,
                ServerPipes{pipes.server_in[1], pipes.server_out[0], pipes.server_err[0]}, &reason);
  network.stop();
  audit->event("session.end", {{"exit", exit_code}, {"reason", reason}});
  // While the audit writer writes the last records and the checkpoint, the sandbox's init finishes
  // tearing down its namespaces.
  audit->close();
  sandbox::reap(spawned.child, 1000);
  // Once the writer is done the session's state is on disk (the pins saver was flushed when the
  // chain ended). The rest is memory, threads at rest and descriptors, which the kernel takes back
  // at exit in one go; freeing the buffers, the scan database and the filters one by one first
  // cost ~0.9 ms, mostly unmapping while other threads still ran (each a TLB shootdown).
  audit.reset();
  std::fflush(nullptr);
  ::_exit(exit_code);
}

int cmd_help(const Args& args) {
  if (args.empty() || args[0] == "run") {
    print_usage();
    return 0;
  }
  // Each subcommand prints its own usage for --help.
  static const struct {
    const char* name;
    int (*run)(const Args&);
  } kCommands[] = {{"log", cmd_log},
                   {"pins", cmd_pins},
                   {"profile", cmd_profile},
                   {"doctor", cmd_doctor},
                   {"wrap", cmd_wrap},
                   {"unwrap", cmd_unwrap},
                   {"inventory", cmd_inventory},
                   {"report", cmd_report}};
  for (const auto& c : kCommands)
    if (args[0] == c.name) return c.run({"--help"});
  return fail(125, "no such command '" + args[0] + "'", "see 'mcpcell --help'");
}

}  // namespace mcpcell
