#include "core/identity.h"

#include <algorithm>

namespace mcpcell {
namespace {

std::string basename_of(std::string_view path) {
  size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

std::string strip_extension(std::string name) {
  for (const char* ext : {".js", ".mjs", ".cjs", ".ts", ".py", ".sh"}) {
    std::string_view e(ext);
    if (name.size() > e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0)
      return name.substr(0, name.size() - e.size());
  }
  return name;
}

// Splits "@scope/name@1.2" or "name@latest" into name and version.
void split_npm_spec(std::string_view spec, PackageRef& ref) {
  size_t at = spec.find('@', spec.starts_with('@') ? 1 : 0);
  ref.ecosystem = "npm";
  ref.name = std::string(spec.substr(0, at));
  if (at != std::string_view::npos) ref.version = std::string(spec.substr(at + 1));
}

// Splits "pkg==1.2", "pkg@1.2", "pkg[extra]>=1" into name and version.
void split_pypi_spec(std::string_view spec, PackageRef& ref) {
  ref.ecosystem = "pypi";
  size_t cut = spec.find_first_of("=<>!~@[; ");
  ref.name = std::string(spec.substr(0, cut));
  if (cut != std::string_view::npos) {
    size_t v = spec.find_first_not_of("=<>!~@ ", spec.find_first_of("=<>!~@", cut));
    if (spec.find_first_of("=<>!~@", cut) != std::string_view::npos && v != std::string_view::npos)
      ref.version = std::string(spec.substr(v));
  }
}

bool is_flag(const std::string& a) { return a.size() > 1 && a[0] == '-'; }

// First argument after `start` that is not an option; options listed in `with_value` consume the
// next argument.
size_t first_operand(const std::vector<std::string>& argv, size_t start,
                     std::initializer_list<std::string_view> with_value, std::string* from_value,
                     std::initializer_list<std::string_view> package_opts) {
  for (size_t i = start; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "--") return i + 1 < argv.size() ? i + 1 : argv.size();
    if (!is_flag(a)) return i;
    std::string_view name = a;
    size_t eq = a.find('=');
    if (eq != std::string::npos) name = std::string_view(a).substr(0, eq);
    bool pkg = std::find(package_opts.begin(), package_opts.end(), name) != package_opts.end();
    if (pkg) {
      std::string value = eq != std::string::npos ? a.substr(eq + 1)
                          : i + 1 < argv.size()   ? argv[i + 1]
                                                  : std::string();
      if (from_value && from_value->empty()) *from_value = value;
    }
    if (eq == std::string::npos &&
        (pkg || std::find(with_value.begin(), with_value.end(), name) != with_value.end()))
      ++i;
  }
  return argv.size();
}

}  // namespace

PackageRef package_of(const std::vector<std::string>& argv) {
  PackageRef ref;
  if (argv.empty()) return ref;
  std::string tool = basename_of(argv[0]);
  std::string from;
  if (tool == "npx" || tool == "bunx" || tool == "pnpx") {
    size_t i = first_operand(argv, 1, {"--cache", "--userconfig", "-c", "--call"}, &from,
                             {"-p", "--package"});
    if (!from.empty()) split_npm_spec(from, ref);
    else if (i < argv.size()) split_npm_spec(argv[i], ref);
  } else if ((tool == "npm" && argv.size() > 1 && (argv[1] == "exec" || argv[1] == "x")) ||
             ((tool == "pnpm" || tool == "yarn") && argv.size() > 1 && argv[1] == "dlx")) {
    size_t i = first_operand(argv, 2, {"--cache", "-c", "--call"}, &from, {"-p", "--package"});
    if (!from.empty()) split_npm_spec(from, ref);
    else if (i < argv.size()) split_npm_spec(argv[i], ref);
  } else if (tool == "uvx" || (tool == "uv" && argv.size() > 2 && argv[1] == "tool" &&
                               argv[2] == "run")) {
    size_t start = tool == "uvx" ? 1 : 3;
    size_t i = first_operand(argv, start, {"--python", "-p", "--with", "--index-url", "--index"},
                             &from, {"--from"});
    if (!from.empty()) split_pypi_spec(from, ref);
    else if (i < argv.size()) split_pypi_spec(argv[i], ref);
  } else if (tool == "pipx" && argv.size() > 1 && argv[1] == "run") {
    size_t i = first_operand(argv, 2, {"--python", "--pip-args", "--index-url"}, &from, {"--spec"});
    if (!from.empty()) split_pypi_spec(from, ref);
    else if (i < argv.size()) split_pypi_spec(argv[i], ref);
  }
  return ref;
}

std::string derive_server_name(const std::vector<std::string>& argv) {
  if (argv.empty()) return "unknown";
  PackageRef pkg = package_of(argv);
  std::string name;
  if (!pkg.name.empty()) {
    name = pkg.name;
  } else {
    std::string tool = basename_of(argv[0]);
    bool interpreter = tool == "node" || tool == "nodejs" || tool == "deno" || tool == "bun" ||
                       tool.starts_with("python") || tool == "ruby" || tool == "perl" ||
                       tool == "sh" || tool == "bash";
    if (interpreter) {
      for (size_t i = 1; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (a == "-m" && i + 1 < argv.size()) {
          name = argv[i + 1];
          break;
        }
        if (a == "-c" || a == "-e" || a == "--eval") break;  // inline code: name the interpreter
        if (a == "run" && (tool == "deno" || tool == "bun")) continue;
        if (is_flag(a)) continue;
        // A script inside an installed package is named by the package, whatever the file is
        // called: packages ship dist/stdio.cjs, dist/bin.js, build/index.js, and two servers
        // named after such a file would share a HOME and pins.
        std::string_view path = a;
        size_t nm = path.rfind("node_modules/");
        if (nm != std::string_view::npos && (nm == 0 || path[nm - 1] == '/')) {
          std::string_view rest = path.substr(nm + 13);
          size_t cut = rest.starts_with('@') ? rest.find('/', rest.find('/') + 1) : rest.find('/');
          if (cut != std::string_view::npos) name = std::string(rest.substr(0, cut));
        }
        if (name.empty()) name = strip_extension(basename_of(a));
        break;
      }
    }
    if (name.empty()) name = tool;
  }
  // Keep only safe characters; never let an argument smuggle a path or a secret-sized blob in.
  std::string clean;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '@' || c == '/' || c == '.' || c == '_' || c == '-' || c == '+';
    clean += ok ? c : '_';
  }
  while (!clean.empty() && (clean[0] == '.' || clean[0] == '-')) clean.erase(0, 1);
  size_t dots;
  while ((dots = clean.find("..")) != std::string::npos) clean.replace(dots, 2, "_");
  if (clean.size() > 128) clean.resize(128);
  return clean.empty() ? "unknown" : clean;
}

bool valid_server_name(std::string_view name) {
  if (name.empty() || name.size() > 128 || name[0] == '.' || name[0] == '-') return false;
  if (name.find("..") != std::string_view::npos) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '@' || c == '/' || c == '.' || c == '_' || c == '-' || c == '+';
  });
}

std::string server_name_to_filename(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == '/') out += "__";
    else out += c;
  }
  return out;
}

}  // namespace mcpcell
