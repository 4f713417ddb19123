// Specific rewrite behaviours, including attempts to make wrap write something it should not.
#include <gtest/gtest.h>

#include "editors/config.h"
#include "editors/diff.h"
#include "editors/rewrite.h"

namespace mcpcell::editors {
namespace {

WrapSettings plain_settings() {
  WrapSettings s;
  s.mcpcell = "mcpcell";
  s.choose_profile = [](const std::vector<std::string>&, std::string*) { return "default"; };
  return s;
}

Plan wrap(const std::string& text, Format f = Format::kMcpServers) {
  Plan p;
  std::string err;
  EXPECT_TRUE(plan_wrap(text, f, plain_settings(), {}, &p, &err)) << err;
  return p;
}

TEST(Wrap, ExactOutputForASimpleEntry) {
  std::string in =
      R"({"mcpServers": {"fs": {"command": "npx", "args": ["-y", "pkg"], "env": {"A": "${A}"}}}})";
  EXPECT_EQ(
      wrap(in).text,
      R"({"mcpServers": {"fs": {"command": "mcpcell", "args": ["--name", "fs", "--profile", "default", "--allow-env", "A", "--", "npx", "-y", "pkg"], "env": {"A": "${A}"}}}})");
}

TEST(Wrap, InsertsArgsNextToCommandInTheSameStyle) {
  std::string in =
      "{\n  \"mcpServers\": {\n    \"w\": {\n      \"command\": \"/opt/w\"\n    }\n  }\n}\n";
  EXPECT_EQ(
      wrap(in).text,
      "{\n  \"mcpServers\": {\n    \"w\": {\n      \"command\": \"mcpcell\",\n      \"args\": "
      "[\"--name\", \"w\", \"--profile\", \"default\", \"--\", \"/opt/w\"]\n    }\n  }\n}\n");
}

TEST(Wrap, KeepsOneElementPerLineArrays) {
  std::string in =
      "{\"mcpServers\": {\"a\": {\n  \"command\": \"node\",\n  \"args\": [\n    \"s.js\"\n  ]\n}}}";
  EXPECT_EQ(
      wrap(in).text,
      "{\"mcpServers\": {\"a\": {\n  \"command\": \"mcpcell\",\n  \"args\": [\n    \"--name\",\n"
      "    \"a\",\n    \"--profile\",\n    \"default\",\n    \"--\",\n    \"node\",\n    "
      "\"s.js\"\n  ]\n}}}");
}

TEST(Wrap, CopiesOriginalTokensVerbatim) {
  // Escapes stay as written (\u0041, \/), variables stay unexpanded.
  std::string in =
      R"({"mcpServers": {"a": {"command": "C:\\bin\/x", "args": ["\u0041", "${workspaceFolder}", "${env:HOME}"]}}})";
  Plan p = wrap(in);
  EXPECT_NE(p.text.find(R"("--", "C:\\bin\/x", "\u0041", "${workspaceFolder}", "${env:HOME}"])"),
            std::string::npos)
      << p.text;
}

TEST(Wrap, AHostileServerNameCannotAddOptions) {
  // A name written to smuggle "--no-sandbox" into mcpcell's options.
  std::string in = R"({"mcpServers": {"x\", \"--no-sandbox": {"command": "node", "args": ["s.js"]},
                       "--no-sandbox": {"command": "node"}}})";
  Plan p = wrap(in);
  Node doc;
  std::string err;
  ASSERT_TRUE(parse_jsonc(p.text, &doc, &err)) << err;
  for (const ServerEntry& e : find_servers(doc, p.text, Format::kMcpServers)) {
    auto w = read_wrapped(e);
    ASSERT_TRUE(w);
    for (size_t i = 0; i < w->separator; ++i) EXPECT_NE(e.args[i], "--no-sandbox") << e.name;
    EXPECT_FALSE(w->name.starts_with("-")) << w->name;
    EXPECT_TRUE(w->name.find('"') == std::string::npos);
  }
}

