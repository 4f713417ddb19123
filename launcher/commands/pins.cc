// mcpcell pins list | show NAME | diff NAME | approve NAME [ITEM...] | forget NAME
//
// Review of what sessions withheld. Approval edits the pin store (and the project's mcpcell.lock
// when it holds this server, since the lock takes precedence there); running sessions keep their
// decisions, the next session uses the new pins.
#include <cstdio>
#include <filesystem>
#include <map>

#include "commands/commands.h"
#include "core/identity.h"
#include "io/audit.h"
#include "io/paths.h"
#include "pins/pin_store.h"
#include "pins/review.h"

namespace mcpcell {
namespace fs = std::filesystem;
using namespace pins;

namespace {

constexpr const char* kUsage =
    "usage: mcpcell pins list\n"
    "       mcpcell pins show NAME      pinned items of a server and what awaits review\n"
    "       mcpcell pins diff NAME      what changed in the items awaiting review\n"
    "       mcpcell pins approve NAME [ITEM...]   accept all (or the named, e.g. tool:echo)\n"
    "       mcpcell pins forget NAME    drop every pin of a server (it is pinned anew next run)\n"
    "The project lock file ./mcpcell.lock, when it lists NAME, takes precedence and is updated "
    "by approve.\n";

fs::path lock_path() {
  std::error_code ec;
  return fs::current_path(ec) / kLockFileName;
}

bool load_server(const PinStore& store, const std::string& name, ServerPins* pins,
                 std::map<std::string, Pin>* lock_pins, bool* in_lock, int* rc) {
  if (!valid_server_name(name)) {
    *rc = fail(125, "'" + name + "' is not a server name", "see `mcpcell pins list`");
    return false;
  }
  if (Status st = store.load(name, pins); !st) {
    *rc = fail(1, st.message());
    return false;
  }
  if (Status st = load_lock(lock_path(), name, lock_pins, in_lock); !st) {
    *rc = fail(1, st.message());
    return false;
  }
  if (pins->pins.empty() && pins->pending.empty() && !*in_lock) {
    *rc = fail(1, "no pins for '" + name + "'", "see `mcpcell pins list`");
    return false;
  }
  return true;
}

}  // namespace

int cmd_pins(const Args& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 125 : 0;
  }
  const std::string& sub = args[0];
  PinStore store(state_dir());
  if (sub == "list") {
    if (args.size() != 1) return fail(125, "pins list takes no arguments");
    std::vector<std::string> names = store.servers();
    if (names.empty()) std::fprintf(stderr, "mcpcell: no pins yet (%s)\n", store.dir().c_str());
    for (const auto& n : names) {
      ServerPins p;
      if (Status st = store.load(n, &p); !st) {
        std::fprintf(stderr, "mcpcell: %s\n", st.message().c_str());
        continue;
      }
      std::map<std::string, Pin> lock;
      bool in_lock = false;
      (void)load_lock(lock_path(), n, &lock, &in_lock);
      std::fputs(render_summary(p, in_lock).c_str(), stdout);
    }
    return 0;
  }
  if (sub != "show" && sub != "diff" && sub != "approve" && sub != "forget")
    return fail(125, "unknown pins command '" + sub + "'", "mcpcell pins --help");
  if (args.size() < 2)
    return fail(125, "pins " + sub + " needs a server NAME", "mcpcell pins list");
  const std::string& name = args[1];
  if (sub != "approve" && args.size() > 2)
    return fail(125, "pins " + sub + " takes one server NAME");

  if (sub == "forget") {
    if (!valid_server_name(name)) return fail(125, "'" + name + "' is not a server name");
    if (Status st = store.forget(name); !st) return fail(1, st.message());
    std::printf("forgot the pins of %s; the next run pins it anew\n", name.c_str());
    std::map<std::string, Pin> lock;
    bool in_lock = false;
    if (load_lock(lock_path(), name, &lock, &in_lock) && in_lock)
      std::fprintf(stderr, "mcpcell: note: ./mcpcell.lock still pins %s and takes precedence\n",
                   name.c_str());
    return 0;
  }

  ServerPins pins;
  std::map<std::string, Pin> lock_pins;
  bool in_lock = false;
  int rc = 0;
  if (!load_server(store, name, &pins, &lock_pins, &in_lock, &rc)) return rc;
  if (sub == "show") {
    std::fputs(render_show(pins, lock_pins, in_lock).c_str(), stdout);
    return 0;
  }
  if (sub == "diff") {
    std::fputs(render_diff(pins, lock_pins).c_str(), stdout);
    return pins.pending.empty() ? 0 : 1;  // like diff(1): 1 when there are differences
  }

  // approve
  std::vector<std::string> selectors(args.begin() + 2, args.end());
  std::vector<std::string> unknown;
  std::map<std::string, Pin> approved;
  std::string now = rfc3339_now();
  Status st = store.update(name, [&](ServerPins& p) {
    unknown.clear();
    approved = approve_pending(p, selectors, now, &unknown);
  });
  if (!st) return fail(1, st.message());
  if (in_lock && !approved.empty()) {
    std::map<std::string, Pin> merged = lock_pins;
    for (const auto& [k, p] : approved) {
      if (p.kind == "package")
        std::erase_if(merged, [](const auto& e) { return e.second.kind == "package"; });
      merged[k] = p;
    }
    if (Status ls = update_lock(lock_path(), name, merged); !ls) return fail(1, ls.message());
    std::printf("updated ./mcpcell.lock (review and commit it)\n");
  }
  for (const auto& [k, p] : approved) std::printf("approved %s\n", k.c_str());
  if (approved.empty() && unknown.empty())
    std::printf("nothing awaits review for %s\n", name.c_str());
  if (!unknown.empty()) {
    for (const auto& u : unknown)
      std::fprintf(stderr, "mcpcell: nothing awaiting review matches '%s'\n", u.c_str());
    return 1;
  }
  if (!approved.empty()) std::printf("takes effect in the next session of %s\n", name.c_str());
  return 0;
}

}  // namespace mcpcell
