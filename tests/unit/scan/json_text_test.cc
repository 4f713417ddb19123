#include <gtest/gtest.h>

#include <random>

#include "scan/byte_blocks.h"
#include "scan/json_text.h"

namespace mcpcell::scan {
namespace {

// The decoder written the plain way, one byte at a time, to hold the block decoder against.
// Returns how many raw bytes the escape at raw[i] (a backslash) takes and appends what it means.
size_t ref_escape(std::string_view raw, size_t i, std::string* out) {
  auto hex = [&](size_t at, uint32_t* v) {
    if (at + 4 > raw.size()) return false;
    *v = 0;
    for (size_t k = at; k < at + 4; ++k) {
      char c = raw[k];
      int d = c >= '0' && c <= '9'   ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                     : -1;
      if (d < 0) return false;
      *v = *v * 16 + static_cast<uint32_t>(d);
    }
    return true;
  };
  auto utf8 = [&](uint32_t cp) {
    if (cp < 0x80) {
      *out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      *out += static_cast<char>(0xC0 | (cp >> 6));
      *out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      *out += static_cast<char>(0xE0 | (cp >> 12));
      *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      *out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      *out += static_cast<char>(0xF0 | (cp >> 18));
      *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      *out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  };
  if (i + 1 >= raw.size()) {
    *out += '\\';
    return 1;
  }
  char e = raw[i + 1];
  if (e != 'u') {
    *out += e == 'n'   ? '\n'
            : e == 't' ? '\t'
            : e == 'r' ? '\r'
            : e == 'b' ? '\b'
            : e == 'f' ? '\f'
                       : e;
    return 2;
  }
  uint32_t hi, lo;
  if (!hex(i + 2, &hi)) {
    *out += 'u';
    return 2;
  }
  if (hi >= 0xD800 && hi < 0xDC00 && i + 12 <= raw.size() && raw[i + 6] == '\\' &&
      raw[i + 7] == 'u' && hex(i + 8, &lo) && lo >= 0xDC00 && lo < 0xE000) {
    utf8(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00));
    return 12;
  }
  utf8(hi >= 0xD800 && hi < 0xE000 ? 0xFFFD : hi);
  return 6;
}

std::string ref_decode(std::string_view raw) {
  std::string out;
  for (size_t i = 0; i < raw.size();)
    if (raw[i] == '\\')
      i += ref_escape(raw, i, &out);
    else
      out += raw[i++];
  return out;
}

// Every kind of escape: the two-byte ones, \u in the BMP and beyond, surrogate pairs, lone and
// mismatched surrogates, bad hex, unknown escapes.
const std::vector<std::string>& escapes() {
  static const std::vector<std::string> e = {
      R"(\")",     R"(\\)",     R"(\/)",           R"(\b)",           R"(\f)",
      R"(\n)",     R"(\r)",     R"(\t)",           R"(\u0041)",       R"(\u00e9)",
      R"(\u20AC)", R"(\u0000)", R"(\uFEFF)",       R"(\ud83d\ude00)", R"(\udb40\udc41)",
      R"(\ud800)", R"(\udc00)", R"(\ud800\u0041)", R"(\ud800\ud800)", R"(\ud800x)",
      R"(\u12G4)", R"(\u)",     R"(\x)",           R"(\\\\\\)",       R"(\\\")",
  };
  return e;
}

std::string filler(size_t n, size_t seed) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += static_cast<char>('a' + (i * 7 + seed) % 26);
  return s;
}

TEST(JsonText, BlockMasksAgreeWithEachOtherAndWithBytes) {
  std::mt19937 rng(7);
  char block[64];
  for (int round = 0; round < 2000; ++round) {
    for (char& c : block) {
      // Mostly the searched bytes and their neighbours, and bytes with the high bit set.
      static const char pick[] = {'"', '\\', '#', '[', ']', '!', '\x80', '\xDC', '\xA2', '\0', 'a'};
      c = round % 2 ? pick[rng() % sizeof pick] : static_cast<char>(rng());
    }
    uint64_t want = 0;
    for (int i = 0; i < 64; ++i)
      if (block[i] == '"' || block[i] == '\\') want |= uint64_t{1} << i;
    ASSERT_EQ((block_mask_words<64, '"', '\\'>(block)), want);
    ASSERT_EQ((block_mask<64, '"', '\\'>(block)), want);
    ASSERT_EQ((block_mask_words<16, '"', '\\'>(block)), want & 0xFFFF);
#if defined(__SSE2__)
    ASSERT_EQ((block_mask_sse2<64, '"', '\\'>(block)), want);
#endif
  }
}

// Each escape at every offset of the first blocks (so also straddling a block boundary, and in the
// short tail the decoder handles apart), in texts of many lengths.
TEST(JsonText, DecodesEveryEscapeAtEveryOffsetLikeTheReference) {
  for (const std::string& e : escapes())
    for (size_t off = 0; off < 160; ++off)
      for (size_t after : {0, 1, 5, 15, 16, 17, 63, 64, 65, 100}) {
        std::string raw = filler(off, off) + e + filler(after, after);
        std::string got = "prefix";
        decode_escapes(raw, &got);
        ASSERT_EQ(got, "prefix" + ref_decode(raw)) << e << " at " << off << " + " << after;
        std::string scratch(3, 'z');
        ASSERT_EQ(decode_into(raw, &scratch), ref_decode(raw)) << e << " at " << off;
      }
}

TEST(JsonText, DecodesEscapesNextToEachOtherAndAtTheEnd) {
  for (const std::string& a : escapes())
    for (const std::string& b : escapes())
      for (size_t off : {0, 58, 60, 62, 63, 64, 126, 127}) {
        std::string raw = filler(off, 1) + a + b + filler(80, 2);
        std::string scratch;
        ASSERT_EQ(decode_into(raw, &scratch), ref_decode(raw)) << a << b << " at " << off;
      }
  // A backslash as the very last byte, and a cut-off \u, after full blocks.
  for (size_t n = 0; n < 200; ++n)
    for (const char* tail : {"\\", "\\u", "\\u12", "\\ud83d\\ude"}) {
      std::string raw = filler(n, 3) + tail;
      std::string got;
      decode_escapes(raw, &got);
      ASSERT_EQ(got, ref_decode(raw)) << n << tail;
    }
}

TEST(JsonText, DecodesRandomEscapeSoupLikeTheReference) {
  std::mt19937 rng(11);
  const auto& e = escapes();
  std::string scratch;
  for (int round = 0; round < 3000; ++round) {
    std::string raw;
    size_t n = rng() % 400;
    while (raw.size() < n) {
      unsigned r = rng() % 10;
      if (r < 4)
        raw += e[rng() % e.size()];
      else if (r < 5)
        raw += "\xC3\xA9\xF0\x9F\x98\x80";  // raw UTF-8
      else
        raw += filler(rng() % 20, rng());
    }
    ASSERT_EQ(decode_into(raw, &scratch), ref_decode(raw)) << raw;
  }
}

// The string map against the reference: for every string, its decoded offsets are where the
// reference decoder puts its content, and decoding its raw bytes gives that content.
void expect_map_matches(const std::string& raw) {
  std::string dec = ref_decode(raw);
  std::vector<StringSpan> s;
  map_strings(raw, &s, nullptr);
  size_t k = 0;
  std::string prefix;  // decoded text before the current string
  for (size_t i = 0; i < raw.size();) {
    if (raw[i] != '"') {
      prefix += raw[i++];
      continue;
    }
    prefix += raw[i++];
    ASSERT_LT(k, s.size()) << raw;
    size_t begin = i;
    std::string content;
    while (i < raw.size() && raw[i] != '"')
      if (raw[i] == '\\')
        i += ref_escape(raw, i, &content);
      else
        content += raw[i++];
    EXPECT_EQ(s[k].raw_begin, begin) << raw;
    EXPECT_EQ(s[k].raw_end, i) << raw;
    EXPECT_EQ(s[k].dec_begin, prefix.size()) << raw;
    EXPECT_EQ(s[k].dec_end, prefix.size() + content.size()) << raw;
    ASSERT_EQ(dec.substr(s[k].dec_begin, s[k].dec_end - s[k].dec_begin), content) << raw;
    prefix += content;
    if (i < raw.size()) prefix += raw[i++];  // closing quote
    ++k;
  }
  EXPECT_EQ(k, s.size()) << raw;
}

TEST(JsonText, MapsEveryEscapeAtEveryOffsetLikeTheReference) {
  for (const std::string& e : escapes()) {
    if (e == R"(\u)" || e == R"(\x)") continue;  // cannot occur in the valid JSON this walks
    for (size_t off = 0; off < 140; ++off)
      for (size_t after : {0, 3, 64, 70}) {
        std::string v = filler(off, off) + e + filler(after, 5);
        expect_map_matches(R"({"k":")" + v + R"(","a":["x\n)" + e + R"(",12,")" + v + R"("]})");
        if (HasFailure()) return;
      }
  }
}

// advance_to against the reference: every decoded offset either starts a raw byte or an escape
// (a boundary, with its raw offset) or falls among the bytes an escape decodes to.
TEST(JsonText, AdvancesFromDecodedToRawOffsetsLikeTheReference) {
  std::mt19937 rng(5);
  const auto& e = escapes();
  for (int round = 0; round < 2000; ++round) {
    std::string raw;
    size_t n = rng() % 300;
    while (raw.size() < n) {
      if (rng() % 3 == 0)
        raw += e[rng() % e.size()];
      else
        raw += filler(rng() % 70, rng());
    }
    if (!raw.empty() && raw.back() == '\\') raw.pop_back();
    // boundary[d] = raw offset of decoded offset d, or npos inside an escape's output.
    std::vector<size_t> boundary;
    std::string dec;
    for (size_t i = 0; i < raw.size();) {
      boundary.push_back(i);
      size_t before = dec.size();
      if (raw[i] == '\\')
        i += ref_escape(raw, i, &dec);
      else
        dec += raw[i++];
      while (boundary.size() < dec.size()) boundary.push_back(std::string::npos);
      ASSERT_EQ(boundary.size(), dec.size()) << before;
    }
    boundary.push_back(raw.size());
    size_t r = 0, d = 0;
    for (size_t want = 0; want < boundary.size(); want += 1 + rng() % 9) {
      bool ok = advance_to(raw, &r, &d, want);
      ASSERT_EQ(ok, boundary[want] != std::string::npos) << raw << " @" << want;
      if (ok) {
        ASSERT_EQ(r, boundary[want]) << raw << " @" << want;
        ASSERT_EQ(d, want);
      } else {
        ASSERT_LT(d, want);
        ASSERT_EQ(raw[r], '\\');
        ASSERT_EQ(boundary[d], r);
        r = d = 0;  // start over, as a caller falling back would
      }
    }
  }
}

TEST(JsonText, DecodeIntoReusesItsBufferWithoutClearingIt) {
  std::string scratch;
  std::string long_raw = filler(300, 1) + R"(\n)";
  EXPECT_EQ(decode_into(long_raw, &scratch), ref_decode(long_raw));
  const char* storage = scratch.data();
  EXPECT_EQ(decode_into(R"(a\tb)", &scratch), "a\tb");
  EXPECT_EQ(scratch.data(), storage);
}

TEST(JsonText, DecodesEscapesIncludingSurrogatePairs) {
  std::string out;
  decode_escapes(R"({"a":"\u0041KIA\n\"x\"\udb40\udc41\ud800!"})", &out);
  EXPECT_EQ(out, "{\"a\":\"AKIA\n\"x\"\xF3\xA0\x81\x81\xEF\xBF\xBD!\"}");
}

