#include "profiles/profile.h"

#include <algorithm>
#include <functional>
#include <set>

#include "profiles/expand.h"

namespace mcpcell::profiles {
namespace {

using nlohmann::json;

constexpr std::string_view kGroups[] = {
    "@aio",       "@basic-io",       "@chown",    "@clock",      "@cpu-emulation",
    "@debug",     "@file-system",    "@io-event", "@ipc",        "@keyring",
    "@memlock",   "@module",         "@mount",    "@network-io", "@obsolete",
    "@pkey",      "@privileged",     "@process",  "@raw-io",     "@reboot",
    "@resources", "@sandbox",        "@setuid",   "@signal",     "@swap",
    "@sync",      "@system-service", "@timer",
};
// Groups whose calls reconfigure the kernel or the machine, or that the sandbox's own design
// denies outright (DESIGN §4): naming them in a profile never grants them.
constexpr std::string_view kForbidden[] = {
    "@clock",    "@cpu-emulation", "@keyring", "@module", "@mount",
    "@obsolete", "@privileged",    "@raw-io",  "@reboot", "@swap",
};

class Validator {
 public:
  Validator(const JsoncDoc& doc, const std::string& source) : doc_(doc), source_(source) {}

  // Records the first error only.
  bool fail(const std::string& path, const std::string& what) {
    if (!error_.empty()) return false;
    Pos p = doc_.where(path);
    error_ = source_ + ":" + std::to_string(p.line) + ":" + std::to_string(p.col) + ": " +
             (path.empty() ? "" : path + ": ") + what;
    return false;
  }
  const std::string& error() const { return error_; }
  int line(const std::string& path) const { return doc_.where(path).line; }

  static std::string type_name(const json& v) {
    switch (v.type()) {
      case json::value_t::object:
        return "an object";
      case json::value_t::array:
        return "an array";
      case json::value_t::string:
        return "a string";
      case json::value_t::boolean:
        return "true/false";
      case json::value_t::null:
        return "null";
      default:
        return "a number";
    }
  }

  // Object whose keys must all be in `allowed`.
  bool object(const json& v, const std::string& path,
              std::initializer_list<std::string_view> allowed) {
    if (!v.is_object()) return fail(path, "expected an object, found " + type_name(v));
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end()) {
        std::string list;
        for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        return fail(path_member(path, it.key()),
                    "unknown key \"" + it.key() + "\"; expected one of: " + list);
      }
    }
    return true;
  }

  bool string(const json& v, const std::string& path, std::string* out) {
    if (!v.is_string()) return fail(path, "expected a string, found " + type_name(v));
    *out = v.get<std::string>();
    return true;
  }

  // Array of strings, each checked by `check` (returns an error text or "").
  template <typename Check>
  bool strings(const json& v, const std::string& path, std::vector<Entry>* out, Check check) {
    if (!v.is_array()) return fail(path, "expected an array of strings, found " + type_name(v));
    for (size_t i = 0; i < v.size(); ++i) {
      std::string p = path_index(path, i);
      if (!v[i].is_string()) return fail(p, "expected a string, found " + type_name(v[i]));
      std::string s = v[i].get<std::string>();
      std::string why = check(s);
      if (!why.empty()) return fail(p, why);
      out->push_back(Entry{s, line(p)});
    }
    return true;
  }

 private:
  const JsoncDoc& doc_;
  std::string source_;
  std::string error_;
};

std::function<std::string(const std::string&)> pattern_check(PatternKind kind) {
  return [kind](const std::string& s) {
    std::string err;
    return check_pattern(s, kind, &err) ? std::string() : err;
  };
}

std::string check_package_name(const std::string& s) {
  if (s.empty() || s.size() > 214) return "expected a package or executable name";
  for (char c : s)
    if (static_cast<unsigned char>(c) <= ' ') return "a package name has no spaces";
  return "";
}

