// A single-pass JSON validator (RFC 8259 grammar, RFC 3629 UTF-8) that records the spans of the
// top-level members the relay routes on. It is iterative, so hostile nesting cannot overflow the
// stack; depth is capped at kMaxDepth like most JSON parsers do.
//
// What it accepts must be what nlohmann::json accepts, because the filters parse the lines it
// passes with nlohmann and give up on one that fails to parse: a line valid here and not there
// would go through every filter unseen (a tools/list result with one lone surrogate escaped in a
// description used to skip pinning). So \u escapes must form whole UTF-16 characters and numbers
// must fit a double, as nlohmann requires; tests/fuzz/fuzz_jsonrpc.cc checks the two agree. Where
// it is stricter (nesting, duplicate routing members, top-level scalars) it fails closed.
#include "core/jsonrpc.h"

#include <array>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace mcpcell {
namespace {

constexpr int kMaxDepth = 512;

// Classes for bytes inside a string: 0 = ordinary ASCII, 1 = quote, 2 = backslash,
// 3 = control (invalid), 4 = first byte of a multi-byte UTF-8 sequence (or invalid byte).
constexpr std::array<uint8_t, 256> make_string_table() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = 3;
  t['"'] = 1;
  t['\\'] = 2;
  for (int c = 0x80; c < 0x100; ++c) t[c] = 4;
  return t;
}
constexpr auto kStringClass = make_string_table();

bool is_ws(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}
bool is_digit(unsigned char c) {
  return c >= '0' && c <= '9';
}
int hex_value(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Length of the valid UTF-8 sequence at p (p[0] >= 0x80), or 0 if invalid.
size_t utf8_sequence(const unsigned char* p, const unsigned char* end) {
  unsigned char c = p[0];
  size_t avail = static_cast<size_t>(end - p);
  if (c >= 0xC2 && c <= 0xDF) {
    if (avail < 2 || (p[1] & 0xC0) != 0x80) return 0;
    return 2;
  }
  if (c >= 0xE0 && c <= 0xEF) {
    if (avail < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return 0;
    if (c == 0xE0 && p[1] < 0xA0) return 0;   // overlong
    if (c == 0xED && p[1] >= 0xA0) return 0;  // UTF-16 surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (avail < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
      return 0;
    if (c == 0xF0 && p[1] < 0x90) return 0;   // overlong
    if (c == 0xF4 && p[1] >= 0x90) return 0;  // past U+10FFFF
    return 4;
  }
  return 0;
}

std::string decode_string(std::string_view lit);

class Scanner {
 public:
  Scanner(std::string_view line, MessageInfo& info)
      : begin_(reinterpret_cast<const unsigned char*>(line.data())),
        p_(begin_),
        end_(begin_ + line.size()),
        info_(info) {}

  void run();

 private:
  bool fail(const char* what) {
    if (info_.error_text.empty()) {
      info_.error_text = std::string(what) + " at byte " + std::to_string(p_ - begin_);
    }
    return false;
  }
  void skip_ws() {
    while (p_ < end_ && is_ws(*p_)) ++p_;
  }
  bool string();  // p_ at opening quote; leaves p_ after closing quote
  void skip_plain();
  bool escape();
  bool hex4(int at, uint32_t* cp);
  bool number();
  bool literal(const char* word, size_t n);
  bool value();  // any value, iteratively
  std::string_view view(const unsigned char* a, const unsigned char* b) const {
    return std::string_view(reinterpret_cast<const char*>(a), static_cast<size_t>(b - a));
  }

  const unsigned char* begin_;
  const unsigned char* p_;
  const unsigned char* end_;
  MessageInfo& info_;
  bool last_string_escaped_ = false;
};

bool Scanner::string() {
  ++p_;  // opening quote
  last_string_escaped_ = false;
  for (;;) {
    skip_plain();
    if (p_ >= end_) return fail("unterminated string");
    unsigned char c = *p_;
    if (c == '"') {
      ++p_;
      return true;
    }
    if (c == '\\') {
      if (!escape()) return false;
      continue;
    }
    if (c < 0x20) return fail("control character in string");
    // A run of non-ASCII characters (CJK text is little else) is validated in one go, without going
    // back to the ASCII skip between characters.
    info_.has_non_ascii = true;
    do {
      size_t n = utf8_sequence(p_, end_);
      if (n == 0) return fail("invalid UTF-8");
      p_ += n;
    } while (p_ < end_ && *p_ >= 0x80);
  }
}

// Advances p_ to the first quote, backslash, control or high byte, or to the end.
void Scanner::skip_plain() {
#if defined(__SSE2__)
  // Sixteen bytes at a time (SSE2 is part of x86-64).
  const __m128i quote = _mm_set1_epi8('"'), slash = _mm_set1_epi8('\\');
  const __m128i space = _mm_set1_epi8(0x20);
  while (end_ - p_ >= 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p_));
    // Signed compare: bytes >= 0x80 are negative, so "v < 0x20" also catches every high byte.
    __m128i special = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, slash)),
                                   _mm_cmpgt_epi8(space, v));
    unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(special));
    if (mask != 0) {
      p_ += __builtin_ctz(mask);
      return;
    }
    p_ += 16;
  }
