#include "profiles/jsonc.h"

#include <gtest/gtest.h>

namespace mcpcell::profiles {
namespace {

TEST(Jsonc, CommentsAreWhitespaceAndLinesAreKept) {
  JsoncDoc d;
  std::string err;
  ASSERT_TRUE(
      parse_jsonc("// head\n{\n  /* block\n  comment */ \"a\": [1, // one\n 2],\n"
                  "  \"b\": {\"c\": \"x // not a comment\"}\n}\n",
                  &d, &err))
      << err;
  EXPECT_EQ(d.value["a"], nlohmann::json({1, 2}));
  EXPECT_EQ(d.value["b"]["c"], "x // not a comment");
  EXPECT_EQ(d.key_pos["a"].line, 4);
  EXPECT_EQ(d.value_pos["a[1]"].line, 5);
  EXPECT_EQ(d.key_pos["b.c"].line, 6);
  EXPECT_EQ(d.where("b.c").col, 9);
}

TEST(Jsonc, ErrorsNameLineAndColumn) {
  struct Case {
    const char* text;
    const char* expect;
  } cases[] = {
      {"{\n  \"a\": 1,\n}", "3:1: expected a member name after ',' (trailing commas"},
      {"{\"a\": [1,\n 2,\n ]}", "3:2: expected a value after ','"},
      {"{\n\"a\": 1,\n\"a\": 2}", "3:1: duplicate key \"a\""},
      {"{\n /* never closed\n", "2:2: unterminated /* comment"},
      {"{\"a\": tru}", "1:7: expected a value"},
      {"{\"a\" 1}", "1:6: expected ':'"},
      {"{\"a\": \"x\ny\"}", "1:9: unterminated string"},
      {"{\"a\": \"\\q\"}", "unknown escape \\q"},
      {"{\"a\": \"\\udc00\"}", "unpaired UTF-16 surrogate"},
      // Found by tests/fuzz/fuzz_profile_jsonc.cc: a key with a byte that is no UTF-8 reached
      // nlohmann::json::dump() in path_member(), which threw and aborted mcpcell.
      {"{\"a\xff\": 1}", "1:4: invalid UTF-8 in a string"},
      {"{\"a\": \"\xc0\xaf\"}", "1:8: invalid UTF-8 in a string"},      // overlong '/'
      {"{\"a\": \"\xed\xa0\x80\"}", "1:8: invalid UTF-8 in a string"},  // a surrogate
      {"{\"a\": \"\xf4\x90\x80\x80\"}", "invalid UTF-8 in a string"},   // past U+10FFFF
      {"{\"a\": \"\xe2\x82\"}", "invalid UTF-8 in a string"},           // cut short
      {"{} {}", "1:4: expected the end of the file"},
      {"", "1:1: expected a JSON value, found the end of the file"},
      {"{\"a\": 01}", "expected ',' or '}'"},
  };
  for (const Case& c : cases) {
    JsoncDoc d;
    std::string err;
    EXPECT_FALSE(parse_jsonc(c.text, &d, &err)) << c.text;
    EXPECT_NE(err.find(c.expect), std::string::npos) << "text: " << c.text << "\nerror: " << err;
  }
}

TEST(Jsonc, StringsAndNumbers) {
  JsoncDoc d;
  std::string err;
  ASSERT_TRUE(
      parse_jsonc("\xEF\xBB\xBF{\"s\": \"\\u00e9\\ud83d\\ude00\\n\", \"n\": -12, \"u\": "
                  "18446744073709551615, \"f\": 1.5e3, \"t\": true, \"z\": null}",
                  &d, &err))
      << err;
  EXPECT_EQ(d.value["s"], "\xC3\xA9\xF0\x9F\x98\x80\n");
  EXPECT_EQ(d.value["n"], -12);
  EXPECT_TRUE(d.value["u"].is_number_unsigned());
  EXPECT_EQ(d.value["f"], 1500.0);
  EXPECT_TRUE(d.value["z"].is_null());
}

TEST(Jsonc, WellFormedUtf8IsKept) {
  JsoncDoc d;
  std::string err;
  ASSERT_TRUE(parse_jsonc("{\"\xc3\xa9t\xc3\xa9\": \"\xe2\x9c\x93 \xf0\x9f\x98\x80\"}", &d, &err))
      << err;
  EXPECT_EQ(d.value["\xc3\xa9t\xc3\xa9"], "\xe2\x9c\x93 \xf0\x9f\x98\x80");
  EXPECT_EQ(path_member("", "\xc3\xa9t\xc3\xa9"), "[\"\xc3\xa9t\xc3\xa9\"]");
}

TEST(Jsonc, DeepNestingIsRefused) {
  std::string deep(100, '[');
  deep += std::string(100, ']');
  JsoncDoc d;
  std::string err;
  EXPECT_FALSE(parse_jsonc(deep, &d, &err));
  EXPECT_NE(err.find("nesting"), std::string::npos);
}

TEST(Jsonc, PathsQuoteUnusualKeys) {
  EXPECT_EQ(path_member("", "a"), "a");
  EXPECT_EQ(path_member("env.set", "X_Y"), "env.set.X_Y");
  EXPECT_EQ(path_member("a", "b.c"), "a[\"b.c\"]");
  EXPECT_EQ(path_index("a", 3), "a[3]");
}

}  // namespace
}  // namespace mcpcell::profiles
