#include "pins/diff.h"

#include <algorithm>

namespace mcpcell::pins {
using nlohmann::json;

namespace {

std::string join(const std::string& base, const std::string& key) {
  return base.empty() ? key : base + "." + key;
}

bool scalar_array(const json& a) {
  return std::all_of(a.begin(), a.end(), [](const json& e) { return e.is_primitive(); });
}

void walk(const json& a, const json& b, const std::string& path, std::vector<Change>& out,
          size_t max) {
  if (out.size() >= max || a == b) return;
  if (a.is_object() && b.is_object()) {
    for (auto it = a.begin(); it != a.end(); ++it) {
      auto other = b.find(it.key());
      if (other == b.end()) {
        if (out.size() < max) out.push_back({join(path, it.key()), "removed", it.value(), json()});
      } else {
        walk(it.value(), *other, join(path, it.key()), out, max);
      }
    }
    for (auto it = b.begin(); it != b.end(); ++it)
      if (!a.contains(it.key()) && out.size() < max)
        out.push_back({join(path, it.key()), "added", json(), it.value()});
    return;
  }
  if (a.is_array() && b.is_array() && a.size() == b.size() &&
      !(scalar_array(a) && scalar_array(b))) {
    for (size_t i = 0; i < a.size(); ++i) walk(a[i], b[i], join(path, std::to_string(i)), out, max);
    return;
  }
  out.push_back({path, "changed", a, b});
}

std::string last_segment(const std::string& path) {
  size_t dot = path.rfind('.');
  return dot == std::string::npos ? path : path.substr(dot + 1);
}

std::string short_value(const json& v, size_t max = 160) {
  std::string s = v.is_string() ? v.get<std::string>() : v.dump();
  if (s.size() > max) s = s.substr(0, max) + "...";
  return s;
}

}  // namespace

std::vector<Change> diff_json(const json& from, const json& to, size_t max) {
  std::vector<Change> out;
  walk(from, to, "", out, max);
  return out;
}

bool is_safety_hint(const std::string& path) {
  if (!path.starts_with("annotations.")) return false;
  std::string leaf = last_segment(path);
  return leaf == "readOnlyHint" || leaf == "destructiveHint" || leaf == "idempotentHint" ||
         leaf == "openWorldHint";
}

json summarize(const std::vector<Change>& changes) {
  json paths = json::array(), flips = json::object();
  for (const auto& c : changes) {
    if (paths.size() < 20) paths.push_back(c.path.empty() ? "(value)" : c.path);
    if (is_safety_hint(c.path)) flips[last_segment(c.path)] = {{"from", c.from}, {"to", c.to}};
  }
  json out = {{"changed", std::move(paths)}};
  if (!flips.empty()) out["flips"] = std::move(flips);
  return out;
}

std::string describe(const std::vector<Change>& changes, size_t max_items) {
  std::vector<std::string> parts;
  for (const auto& c : changes) {
    // Hints are named in full; anything else by its top-level field.
    std::string p = c.path.empty() ? "value" : c.path;
    if (!is_safety_hint(p)) p = p.substr(0, p.find('.'));
    if (std::find(parts.begin(), parts.end(), p) == parts.end()) parts.push_back(p);
  }
  std::string out;
  for (size_t i = 0; i < parts.size() && i < max_items; ++i) out += (i ? ", " : "") + parts[i];
  if (parts.size() > max_items) out += ", ...";
  return out;
}

std::string inline_diff(const std::string& from, const std::string& to, size_t context) {
  size_t pre = 0;
  while (pre < from.size() && pre < to.size() && from[pre] == to[pre]) ++pre;
  size_t suf = 0;
  while (suf < from.size() - pre && suf < to.size() - pre &&
         from[from.size() - 1 - suf] == to[to.size() - 1 - suf])
    ++suf;
  // Do not cut a UTF-8 sequence in half.
  auto back_to_char = [](const std::string& s, size_t i) {
    while (i > 0 && i < s.size() && (static_cast<unsigned char>(s[i]) & 0xc0) == 0x80) --i;
    return i;
  };
  pre = back_to_char(from, pre);
  size_t start = pre > context ? back_to_char(from, pre - context) : 0;
  size_t end_from = from.size() - suf;
  size_t end_to = to.size() - suf;
  std::string out;
  if (start > 0) out += "...";
  out += from.substr(start, pre - start);
  if (end_from > pre) out += "[-" + from.substr(pre, end_from - pre) + "-]";
  if (end_to > pre) out += "{+" + to.substr(pre, end_to - pre) + "+}";
  size_t tail = std::min(context, suf);
  out += from.substr(end_from, tail);
  if (suf > tail) out += "...";
  return out;
}

std::string render_changes(const std::vector<Change>& changes) {
  std::string out;
  for (const auto& c : changes) {
    std::string path = c.path.empty() ? "(value)" : c.path;
    if (is_safety_hint(c.path)) {
      out += "    !! " + path + ": " + short_value(c.from) + " -> " + short_value(c.to);
      if (last_segment(c.path) == "readOnlyHint" && c.to == true)
        out += "  (some clients auto-approve read-only tools)";
      if (last_segment(c.path) == "destructiveHint" && c.to == false)
        out += "  (clients stop asking before destructive calls)";
      out += "\n";
    } else if (c.what == "added") {
      out += "    + " + path + ": " + short_value(c.to) + "\n";
    } else if (c.what == "removed") {
      out += "    - " + path + ": " + short_value(c.from) + "\n";
    } else if (c.from.is_string() && c.to.is_string()) {
      out += "    ~ " + path + ": " +
             inline_diff(c.from.get<std::string>(), c.to.get<std::string>()) + "\n";
    } else {
      out += "    ~ " + path + ": " + short_value(c.from) + " -> " + short_value(c.to) + "\n";
    }
  }
  return out;
}

}  // namespace mcpcell::pins