#else
  while (end_ - p_ >= 8) {
    uint64_t w;
    std::memcpy(&w, p_, 8);
    constexpr uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t has_high = w & highs;
    uint64_t has_ctrl = (w - ones * 0x20) & ~w & highs;
    uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
    uint64_t has_q = (q - ones) & ~q & highs;
    uint64_t has_b = (b - ones) & ~b & highs;
    if (has_high | has_ctrl | has_q | has_b) break;
    p_ += 8;
  }
#endif
  while (p_ < end_ && kStringClass[*p_] == 0) ++p_;
}

// p_ at a backslash: checks one escape and steps over it.
bool Scanner::escape() {
  info_.has_escapes = true;
  last_string_escaped_ = true;
  if (end_ - p_ < 2) return fail("unterminated escape");
  switch (p_[1]) {
    case '"':
    case '\\':
    case '/':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't':
      p_ += 2;
      return true;
    case 'u': {
      uint32_t cp = 0;
      if (!hex4(2, &cp)) return false;
      if (cp >= 0xDC00 && cp <= 0xDFFF) return fail("lone low surrogate in \\u escape");
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        // A high surrogate must be followed by a low one: nlohmann (and so every filter) rejects
        // a lone one, and JSON.parse would hand the peer a string no filter has looked at.
        uint32_t lo = 0;
        if (end_ - p_ < 12 || p_[6] != '\\' || p_[7] != 'u')
          return fail("lone high surrogate in \\u escape");
        if (!hex4(8, &lo)) return false;
        if (lo < 0xDC00 || lo > 0xDFFF) return fail("lone high surrogate in \\u escape");
        p_ += 12;
        return true;
      }
      p_ += 6;
      return true;
    }
    default:
      return fail("bad escape");
  }
}

// Reads four hex digits at p_ + at into *cp.
bool Scanner::hex4(int at, uint32_t* cp) {
  if (end_ - p_ < at + 4) return fail("short \\u escape");
  uint32_t v = 0;
  for (int i = at; i < at + 4; ++i) {
    int h = hex_value(p_[i]);
    if (h < 0) return fail("bad \\u escape");
    v = v * 16 + static_cast<uint32_t>(h);
  }
  *cp = v;
  return true;
}

bool Scanner::number() {
  const unsigned char* start = p_;
  if (p_ < end_ && *p_ == '-') ++p_;
  if (p_ >= end_) return fail("bad number");
  const unsigned char* int_start = p_;
  if (*p_ == '0') {
    ++p_;
  } else if (is_digit(*p_)) {
    while (p_ < end_ && is_digit(*p_)) ++p_;
  } else {
    return fail("bad number");
  }
  long magnitude = p_ - int_start;  // decimal digits before the point: the value is < 10^magnitude
  if (p_ < end_ && *p_ == '.') {
    ++p_;
    if (p_ >= end_ || !is_digit(*p_)) return fail("bad fraction");
    while (p_ < end_ && is_digit(*p_)) ++p_;
  }
  if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
    ++p_;
    bool negative = p_ < end_ && *p_ == '-';
    if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
    if (p_ >= end_ || !is_digit(*p_)) return fail("bad exponent");
    long exp = 0;
    while (p_ < end_ && is_digit(*p_)) {
      if (exp < 100000) exp = exp * 10 + (*p_ - '0');
      ++p_;
    }
    magnitude += negative ? -exp : exp;
  }
  // Past DBL_MAX (~1.8e308) nlohmann refuses the number and the filters would not see the line;
  // JSON.parse makes it Infinity. Only a number that may be that large is converted to find out
  // (strtod: mcpcell never changes the C locale, so '.' is the decimal point).
  if (magnitude > 300) {
    std::string token(reinterpret_cast<const char*>(start), static_cast<size_t>(p_ - start));
    if (!std::isfinite(std::strtod(token.c_str(), nullptr))) return fail("number out of range");
  }
  return true;
}

