// What mcpcell remembers about each server's advertised surface, and where.
//
// Per server identity, one JSON file $XDG_STATE_HOME/mcpcell/pins/<name>.json (0600, replaced
// atomically) holds the pins (one per advertised item, keyed "kind:item"), the items waiting for
// approval, and a cache of executable hashes. Sessions of the same server may run at once and
// `mcpcell pins approve` may run beside them, so every write is a read-modify-write under an
// flock on a sibling ".lock" file: a session adds what it learnt instead of overwriting the file.
//
// A project may commit a lock file (mcpcell.lock in the project directory) holding reviewed pins
// for some servers; for those servers its pins take precedence over the user's store.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace mcpcell::pins {

struct Pin {
  std::string kind;  // tool, prompt, resource, resource_template, instructions, server, ...
  std::string item;  // name, uri or uriTemplate
  std::string sha256;
  nlohmann::json value;    // what the client saw, so a later diff can say what changed
  std::string first_seen;  // RFC 3339
  std::string approved;    // RFC 3339 of an explicit approval; empty for trust on first use
  std::vector<std::string> accepted_flags;  // scanner rules the user overrode for this value
};

struct FlagNote {
  std::string rule;
  std::string reason;
};

// An item seen but withheld, waiting for `mcpcell pins approve`.
struct PendingItem {
  std::string kind;
  std::string item;
  std::string reason;  // "changed", "renamed", "new" (strict mode) or "flagged"
  std::string sha256;
  nlohmann::json value;
  std::string renamed_from;
  std::vector<FlagNote> flags;
  std::string seen;  // RFC 3339
};

std::string item_key(std::string_view kind, std::string_view item);

struct ServerPins {
  std::string server;
  std::map<std::string, Pin> pins;                       // by item_key
  std::map<std::string, PendingItem> pending;            // by item_key
  nlohmann::json hash_cache = nlohmann::json::object();  // path -> file identity + sha256
  std::string last_seen;
};

nlohmann::json pin_to_json(const Pin& p);
bool pin_from_json(const nlohmann::json& j, Pin* p);
nlohmann::json to_json(const ServerPins& s);
// Tolerates unknown fields; returns false (and says why) for a file that is not a pin file.
bool from_json(const nlohmann::json& j, ServerPins* s, std::string* error);

class PinStore {
 public:
  explicit PinStore(std::filesystem::path state_dir) : dir_(std::move(state_dir) / "pins") {}

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path file_for(std::string_view server) const;

  // A missing file gives empty pins for `server`.
  Status load(std::string_view server, ServerPins* out) const;
  // Applies `fn` to the current file contents under the lock and writes the result back.
  Status update(std::string_view server, const std::function<void(ServerPins&)>& fn) const;
  Status forget(std::string_view server) const;
  // Server names with a pin file, sorted.
  std::vector<std::string> servers() const;

 private:
  std::filesystem::path dir_;
};

// The project lock file: {"mcpcell_lock":1,"servers":{"NAME":{"pins":{"kind:item":{...}}}}}.
constexpr const char* kLockFileName = "mcpcell.lock";

// Reads the entry for `server`; `*found` says whether the file has one. A missing file is no error.
Status load_lock(const std::filesystem::path& lock_path, std::string_view server,
                 std::map<std::string, Pin>* pins, bool* found);
// Replaces or adds pins of `server` in the lock file (keeping the other servers and the mode).
Status update_lock(const std::filesystem::path& lock_path, std::string_view server,
                   const std::map<std::string, Pin>& pins);

}  // namespace mcpcell::pins