TEST(Wrap, AHostileEnvKeyStaysOneValue) {
  std::string in =
      R"({"mcpServers": {"a": {"command": "node", "env": {"--no-sandbox": "1", "X\"]": "2"}}}})";
  Plan p = wrap(in);
  Node doc;
  std::string err;
  ASSERT_TRUE(parse_jsonc(p.text, &doc, &err)) << err;
  auto e = find_servers(doc, p.text, Format::kMcpServers).at(0);
  // Every env key is the value of an --allow-env, never an option of its own.
  EXPECT_EQ(std::vector<std::string>(e.args.begin(), e.args.begin() + 8),
            (std::vector<std::string>{"--name", "a", "--profile", "default", "--allow-env",
                                      "--no-sandbox", "--allow-env", "X\"]"}));
  EXPECT_EQ(read_wrapped(e)->inner, std::vector<std::string>{"node"});
}

TEST(Wrap, ServerArgsThatLookLikeOptionsStayAfterTheSeparator) {
  std::string in =
      R"({"mcpServers": {"a": {"command": "node", "args": ["--", "--no-sandbox", "--profile", "x"]}}})";
  Plan p = wrap(in);
  Node doc;
  std::string err;
  ASSERT_TRUE(parse_jsonc(p.text, &doc, &err));
  auto w = read_wrapped(find_servers(doc, p.text, Format::kMcpServers).at(0));
  EXPECT_EQ(w->profile, "default");
  EXPECT_EQ(w->inner, (std::vector<std::string>{"node", "--", "--no-sandbox", "--profile", "x"}));
}

TEST(Wrap, DefaultProfileComesWithANote) {
  Plan p = wrap(R"({"mcpServers": {"a": {"command": "node"}}})");
  ASSERT_EQ(p.outcomes.size(), 1u);
  EXPECT_EQ(p.outcomes[0].profile, "default");
  ASSERT_FALSE(p.outcomes[0].notes.empty());
  EXPECT_NE(p.outcomes[0].notes[0].find("no shipped profile matches"), std::string::npos);
}

TEST(Wrap, ProfileChooserSeesTheServersCommand) {
  WrapSettings s = plain_settings();
  std::vector<std::string> seen;
  s.choose_profile = [&](const std::vector<std::string>& argv, std::string*) {
    seen = argv;
    return std::string("memory");
  };
  Plan p;
  std::string err;
  ASSERT_TRUE(plan_wrap(
      R"({"mcpServers": {"m": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-memory"]}}})",
      Format::kMcpServers, s, {}, &p, &err));
  EXPECT_EQ(seen, (std::vector<std::string>{"npx", "-y", "@modelcontextprotocol/server-memory"}));
  EXPECT_EQ(p.outcomes[0].profile, "memory");
  EXPECT_TRUE(p.outcomes[0].notes.empty());
}

TEST(Wrap, AlreadyWrappedByAnotherPathIsSkipped) {
  std::string in =
      R"({"mcpServers": {"a": {"command": "/opt/mcpcell/bin/mcpcell", "args": ["--", "node"]}}})";
  Plan p = wrap(in);
  EXPECT_FALSE(p.changed);
  EXPECT_EQ(p.outcomes[0].action, Outcome::kAlreadyWrapped);
}

TEST(Wrap, WindowsLineEndingsSurviveTheRoundTrip) {
  std::string in =
      "{\r\n  \"mcpServers\": {\r\n    \"a\": {\r\n      \"command\": \"node\",\r\n"
      "      \"args\": [\r\n        \"s.js\"\r\n      ]\r\n    }\r\n  }\r\n}\r\n";
  Plan p = wrap(in);
  for (size_t i = 0; i < p.text.size(); ++i) {
    if (p.text[i] == '\n') {
      EXPECT_EQ(p.text[i - 1], '\r') << "bare LF at " << i;
    }
  }
  Plan back;
  std::string err;
  ASSERT_TRUE(plan_unwrap(p.text, Format::kMcpServers, p.records, &back, &err)) << err;
  EXPECT_EQ(back.text, in);
}

TEST(Wrap, RefusesAFileItCannotParse) {
  Plan p;
  std::string err;
  EXPECT_FALSE(plan_wrap("{\"mcpServers\": {\"a\": {\"command\": \"node\",,}}}",
                         Format::kMcpServers, plain_settings(), {}, &p, &err));
  EXPECT_NE(err.find("line 1"), std::string::npos);
}

TEST(Wrap, YamlWithoutArgsGetsAnArgsLine) {
  std::string in = "mcpServers:\n  - name: t\n    command: uvx # run it\n    env:\n      K: v\n";
  Plan p = wrap(in, Format::kContinue);
  EXPECT_EQ(
      p.text,
      "mcpServers:\n  - name: t\n    command: mcpcell # run it\n    args: [\"--name\", \"t\", "
      "\"--profile\", \"default\", \"--allow-env\", \"K\", \"--\", \"uvx\"]\n    env:\n      K: "
      "v\n");
}