bool Scanner::literal(const char* word, size_t n) {
  if (static_cast<size_t>(end_ - p_) < n || std::memcmp(p_, word, n) != 0)
    return fail("unexpected token");
  p_ += n;
  return true;
}

// Parses one value starting at p_ (whitespace already skipped). Containers are handled with an
// explicit stack; scalars inline. Top-level object members are recorded when depth == 1.
bool Scanner::value() {
  // Stack of container types: '{' or '['. `expect_key` tells whether the next token in an object
  // is a key (after '{' or ',') or a value.
  char stack[kMaxDepth];
  int depth = 0;
  const unsigned char* member_key = nullptr;  // start of the current top-level key (incl. quote)
  const unsigned char* member_key_end = nullptr;
  const unsigned char* member_value = nullptr;
  unsigned seen = 0;  // routing members met so far, one bit each

  // A second "id", "method", "params", "result" or "error" is refused: JSON.parse and nlohmann
  // keep the last one, but parsers that keep the first exist (cJSON, RapidJSON's FindMember,
  // simdjson), so a peer could act on another method or id than the one the filters checked.
  auto record_member = [&](const unsigned char* value_end) -> bool {
    if (depth != 1 || stack[0] != '{' || member_key == nullptr) return true;
    std::string_view key = view(member_key + 1, member_key_end - 1);
    // Peers decode escapes in keys ("\u006dethod" is "method"), so routing must too, or a
    // message could reach the server as a tools/call that no filter recognised.
    std::string decoded;
    if (key.find('\\') != std::string_view::npos) {
      decoded = decode_string(view(member_key, member_key_end));
      key = decoded;
    }
    std::string_view val = view(member_value, value_end);
    static constexpr struct {
      std::string_view name;
      const char* duplicate;
    } kRouting[] = {{"id", "duplicate member \"id\""},
                    {"method", "duplicate member \"method\""},
                    {"params", "duplicate member \"params\""},
                    {"result", "duplicate member \"result\""},
                    {"error", "duplicate member \"error\""}};
    std::string_view* slots[] = {&info_.id, &info_.method, &info_.params, &info_.result,
                                 &info_.error};
    for (unsigned i = 0; i < 5; ++i) {
      if (key != kRouting[i].name) continue;
      if (seen & (1u << i)) {
        p_ = member_key;
        return fail(kRouting[i].duplicate);
      }
      seen |= 1u << i;
      *slots[i] = val;  // "method" raw for now; decoded in run()
    }
    return true;
  };

  for (;;) {
    // Parse a value.
    skip_ws();
    if (p_ >= end_) return fail("unexpected end");
    const unsigned char* value_start = p_;
    if (depth == 1 && stack[0] == '{') member_value = value_start;
    bool scalar_done = false;
    switch (*p_) {
      case '{':
      case '[': {
        if (depth >= kMaxDepth) return fail("nesting too deep");
        char open = static_cast<char>(*p_);
        stack[depth++] = open;
        ++p_;
        skip_ws();
        char close = open == '{' ? '}' : ']';
        if (p_ < end_ && *p_ == close) {  // empty container
          ++p_;
          --depth;
          scalar_done = true;
          break;
        }
        if (open == '{') {
          if (p_ >= end_ || *p_ != '"') return fail("expected key");
          const unsigned char* ks = p_;
          if (!string()) return false;
          if (depth == 1) {
            member_key = ks;
            member_key_end = p_;
          }
          skip_ws();
          if (p_ >= end_ || *p_ != ':') return fail("expected ':'");
          ++p_;
        }
        continue;  // parse the first element / member value
      }
      case '"':
        if (!string()) return false;
        scalar_done = true;
        break;
      case 't':
        if (!literal("true", 4)) return false;
        scalar_done = true;
        break;
      case 'f':
        if (!literal("false", 5)) return false;
        scalar_done = true;
        break;
      case 'n':
        if (!literal("null", 4)) return false;
        scalar_done = true;
        break;
      default:
        if (*p_ == '-' || is_digit(*p_)) {
          if (!number()) return false;
          scalar_done = true;
          break;
        }
        return fail("unexpected character");
    }
    (void)scalar_done;
    // A value just ended at p_ (scalar, or an empty container). Close containers as needed.
    const unsigned char* value_end = p_;
    for (;;) {
      if (depth == 0) return true;
      if (!record_member(value_end)) return false;
      skip_ws();
      if (p_ >= end_) return fail("unexpected end");
      char top = stack[depth - 1];
      if (*p_ == ',') {
        ++p_;
        if (top == '{') {
          skip_ws();
          if (p_ >= end_ || *p_ != '"') return fail("expected key");
          const unsigned char* ks = p_;
          if (!string()) return false;
          if (depth == 1) {
            member_key = ks;
            member_key_end = p_;
          }
          skip_ws();
          if (p_ >= end_ || *p_ != ':') return fail("expected ':'");
          ++p_;
        }
        break;  // parse next value
      }
      char close = top == '{' ? '}' : ']';
      if (*p_ != close) return fail(top == '{' ? "expected ',' or '}'" : "expected ',' or ']'");
      ++p_;
      --depth;
      value_end = p_;  // the closed container is the value the next turn records
    }
  }
}

