// The decision for one advertised item, apart from any I/O: is it what we pinned, new, changed,
// or a pinned item under a new name?
#pragma once

#include <map>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "pins/diff.h"
#include "pins/pin_store.h"

namespace mcpcell::pins {

enum class Mode { tofu, strict, off };
bool parse_mode(const std::string& s, Mode* mode);

// How a listed kind maps onto its result array and the field naming each item.
struct ListKind {
  const char* method;       // "tools/list"
  const char* array_field;  // "tools"
  const char* kind;         // "tool"
  const char* id_field;     // "name"
  const char* call_method;  // the request that uses an item: "tools/call"
  const char* call_field;   // where that request names it: "name"
};
const ListKind* list_kind_for_method(std::string_view method);
const ListKind* list_kind_for_call(std::string_view method);
const ListKind* list_kind_for_kind(std::string_view kind);

struct Verdict {
  enum Kind { same, fresh, changed, renamed } kind = fresh;
  std::string sha256;
  std::vector<Change> changes;  // for changed: old pin -> new value
  std::string renamed_from;     // for renamed: the pinned item's name
};

// Hash of an item's value without its naming field, to recognise a rename.
std::string body_hash(const nlohmann::json& value, const char* id_field);

// Pinned items by kind and body_hash, so rename detection costs one lookup per new item.
using BodyIndex = std::map<std::string, std::vector<std::string>>;  // kind + '\n' + hash -> keys
void add_to_body_index(BodyIndex& index, const std::string& key, const Pin& pin);
BodyIndex build_body_index(const std::map<std::string, Pin>& pins);

// `pins` holds the effective pins (lock file over user store); `seen` the keys listed so far this
// session, which cannot be the source of a rename.
Verdict check_item(const std::map<std::string, Pin>& pins, const BodyIndex& index,
                   const std::string& kind, const std::string& item, const nlohmann::json& value,
                   const std::set<std::string>& seen);

}  // namespace mcpcell::pins
