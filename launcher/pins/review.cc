#include "pins/review.h"

#include <algorithm>

#include "pins/diff.h"

namespace mcpcell::pins {
using nlohmann::json;

namespace {

bool selected(const PendingItem& p, const std::string& key, const std::vector<std::string>& sel,
              std::vector<bool>* used) {
  if (sel.empty()) return true;
  bool hit = false;
  for (size_t i = 0; i < sel.size(); ++i)
    if (sel[i] == key || sel[i] == p.item) {
      (*used)[i] = true;
      hit = true;
    }
  return hit;
}

std::string clip(std::string s, size_t max) {
  if (s.size() > max) s = s.substr(0, max) + "...";
  return s;
}

}  // namespace

std::map<std::string, Pin> approve_pending(ServerPins& s, const std::vector<std::string>& selectors,
                                           const std::string& now,
                                           std::vector<std::string>* unknown) {
  std::map<std::string, Pin> approved;
  std::vector<bool> used(selectors.size(), false);
  for (auto it = s.pending.begin(); it != s.pending.end();) {
    const PendingItem& p = it->second;
    if (!selected(p, it->first, selectors, &used)) {
      ++it;
      continue;
    }
    Pin pin{p.kind, p.item, p.sha256, p.value, p.seen, now, {}};
    if (auto old = s.pins.find(it->first); old != s.pins.end() && old->second.sha256 == p.sha256) {
      pin.accepted_flags = old->second.accepted_flags;
      pin.first_seen = old->second.first_seen;
    }
    for (const auto& f : p.flags)
      if (std::find(pin.accepted_flags.begin(), pin.accepted_flags.end(), f.rule) ==
          pin.accepted_flags.end())
        pin.accepted_flags.push_back(f.rule);
    if (p.kind == "package")
      std::erase_if(s.pins, [](const auto& e) { return e.second.kind == "package"; });
    s.pins[it->first] = pin;
    approved[it->first] = std::move(pin);
    it = s.pending.erase(it);
  }
  for (size_t i = 0; i < selectors.size(); ++i)
    if (!used[i]) unknown->push_back(selectors[i]);
  return approved;
}

std::map<std::string, Pin> effective_pins(const ServerPins& s,
                                          const std::map<std::string, Pin>& lock_pins) {
  std::map<std::string, Pin> out = s.pins;
  for (const auto& [k, p] : lock_pins) out[k] = p;
  return out;
}

std::string render_summary(const ServerPins& s, bool in_lock) {
  std::map<std::string, int> kinds;
  for (const auto& [k, p] : s.pins) kinds[p.kind]++;
  std::string out = s.server + ": ";
  bool first = true;
  for (const auto& [kind, n] : kinds) {
    out += (first ? "" : ", ") + std::to_string(n) + " " + kind;
    first = false;
  }
  if (first) out += "no pins";
  if (!s.pending.empty()) out += "; " + std::to_string(s.pending.size()) + " awaiting review";
  if (in_lock) out += "; governed by mcpcell.lock";
  if (!s.last_seen.empty()) out += "; last run " + s.last_seen;
  return out + "\n";
}

std::string render_show(const ServerPins& s, const std::map<std::string, Pin>& lock_pins,
                        bool in_lock) {
  std::string out =
      "server " + s.server + (in_lock ? " (pins in mcpcell.lock take precedence)" : "") + "\n";
  for (const auto& [k, p] : effective_pins(s, lock_pins)) {
    out += "  " + k + "  sha256:" + p.sha256.substr(0, 16);
    if (lock_pins.count(k)) out += "  [lock]";
    if (!p.approved.empty())
      out += "  approved " + p.approved;
    else if (!p.first_seen.empty())
      out += "  first seen " + p.first_seen;
    if (!p.accepted_flags.empty()) {
      out += "  accepted findings:";
      for (const auto& f : p.accepted_flags) out += " " + f;
    }
    out += "\n";
    if (p.value.is_object() && p.value.contains("description") &&
        p.value["description"].is_string())
      out += "      " + clip(p.value["description"].get<std::string>(), 100) + "\n";
    if (p.kind == "package") out += "      " + clip(p.value.dump(), 200) + "\n";
  }
  if (!s.pending.empty()) {
    out += "awaiting review (see `mcpcell pins diff " + s.server + "`):\n";
    for (const auto& [k, p] : s.pending) out += "  " + k + "  " + p.reason + "  " + p.seen + "\n";
  }
  return out;
}

std::string render_diff(const ServerPins& s, const std::map<std::string, Pin>& lock_pins) {
  if (s.pending.empty()) return "nothing awaits review for " + s.server + "\n";
  std::map<std::string, Pin> pins = effective_pins(s, lock_pins);
  std::string out;
  for (const auto& [k, p] : s.pending) {
    out += k + ": " + p.reason + " (seen " + p.seen + ")\n";
    const Pin* old = nullptr;
    if (p.reason == "renamed") {
      if (auto it = pins.find(item_key(p.kind, p.renamed_from)); it != pins.end())
        old = &it->second;
      out += "    renamed from '" + p.renamed_from + "'\n";
    } else if (p.kind == "package") {
      for (const auto& [pk, pp] : pins)
        if (pp.kind == "package") old = &pp;
    } else if (auto it = pins.find(k); it != pins.end()) {
      old = &it->second;
    }
    for (const auto& f : p.flags)
      out += "    flagged by " + f.rule + (f.reason.empty() ? "" : ": " + f.reason) + "\n";
    if (old && old->sha256 != p.sha256) {
      out += render_changes(diff_json(old->value, p.value));
    } else if (!old) {
      std::string pretty = p.value.dump(2);
      std::string indented;
      for (char c : clip(pretty, 4000)) {
        indented.push_back(c);
        if (c == '\n') indented += "    | ";
      }
      out += "    | " + indented + "\n";
    }
  }
  out += "approve with `mcpcell pins approve " + s.server +
         "` (everything) or name items, e.g. `mcpcell pins approve " + s.server + " " +
         s.pending.begin()->first + "`; it applies to the next session\n";
  return out;
}

}  // namespace mcpcell::pins