// Decodes a JSON string literal (with quotes) into UTF-8. Only used for short keys such as
// "method", so simplicity wins over speed. The scanner refuses lone surrogates; should one get
// here all the same it becomes U+FFFD, never an invalid UTF-8 sequence.
std::string decode_string(std::string_view lit) {
  std::string out;
  if (lit.size() < 2) return out;
  std::string_view s = lit.substr(1, lit.size() - 2);
  auto put = [&](uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  };
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c != '\\' || i + 1 >= s.size()) {
      out += c;
      continue;
    }
    char e = s[++i];
    switch (e) {
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        if (i + 4 >= s.size()) break;  // cannot happen after validation
        uint32_t cp = 0;
        for (int k = 1; k <= 4; ++k) cp = cp * 16 + static_cast<uint32_t>(hex_value(s[i + k]));
        i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 < s.size() && s[i + 1] == '\\' &&
            s[i + 2] == 'u') {
          uint32_t lo = 0;
          bool ok = true;
          for (int k = 3; k <= 6; ++k) {
            int h = hex_value(s[i + k]);
            if (h < 0) ok = false;
            lo = lo * 16 + static_cast<uint32_t>(h < 0 ? 0 : h);
          }
          if (ok && lo >= 0xDC00 && lo <= 0xDFFF) {
            put(0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00));
            i += 6;
            break;
          }
        }
        put(cp >= 0xD800 && cp <= 0xDFFF ? 0xFFFD : cp);
        break;
      }
      default:
        out += e;
    }
  }
  return out;
}

void Scanner::run() {
  skip_ws();
  if (p_ >= end_) {
    info_.kind = MessageKind::invalid;
    info_.error_text = "empty line";
    return;
  }
  unsigned char first = *p_;
  // An invalid line routes nowhere: nothing of what was recorded before the error is kept.
  auto invalid = [&] {
    info_.kind = MessageKind::invalid;
    info_.id = info_.method = info_.params = info_.result = info_.error = {};
  };
  if (!value()) return invalid();
  skip_ws();
  if (p_ != end_) {
    fail("trailing data after JSON value");
    return invalid();
  }
  if (first == '[') {
    info_.kind = MessageKind::batch;
    return;
  }
  if (first != '{') {
    info_.error_text = "a JSON-RPC message must be an object or an array";
    return invalid();
  }
  if (!info_.method.empty()) {
    if (info_.method.front() != '"') {
      info_.kind = MessageKind::other_object;  // "method" that is no string
      info_.method = {};
      return;
    }
    std::string_view raw = info_.method;
    if (raw.find('\\') != std::string_view::npos) {
      info_.method_storage = decode_string(raw);
      info_.method = info_.method_storage;
    } else {
      info_.method = raw.substr(1, raw.size() - 2);
    }
    info_.kind = info_.id.empty() ? MessageKind::notification : MessageKind::request;
    return;
  }
  if (!info_.id.empty() && !info_.error.empty()) {
    info_.kind = MessageKind::error;
  } else if (!info_.id.empty() && !info_.result.empty()) {
    info_.kind = MessageKind::response;
  } else {
    info_.kind = MessageKind::other_object;
  }
}

}  // namespace

