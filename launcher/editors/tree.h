// A parsed configuration document that remembers where every value sits in the original bytes.
//
// Editors' MCP configs are hand-edited files full of comments, odd formatting and unrelated
// settings (~/.claude.json holds a whole application's state). Re-serializing a parsed document
// would lose all of that, so mcpcell never does: the JSONC and YAML readers here build this small
// tree with byte spans, and wrap/unwrap replace exactly the spans they mean to change.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mcpcell::editors {

struct Span {
  size_t begin = 0, end = 0;  // [begin, end) in the document
  size_t size() const { return end - begin; }
  std::string_view of(std::string_view text) const { return text.substr(begin, end - begin); }
};

struct Node {
  enum Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = kNull;
  Span span;        // the value's bytes (a block collection: first key or dash to end of last item)
  std::string str;  // decoded text of a string or scalar
  bool block = false;   // YAML block collection (as opposed to JSON / YAML flow syntax)
  bool quoted = false;  // YAML scalar written with quotes (JSON strings always are)
  // Objects: keys[i] (decoded) at key_spans[i] names items[i]. Arrays: items only.
  std::vector<std::string> keys;
  std::vector<Span> key_spans;
  std::vector<Node> items;

  const Node* get(std::string_view key) const {  // first member named `key`, or null
    for (size_t i = 0; i < keys.size(); ++i)
      if (keys[i] == key) return &items[i];
    return nullptr;
  }
  int index_of(std::string_view key) const {
    for (size_t i = 0; i < keys.size(); ++i)
      if (keys[i] == key) return static_cast<int>(i);
    return -1;
  }
};

// JSON with // and /* */ comments and trailing commas (VS Code, Zed, and plain JSON files).
// On error returns false and sets `error` to "line L, column C: what".
bool parse_jsonc(std::string_view text, Node* out, std::string* error);

// The YAML that MCP configs use (Continue): block mappings and sequences, flow [..] and {..},
// plain, single- and double-quoted scalars, block scalars (| and >), comments, a leading `---`.
// Anchors, aliases, tags and multi-document streams are not supported and give an error.
bool parse_yaml(std::string_view text, Node* out, std::string* error);

// "line L, column C" of a byte offset (1-based), for messages.
std::string position_of(std::string_view text, size_t offset);

// UTF-8 encoding of a code point (shared by both readers' escape decoding).
void append_utf8(uint32_t cp, std::string* out);

}  // namespace mcpcell::editors
