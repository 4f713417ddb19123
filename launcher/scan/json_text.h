// The text the scanner looks at, and the way back from a finding to the bytes on the wire.
//
// JSON escapes hide content from a byte scanner: `\u0041KIA…` is an AWS key, `\udb40\udc41` is an
// invisible tag character, and a PEM key arrives with `\n` between its lines. So when a line holds
// escapes we scan its *decoded* form: the same bytes with every escape sequence replaced by what it
// stands for. In valid JSON a backslash only ever appears inside a string, so decoding needs no
// parse at all: copy up to the next backslash, decode one escape, repeat. Backslashes are found a
// 64-byte block at a time (SSE2, or 64-bit word tricks elsewhere), so text that is itself escaped
// JSON, with an escape every few bytes, decodes at about the speed of plain text. Keys,
// quotes, colons and commas stay where they were, so a rule can still see `"password":"…"`.
//
// Only when a rule fires do we walk the raw line once more to learn where each string literal sits
// in both the raw and the decoded text. A finding is then mapped to the string that holds it and to
// raw offsets inside it; only the replacement is escaped and every other byte of the line stays as
// it was (re-escaping a whole 1 MiB string around one redacted key took longer than the scan).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace mcpcell::scan {

// Appends `raw` with its JSON escapes decoded to `out` (lone surrogates become U+FFFD).
void decode_escapes(std::string_view raw, std::string* out);
// The same into `scratch`'s storage, which grows as needed and is never shrunk or cleared, so a
// buffer reused for every message is not zero-filled each time. The view lives as long as the
// storage does.
std::string_view decode_into(std::string_view raw, std::string* scratch);

struct StringSpan {
  size_t raw_begin, raw_end;  // content of the literal in the raw line, quotes excluded
  size_t dec_begin, dec_end;  // the same content in the decoded text
  bool key;
};

// An advertised item: an element of result.tools / prompts / resources / resourceTemplates, or the
// string result.instructions. Offsets as above, for the whole element.
struct ItemSpan {
  size_t raw_begin, raw_end;
  size_t dec_begin, dec_end;
  std::string_view list;  // "tools", "prompts", "resources", "resourceTemplates", "instructions"
};

// Walks a valid JSON line and lists its string literals in order (and, if `items` is not null, the
// advertised items of a list result).
void map_strings(std::string_view raw, std::vector<StringSpan>* strings,
                 std::vector<ItemSpan>* items);

// Walks a string literal's raw bytes from (*raw_pos, *dec_pos), a matching pair of positions in
// it, forward to the decoded position `dec` (<= the literal's dec_end) and sets both to it. False
// when `dec` falls among the bytes one escape decodes to (it has no raw position of its own); the
// positions are then left at that escape.
bool advance_to(std::string_view raw, size_t* raw_pos, size_t* dec_pos, size_t dec);

// Index of the string whose decoded content contains `dec_offset`, or -1.
long find_string(const std::vector<StringSpan>& strings, size_t dec_offset);

}  // namespace mcpcell::scan
