#include "pins/checker.h"

#include "pins/canonical.h"

namespace mcpcell::pins {
using nlohmann::json;

bool parse_mode(const std::string& s, Mode* mode) {
  if (s == "tofu")
    *mode = Mode::tofu;
  else if (s == "strict")
    *mode = Mode::strict;
  else if (s == "off")
    *mode = Mode::off;
  else
    return false;
  return true;
}

static const ListKind kListKinds[] = {
    {"tools/list", "tools", "tool", "name", "tools/call", "name"},
    {"prompts/list", "prompts", "prompt", "name", "prompts/get", "name"},
    {"resources/list", "resources", "resource", "uri", "resources/read", "uri"},
    {"resources/templates/list", "resourceTemplates", "resource_template", "uriTemplate", nullptr,
     nullptr},
};

const ListKind* list_kind_for_method(std::string_view method) {
  for (const auto& k : kListKinds)
    if (method == k.method) return &k;
  return nullptr;
}
const ListKind* list_kind_for_call(std::string_view method) {
  for (const auto& k : kListKinds)
    if (k.call_method && method == k.call_method) return &k;
  return nullptr;
}
const ListKind* list_kind_for_kind(std::string_view kind) {
  for (const auto& k : kListKinds)
    if (kind == k.kind) return &k;
  return nullptr;
}

std::string body_hash(const json& value, const char* id_field) {
  if (!value.is_object() || !id_field) return hash_json(value);
  json body = value;
  body.erase(id_field);
  return hash_json(body);
}

void add_to_body_index(BodyIndex& index, const std::string& key, const Pin& pin) {
  const ListKind* lk = list_kind_for_kind(pin.kind);
  if (!lk || std::string_view(lk->id_field) != "name") return;
  index[pin.kind + "\n" + body_hash(pin.value, lk->id_field)].push_back(key);
}

BodyIndex build_body_index(const std::map<std::string, Pin>& pins) {
  BodyIndex index;
  for (const auto& [key, pin] : pins) add_to_body_index(index, key, pin);
  return index;
}

Verdict check_item(const std::map<std::string, Pin>& pins, const BodyIndex& index,
                   const std::string& kind, const std::string& item, const json& value,
                   const std::set<std::string>& seen) {
  Verdict v;
  v.sha256 = hash_json(value);
  auto it = pins.find(item_key(kind, item));
  if (it != pins.end()) {
    if (it->second.sha256 == v.sha256) {
      v.kind = Verdict::same;
    } else {
      v.kind = Verdict::changed;
      v.changes = diff_json(it->second.value, value);
    }
    return v;
  }
  // A new name whose definition is otherwise that of a pinned item not listed this session.
  const ListKind* lk = list_kind_for_kind(kind);
  if (lk && std::string_view(lk->id_field) == "name") {
    auto found = index.find(kind + "\n" + body_hash(value, lk->id_field));
    if (found != index.end())
      for (const auto& key : found->second) {
        auto pin = pins.find(key);
        if (pin == pins.end() || seen.count(key)) continue;
        v.kind = Verdict::renamed;
        v.renamed_from = pin->second.item;
        v.changes = diff_json(pin->second.value, value);
        return v;
      }
  }
  v.kind = Verdict::fresh;
  return v;
}

}  // namespace mcpcell::pins
