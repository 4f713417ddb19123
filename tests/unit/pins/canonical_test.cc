// RFC 8785 examples and the properties pins rely on: re-serialising the same definition keeps the
// hash, any visible change alters it.
#include "pins/canonical.h"

#include <cstring>

#include <gtest/gtest.h>

namespace mcpcell::pins {
namespace {
using nlohmann::json;

json parse(const std::string& s) {
  json j = json::parse(s, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << s;
  return j;
}

double from_bits(uint64_t bits) {
  double d;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}

TEST(Canonical, Rfc8785MainExample) {
  // RFC 8785 section 3.2.2 (input with escapes, exponents and a trailing zero).
  json in = parse(R"({
    "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
    "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
    "literals": [null, true, false]
  })");
  EXPECT_EQ(canonical(in),
            "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
            "\"string\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
}

TEST(Canonical, Rfc8785KeyOrderByUtf16CodeUnits) {
  // RFC 8785 section 3.2.3: U+1F600 (surrogates D83D DE00) sorts before U+FB33, unlike UTF-8 order.
  json in = parse(
      R"({"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"})");
  std::string out = canonical(in);
  std::vector<std::string> keys = {
      "\\r", "1", "\xc2\x80", "\xc3\xb6", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xef\xac\xb3"};
  size_t pos = 0;
  for (const auto& k : keys) {
    size_t at = out.find("\"" + k + "\"", pos);
    ASSERT_NE(at, std::string::npos) << k << " in " << out;
    pos = at + 1;
  }
}

TEST(Canonical, Rfc8785NumberSerialisation) {
  // RFC 8785 appendix B (IEEE 754 bit patterns and their ECMAScript form).
  struct Case {
    uint64_t bits;
    const char* text;
  } cases[] = {
      {0x0000000000000000, "0"},
      {0x8000000000000000, "0"},
      {0x0000000000000001, "5e-324"},
      {0x8000000000000001, "-5e-324"},
      {0x7fefffffffffffff, "1.7976931348623157e+308"},
      {0xffefffffffffffff, "-1.7976931348623157e+308"},
      {0x4340000000000000, "9007199254740992"},
      {0xc340000000000000, "-9007199254740992"},
      {0x4430000000000000, "295147905179352830000"},
      {0x44b52d02c7e14af5, "9.999999999999997e+22"},
      {0x44b52d02c7e14af6, "1e+23"},
      {0x44b52d02c7e14af7, "1.0000000000000001e+23"},
      {0x444b1ae4d6e2ef4e, "999999999999999700000"},
      {0x444b1ae4d6e2ef4f, "999999999999999900000"},
      {0x444b1ae4d6e2ef50, "1e+21"},
      {0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"},
      {0x3eb0c6f7a0b5ed8d, "0.000001"},
      {0x41b3de4355555553, "333333333.3333332"},
      {0x41b3de4355555554, "333333333.33333325"},
      {0x41b3de4355555555, "333333333.3333333"},
      {0x41b3de4355555556, "333333333.3333334"},
      {0x41b3de4355555557, "333333333.33333343"},
      {0xbecbf647612f3696, "-0.0000033333333333333333"},
      {0x43143ff3c1cb0959, "1424953923781206.2"},
  };
  for (const auto& c : cases)
    EXPECT_EQ(format_double(from_bits(c.bits)), c.text) << std::hex << c.bits;
}

TEST(Canonical, SameValueDifferentSpellingSameHash) {
  json a = parse(
      R"({"name":"read","inputSchema":{"type":"object","properties":{"n":{"type":"integer","maximum":10}}},"description":"caf\u00e9"})");
  json b = parse(
      "{ \"description\" : \"caf\xc3\xa9\", \"inputSchema\": {\"properties\": {\"n\": "
      "{\"maximum\": 10.0, \"type\": \"integer\"}}, \"type\": \"object\"}, \"name\": \"read\" }");
  EXPECT_EQ(canonical(a), canonical(b));
  EXPECT_EQ(hash_json(a), hash_json(b));
}

TEST(Canonical, IntegersStayExact) {
  // Beyond 2^53 a double would merge these; a pin must not.
  json a = parse(R"({"maximum":9007199254740993})");
  json b = parse(R"({"maximum":9007199254740992})");
  EXPECT_EQ(canonical(a), "{\"maximum\":9007199254740993}");
  EXPECT_NE(hash_json(a), hash_json(b));
  EXPECT_EQ(canonical(parse("18446744073709551615")), "18446744073709551615");
  EXPECT_EQ(canonical(parse("-9223372036854775808")), "-9223372036854775808");
}

TEST(Canonical, HiddenCharactersAreNotNormalisedAway) {
  // A description that gains an invisible tag character or a zero-width space must change its pin.
  json plain = parse(R"({"description":"Adds numbers"})");
  json tagged = parse(R"({"description":"Adds numbers\udb40\udc41"})");
  json zwsp = parse(R"({"description":"Adds\u200b numbers"})");
  EXPECT_NE(hash_json(plain), hash_json(tagged));
  EXPECT_NE(hash_json(plain), hash_json(zwsp));
  EXPECT_EQ(canonical(parse(R"("\u001f\u007f\u2028")")), "\"\\u001f\x7f\xe2\x80\xa8\"");
}

TEST(Canonical, EveryVisibleFieldCounts) {
  json base = parse(
      R"({"name":"t","description":"d","inputSchema":{"type":"object","properties":{"a":{"type":"string","enum":["x","y"],"default":"x"}},"$defs":{"D":{"type":"number"}}},"annotations":{"readOnlyHint":false},"_meta":{"k":1},"icons":[{"src":"data:a"}],"execution":{"taskSupport":"forbidden"}})");
  std::string h = hash_json(base);
  const char* pointers[] = {"/description",
                            "/inputSchema/properties/a/enum/1",
                            "/inputSchema/properties/a/default",
                            "/inputSchema/$defs/D/type",
                            "/annotations/readOnlyHint",
                            "/_meta/k",
                            "/icons/0/src",
                            "/execution/taskSupport"};
  for (const char* p : pointers) {
    json changed = base;
    json::json_pointer ptr(p);
    changed[ptr] = changed[ptr].is_boolean() ? json(true) : json("other");
    EXPECT_NE(hash_json(changed), h) << p;
  }
  json reordered = parse(
      R"({"execution":{"taskSupport":"forbidden"},"icons":[{"src":"data:a"}],"_meta":{"k":1},"annotations":{"readOnlyHint":false},"inputSchema":{"$defs":{"D":{"type":"number"}},"properties":{"a":{"default":"x","enum":["x","y"],"type":"string"}},"type":"object"},"description":"d","name":"t"})");
  EXPECT_EQ(hash_json(reordered), h);
  // Array order is meaningful (enum order, prompt arguments).
  json swapped = base;
  swapped["inputSchema"]["properties"]["a"]["enum"] = {"y", "x"};
  EXPECT_NE(hash_json(swapped), h);
}

TEST(Canonical, Sha256KnownAnswer) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hash_json(json::object()), sha256_hex("{}"));
}

}  // namespace
}  // namespace mcpcell::pins
