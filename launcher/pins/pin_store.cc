#include "pins/pin_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/identity.h"
#include "io/paths.h"

namespace mcpcell::pins {
namespace fs = std::filesystem;
using nlohmann::json;

std::string item_key(std::string_view kind, std::string_view item) {
  std::string k(kind);
  k.push_back(':');
  k.append(item);
  return k;
}

static std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

json pin_to_json(const Pin& p) {
  json j = {{"kind", p.kind}, {"item", p.item}, {"sha256", p.sha256}, {"value", p.value}};
  if (!p.first_seen.empty()) j["first_seen"] = p.first_seen;
  if (!p.approved.empty()) j["approved"] = p.approved;
  if (!p.accepted_flags.empty()) j["accepted_flags"] = p.accepted_flags;
  return j;
}

bool pin_from_json(const json& j, Pin* p) {
  if (!j.is_object()) return false;
  p->kind = str(j, "kind");
  p->item = str(j, "item");
  p->sha256 = str(j, "sha256");
  p->value = j.contains("value") ? j["value"] : json();
  p->first_seen = str(j, "first_seen");
  p->approved = str(j, "approved");
  p->accepted_flags.clear();
  if (auto it = j.find("accepted_flags"); it != j.end() && it->is_array())
    for (const auto& r : *it)
      if (r.is_string()) p->accepted_flags.push_back(r.get<std::string>());
  return !p->kind.empty() && p->sha256.size() == 64;
}

json to_json(const ServerPins& s) {
  json pins = json::object(), pending = json::object();
  for (const auto& [k, p] : s.pins) pins[k] = pin_to_json(p);
  for (const auto& [k, p] : s.pending) {
    json j = {{"kind", p.kind},     {"item", p.item},   {"reason", p.reason},
              {"sha256", p.sha256}, {"value", p.value}, {"seen", p.seen}};
    if (!p.renamed_from.empty()) j["renamed_from"] = p.renamed_from;
    if (!p.flags.empty()) {
      j["flags"] = json::array();
      for (const auto& f : p.flags) j["flags"].push_back({{"rule", f.rule}, {"reason", f.reason}});
    }
    pending[k] = std::move(j);
  }
  json out = {{"mcpcell_pins", 1},
              {"server", s.server},
              {"pins", std::move(pins)},
              {"pending", std::move(pending)}};
  if (!s.last_seen.empty()) out["last_seen"] = s.last_seen;
  if (!s.hash_cache.empty()) out["hash_cache"] = s.hash_cache;
  return out;
}

bool from_json(const json& j, ServerPins* s, std::string* error) {
  if (!j.is_object() || !j.contains("mcpcell_pins")) {
    *error = "not an mcpcell pin file";
    return false;
  }
  s->server = str(j, "server");
  s->last_seen = str(j, "last_seen");
  s->pins.clear();
  s->pending.clear();
  if (auto it = j.find("pins"); it != j.end() && it->is_object())
    for (auto p = it->begin(); p != it->end(); ++p) {
      Pin pin;
      if (pin_from_json(p.value(), &pin)) s->pins[p.key()] = std::move(pin);
    }
  if (auto it = j.find("pending"); it != j.end() && it->is_object())
    for (auto p = it->begin(); p != it->end(); ++p) {
      const json& v = p.value();
      if (!v.is_object()) continue;
      PendingItem item{str(v, "kind"),
                       str(v, "item"),
                       str(v, "reason"),
                       str(v, "sha256"),
                       v.contains("value") ? v["value"] : json(),
                       str(v, "renamed_from"),
                       {},
                       str(v, "seen")};
      if (auto f = v.find("flags"); f != v.end() && f->is_array())
        for (const auto& e : *f)
          if (e.is_object()) item.flags.push_back({str(e, "rule"), str(e, "reason")});
      s->pending[p.key()] = std::move(item);
    }
  if (auto it = j.find("hash_cache"); it != j.end() && it->is_object()) s->hash_cache = *it;
  return true;
}

fs::path PinStore::file_for(std::string_view server) const {
  return dir_ / (server_name_to_filename(server) + ".json");
}

static Status read_pins(const fs::path& path, std::string_view server, ServerPins* out) {
  *out = ServerPins();
  out->server = std::string(server);
  std::string data;
  if (!read_file(path, &data)) {
    if (errno == ENOENT) return Status::Ok();
    return Status::Error("cannot read " + path.string() + ": " + std::strerror(errno));
  }
  json j = json::parse(data, nullptr, false);
  std::string error;
  if (j.is_discarded() || !from_json(j, out, &error))
    return Status::Error(path.string() + " is damaged (" +
                         (error.empty() ? std::string("not JSON") : error) +
                         "); move it away to start over");
  out->server = std::string(server);
  return Status::Ok();
}

Status PinStore::load(std::string_view server, ServerPins* out) const {
  return read_pins(file_for(server), server, out);
}

namespace {
// An flock held for the life of the object.
class FileLock {
 public:
  explicit FileLock(const fs::path& path) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd_ >= 0)
      while (::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
      }
  }
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};
}  // namespace

