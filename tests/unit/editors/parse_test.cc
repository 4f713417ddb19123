// The span readers: every value's bytes are where the tree says, comments and odd formatting are
// accepted, and what mcpcell does not understand is refused with a position instead of guessed.
#include <gtest/gtest.h>

#include "editors/tree.h"

namespace mcpcell::editors {
namespace {

TEST(Jsonc, SpansPointAtTheExactBytes) {
  std::string t = R"({ "a" : [1, "x\"y"], // c
  /* b */ "b": {"c": null,}, "d": true,})";
  Node n;
  std::string err;
  ASSERT_TRUE(parse_jsonc(t, &n, &err)) << err;
  ASSERT_EQ(n.kind, Node::kObject);
  ASSERT_EQ(n.keys, (std::vector<std::string>{"a", "b", "d"}));
  EXPECT_EQ(n.items[0].span.of(t), R"([1, "x\"y"])");
  EXPECT_EQ(n.items[0].items[1].str, "x\"y");
  EXPECT_EQ(n.items[0].items[1].span.of(t), R"("x\"y")");
  EXPECT_EQ(n.items[1].span.of(t), R"({"c": null,})");
  EXPECT_EQ(n.key_spans[1].of(t), R"("b")");
  EXPECT_EQ(n.span.of(t), t);
}

TEST(Jsonc, DecodesEscapesInKeysAndStrings) {
  std::string t = R"({"\u006dcpServers": {"s": "\ud83d\ude00 \u00e9\n"}})";
  Node n;
  std::string err;
  ASSERT_TRUE(parse_jsonc(t, &n, &err)) << err;
  EXPECT_EQ(n.keys[0], "mcpServers");
  EXPECT_EQ(n.items[0].items[0].str, "\xF0\x9F\x98\x80 \xC3\xA9\n");
}

TEST(Jsonc, RefusesBrokenInputWithAPosition) {
  for (const char* bad : {R"({"a": })", R"({"a": "x)", R"({"a" 1})", "{\"a\": 1} x", "/* open",
                          R"({"a": "\q"})", R"([1 2])", ""}) {
    Node n;
    std::string err;
    EXPECT_FALSE(parse_jsonc(bad, &n, &err)) << bad;
    if (*bad) {
      EXPECT_NE(err.find("line 1, column"), std::string::npos) << err;
    }
  }
}

TEST(Jsonc, DeepNestingIsAnErrorNotACrash) {
  std::string t(100000, '[');
  Node n;
  std::string err;
  EXPECT_FALSE(parse_jsonc(t, &n, &err));
  EXPECT_NE(err.find("too deep"), std::string::npos);
}

TEST(Yaml, BlockAndFlowCollectionsWithSpans) {
  std::string t =
      "# top\n"
      "a: 1\n"
      "list:\n"
      "  - name: x   # trailing\n"
      "    args:\n"
      "    - \"-y\"\n"
      "    - 'it''s'\n"
      "    - plain value\n"
      "    env: {K: \"v\", T: ${{ secrets.T }}}\n"
      "  - name: y\n"
      "    args: [a, \"b c\"]\n"
      "text: |\n"
      "  line: one # kept\n"
      "  two\n"
      "last: \"multi\n"
      "  line\"\n";
  Node n;
  std::string err;
  ASSERT_TRUE(parse_yaml(t, &n, &err)) << err;
  ASSERT_EQ(n.keys, (std::vector<std::string>{"a", "list", "text", "last"}));
  const Node& list = n.items[1];
  ASSERT_EQ(list.kind, Node::kArray);
  ASSERT_EQ(list.items.size(), 2u);
  const Node& x = list.items[0];
  EXPECT_EQ(x.get("name")->str, "x");
  EXPECT_EQ(x.get("name")->span.of(t), "x");
  const Node* args = x.get("args");
  ASSERT_TRUE(args && args->block);
  ASSERT_EQ(args->items.size(), 3u);
  EXPECT_EQ(args->items[0].str, "-y");
  EXPECT_TRUE(args->items[0].quoted);
  EXPECT_EQ(args->items[1].str, "it's");
  EXPECT_EQ(args->items[2].str, "plain value");
  EXPECT_FALSE(args->items[2].quoted);
  EXPECT_EQ(args->span.of(t), "- \"-y\"\n    - 'it''s'\n    - plain value");
  EXPECT_EQ(x.get("env")->keys, (std::vector<std::string>{"K", "T"}));
  EXPECT_EQ(x.get("env")->items[1].str, "${{ secrets.T }}");
  EXPECT_EQ(list.items[1].get("args")->span.of(t), "[a, \"b c\"]");
  EXPECT_EQ(n.items[2].str, "line: one # kept\ntwo\n");
  EXPECT_EQ(n.items[3].str, "multi line");
}

TEST(Yaml, RefusesWhatItDoesNotUnderstand) {
  for (const char* bad : {"a: &x 1\nb: *x\n", "a: !!str 1\n", "a: 1\n---\nb: 2\n", "a:\n\t- x\n",
                          "a: [1, 2\n", "a: 1\n  b: 2\n", "- a\nb: 1\n"}) {
    Node n;
    std::string err;
    EXPECT_FALSE(parse_yaml(bad, &n, &err)) << bad;
    EXPECT_NE(err.find("line "), std::string::npos) << err;
  }
}

}  // namespace
}  // namespace mcpcell::editors
