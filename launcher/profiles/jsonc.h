// A JSON-with-comments reader that remembers where every value came from.
//
// Profiles are hand-edited, so an error must name the file, the line and the key. nlohmann/json
// (3.11 on Debian 12) reports only byte offsets for syntax errors and nothing at all for the
// position of a key, and stripping comments before handing text to it would still lose the keys'
// lines. So this is a small recursive-descent parser of its own: it skips `//` and `/* */` comments
// like whitespace, builds an nlohmann::json value, and records the line and column of every member
// key and value under a dotted path ("network.allow[2]") that the validator uses in its messages.
// Duplicate keys and trailing commas are errors: both hide mistakes in a policy file.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace mcpcell::profiles {

struct Pos {
  int line = 0;  // 1-based; 0 = unknown
  int col = 0;   // 1-based, in bytes
};

struct JsoncDoc {
  nlohmann::json value;
  // Path ("" for the root, "a.b[3]") -> position of its value; for members also of the key.
  std::map<std::string, Pos> value_pos;
  std::map<std::string, Pos> key_pos;

  // Best position for messages about `path`: the key if it is a member, else the value.
  Pos where(const std::string& path) const;
};

// Parses `text`; on failure returns false and sets `error` to "LINE:COL: what was expected".
bool parse_jsonc(std::string_view text, JsoncDoc* out, std::string* error);

// "a" + "b" -> "a.b"; "" + "b" -> "b".
std::string path_member(const std::string& parent, const std::string& key);
// "a" + 2 -> "a[2]".
std::string path_index(const std::string& parent, size_t index);

}  // namespace mcpcell::profiles
