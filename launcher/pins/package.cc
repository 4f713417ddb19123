#include "pins/package.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <memory>

#include "core/identity.h"
#include "io/digest.h"
#include "io/paths.h"
#include "pins/canonical.h"

namespace mcpcell::pins {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string hash_fd(int fd) {
  Sha256 h;
  // Small and not zero-filled: this runs during every session, whose memory budget is 10 MB.
  constexpr size_t kChunk = 64u << 10;
  std::unique_ptr<char[]> buf(new char[kChunk]);
  for (;;) {
    ssize_t n = ::read(fd, buf.get(), kChunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return "";
    if (n == 0) break;
    h.update(std::string_view(buf.get(), static_cast<size_t>(n)));
  }
  Sha256Digest d = h.final();
  return hex_encode(d.data(), d.size());
}

json identity_of(const struct stat& st) {
  return {{"dev", static_cast<uint64_t>(st.st_dev)},
          {"ino", static_cast<uint64_t>(st.st_ino)},
          {"size", static_cast<int64_t>(st.st_size)},
          {"mtime_ns", static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec},
          {"ctime_ns", static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec}};
}

bool is_interpreter(const std::string& tool) {
  return tool == "node" || tool == "nodejs" || tool == "deno" || tool == "bun" ||
         tool.starts_with("python") || tool == "ruby" || tool == "perl" || tool == "sh" ||
         tool == "bash";
}

fs::path resolve_command(const std::string& cmd, const std::string& path_env, const fs::path& cwd) {
  if (cmd.find('/') != std::string::npos) return cmd[0] == '/' ? fs::path(cmd) : cwd / cmd;
  size_t start = 0;
  while (start <= path_env.size()) {
    size_t end = path_env.find(':', start);
    if (end == std::string::npos) end = path_env.size();
    std::string dir = path_env.substr(start, end - start);
    if (!dir.empty()) {
      fs::path p = fs::path(dir) / cmd;
      if (::access(p.c_str(), X_OK) == 0) return p;
    }
    start = end + 1;
  }
  return {};
}

std::string pep503(std::string s) {
  for (char& c : s) c = (c == '-' || c == '.') ? '_' : static_cast<char>(std::tolower(c));
  return s;
}

// Newest `<name>-<version>.dist-info` under the uv and pipx caches of `homes`; a bounded walk.
json find_dist_info(const std::vector<fs::path>& homes, const std::string& name,
                    const std::string& version) {
  std::string want = pep503(name);
  json best;
  fs::file_time_type best_time{};
  size_t budget = 200000;
  for (const auto& home : homes) {
    for (const fs::path& root :
         {home / ".cache/uv", home / ".local/share/pipx", home / ".local/pipx"}) {
      std::error_code ec;
      fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec),
          end;
      for (; !ec && it != end && budget > 0; it.increment(ec), --budget) {
        if (it.depth() > 7) {
          it.disable_recursion_pending();
          continue;
        }
        std::string fname = it->path().filename().string();
        if (!fname.ends_with(".dist-info") || !it->is_directory(ec)) continue;
        // <name>-<version>.dist-info, where neither part holds a '-'.
        std::string stem = fname.substr(0, fname.size() - 10);
        size_t dash = stem.rfind('-');
        if (dash == std::string::npos || pep503(stem.substr(0, dash)) != want) continue;
        std::string ver = stem.substr(dash + 1);
        if (!version.empty() && ver != version) continue;
        it.disable_recursion_pending();
        auto t = fs::last_write_time(it->path(), ec);
        if (!best.is_null() && t <= best_time) continue;
        std::string record;
        if (!read_file(it->path() / "RECORD", &record)) continue;
        best = {{"version", ver}, {"record_sha256", sha256_hex(record)}};
        best_time = t;
      }
    }
  }
  return best;
}

}  // namespace