bool parse_limit(Validator& v, const json& value, const std::string& path, bool size,
                 std::optional<LimitValue>* out) {
  uint64_t n = 0;
  if (value.is_number_unsigned()) {
    n = value.get<uint64_t>();
  } else if (size && value.is_string()) {
    if (!parse_size(value.get<std::string>(), &n))
      return v.fail(path, "expected a size such as 512MiB, 2GiB or a number of bytes, found \"" +
                              value.get<std::string>() + "\"");
  } else {
    return v.fail(path, size ? "expected a size such as \"512MiB\" or a number of bytes"
                             : "expected a positive whole number");
  }
  if (n == 0) return v.fail(path, "must be greater than 0");
  *out = LimitValue{n, v.line(path)};
  return true;
}

}  // namespace

bool known_syscall_group(std::string_view group) {
  return std::find(std::begin(kGroups), std::end(kGroups), group) != std::end(kGroups);
}

bool forbidden_syscall_group(std::string_view group) {
  return std::find(std::begin(kForbidden), std::end(kForbidden), group) != std::end(kForbidden);
}

bool parse_size(const std::string& text, uint64_t* out) {
  size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  if (i == 0 || i > 15) return false;
  uint64_t n = std::stoull(text.substr(0, i));
  std::string unit = text.substr(i);
  if (!unit.empty() && unit[0] == ' ') unit.erase(0, 1);
  static const std::pair<std::string_view, int> kUnits[] = {
      {"", 0},     {"B", 0},  {"K", 10},   {"KiB", 10}, {"M", 20},
      {"MiB", 20}, {"G", 30}, {"GiB", 30}, {"T", 40},   {"TiB", 40},
  };
  for (auto [u, shift] : kUnits) {
    if (unit == u) {
      if (shift && n > (UINT64_MAX >> shift)) return false;
      *out = n << shift;
      return true;
    }
  }
  return false;
}

