#include "scan/json_text.h"

#include <algorithm>
#include <cstring>

#include "scan/byte_blocks.h"

namespace mcpcell::scan {
namespace {

int hexv(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool hex4(const char* p, const char* end, uint32_t* v) {
  if (end - p < 4) return false;
  uint32_t x = 0;
  for (int i = 0; i < 4; ++i) {
    int h = hexv(p[i]);
    if (h < 0) return false;
    x = x * 16 + static_cast<uint32_t>(h);
  }
  *v = x;
  return true;
}

size_t put_utf8(uint32_t cp, char* o) {
  if (cp < 0x80) {
    o[0] = static_cast<char>(cp);
    return 1;
  }
  if (cp < 0x800) {
    o[0] = static_cast<char>(0xC0 | (cp >> 6));
    o[1] = static_cast<char>(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = static_cast<char>(0xE0 | (cp >> 12));
    o[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    o[2] = static_cast<char>(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = static_cast<char>(0xF0 | (cp >> 18));
  o[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
  o[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
  o[3] = static_cast<char>(0x80 | (cp & 0x3F));
  return 4;
}

// Decodes the escape at p (p[0] == '\\'). Writes up to 4 bytes to `o`; returns how many were
// written and sets *consumed to the raw length.
size_t decode_one(const char* p, const char* end, char* o, size_t* consumed) {
  if (end - p < 2) {
    *consumed = 1;
    o[0] = '\\';
    return 1;
  }
  *consumed = 2;
  switch (p[1]) {
    case 'n': o[0] = '\n'; return 1;
    case 't': o[0] = '\t'; return 1;
    case 'r': o[0] = '\r'; return 1;
    case 'b': o[0] = '\b'; return 1;
    case 'f': o[0] = '\f'; return 1;
    case 'u': {
      uint32_t cp;
      if (!hex4(p + 2, end, &cp)) {
        o[0] = 'u';
        return 1;
      }
      *consumed = 6;
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        uint32_t lo;
        if (end - p >= 12 && p[6] == '\\' && p[7] == 'u' && hex4(p + 8, end, &lo) && lo >= 0xDC00 &&
            lo <= 0xDFFF) {
          *consumed = 12;
          return put_utf8(0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00), o);
        }
        return put_utf8(0xFFFD, o);
      }
      if (cp >= 0xDC00 && cp <= 0xDFFF) return put_utf8(0xFFFD, o);
      return put_utf8(cp, o);
    }
    default: o[0] = p[1]; return 1;  // \" \\ \/
  }
}

// Decoding never grows the text (an escape is never shorter than what it stands for), but the
// decoder stores 16 bytes at a time and the last store may reach this far past the decoded end.
constexpr size_t kSlack = 16;

// Finds, from a position on, the next byte of a set: one mask per 64-byte block, kept while the
// caller's positions stay inside that block. Fewer than 64 bytes left: byte by byte.
template <char... Cs>
class BlockCursor {
 public:
  explicit BlockCursor(const char* end) : end_(end) {}
  const char* next(const char* p) {
    for (;;) {
      if (base_ && p >= base_ && p < base_ + 64) {
        uint64_t m = bits_ & (~uint64_t{0} << (p - base_));
        if (m) return base_ + __builtin_ctzll(m);
        p = base_ + 64;
      }
      if (end_ - p < 64) {
        base_ = nullptr;
        while (p < end_ && !((*p == Cs) || ...)) ++p;
        return p;
      }
      base_ = p;
      bits_ = block_mask<64, Cs...>(p);
    }
  }

 private:
  const char* end_;
  const char* base_ = nullptr;
  uint64_t bits_ = 0;
};

bool is_list_key(std::string_view k) {
  return k == "tools" || k == "prompts" || k == "resources" || k == "resourceTemplates";
}

// What `\c` stands for, for every c but 'u' (\n \t \r \b \f; anything else is itself, as
// decode_one has it).
struct UnescapeTable {
  char to[256];
  constexpr UnescapeTable() : to() {
    for (int c = 0; c < 256; ++c) to[c] = static_cast<char>(c);
    to[int{'n'}] = '\n';
    to[int{'t'}] = '\t';
    to[int{'r'}] = '\r';
    to[int{'b'}] = '\b';
    to[int{'f'}] = '\f';
  }
};
constexpr UnescapeTable kUnescape;

// Copies [p, p + n) to o in 16-byte stores, at least one: runs between escapes are short, and a
// memcpy call per run cost more than the run. The caller guarantees 16 readable bytes past the
// run's end and kSlack writable ones past the output's end.
inline void copy_run(const char* p, size_t n, char* o) {
  size_t k = 0;
  do std::memcpy(o + k, p + k, 16);
  while ((k += 16) < n);
}

// Backslashes are found a 64-byte block at a time and then taken from the mask one by one: the
// next escape's position depends only on bit operations on the mask, not on a load at the
// previous escape's end, which made a 16-bytes-from-here search latency-bound at one escape per
// ~15 cycles on escaped JSON. The common two-byte escapes take a table look-up with no branch on
// which escape it is.
size_t decode_raw(const char* p, const char* end, char* o) {
  char* const o0 = o;
  // 80: a run that ends at a block's last byte is copied with up to 15 bytes of overreach.
  while (end - p >= 80) {
    const char* blk = p;
    uint64_t m = block_mask<64, '\\'>(blk);
    while (m) {
      unsigned i = static_cast<unsigned>(__builtin_ctzll(m));
      const char* q = blk + i;
      copy_run(p, static_cast<size_t>(q - p), o);
      o += q - p;
      if (q[1] != 'u') {
        *o++ = kUnescape.to[static_cast<unsigned char>(q[1])];
        p = q + 2;
        // The escape's second byte is a backslash only for `\\`; either way it is no escape.
        m &= ~(uint64_t{3} << i);
        continue;
      }
      size_t consumed;
      o += decode_one(q, end, o, &consumed);
      p = q + consumed;
      size_t past = static_cast<size_t>(p - blk);
      m = past < 64 ? m & (~uint64_t{0} << past) : 0;
    }
    if (p < blk + 64) {
      copy_run(p, static_cast<size_t>(blk + 64 - p), o);
      o += blk + 64 - p;
      p = blk + 64;
    }
  }
  while (end - p >= 16) {
    std::memcpy(o, p, 16);
    uint64_t m = block_mask<16, '\\'>(p);
    if (m == 0) {
      p += 16;
      o += 16;
      continue;
    }
    unsigned i = static_cast<unsigned>(__builtin_ctzll(m));
    p += i;
    o += i;
    if (end - p >= 2 && p[1] != 'u') {
      *o++ = kUnescape.to[static_cast<unsigned char>(p[1])];
      p += 2;
      continue;
    }
    size_t consumed;
    o += decode_one(p, end, o, &consumed);
    p += consumed;
  }
  while (p < end) {
    if (*p != '\\') {
      *o++ = *p++;
      continue;
    }
    size_t consumed;
    o += decode_one(p, end, o, &consumed);
    p += consumed;
  }
  return static_cast<size_t>(o - o0);
}

}  // namespace

void decode_escapes(std::string_view raw, std::string* out) {
  size_t old = out->size();
  out->resize(old + raw.size() + kSlack);
  size_t n = decode_raw(raw.data(), raw.data() + raw.size(), out->data() + old);
  out->resize(old + n);
}

std::string_view decode_into(std::string_view raw, std::string* scratch) {
  if (scratch->size() < raw.size() + kSlack) scratch->resize(raw.size() + kSlack);
  size_t n = decode_raw(raw.data(), raw.data() + raw.size(), scratch->data());
  return std::string_view(scratch->data(), n);
}

void map_strings(std::string_view raw, std::vector<StringSpan>* strings,
                 std::vector<ItemSpan>* items) {
  struct Frame {
    char type;             // '{' or '['
    std::string_view key;  // the key this container sits under in its parent
    bool expect_key;
  };
  std::vector<Frame> stack;
  std::string_view pending_key;  // last key read in the current object
  const char* b = raw.data();
  const char* p = b;
  const char* end = b + raw.size();
  long shrink = 0;  // raw bytes minus decoded bytes so far
  size_t item_raw = 0, item_dec = 0;
  std::string_view item_list;
  BlockCursor<'"', '\\'> cur(end);

  auto dec = [&](const char* q) { return static_cast<size_t>(q - b) - static_cast<size_t>(shrink); };
  auto items_here = [&]() -> std::string_view {
    if (!items || stack.size() != 3 || stack[0].type != '{' || stack[1].type != '{' ||
        stack[1].key != "result" || stack[2].type != '[' || !is_list_key(stack[2].key))
      return {};
    return stack[2].key;
  };
  auto value_start = [&](const char* q) {
    item_list = items_here();
    if (!item_list.empty()) {
      item_raw = static_cast<size_t>(q - b);
      item_dec = dec(q);
    }
  };
  auto value_end = [&](const char* q) {
    std::string_view l = items_here();
    if (!l.empty())
      items->push_back({item_raw, static_cast<size_t>(q - b), item_dec, dec(q), l});
  };

  while (p < end) {
    char c = *p;
    if (c == '"') {
      bool is_key = !stack.empty() && stack.back().type == '{' && stack.back().expect_key;
      if (!is_key) value_start(p);
      const char* s = ++p;
      size_t ds = dec(s);
      for (;;) {
        p = cur.next(p);
        if (p == end || *p == '"') break;
        if (end - p >= 2 && p[1] != 'u') {  // two bytes for one
          ++shrink;
          p += 2;
          continue;
        }
        char buf[4];
        size_t consumed;
        size_t n = decode_one(p, end, buf, &consumed);
        shrink += static_cast<long>(consumed) - static_cast<long>(n);
        p += consumed;
      }
      StringSpan sp{static_cast<size_t>(s - b), static_cast<size_t>(p - b), ds, dec(p), is_key};
      strings->push_back(sp);
      if (p < end) ++p;  // closing quote
      if (is_key) {
        pending_key = std::string_view(s, sp.raw_end - sp.raw_begin);
        stack.back().expect_key = false;
      } else {
        if (items && stack.size() == 2 && stack[0].type == '{' && stack[1].type == '{' &&
            stack[1].key == "result" && pending_key == "instructions")
          items->push_back({sp.raw_begin - 1, sp.raw_end + 1, sp.dec_begin - 1, sp.dec_end + 1,
                            "instructions"});
        value_end(p);
      }
      continue;
    }
    switch (c) {
      case '{':
      case '[': {
        value_start(p);
        std::string_view key = !stack.empty() && stack.back().type == '{' ? pending_key
                                                                          : std::string_view();
        stack.push_back({c, key, c == '{'});
        ++p;
        break;
      }
      case '}':
      case ']':
        if (!stack.empty()) stack.pop_back();
        ++p;
        value_end(p);
        break;
      case ',':
        if (!stack.empty() && stack.back().type == '{') stack.back().expect_key = true;
        ++p;
        break;
      case ' ': case '\t': case '\r': case '\n': case ':':
        ++p;
        break;
      default: {  // number or literal
        value_start(p);
        while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\t' &&
               *p != '\r' && *p != '\n')
          ++p;
        value_end(p);
      }
    }
  }
}

bool advance_to(std::string_view raw, size_t* raw_pos, size_t* dec_pos, size_t dec) {
  const char* b = raw.data();
  const char* p = b + *raw_pos;
  const char* end = b + raw.size();
  size_t d = *dec_pos;
  BlockCursor<'\\'> cur(end);
  while (d < dec) {
    const char* bs = cur.next(p);
    size_t run = static_cast<size_t>(bs - p);
    if (d + run >= dec) {
      p += dec - d;
      d = dec;
      break;
    }
    if (bs == end) {
      p = end;
      d += run;
      break;
    }
    d += run;
    p = bs;
    char buf[4];
    size_t consumed;
    size_t n = decode_one(bs, end, buf, &consumed);
    if (d + n > dec) break;  // inside what this escape decodes to
    d += n;
    p += consumed;
  }
  *raw_pos = static_cast<size_t>(p - b);
  *dec_pos = d;
  return d == dec;
}

long find_string(const std::vector<StringSpan>& strings, size_t off) {
  auto it = std::upper_bound(strings.begin(), strings.end(), off,
                             [](size_t o, const StringSpan& s) { return o < s.dec_begin; });
  if (it == strings.begin()) return -1;
  --it;
  if (off >= it->dec_begin && off < it->dec_end) return it - strings.begin();
  return -1;
}

}  // namespace mcpcell::scan