TEST(JsonText, MapsStringsBetweenRawAndDecoded) {
  std::string raw = R"({"k\u0065y":"a\nb","n":1,"v":["x"]})";
  std::string dec;
  decode_escapes(raw, &dec);
  std::vector<StringSpan> s;
  map_strings(raw, &s, nullptr);
  ASSERT_EQ(s.size(), 5u);
  EXPECT_TRUE(s[0].key);
  EXPECT_EQ(dec.substr(s[0].dec_begin, s[0].dec_end - s[0].dec_begin), "key");
  EXPECT_EQ(raw.substr(s[0].raw_begin, s[0].raw_end - s[0].raw_begin), "k\\u0065y");
  EXPECT_FALSE(s[1].key);
  EXPECT_EQ(dec.substr(s[1].dec_begin, s[1].dec_end - s[1].dec_begin), "a\nb");
  EXPECT_EQ(dec.substr(s[4].dec_begin, s[4].dec_end - s[4].dec_begin), "x");
  EXPECT_FALSE(s[4].key);
  EXPECT_EQ(find_string(s, s[1].dec_begin + 1), 1);
  EXPECT_EQ(find_string(s, 0), -1);
}

TEST(JsonText, FindsListItemsAndInstructions) {
  std::string raw =
      R"({"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"a","d":{"x":[1]}},{"name":"b"}],"instructions":"hi"}})";
  std::vector<StringSpan> s;
  std::vector<ItemSpan> items;
  map_strings(raw, &s, &items);
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(raw.substr(items[0].raw_begin, items[0].raw_end - items[0].raw_begin),
            R"({"name":"a","d":{"x":[1]}})");
  EXPECT_EQ(items[1].list, "tools");
  EXPECT_EQ(raw.substr(items[1].raw_begin, items[1].raw_end - items[1].raw_begin), R"({"name":"b"})");
  EXPECT_EQ(items[2].list, "instructions");
}

}  // namespace
}  // namespace mcpcell::scan