bool parse_profile(std::string_view text, const std::string& name, const std::string& source,
                   Profile* out, std::string* error) {
  JsoncDoc doc;
  std::string syntax;
  if (!parse_jsonc(text, &doc, &syntax)) {
    *error = source + ":" + syntax;
    return false;
  }
  Validator v(doc, source);
  Profile p;
  p.name = name;
  p.source = source;
  const json& root = doc.value;
  auto done = [&](bool ok) {
    if (!ok)
      *error = v.error();
    else
      *out = std::move(p);
    return ok;
  };
  if (!v.object(root, "",
                {"$schema", "schema", "description", "extends", "match", "filesystem", "network",
                 "env", "limits", "syscalls", "cwd", "pins", "scan"}))
    return done(false);
  if (!root.contains("schema"))
    return done(v.fail("", "missing \"schema\": 1 (the format version) at the top level"));
  if (!root["schema"].is_number_unsigned() || root["schema"].get<uint64_t>() != 1)
    return done(v.fail("schema", "expected 1 (the only format version this mcpcell reads)"));
  std::string ignored;
  if (root.contains("$schema") && !v.string(root["$schema"], "$schema", &ignored))
    return done(false);
  if (root.contains("description") && !v.string(root["description"], "description", &p.description))
    return done(false);
  if (root.contains("extends") &&
      !v.strings(root["extends"], "extends", &p.extends, [](const std::string& s) {
        bool ok = !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                 c == '.' || c == ':';
        });
        return ok ? std::string()
                  : "expected a profile name such as \"runtime:node\" or \"filesystem\"";
      }))
    return done(false);

  if (root.contains("match")) {
    const json& m = root["match"];
    if (!v.object(m, "match", {"npm", "pypi", "executables"})) return done(false);
    std::vector<Entry> tmp;
    for (auto [key, dest] : {std::pair<const char*, std::vector<std::string>*>{"npm", &p.match.npm},
                             {"pypi", &p.match.pypi},
                             {"executables", &p.match.executables}}) {
      if (!m.contains(key)) continue;
      tmp.clear();
      if (!v.strings(m[key], std::string("match.") + key, &tmp, check_package_name))
        return done(false);
      for (Entry& e : tmp) dest->push_back(e.text);
    }
  }

  if (root.contains("filesystem")) {
    const json& f = root["filesystem"];
    if (!v.object(f, "filesystem", {"read", "write", "hide"})) return done(false);
    auto check = pattern_check(PatternKind::kPath);
    if (f.contains("read") && !v.strings(f["read"], "filesystem.read", &p.fs_read, check))
      return done(false);
    if (f.contains("write") && !v.strings(f["write"], "filesystem.write", &p.fs_write, check))
      return done(false);
    if (f.contains("hide") && !v.strings(f["hide"], "filesystem.hide", &p.fs_hide, check))
      return done(false);
  }

  if (root.contains("network")) {
    const json& n = root["network"];
    if (!v.object(n, "network", {"allow", "install"})) return done(false);
    p.has_network = true;
    auto check = pattern_check(PatternKind::kHost);
    if (n.contains("allow") && !v.strings(n["allow"], "network.allow", &p.net_allow, check))
      return done(false);
    if (n.contains("install") && !v.strings(n["install"], "network.install", &p.net_install, check))
      return done(false);
  }

  if (root.contains("env")) {
    const json& e = root["env"];
    if (!v.object(e, "env", {"pass", "set"})) return done(false);
    if (e.contains("pass") &&
        !v.strings(e["pass"], "env.pass", &p.env_pass, [](const std::string& s) {
          std::string base = s.ends_with('*') ? s.substr(0, s.size() - 1) : s;
          return valid_env_name(base) ? std::string()
                                      : "expected a variable name (letters, digits, '_'; a "
                                        "trailing '*' matches a prefix), found \"" +
                                            s + "\"";
        }))
      return done(false);
    if (e.contains("set")) {
      const json& set = e["set"];
      if (!set.is_object())
        return done(v.fail("env.set", "expected an object of NAME: \"value\", found " +
                                          Validator::type_name(set)));
      for (auto it = set.begin(); it != set.end(); ++it) {
        std::string path = path_member("env.set", it.key());
        if (!valid_env_name(it.key()))
          return done(v.fail(path, "\"" + it.key() + "\" is not a variable name"));
        std::string value, err;
        if (!v.string(it.value(), path, &value)) return done(false);
        if (!value.empty() && !check_pattern(value, PatternKind::kValue, &err))
          return done(v.fail(path, err));
        p.env_set.emplace_back(it.key(), Entry{value, v.line(path)});
      }
    }
  }

  if (root.contains("limits")) {
    const json& l = root["limits"];
    if (!v.object(l, "limits", {"memory", "processes", "files"})) return done(false);
    if (l.contains("memory") && !parse_limit(v, l["memory"], "limits.memory", true, &p.memory))
      return done(false);
    if (l.contains("processes") &&
        !parse_limit(v, l["processes"], "limits.processes", false, &p.processes))
      return done(false);
    if (l.contains("files") && !parse_limit(v, l["files"], "limits.files", false, &p.files))
      return done(false);
  }

  if (root.contains("syscalls")) {
    const json& s = root["syscalls"];
    if (!v.object(s, "syscalls", {"allow"})) return done(false);
    if (s.contains("allow") &&
        !v.strings(s["allow"], "syscalls.allow", &p.syscalls, [](const std::string& g) {
          return known_syscall_group(g)
                     ? std::string()
                     : "unknown syscall group \"" + g +
                           "\"; expected a systemd group name such as \"@debug\" or \"@aio\"";
        }))
      return done(false);
  }

  if (root.contains("cwd")) {
    std::string c, err;
    if (!v.string(root["cwd"], "cwd", &c)) return done(false);
    if (!check_pattern(c, PatternKind::kPath, &err)) return done(v.fail("cwd", err));
    p.cwd = Entry{c, v.line("cwd")};
  }

  for (auto [key, dest] : {std::pair<const char*, json*>{"pins", &p.pins}, {"scan", &p.scan}}) {
    if (!root.contains(key)) continue;
    if (!root[key].is_object())
      return done(v.fail(key, std::string("expected an object (the ") + key + " policy), found " +
                                  Validator::type_name(root[key])));
    *dest = root[key];
  }
  return done(true);
}

}  // namespace mcpcell::profiles
