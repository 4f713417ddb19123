#include "profiles/resolve.h"

#include <unistd.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <system_error>

#include "core/identity.h"
#include "io/paths.h"
#include "profiles/builtin_index.h"
#include "profiles/catalog.h"
#include "profiles/denials.h"
#include "profiles/expand.h"
#include "profiles/profile.h"
#include "sandbox/path_resolver.h"

extern char** environ;

namespace mcpcell::profiles {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr size_t kMaxExtendsDepth = 8;

std::string basename_of(const std::string& p) {
  size_t slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

std::string runtime_for(const std::vector<std::string>& argv) {
  std::string tool = argv.empty() ? "" : basename_of(argv[0]);
  static const std::vector<std::string> kNode = {"node", "nodejs", "npx", "npm",  "pnpm",
                                                 "pnpx", "yarn",   "bun", "bunx", "corepack"};
  if (std::find(kNode.begin(), kNode.end(), tool) != kNode.end()) return "runtime:node";
  if (tool.starts_with("python") || tool == "uv" || tool == "uvx" || tool == "pipx" ||
      tool.starts_with("pip"))
    return "runtime:python";
  if (tool == "deno") return "runtime:deno";
  return "runtime:static";
}

// PEP 503: lowercase, runs of '-', '_' and '.' become one '-'.
std::string normalize_pypi(const std::string& name) {
  std::string out;
  for (char c : name) {
    bool sep = c == '-' || c == '_' || c == '.';
    if (sep) {
      if (out.empty() || out.back() != '-') out += '-';
    } else {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  return out;
}

struct Candidates {
  std::string npm, pypi, exe;
};

Candidates candidates_of(const std::vector<std::string>& argv) {
  Candidates c;
  if (argv.empty()) return c;
  PackageRef ref = package_of(argv);
  if (ref.ecosystem == "npm") c.npm = ref.name;
  if (ref.ecosystem == "pypi") c.pypi = normalize_pypi(ref.name);
  std::string tool = basename_of(argv[0]);
  c.exe = tool;
  bool js = tool == "node" || tool == "nodejs" || tool == "bun" || tool == "deno";
  if (ref.name.empty() && js) {
    for (size_t i = 1; i < argv.size(); ++i) {
      const std::string& a = argv[i];
      if (a == "run" || (a.size() > 1 && a[0] == '-')) continue;
      size_t nm = a.rfind("node_modules/");
      if (nm != std::string::npos) {
        std::string rest = a.substr(nm + 13);
        size_t cut = rest.starts_with('@') ? rest.find('/', rest.find('/') + 1) : rest.find('/');
        c.npm = rest.substr(0, cut);
      }
      break;
    }
  }
  if (ref.name.empty() && tool.starts_with("python")) {
    for (size_t i = 1; i + 1 < argv.size(); ++i)
      if (argv[i] == "-m") {
        c.pypi = normalize_pypi(argv[i + 1]);
        break;
      }
  }
  return c;
}

// 3: the package matches, 2: the executable matches, 0: no match.
int match_score(const Match& m, const Candidates& c, std::string* why) {
  if (!c.npm.empty() && std::find(m.npm.begin(), m.npm.end(), c.npm) != m.npm.end()) {
    *why = "npm package " + c.npm;
    return 3;
  }
  if (!c.pypi.empty()) {
    for (const std::string& p : m.pypi)
      if (normalize_pypi(p) == c.pypi) {
        *why = "PyPI package " + p;
        return 3;
      }
  }
  if (!c.exe.empty() &&
      std::find(m.executables.begin(), m.executables.end(), c.exe) != m.executables.end()) {
    *why = "executable " + c.exe;
    return 2;
  }
  return 0;
}

bool parse_text(const ProfileText& t, Profile* p, std::string* error) {
  return parse_profile(t.text, t.name, t.source, p, error);
}

std::string at(const Profile& p, int line) {
  return line > 0 ? p.source + ":" + std::to_string(line) : p.source;
}

// Depth first: a profile's bases before it, each source once.
bool load_layers(const Profile& p, const std::vector<std::string>& argv, const Context& ctx,
                 std::vector<std::string>* stack, std::vector<Profile>* layers,
                 std::string* error) {
  if (stack->size() > kMaxExtendsDepth) {
    *error = p.source + ": extends: more than 8 levels of extends";
    return false;
  }
  stack->push_back(p.source);
  bool p_builtin = p.source.starts_with("builtin:");
  for (const Entry& e : p.extends) {
    std::string name = e.text == "runtime:auto" ? runtime_for(argv) : e.text;
    // Shipped profiles extend shipped ones only; a user profile may extend the shipped profile it
    // shadows by naming itself.
    bool builtin_only = p_builtin || name.starts_with("runtime:") || name == p.name;
    std::optional<ProfileText> t = find_profile(name, ctx.config_dir, builtin_only);
    if (!t) {
      *error = at(p, e.line) + ": extends: no profile named \"" + name +
               "\" (runtime bases: runtime:node, runtime:python, runtime:deno, runtime:static, "
               "runtime:auto; `mcpcell profile list` shows the others)";
      return false;
    }
    if (std::find(stack->begin(), stack->end(), t->source) != stack->end()) {
      std::string chain;
      for (const std::string& s : *stack) chain += s + " -> ";
      *error = at(p, e.line) + ": extends: cycle: " + chain + t->source;
      return false;
    }
    Profile q;
    if (!parse_text(*t, &q, error)) return false;
    if (!load_layers(q, argv, ctx, stack, layers, error)) return false;
  }
  stack->pop_back();
  bool seen = std::any_of(layers->begin(), layers->end(),
                          [&](const Profile& l) { return l.source == p.source; });
  if (!seen) layers->push_back(p);
  return true;
}

// System directories hold no projects: no editor configuration to hide inside them.
bool system_dir(const std::string& p) {
  for (std::string_view d : {"/usr", "/etc", "/opt", "/lib", "/lib64", "/lib32", "/bin", "/sbin",
                             "/nix", "/snap", "/proc", "/sys", "/dev"})
    if (path_within(p, d)) return true;
  return false;
}

struct Grant {
  std::string value;
  std::string from;
  std::string written;  // the entry as written, when it differs from the value
};

json grant_json(const Grant& g, const char* key = "path") {
  json j = {{key, g.value}, {"from", g.from}};
  if (!g.written.empty() && g.written != g.value) j["written"] = g.written;
  return j;
}

void add_unique(std::vector<Grant>* list, Grant g) {
  for (const Grant& x : *list)
    if (x.value == g.value) return;
  list->push_back(std::move(g));
}

class Builder {
 public:
  Builder(const Context& ctx, const std::vector<std::string>& argv, std::string private_dir)
      : ctx_(ctx), private_dir_(std::move(private_dir)) {
    vars_.home = ctx.home.lexically_normal().string();
    vars_.cwd = ctx.cwd.lexically_normal().string();
    vars_.state = private_dir_;
    vars_.server_args = server_arguments(argv);
    vars_.env = &ctx.env;
  }

  void add_layer(const Profile& p) {
    layers_.push_back(p.source);
    paths(p, p.fs_read, &read_, true);
    paths(p, p.fs_write, &write_, true);
    paths(p, p.fs_hide, &hide_, false);
    hosts(p, p.net_allow, &net_allow_);
    hosts(p, p.net_install, &net_install_);
    for (const Entry& e : p.env_pass) env_pass(e.text, at(p, e.line));
    for (const auto& [name, e] : p.env_set) env_set(name, e.text, at(p, e.line));
    if (p.memory) memory_ = Grant{std::to_string(p.memory->value), at(p, p.memory->line), ""};
    if (p.processes)
      processes_ = Grant{std::to_string(p.processes->value), at(p, p.processes->line), ""};
    if (p.files) files_ = Grant{std::to_string(p.files->value), at(p, p.files->line), ""};
    for (const Entry& e : p.syscalls) syscall(e.text, at(p, e.line));
    if (p.cwd) {
      std::string missing;
      auto v = expand_pattern(p.cwd->text, PatternKind::kPath, vars_, &missing);
      if (v.empty())
        note_unexpanded(p.cwd->text, at(p, p.cwd->line), missing);
      else
        cwd_ = Grant{v[0], at(p, p.cwd->line), p.cwd->text};
    }
    for (auto [key, src] :
         {std::pair<const char*, const json*>{"pins", &p.pins}, {"scan", &p.scan}}) {
      if (src->is_null()) continue;
      if (!filter_policy_.contains(key)) filter_policy_[key] = json::object();
      filter_policy_[key].merge_patch(*src);
      filter_from_[key].push_back(p.source);
    }
  }

  bool add_overrides(const Overrides& o, std::string* error) {
    bool any = !o.allow_read.empty() || !o.allow_write.empty() || !o.allow_net.empty() ||
               !o.allow_env.empty();
    if (any) layers_.push_back("--allow-* flags");
    auto flag_paths = [&](const std::vector<std::string>& list, const char* flag,
                          std::vector<Grant>* dest) {
      for (const std::string& raw : list) {
        std::string pattern = raw;
        if (!(raw.starts_with('/') || raw == "~" || raw.starts_with("~/") || raw.starts_with("${")))
          pattern = "${cwd}/" + raw;
        std::string err;
        if (!check_pattern(pattern, PatternKind::kPath, &err)) {
          *error = std::string(flag) + " " + raw + ": " + err;
          return false;
        }
        std::string missing;
        auto v = expand_pattern(pattern, PatternKind::kPath, vars_, &missing);
        if (v.empty()) note_unexpanded(raw, flag, missing);
        for (std::string& path : v) add_unique(dest, Grant{path, flag, raw});
      }
      return true;
    };
    if (!flag_paths(o.allow_read, "--allow-read", &read_)) return false;
    if (!flag_paths(o.allow_write, "--allow-write", &write_)) return false;
    for (const std::string& h : o.allow_net) {
      std::string canonical, err;
      if (!valid_host_entry(h, &canonical, &err)) {
        *error =
            "--allow-net " + h + ": " + err + " (expected HOST[:PORT], e.g. api.example.com:443)";
        return false;
      }
      add_unique(&net_allow_, Grant{canonical, "--allow-net", h});
    }
    for (const std::string& n : o.allow_env) {
      std::string base = n.ends_with('*') ? n.substr(0, n.size() - 1) : n;
      if (!valid_env_name(base)) {
        *error = "--allow-env " + n + ": expected a variable name (letters, digits, '_')";
        return false;
      }
      env_pass(n, "--allow-env");
      // The flag is the user's word for this run: their value beats a profile's fixed one
      // (e.g. --allow-env MEMORY_FILE_PATH over the memory profile's private default).
      if (n == base) std::erase_if(env_set_, [&](const auto& s) { return s.first == n; });
    }
    return true;
  }

  // SPEC's hard denials, then the final lists.
  void finish(Resolved* out) {
    std::vector<Denied> denied = hard_denied_paths(ctx_);
    auto canon = [&](const std::string& p) { return ctx_.canonical ? ctx_.canonical(p) : p; };
    for (Denied& d : denied) d.path = fs::path(d.path).lexically_normal().string();
    // Resolved once, not once per grant: each resolution is a readlink per path component.
    std::vector<std::string> denied_canon;
    for (const Denied& d : denied) denied_canon.push_back(canon(d.path));
    std::string private_canon = canon(private_dir_);
    auto denial_of = [&](const std::string& p) -> const Denied* {
      std::string c = canon(p);
      for (size_t i = 0; i < denied.size(); ++i) {
        const Denied& d = denied[i];
        if (path_within(p, d.path) || path_within(c, d.path) || path_within(c, denied_canon[i]))
          return &d;
      }
      return nullptr;
    };
    auto own = [&](const std::string& p) {
      return path_within(p, private_dir_) || path_within(canon(p), private_canon);
    };
    std::vector<Grant> extra_hide;
    auto filter = [&](std::vector<Grant>* list, const char* what) {
      std::vector<Grant> kept;
      for (Grant& g : *list) {
        if (own(g.value)) {
          owned_.push_back(grant_json(g));
          continue;
        }
        if (const Denied* d = denial_of(g.value)) {
          drop(std::string(what) + " " + g.value, g.from, d->why + " (" + d->path + ")");
          continue;
        }
        std::string c = canon(g.value);
        for (const Denied& d : denied) {
          if ((path_within(d.path, g.value) || path_within(d.path, c)) && d.path != g.value)
            add_unique(&extra_hide, Grant{d.path, "hard denial: " + d.why, ""});
        }
        for (std::string_view rel : project_config_names()) {
          if (system_dir(g.value)) break;
          std::string p = (g.value == "/" ? "" : g.value) + "/" + std::string(rel);
          add_unique(&extra_hide, Grant{p, "hard denial: editor MCP configuration", ""});
        }
        kept.push_back(std::move(g));
      }
      *list = std::move(kept);
    };
    filter(&write_, "write");
    filter(&read_, "read");
    // Write implies read: a path granted both ways is listed once, as write.
    std::erase_if(read_, [&](const Grant& r) {
      return std::any_of(write_.begin(), write_.end(),
                         [&](const Grant& w) { return w.value == r.value; });
    });
    for (Grant& g : extra_hide) add_unique(&hide_, std::move(g));

    std::string cwd = cwd_ ? cwd_->value : vars_.cwd;
    std::string cwd_from = cwd_ ? cwd_->from : "mcpcell's working directory";
    if (const Denied* d = denial_of(cwd); d && !own(cwd)) {
      drop("cwd " + cwd, cwd_from, d->why + " (" + d->path + "); using the private directory");
      cwd = private_dir_;
      cwd_from = "private state directory (hard denial)";
    }

    sandbox::Policy& pol = out->policy;
    for (const Grant& g : read_) pol.fs_read.push_back(g.value);
    for (const Grant& g : write_) pol.fs_write.push_back(g.value);
    for (const Grant& g : hide_) pol.fs_hide.push_back(g.value);
    for (const Grant& g : env_pass_)
      if (!std::any_of(env_set_.begin(), env_set_.end(),
                       [&](const auto& s) { return s.first == g.value; }))
        pol.env_pass.push_back(g.value);
    for (const auto& [name, g] : env_set_) pol.env_set.emplace_back(name, g.value);
    if (memory_) pol.limits.memory_bytes = std::stoull(memory_->value);
    if (processes_) pol.limits.tasks = std::stoull(processes_->value);
    if (files_) pol.limits.files = std::stoull(files_->value);
    for (const Grant& g : syscalls_) pol.syscall_groups.push_back(g.value);
    pol.cwd = cwd;
    for (const Grant& g : net_allow_) out->net_allow.push_back(g.value);
    for (const Grant& g : net_install_) out->net_install.push_back(g.value);
    out->network = !net_allow_.empty();
    out->filter_policy = filter_policy_;
    out->private_dir = private_dir_;
    out->warnings = warnings_;

    json& pv = out->provenance;
    pv = json::object();
    pv["profile"] = out->name;
    pv["source"] = out->source;
    pv["chosen_by"] = out->chosen_by;
    pv["layers"] = layers_;
    pv["private_dir"] = private_dir_;
    auto list = [](const std::vector<Grant>& l, const char* key = "path") {
      json a = json::array();
      for (const Grant& g : l) a.push_back(grant_json(g, key));
      return a;
    };
    pv["filesystem"] = {
        {"read", list(read_)}, {"write", list(write_)}, {"hide", list(hide_)}, {"own", owned_}};
    pv["network"] = {{"enabled", !net_allow_.empty()},
                     {"allow", list(net_allow_, "host")},
                     {"install", list(net_install_, "host")}};
    json set = json::array();
    for (const auto& [name, g] : env_set_) {
      // A value taken from mcpcell's environment may be a secret: show how it was written.
      bool from_env = g.written.find("${env:") != std::string::npos;
      json j = {{"name", name}, {"value", from_env ? g.written : g.value}, {"from", g.from}};
      set.push_back(j);
    }
    pv["env"] = {{"pass", list(env_pass_, "name")}, {"set", set}};
    json limits = json::object();
    if (memory_)
      limits["memory"] = {{"bytes", std::stoull(memory_->value)}, {"from", memory_->from}};
    if (processes_)
      limits["processes"] = {{"value", std::stoull(processes_->value)}, {"from", processes_->from}};
    if (files_) limits["files"] = {{"value", std::stoull(files_->value)}, {"from", files_->from}};
    pv["limits"] = limits;
    pv["syscalls"] = list(syscalls_, "group");
    pv["cwd"] = {{"path", cwd}, {"from", cwd_from}};
    pv["unexpanded"] = unexpanded_;
    pv["dropped"] = dropped_;
    json fp = json::object();
    for (auto& [key, srcs] : filter_from_)
      fp[key] = {{"value", filter_policy_[key]}, {"from", srcs}};
    pv["policy"] = fp;
  }

 private:
  void paths(const Profile& p, const std::vector<Entry>& entries, std::vector<Grant>* dest,
             bool must_exist) {
    for (const Entry& e : entries) {
      std::string missing;
      auto v = expand_pattern(e.text, PatternKind::kPath, vars_, &missing);
      if (v.empty()) note_unexpanded(e.text, at(p, e.line), missing);
      for (std::string& path : v) {
        bool own = path_within(path, private_dir_);
        if (must_exist && !own && ctx_.exists && !ctx_.exists(path)) {
          note_unexpanded(e.text, at(p, e.line), path + " does not exist");
          continue;
        }
        add_unique(dest, Grant{path, at(p, e.line), e.text});
      }
    }
  }

  void hosts(const Profile& p, const std::vector<Entry>& entries, std::vector<Grant>* dest) {
    for (const Entry& e : entries) {
      std::string missing;
      auto v = expand_pattern(e.text, PatternKind::kHost, vars_, &missing);
      if (v.empty()) note_unexpanded(e.text, at(p, e.line), missing);
      for (std::string& h : v) add_unique(dest, Grant{h, at(p, e.line), e.text});
    }
  }

  void env_pass(const std::string& name, const std::string& from) {
    std::vector<std::string> names;
    if (name.ends_with('*')) {
      std::string prefix = name.substr(0, name.size() - 1);
      for (const auto& [k, v] : ctx_.env)
        if (k.starts_with(prefix)) names.push_back(k);
    } else {
      names.push_back(name);
    }
    for (const std::string& n : names) {
      if (denied_env(n)) {
        drop("env " + n, from, "it leads to a credential agent");
        continue;
      }
      add_unique(&env_pass_, Grant{n, from, name});
    }
  }

  void env_set(const std::string& name, const std::string& pattern, const std::string& from) {
    if (denied_env(name)) return drop("env " + name, from, "it leads to a credential agent");
    std::string value;
    if (!pattern.empty()) {
      std::string missing;
      auto v = expand_pattern(pattern, PatternKind::kValue, vars_, &missing);
      if (v.empty()) {
        note_unexpanded(name + "=" + pattern, from, missing);
        std::erase_if(env_set_, [&](const auto& s) { return s.first == name; });
        return;
      }
      value = v[0];
    }
    for (auto& [n, g] : env_set_)
      if (n == name) {
        g = Grant{value, from, pattern};
        return;
      }
    env_set_.emplace_back(name, Grant{value, from, pattern});
  }

  void syscall(const std::string& group, const std::string& from) {
    if (forbidden_syscall_group(group))
      return drop("syscalls " + group, from, "mcpcell never allows this group");
    add_unique(&syscalls_, Grant{group, from, ""});
  }

  void note_unexpanded(const std::string& entry, const std::string& from, const std::string& why) {
    unexpanded_.push_back({{"entry", entry}, {"from", from}, {"why", why}});
  }

  void drop(const std::string& what, const std::string& from, const std::string& why) {
    dropped_.push_back({{"what", what}, {"from", from}, {"why", why}});
    warnings_.push_back("dropped " + what + " (from " + from + "): hard denial: " + why);
  }

  const Context& ctx_;
  std::string private_dir_;
  Vars vars_;
  std::vector<std::string> layers_;
  std::vector<Grant> read_, write_, hide_, net_allow_, net_install_, env_pass_, syscalls_;
  std::vector<std::pair<std::string, Grant>> env_set_;
  std::optional<Grant> memory_, processes_, files_, cwd_;
  json filter_policy_ = json::object();
  std::map<std::string, std::vector<std::string>> filter_from_;
  json owned_ = json::array(), unexpanded_ = json::array(), dropped_ = json::array();
  std::vector<std::string> warnings_;
};

bool looks_like_file(const std::string& arg) {
  return arg.find('/') != std::string::npos || arg.ends_with(".json") || arg.ends_with(".jsonc");
}

}  // namespace

Context context_from_process(const std::string& server_name) {
  Context ctx;
  ctx.home = home_dir();
  std::error_code ec;
  ctx.cwd = fs::current_path(ec);
  if (ec) ctx.cwd = "/";
  ctx.state_dir = state_dir();
  ctx.config_dir = config_dir();
  ctx.server_name = server_name;
  for (char** e = environ; e && *e; ++e) {
    std::string kv = *e;
    size_t eq = kv.find('=');
    if (eq != std::string::npos) ctx.env.emplace(kv.substr(0, eq), kv.substr(eq + 1));
  }
  // One resolver for every path of this resolution: the hard denials and the grants mostly sit
  // under the same few directories. Nothing here creates what it asks about (prepare() does,
  // later).
  std::shared_ptr<sandbox::PathResolver> paths = sandbox::real_path_resolver();
  ctx.canonical = [paths](const std::string& p) { return paths->weakly_canonical(p); };
  ctx.exists = [paths](const std::string& p) { return paths->exists(p); };
  return ctx;
}

std::string match_profile(const std::vector<std::string>& argv, const Context& ctx,
                          std::string* why, std::string* error) {
  Candidates c = candidates_of(argv);
  std::vector<std::string> errors;
  std::vector<ProfileText> texts = user_profiles(ctx.config_dir, &errors);
  if (!errors.empty()) {
    *error = errors.front();
    return "";
  }
  int best = 0;
  std::string best_name = "default";
  *why = "no profile's match fits the command";
  auto consider = [&](const Match& m, const std::string& name, const std::string& source) {
    std::string w;
    int s = match_score(m, c, &w);
    if (s > best) {
      best = s;
      best_name = name;
      *why = "match: " + w + " (" + source + ")";
    }
  };
  std::set<std::string> user_names;
  for (const ProfileText& t : texts) {  // user profiles first, so they win ties
    Profile p;
    if (!parse_text(t, &p, error)) return "";
    consider(p.match, t.name, t.source);
    user_names.insert(t.name);
  }
  for (const BuiltinMatch& b : builtin_matches())  // a user profile shadows its namesake
    if (!user_names.count(b.name)) consider(b.match, b.name, "builtin:" + b.name + ".json");
  return best_name;
}

bool resolve(const std::string& profile_arg, const std::vector<std::string>& argv,
             const Overrides& overrides, const Context& ctx, Resolved* out, std::string* error) {
  *out = Resolved{};
  if (ctx.home.empty() || !ctx.home.is_absolute() || !ctx.cwd.is_absolute() ||
      !ctx.state_dir.is_absolute() || !ctx.config_dir.is_absolute()) {
    *error = "internal: profile context needs absolute home, cwd, state and config directories";
    return false;
  }
  ProfileText top;
  if (!profile_arg.empty() && looks_like_file(profile_arg)) {
    fs::path file = profile_arg;
    if (file.is_relative()) file = ctx.cwd / file;
    if (!read_profile_file(file, &top, error)) return false;
    out->chosen_by = "--profile " + profile_arg;
  } else {
    std::string name = profile_arg, why;
    if (name.empty()) {
      name = match_profile(argv, ctx, &why, error);
      if (name.empty()) return false;
      out->chosen_by = why;
    } else {
      out->chosen_by = "--profile " + profile_arg;
    }
    std::optional<ProfileText> t = find_profile(name, ctx.config_dir, false);
    if (!t) {
      *error = "no profile named \"" + name +
               "\"; `mcpcell profile list` shows the shipped and user profiles, and --profile "
               "also takes a file path";
      return false;
    }
    top = std::move(*t);
  }
  Profile p;
  if (!parse_text(top, &p, error)) return false;
  std::vector<Profile> layers;
  std::vector<std::string> stack;
  if (!load_layers(p, argv, ctx, &stack, &layers, error)) return false;

  out->name = p.name;
  out->source = p.source;
  std::string server = ctx.server_name.empty() ? derive_server_name(argv) : ctx.server_name;
  fs::path private_dir =
      (ctx.state_dir / "homes" / server_name_to_filename(server)).lexically_normal();
  Builder b(ctx, argv, private_dir.string());
  for (const Profile& l : layers) b.add_layer(l);
  if (!b.add_overrides(overrides, error)) return false;
  b.finish(out);
  return true;
}

bool prepare(const Resolved& resolved, std::string* error) {
  if (resolved.private_dir.empty()) return true;
  fs::path homes = resolved.private_dir.parent_path();
  Status s = ensure_private_dir(homes);
  if (s) s = ensure_private_dir(resolved.private_dir);
  if (!s) {
    *error = "cannot create the server's private directory " + resolved.private_dir.string() +
             ": " + s.message();
    return false;
  }
  return true;
}

std::string render_provenance(const json& pv) {
  std::ostringstream o;
  auto str = [](const json& j, const char* k) {
    return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string();
  };
  o << "profile " << str(pv, "profile") << "  (" << str(pv, "source") << ")\n";
  o << "chosen by: " << str(pv, "chosen_by") << "\n";
  o << "layers, lowest first: ";
  for (size_t i = 0; i < pv["layers"].size(); ++i)
    o << (i ? " < " : "") << pv["layers"][i].get<std::string>();
  o << "\nprivate state directory (${state}, always writable): " << str(pv, "private_dir") << "\n";
  o << "working directory: " << str(pv["cwd"], "path") << "  [" << str(pv["cwd"], "from") << "]\n";
  auto section = [&](const std::string& title, const json& list, const char* key) {
    o << title << ":";
    if (list.empty()) {
      o << " (none)\n";
      return;
    }
    o << "\n";
    for (const json& g : list) {
      o << "  " << str(g, key);
      if (g.contains("value")) o << "=" << str(g, "value");
      o << "  [" << str(g, "from");
      if (g.contains("written")) o << ": " << str(g, "written");
      o << "]\n";
    }
  };
  section("filesystem.read", pv["filesystem"]["read"], "path");
  section("filesystem.write", pv["filesystem"]["write"], "path");
  section("filesystem.hide", pv["filesystem"]["hide"], "path");
  if (!pv["filesystem"]["own"].empty())
    section("inside the private state directory", pv["filesystem"]["own"], "path");
  if (!pv["network"]["enabled"].get<bool>()) {
    o << "network.allow: none (the server gets no network)\n";
  } else {
    section("network.allow", pv["network"]["allow"], "host");
  }
  section("network.install (package download phase)", pv["network"]["install"], "host");
  section("env.pass", pv["env"]["pass"], "name");
  section("env.set", pv["env"]["set"], "name");
  o << "limits:";
  if (pv["limits"].empty()) o << " (sandbox defaults)";
  o << "\n";
  for (auto it = pv["limits"].begin(); it != pv["limits"].end(); ++it) {
    const json& v = it.value();
    o << "  " << it.key() << " "
      << (v.contains("bytes") ? v["bytes"].dump() + " bytes" : v["value"].dump()) << "  ["
      << str(v, "from") << "]\n";
  }
  section("syscalls (extra groups)", pv["syscalls"], "group");
  for (auto it = pv["policy"].begin(); it != pv["policy"].end(); ++it) {
    o << it.key() << " policy: " << it.value()["value"].dump() << "  [";
    const json& from = it.value()["from"];
    for (size_t i = 0; i < from.size(); ++i) o << (i ? ", " : "") << from[i].get<std::string>();
    o << "]\n";
  }
  if (!pv["unexpanded"].empty()) {
    o << "entries that granted nothing for this command:\n";
    for (const json& u : pv["unexpanded"])
      o << "  " << str(u, "entry") << "  [" << str(u, "from") << "]: " << str(u, "why") << "\n";
  }
  if (!pv["dropped"].empty()) {
    o << "dropped by hard denials:\n";
    for (const json& d : pv["dropped"])
      o << "  " << str(d, "what") << "  [" << str(d, "from") << "]: " << str(d, "why") << "\n";
  }
  return o.str();
}

}  // namespace mcpcell::profiles