std::string file_sha256(const fs::path& path, json* cache) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return "";
  }
  json id = identity_of(st);
  std::string key = path.string();
  if (cache && cache->is_object()) {
    auto it = cache->find(key);
    if (it != cache->end() && it->is_object() && (*it)["id"] == id && (*it)["sha256"].is_string()) {
      ::close(fd);
      return (*it)["sha256"].get<std::string>();
    }
  }
  std::string sha = hash_fd(fd);
  ::close(fd);
  if (cache && cache->is_object() && !sha.empty()) (*cache)[key] = {{"id", id}, {"sha256", sha}};
  return sha;
}

json find_npx_package(const std::vector<fs::path>& caches, const std::string& name,
                      const std::string& version) {
  json best;
  fs::file_time_type best_time{};
  for (const auto& cache : caches) {
    std::error_code ec;
    for (const auto& dir : fs::directory_iterator(cache / "_npx", ec)) {
      std::string data;
      if (!read_file(dir.path() / "package-lock.json", &data)) continue;
      json lock = json::parse(data, nullptr, false);
      if (!lock.is_object() || !lock.contains("packages")) continue;
      const json& pkgs = lock["packages"];
      if (!pkgs.is_object()) continue;
      // The root entry ("") lists what npx was asked for.
      auto root = pkgs.find("");
      bool requested = root != pkgs.end() && root->is_object() && root->contains("dependencies") &&
                       (*root)["dependencies"].is_object() &&
                       (*root)["dependencies"].contains(name);
      auto entry = pkgs.find("node_modules/" + name);
      if (!requested || entry == pkgs.end() || !entry->is_object()) continue;
      std::string ver = entry->value("version", "");
      if (!version.empty() && ver != version) continue;
      auto t = fs::last_write_time(dir.path() / "package-lock.json", ec);
      if (!best.is_null() && t <= best_time) continue;
      best = {{"version", ver}};
      if (entry->contains("integrity")) best["integrity"] = (*entry)["integrity"];
      best_time = t;
    }
  }
  return best;
}

PackageInfo describe_launch(const LaunchContext& ctx, json* hash_cache) {
  PackageInfo info;
  if (ctx.argv.empty()) return info;
  PackageRef ref = package_of(ctx.argv);
  if (!ref.ecosystem.empty()) {
    info.item = ref.name;
    info.value = {{"ecosystem", ref.ecosystem}, {"name", ref.name}};
    if (!ref.version.empty()) info.value["requested"] = ref.version;
    json found;
    if (ref.ecosystem == "npm") {
      std::vector<fs::path> caches;
      if (const char* c = ::getenv("npm_config_cache"); c && *c == '/') caches.emplace_back(c);
      for (const auto& h : ctx.homes) caches.push_back(h / ".npm");
      found = find_npx_package(caches, ref.name, ref.version);
    } else {
      found = find_dist_info(ctx.homes, ref.name, ref.version);
    }
    if (found.is_object()) {
      info.value.update(found);
      info.resolved = true;
    }
    return info;
  }
  fs::path exe = resolve_command(ctx.argv[0], ctx.path_env, ctx.cwd);
  std::error_code ec;
  fs::path real = exe.empty() ? exe : fs::canonical(exe, ec);
  if (exe.empty() || ec) return info;
  info.item = real.filename().string();
  info.value = {{"executable", real.string()}, {"sha256", file_sha256(real, hash_cache)}};
  std::string tool = ctx.argv[0].substr(ctx.argv[0].rfind('/') + 1);
  if (is_interpreter(tool) || is_interpreter(real.filename().string())) {
    for (size_t i = 1; i < ctx.argv.size(); ++i) {
      const std::string& a = ctx.argv[i];
      if (a == "-m" && i + 1 < ctx.argv.size()) {
        info.value["module"] = ctx.argv[i + 1];
        info.item = ctx.argv[i + 1];
        break;
      }
      if (a.starts_with("-")) continue;
      fs::path script = a[0] == '/' ? fs::path(a) : ctx.cwd / a;
      fs::path real_script = fs::canonical(script, ec);
      if (ec) break;
      info.value["script"] = real_script.string();
      info.value["script_sha256"] = file_sha256(real_script, hash_cache);
      info.item = real_script.filename().string();
      break;
    }
  }
  info.resolved = !info.value["sha256"].get<std::string>().empty();
  return info;
}

}  // namespace mcpcell::pins
