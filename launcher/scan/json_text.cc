#include "scan/json_text.h"

#include <algorithm>
#include <cstring>

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

bool is_list_key(std::string_view k) {
  return k == "tools" || k == "prompts" || k == "resources" || k == "resourceTemplates";
}

}  // namespace

void decode_escapes(std::string_view raw, std::string* out) {
  const char* p = raw.data();
  const char* end = p + raw.size();
  out->reserve(out->size() + raw.size());
  while (p < end) {
    const char* bs = static_cast<const char*>(std::memchr(p, '\\', static_cast<size_t>(end - p)));
    if (!bs) {
      out->append(p, static_cast<size_t>(end - p));
      break;
    }
    out->append(p, static_cast<size_t>(bs - p));
    char buf[4];
    size_t consumed;
    size_t n = decode_one(bs, end, buf, &consumed);
    out->append(buf, n);
    p = bs + consumed;
  }
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
      while (p < end && *p != '"') {
        if (*p == '\\') {
          char buf[4];
          size_t consumed;
          size_t n = decode_one(p, end, buf, &consumed);
          shrink += static_cast<long>(consumed) - static_cast<long>(n);
          p += consumed;
        } else {
          ++p;
        }
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

long find_string(const std::vector<StringSpan>& strings, size_t off) {
  auto it = std::upper_bound(strings.begin(), strings.end(), off,
                             [](size_t o, const StringSpan& s) { return o < s.dec_begin; });
  if (it == strings.begin()) return -1;
  --it;
  if (off >= it->dec_begin && off < it->dec_end) return it - strings.begin();
  return -1;
}

}  // namespace mcpcell::scan