Status PinStore::update(std::string_view server, const std::function<void(ServerPins&)>& fn) const {
  if (Status st = ensure_private_dir(dir_); !st) return st;
  fs::path file = file_for(server);
  FileLock lock(fs::path(file.string() + ".lock"));
  if (!lock.ok())
    return Status::Error("cannot lock " + file.string() + ": " + std::strerror(errno));
  ServerPins pins;
  if (Status st = read_pins(file, server, &pins); !st) return st;
  std::error_code ec;
  bool existed = fs::exists(file, ec);
  std::string before = existed ? to_json(pins).dump(1) + "\n" : std::string();
  fn(pins);
  std::string after = to_json(pins).dump(1) + "\n";
  // Most sessions change nothing; an unchanged file is not rewritten (each write is an fsync on
  // the way out of every session).
  if (existed && after == before) return Status::Ok();
  return write_file_atomic(file, after);
}

Status PinStore::forget(std::string_view server) const {
  fs::path file = file_for(server);
  FileLock lock(fs::path(file.string() + ".lock"));
  std::error_code ec;
  if (!fs::remove(file, ec) || ec)
    return Status::Error(ec ? "cannot remove " + file.string() + ": " + ec.message()
                            : "no pins for " + std::string(server));
  fs::remove(fs::path(file.string() + ".lock"), ec);
  return Status::Ok();
}

std::vector<std::string> PinStore::servers() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    if (e.path().extension() != ".json") continue;
    std::string data;
    if (!read_file(e.path(), &data)) continue;
    json j = json::parse(data, nullptr, false);
    if (j.is_object() && j.contains("server") && j["server"].is_string())
      out.push_back(j["server"].get<std::string>());
  }
  std::sort(out.begin(), out.end());
  return out;
}

Status load_lock(const fs::path& lock_path, std::string_view server,
                 std::map<std::string, Pin>* pins, bool* found) {
  *found = false;
  pins->clear();
  std::string data;
  if (!read_file(lock_path, &data)) {
    if (errno == ENOENT) return Status::Ok();
    return Status::Error("cannot read " + lock_path.string() + ": " + std::strerror(errno));
  }
  json j = json::parse(data, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("servers") || !j["servers"].is_object())
    return Status::Error(lock_path.string() +
                         " is not an mcpcell lock file (expected {\"mcpcell_lock\":1,"
                         "\"servers\":{...}}); fix or remove it");
  auto it = j["servers"].find(std::string(server));
  if (it == j["servers"].end() || !it->is_object()) return Status::Ok();
  *found = true;
  if (auto p = it->find("pins"); p != it->end() && p->is_object())
    for (auto e = p->begin(); e != p->end(); ++e) {
      Pin pin;
      if (pin_from_json(e.value(), &pin)) (*pins)[e.key()] = std::move(pin);
    }
  return Status::Ok();
}

Status update_lock(const fs::path& lock_path, std::string_view server,
                   const std::map<std::string, Pin>& pins) {
  std::string data;
  json j = {{"mcpcell_lock", 1}, {"servers", json::object()}};
  struct stat st;
  mode_t mode = 0644;  // a lock file is meant to be committed and read by the team
  if (read_file(lock_path, &data)) {
    j = json::parse(data, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("servers") || !j["servers"].is_object())
      return Status::Error(lock_path.string() + " is not an mcpcell lock file; not touching it");
    if (::stat(lock_path.c_str(), &st) == 0) mode = st.st_mode & 0777;
  }
  json entry = json::object();
  for (const auto& [k, p] : pins) {
    Pin shared = p;
    shared.first_seen.clear();  // keep the committed file free of per-user noise
    entry[k] = pin_to_json(shared);
  }
  j["servers"][std::string(server)]["pins"] = std::move(entry);
  if (Status s = write_file_atomic(lock_path, j.dump(2) + "\n"); !s) return s;
  ::chmod(lock_path.c_str(), mode);
  return Status::Ok();
}

}  // namespace mcpcell::pins
