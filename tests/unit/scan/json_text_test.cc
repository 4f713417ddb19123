#include <gtest/gtest.h>

#include "scan/json_text.h"

namespace mcpcell::scan {
namespace {

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
