#include "profiles/expand.h"

#include <algorithm>
#include <filesystem>
#include <optional>

namespace mcpcell::profiles {
namespace {

namespace fs = std::filesystem;

struct Var {
  std::string modifier;  // "", "dir", "host"
  std::string source;    // "home", "cwd", "state", "args", "arg", "opt", "env"
  std::string param;     // N, option names, variable name
};

struct Segment {
  bool is_var = false;
  std::string literal;
  Var var;
};

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool parse_var(std::string_view body, Var* v, std::string* error) {
  std::string_view rest = body;
  for (std::string_view mod : {"dir:", "host:"}) {
    if (rest.starts_with(mod)) {
      v->modifier = std::string(mod.substr(0, mod.size() - 1));
      rest.remove_prefix(mod.size());
      break;
    }
  }
  size_t colon = rest.find(':');
  v->source = std::string(rest.substr(0, colon));
  v->param = colon == std::string_view::npos ? "" : std::string(rest.substr(colon + 1));
  const std::string& s = v->source;
  if (s == "home" || s == "cwd" || s == "state" || s == "args") {
    if (colon != std::string_view::npos) {
      *error = "${" + std::string(body) + "} takes no parameter";
      return false;
    }
    return true;
  }
  if (s == "arg") {
    if (!all_digits(v->param) || v->param.size() > 3 || std::stoi(v->param) < 1) {
      *error = "${arg:N} needs a number N >= 1, found ${" + std::string(body) + "}";
      return false;
    }
    return true;
  }
  if (s == "opt") {
    size_t start = 0;
    while (true) {
      size_t bar = v->param.find('|', start);
      std::string name = v->param.substr(start, bar - start);
      if (name.size() < 2 || name[0] != '-' || name.find_first_of("= ") != std::string::npos) {
        *error = "${opt:...} needs option names like --db-path or --repository|-r, found ${" +
                 std::string(body) + "}";
        return false;
      }
      if (bar == std::string::npos) break;
      start = bar + 1;
    }
    return true;
  }
  if (s == "env") {
    if (!valid_env_name(v->param)) {
      *error = "${env:NAME} needs a variable name, found ${" + std::string(body) + "}";
      return false;
    }
    return true;
  }
  *error = "unknown placeholder ${" + std::string(body) +
           "}; expected one of ${home} ${cwd} ${state} ${args} ${arg:N} ${opt:--name} "
           "${env:NAME}, optionally as ${dir:...} or ${host:...}";
  return false;
}

bool tokenize(std::string_view pattern, std::vector<Segment>* out, std::string* error) {
  size_t i = 0;
  while (i < pattern.size()) {
    size_t open = pattern.find("${", i);
    if (open == std::string_view::npos) {
      out->push_back(Segment{false, std::string(pattern.substr(i)), {}});
      break;
    }
    if (open > i) out->push_back(Segment{false, std::string(pattern.substr(i, open - i)), {}});
    size_t close = pattern.find('}', open);
    if (close == std::string_view::npos) {
      *error = "unterminated placeholder (missing '}')";
      return false;
    }
    Segment seg;
    seg.is_var = true;
    if (!parse_var(pattern.substr(open + 2, close - open - 2), &seg.var, error)) return false;
    out->push_back(std::move(seg));
    i = close + 1;
  }
  return true;
}

bool is_url(std::string_view v) {
  return v.find("://") != std::string_view::npos;
}

std::string absolutize(const std::string& value, const Vars& vars) {
  std::string v = value;
  if (v == "~")
    v = vars.home;
  else if (v.starts_with("~/"))
    v = vars.home + v.substr(1);
  if (v.empty() || v[0] != '/') v = vars.cwd + "/" + v;
  return v;
}

std::string normalize_path(const std::string& p) {
  std::string n = fs::path(p).lexically_normal().string();
  while (n.size() > 1 && n.back() == '/') n.pop_back();
  return n;
}

int default_port(std::string_view scheme) {
  static const std::pair<std::string_view, int> kPorts[] = {
      {"http", 80},        {"https", 443},         {"ws", 80},         {"wss", 443},
      {"postgres", 5432},  {"postgresql", 5432},   {"mysql", 3306},    {"mariadb", 3306},
      {"redis", 6379},     {"rediss", 6379},       {"mongodb", 27017}, {"amqp", 5672},
      {"amqps", 5671},     {"mongodb+srv", 27017}, {"nats", 4222},     {"clickhouse", 9000},
      {"sqlserver", 1433},
  };
  for (auto [s, p] : kPorts)
    if (s == scheme) return p;
  return 0;
}

// host[:port] entries named by a URL (possibly with several comma-separated hosts, as postgres
// allows) or by a bare host[:port].
std::vector<std::string> hosts_of(const std::string& value) {
  std::vector<std::string> out;
  std::string_view v = value;
  int port = 443;  // a bare host name (GITHUB_HOST=ghe.example.com) means HTTPS
  size_t sep = v.find("://");
  if (sep != std::string_view::npos) {
    std::string scheme(v.substr(0, sep));
    std::transform(scheme.begin(), scheme.end(), scheme.begin(), ::tolower);
    port = default_port(scheme);
    v.remove_prefix(sep + 3);
    v = v.substr(0, v.find_first_of("/?#"));
    size_t at = v.rfind('@');
    if (at != std::string_view::npos) v.remove_prefix(at + 1);
  }
  while (!v.empty()) {
    size_t comma = v.find(',');
    std::string one(v.substr(0, comma));
    bool has_port = one.starts_with('[') ? one.find("]:") != std::string::npos
                                         : one.find(':') != std::string::npos;
    // An unknown scheme without a port: no way to tell the port, so nothing is granted.
    if (!has_port && port != 0) one += ":" + std::to_string(port);
    if (!one.empty() && (has_port || port != 0)) out.push_back(one);
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return out;
}

// The raw value(s) of a source; nullopt when absent.
std::optional<std::vector<std::string>> source_values(const Var& var, PatternKind kind,
                                                      const Vars& vars, std::string* missing) {
  const std::string& s = var.source;
  if (s == "home") return std::vector<std::string>{vars.home};
  if (s == "cwd") return std::vector<std::string>{vars.cwd};
  if (s == "state") return std::vector<std::string>{vars.state};
  std::vector<std::string> positional;
  for (const std::string& a : vars.server_args)
    if (!a.empty() && a[0] != '-') positional.push_back(a);
  if (s == "args") {
    // A URL is not a directory to grant; network entries name it through ${host:arg:N}.
    if (kind == PatternKind::kPath) std::erase_if(positional, is_url);
    if (positional.empty()) *missing = "the command has no arguments after the package";
    return positional;
  }
  if (s == "arg") {
    size_t n = std::stoul(var.param);
    if (n > positional.size()) {
      *missing = "the command has no argument " + var.param + " after the package";
      return std::nullopt;
    }
    if (kind == PatternKind::kPath && is_url(positional[n - 1])) {
      *missing = "argument " + var.param + " is a URL, not a path";
      return std::nullopt;
    }
    return std::vector<std::string>{positional[n - 1]};
  }
  if (s == "opt") {
    std::vector<std::string> names;
    size_t start = 0;
    while (true) {
      size_t bar = var.param.find('|', start);
      names.push_back(var.param.substr(start, bar - start));
      if (bar == std::string::npos) break;
      start = bar + 1;
    }
    const auto& a = vars.server_args;
    for (size_t i = 0; i < a.size(); ++i) {
      for (const std::string& name : names) {
        if (a[i] == name && i + 1 < a.size()) return std::vector<std::string>{a[i + 1]};
        if (a[i].starts_with(name + "="))
          return std::vector<std::string>{a[i].substr(name.size() + 1)};
      }
    }
    *missing = "the command has no " + names[0] + " option";
    return std::nullopt;
  }
  if (s == "env") {
    if (vars.env) {
      auto it = vars.env->find(var.param);
      if (it != vars.env->end() && !it->second.empty()) return std::vector<std::string>{it->second};
    }
    *missing = "$" + var.param + " is not set";
    return std::nullopt;
  }
  return std::nullopt;
}

bool valid_label(std::string_view l) {
  if (l.empty() || l.size() > 63 || l.front() == '-' || l.back() == '-') return false;
  return std::all_of(l.begin(), l.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool valid_ipv6(std::string_view v) {
  if (v.empty() || v.size() > 39) return false;
  int colons = 0;
  for (char c : v) {
    if (c == ':')
      ++colons;
    else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '.'))
      return false;
  }
  return colons >= 2 && colons <= 7;
}

}  // namespace

bool valid_env_name(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

bool valid_host_entry(std::string_view entry, std::string* canonical, std::string* error) {
  std::string e(entry);
  std::transform(e.begin(), e.end(), e.begin(), ::tolower);
  std::string host = e, port;
  if (e.starts_with('[')) {
    size_t close = e.find(']');
    if (close == std::string::npos) return *error = "unterminated [IPv6] address", false;
    host = e.substr(1, close - 1);
    if (close + 1 < e.size()) {
      if (e[close + 1] != ':') return *error = "expected ':PORT' after ']'", false;
      port = e.substr(close + 2);
      if (port.empty()) return *error = "empty port after ':'", false;
    }
    if (!valid_ipv6(host)) return *error = "\"" + host + "\" is not an IPv6 address", false;
  } else {
    size_t colon = e.rfind(':');
    if (colon != std::string::npos) {
      host = e.substr(0, colon);
      port = e.substr(colon + 1);
      if (port.empty()) return *error = "empty port after ':'", false;
    }
    if (host.empty()) return *error = "empty host", false;
    if (host.back() == '.') return *error = "a trailing dot is not allowed", false;
    if (host.size() > 253) return *error = "host name longer than 253 characters", false;
    if (host != "*") {
      std::string_view rest = host;
      if (rest.starts_with("*.")) rest.remove_prefix(2);
      if (rest.find('*') != std::string_view::npos)
        return *error = "'*' is allowed only as the whole host or a leading \"*.\"", false;
      while (!rest.empty()) {
        size_t dot = rest.find('.');
        if (!valid_label(rest.substr(0, dot)))
          return *error = "\"" + std::string(entry) +
                          "\" is not a host name (labels of a-z, 0-9 and '-', 1-63 characters)",
                 false;
        if (dot == std::string_view::npos) break;
        rest.remove_prefix(dot + 1);
        if (rest.empty()) return *error = "a trailing dot is not allowed", false;
      }
    }
  }
  if (!port.empty()) {
    if (!all_digits(port) || port.size() > 5 || std::stoi(port) < 1 || std::stoi(port) > 65535)
      return *error = "port must be a number from 1 to 65535, found \"" + port + "\"", false;
    port = std::to_string(std::stoi(port));  // no leading zeros
  }
  *canonical = (e.starts_with('[') ? "[" + host + "]" : host) + (port.empty() ? "" : ":" + port);
  return true;
}

bool check_pattern(std::string_view pattern, PatternKind kind, std::string* error) {
  if (pattern.empty()) return *error = "empty string", false;
  if (pattern.find('\0') != std::string_view::npos) return *error = "NUL character", false;
  std::vector<Segment> segs;
  if (!tokenize(pattern, &segs, error)) return false;
  int multi = 0;
  for (const Segment& s : segs) {
    if (!s.is_var) continue;
    if (s.var.source == "args") ++multi;
    if (s.var.modifier == "host" && kind != PatternKind::kHost)
      return *error = "${host:...} is for network entries only", false;
    if (s.var.modifier == "dir" && kind == PatternKind::kHost)
      return *error = "${dir:...} is for paths and values, not network entries", false;
    if (kind == PatternKind::kValue && s.var.source == "args")
      return *error = "${args} names several values; use ${arg:N} in a value", false;
  }
  if (multi > 1) return *error = "at most one ${args} per entry", false;
  if (kind == PatternKind::kPath) {
    const Segment& first = segs.front();
    bool ok = first.is_var || first.literal.starts_with('/') || first.literal == "~" ||
              first.literal.starts_with("~/");
    if (!ok)
      return *error = "a path must start with '/', '~/' or a placeholder such as ${cwd}, found \"" +
                      std::string(pattern) + "\"",
             false;
  }
  if (kind == PatternKind::kHost) {
    if (segs.size() == 1 && !segs[0].is_var) {
      std::string canonical;
      return valid_host_entry(pattern, &canonical, error);
    }
    if (segs.size() != 1 || segs[0].var.modifier != "host")
      return *error = "a network entry is a host[:port] or exactly one ${host:...} placeholder",
             false;
  }
  return true;
}

std::vector<std::string> expand_pattern(const std::string& pattern, PatternKind kind,
                                        const Vars& vars, std::string* missing) {
  std::vector<Segment> segs;
  std::string error;
  if (!tokenize(pattern, &segs, &error)) {
    *missing = error;
    return {};
  }
  // Each result is built left to right; ${args} multiplies the partial results.
  std::vector<std::string> partial{""};
  for (size_t k = 0; k < segs.size(); ++k) {
    const Segment& seg = segs[k];
    if (!seg.is_var) {
      std::string lit = seg.literal;
      if (k == 0 && kind == PatternKind::kPath && (lit == "~" || lit.starts_with("~/")))
        lit = vars.home + lit.substr(1);
      for (std::string& p : partial) p += lit;
      continue;
    }
    auto values = source_values(seg.var, kind, vars, missing);
    if (!values || values->empty()) return {};
    bool pathish = seg.var.source == "args" || seg.var.source == "arg" || seg.var.source == "opt" ||
                   seg.var.source == "env";
    std::vector<std::string> next;
    for (std::string v : *values) {
      if (seg.var.modifier == "host") {
        for (const std::string& h : hosts_of(v)) next.push_back(h);
        continue;
      }
      if (pathish && (seg.var.modifier == "dir" || (kind == PatternKind::kPath && k == 0)))
        v = absolutize(v, vars);
      if (seg.var.modifier == "dir") v = fs::path(normalize_path(v)).parent_path().string();
      for (const std::string& p : partial) next.push_back(p + v);
    }
    partial = std::move(next);
  }
  std::vector<std::string> out;
  for (std::string& r : partial) {
    if (kind == PatternKind::kPath) {
      if (r.empty() || r[0] != '/') {
        *missing = "\"" + r + "\" is not an absolute path";
        continue;
      }
      r = normalize_path(r);
    } else if (kind == PatternKind::kHost) {
      std::string canonical, err;
      if (!valid_host_entry(r, &canonical, &err)) {
        *missing = "\"" + r + "\": " + err;
        continue;
      }
      r = canonical;
    }
    if (std::find(out.begin(), out.end(), r) == out.end()) out.push_back(std::move(r));
  }
  return out;
}

std::vector<std::string> server_arguments(const std::vector<std::string>& argv) {
  if (argv.empty()) return {};
  std::string tool = fs::path(argv[0]).filename().string();
  // `npm exec pkg -- ARGS`: the "--" belongs to the runner, not the server.
  auto strip_dashes = [&](size_t from) {
    if (from < argv.size() && argv[from] == "--") ++from;
    return std::vector<std::string>(argv.begin() + std::min(from, argv.size()), argv.end());
  };
  auto rest_after_operand = [&](size_t start, std::initializer_list<std::string_view> with_value) {
    for (size_t i = start; i < argv.size(); ++i) {
      const std::string& a = argv[i];
      if (a == "--") return strip_dashes(i + 1 < argv.size() ? i + 2 : argv.size());
      if (a.size() > 1 && a[0] == '-') {
        std::string_view name = std::string_view(a).substr(0, a.find('='));
        if (a.find('=') == std::string::npos &&
            std::find(with_value.begin(), with_value.end(), name) != with_value.end())
          ++i;
        continue;
      }
      return strip_dashes(i + 1);
    }
    return std::vector<std::string>{};
  };
  auto sub = [&](size_t i, std::string_view w) { return argv.size() > i && argv[i] == w; };
  if (tool == "npx" || tool == "bunx" || tool == "pnpx")
    return rest_after_operand(1, {"--cache", "--userconfig", "-c", "--call", "-p", "--package"});
  if ((tool == "npm" && (sub(1, "exec") || sub(1, "x"))) ||
      ((tool == "pnpm" || tool == "yarn") && sub(1, "dlx")))
    return rest_after_operand(2, {"--cache", "-c", "--call", "-p", "--package"});
  if (tool == "uvx")
    return rest_after_operand(1, {"--python", "-p", "--with", "--index-url", "--index", "--from"});
  if (tool == "uv" && sub(1, "tool") && sub(2, "run"))
    return rest_after_operand(3, {"--python", "-p", "--with", "--index-url", "--index", "--from"});
  if (tool == "pipx" && sub(1, "run"))
    return rest_after_operand(2, {"--python", "--pip-args", "--index-url", "--spec"});
  if (tool.starts_with("python")) {
    for (size_t i = 1; i < argv.size(); ++i) {
      if (argv[i] == "-m" && i + 1 < argv.size())
        return std::vector<std::string>(argv.begin() + i + 2, argv.end());
      if (argv[i].size() > 1 && argv[i][0] == '-') continue;
      return std::vector<std::string>(argv.begin() + i + 1, argv.end());
    }
    return {};
  }
  if (tool == "node" || tool == "nodejs" || tool == "ruby" || tool == "perl" || tool == "sh" ||
      tool == "bash")
    return rest_after_operand(1, {"-r", "--require", "--import", "--loader"});
  if (tool == "deno" || tool == "bun") {
    size_t start = (sub(1, "run") || sub(1, "x")) ? 2 : 1;
    return rest_after_operand(start, {"--config", "-c", "--import-map", "--env-file"});
  }
  return std::vector<std::string>(argv.begin() + 1, argv.end());
}

}  // namespace mcpcell::profiles