TEST(Wrap, YamlBlockArgsGetNewItemsInFront) {
  std::string in =
      "mcpServers:\n- name: b\n  command: npx\n  args:\n  - \"@playwright/mcp@latest\" # pin\n  - "
      "--headless\n  cwd: /src\n";
  Plan p = wrap(in, Format::kContinue);
  EXPECT_EQ(p.text,
            "mcpServers:\n- name: b\n  command: mcpcell\n  args:\n  - \"--name\"\n  - \"b\"\n"
            "  - \"--profile\"\n  - \"default\"\n  - \"--\"\n  - \"npx\"\n"
            "  - \"@playwright/mcp@latest\" # pin\n  - --headless\n  cwd: /src\n");
  Plan back;
  std::string err;
  ASSERT_TRUE(plan_unwrap(p.text, Format::kContinue, p.records, &back, &err)) << err;
  EXPECT_EQ(back.text, in);
}

TEST(Unwrap, AnEntryEditedAfterWrapIsRebuiltAndSaysSo) {
  std::string in = R"({"mcpServers": {"a": {"command": "node", "args": ["s.js"]}}})";
  Plan p = wrap(in);
  // The user added a key to the wrapped entry; the record no longer matches it exactly.
  std::string edited = p.text;
  edited.insert(edited.find("\"command\""), "\"disabled\": true, ");
  Plan back;
  std::string err;
  ASSERT_TRUE(plan_unwrap(edited, Format::kMcpServers, p.records, &back, &err)) << err;
  EXPECT_EQ(back.text,
            R"({"mcpServers": {"a": {"disabled": true, "command": "node", "args": ["s.js"]}}})");
  EXPECT_EQ(back.outcomes[0].action, Outcome::kRestoredFromArgs);
  EXPECT_FALSE(back.outcomes[0].notes.empty());
}

TEST(Unwrap, ARecordDoesNotApplyToAnotherEntry) {
  // A record for "a" must never be pasted over "b", even if "b" now holds a's wrapped text.
  std::string in = R"({"mcpServers": {"a": {"command": "node", "args": ["a.js"]}}})";
  Plan p = wrap(in);
  std::string moved = p.text;
  moved.replace(moved.find("\"a\":"), 4, "\"b\":");
  Plan back;
  std::string err;
  ASSERT_TRUE(plan_unwrap(moved, Format::kMcpServers, p.records, &back, &err)) << err;
  EXPECT_EQ(back.outcomes[0].action, Outcome::kRestoredFromArgs);
  EXPECT_EQ(back.text, R"({"mcpServers": {"b": {"command": "node", "args": ["a.js"]}}})");
}

TEST(Unwrap, NothingAfterTheSeparatorIsLeftAlone) {
  std::string in = R"({"mcpServers": {"a": {"command": "mcpcell", "args": ["--name", "a"]}}})";
  Plan back;
  std::string err;
  ASSERT_TRUE(plan_unwrap(in, Format::kMcpServers, {}, &back, &err)) << err;
  EXPECT_FALSE(back.changed);
  EXPECT_EQ(back.outcomes[0].action, Outcome::kUnrestorable);
}

TEST(Records, DamagedRecordsAreRefused) {
  std::vector<Record> r;
  std::string err;
  EXPECT_FALSE(records_from_text("{}", &r, &err));
  EXPECT_FALSE(records_from_text(R"({"mcpcell_wrap":1,"entries":[{"name":1}]})", &r, &err));
  EXPECT_FALSE(records_from_text("not json", &r, &err));
}

TEST(Diff, MatchesDiffUFormat) {
  std::string a = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n";
  std::string b = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n10\n11\n12\nthirteen\n";
  EXPECT_EQ(unified_diff(a, b, "a", "b"),
            "--- a\n+++ b\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n"
            "@@ -10,3 +10,4 @@\n 10\n 11\n 12\n+thirteen\n");
  EXPECT_EQ(unified_diff(a, a, "a", "b"), "");
  EXPECT_EQ(unified_diff("x", "y", "a", "b"),
            "--- a\n+++ b\n@@ -1,1 +1,1 @@\n-x\n\\ No newline at end of file\n+y\n\\ No newline at "
            "end of file\n");
}

}  // namespace
}  // namespace mcpcell::editors