const char* to_string(MessageKind kind) {
  switch (kind) {
    case MessageKind::invalid:
      return "invalid";
    case MessageKind::request:
      return "request";
    case MessageKind::notification:
      return "notification";
    case MessageKind::response:
      return "response";
    case MessageKind::error:
      return "error";
    case MessageKind::batch:
      return "batch";
    case MessageKind::other_object:
      return "other";
  }
  return "invalid";
}

void scan_message(std::string_view line, MessageInfo& info) {
  info = MessageInfo{};
  Scanner(line, info).run();
}

std::string_view find_id_in_prefix(std::string_view prefix) {
  // Walk the top-level object of the prefix with the same rules as the scanner, but stop at the end
  // of the prefix instead of failing. Only keys at depth 1 count.
  size_t i = 0, n = prefix.size();
  auto ws = [&] {
    while (i < n && is_ws(static_cast<unsigned char>(prefix[i]))) ++i;
  };
  auto skip_string = [&]() -> bool {  // i at opening quote
    ++i;
    while (i < n) {
      if (prefix[i] == '\\') {
        i += 2;
        continue;
      }
      if (prefix[i] == '"') {
        ++i;
        return true;
      }
      ++i;
    }
    return false;
  };
  ws();
  if (i >= n || prefix[i] != '{') return {};
  ++i;
  std::string_view found;
  int depth = 1;
  bool expect_key = true;
  while (i < n) {
    ws();
    if (i >= n) break;
    char c = prefix[i];
    if (c == '"') {
      size_t start = i;
      if (!skip_string()) return found;
      if (depth == 1 && expect_key) {
        std::string_view key = prefix.substr(start + 1, i - start - 2);
        ws();
        if (i >= n || prefix[i] != ':') return found;
        ++i;
        ws();
        if (key == "id" && i < n) {
          // JSON parsers keep the last of duplicate keys, so keep looking after a match.
          size_t vs = i;
          if (prefix[i] == '"') {
            if (!skip_string()) return found;
            found = prefix.substr(vs, i - vs);
            expect_key = false;
            continue;
          }
          while (i < n &&
                 (prefix[i] == '-' || is_digit(static_cast<unsigned char>(prefix[i])) ||
                  prefix[i] == '.' || prefix[i] == 'e' || prefix[i] == 'E' || prefix[i] == '+'))
            ++i;
          if (i == vs || i >= n) return found;  // a number cut by the prefix end is not trusted
          found = prefix.substr(vs, i - vs);
          expect_key = false;
          continue;
        }
        expect_key = false;
        continue;
      }
      continue;
    }
    if (c == '{' || c == '[') {
      ++depth;
      ++i;
      continue;
    }
    if (c == '}' || c == ']') {
      --depth;
      ++i;
      if (depth == 0) return found;
      continue;
    }
    if (c == ',') {
      if (depth == 1) expect_key = true;
      ++i;
      continue;
    }
    ++i;  // scalars and ':' inside nested values
  }
  return found;
}

bool valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    if (*p < 0x80) {
      ++p;
      continue;
    }
    size_t n = utf8_sequence(p, end);
    if (n == 0) return false;
    p += n;
  }
  return true;
}

void append_json_string(std::string& out, std::string_view s) {
  static const char* hex = "0123456789abcdef";
  out += '"';
  // Runs of bytes that need no escape (nearly all of a method name or a key) are copied at once.
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f) continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += "\\u00";
        out += hex[c >> 4];
        out += hex[c & 0xF];
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

std::string make_error_response(std::string_view id, int code, std::string_view message) {
  std::string out = R"({"jsonrpc":"2.0","id":)";
  out += id.empty() ? std::string_view("null") : id;
  out += R"(,"error":{"code":)";
  out += std::to_string(code);
  out += R"(,"message":)";
  append_json_string(out, message);
  out += "}}";
  return out;
}

}  // namespace mcpcell
