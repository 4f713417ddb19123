// Fast validation and classification of one JSON-RPC line, without building a DOM.
//
// The relay forwards every line byte for byte and parses only to decide. A full DOM parse costs about
// 80 MB/s; this scanner validates the whole line (JSON grammar and UTF-8) in one pass and remembers
// where the top-level members that routing needs ("id", "method", "result", "error", "params") sit,
// so a 1 MiB tool result costs a single linear scan.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mcpcell {

enum class MessageKind : uint8_t {
  invalid,       // not JSON, not UTF-8, or JSON that is no JSON-RPC object or array
  request,       // has "method" and "id"
  notification,  // has "method", no "id"
  response,      // has "id" and "result"
  error,         // has "id" and "error"
  batch,         // a top-level array (legal only in 2025-03-26; forwarded as it is)
  other_object,  // a JSON object that fits none of the above; forwarded, flagged
};

const char* to_string(MessageKind kind);

// What the scanner learned about one line. Views point into the scanned line, except `method`,
// which is decoded into `method_storage` when the wire form holds escapes.
struct MessageInfo {
  MessageKind kind = MessageKind::invalid;
  std::string_view id;      // raw JSON token of "id": `5`, `"abc"`, `null`; empty if absent
  std::string_view method;  // decoded method name; empty if absent
  std::string_view params;  // raw JSON of "params"; empty if absent
  std::string_view result;  // raw JSON of "result"; empty if absent
  std::string_view error;   // raw JSON of "error"; empty if absent
  bool has_escapes = false; // some string in the line holds a backslash escape
  bool has_non_ascii = false;
  std::string error_text;   // for invalid lines: what is wrong and at which byte
  std::string method_storage;

  bool has_id() const { return !id.empty() && id != "null"; }
  bool is_request() const { return kind == MessageKind::request; }
  bool is_response() const { return kind == MessageKind::response || kind == MessageKind::error; }
};

// Validates `line` (without its newline; trailing whitespace such as a CR is allowed) and fills `info`.
// Never throws; the work is linear in the size of the line and the nesting depth is capped.
void scan_message(std::string_view line, MessageInfo& info);

// Best effort: the raw "id" token of a line that is too large or cut short, looking at a prefix.
// Returns an empty view when no top-level id is visible.
std::string_view find_id_in_prefix(std::string_view prefix);

// Returns true when `s` is well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF).
bool valid_utf8(std::string_view s);

// Builds `{"jsonrpc":"2.0","id":<id>,"error":{"code":<code>,"message":<message>}}`. `id` is a raw
// JSON token (as in MessageInfo::id); an empty id becomes null. `message` is escaped here.
std::string make_error_response(std::string_view id, int code, std::string_view message);

// Appends `s` to `out` as a JSON string literal (quotes included).
void append_json_string(std::string& out, std::string_view s);

// Error codes mcpcell uses in its own replies (JSON-RPC reserves -32000..-32019 for implementations).
namespace rpc_code {
constexpr int parse_error = -32700;
constexpr int invalid_request = -32600;
constexpr int too_large = -32001;
constexpr int blocked = -32002;
constexpr int quarantined = -32003;
constexpr int unavailable = -32004;
}  // namespace rpc_code

}  // namespace mcpcell
