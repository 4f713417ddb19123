// Every rule's examples must be found and its negatives must not, through the same engine the
// filter uses (Hyperscan to fire, RE2 for spans, validators, allowlists).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "scan/policy.h"
#include "scan/rules.h"
#include "scan/validators.h"

namespace mcpcell::scan {
namespace {

const RuleBook& book() {
  Status s;
  const RuleBook& b = builtin_rules(&s);
  EXPECT_TRUE(s.ok()) << s.message();
  return b;
}

std::unique_ptr<Policy> everything() {
  Status s;
  nlohmann::json all = {{"categories", {{"pii", {{"enabled", true}}}}}};
  auto p = Policy::build(all, book(), &s);
  EXPECT_TRUE(p) << s.message();
  return p;
}

TEST(Rules, EmbeddedFilesParse) {
  EXPECT_NE(book().category("secret"), nullptr);
  EXPECT_NE(book().category("pii"), nullptr);
  EXPECT_NE(book().category("poisoning"), nullptr);
  EXPECT_NE(book().category("hidden"), nullptr);
}

TEST(Rules, CompiledInBookEqualsParsingTheRuleFilesNow) {
  // builtin_rules() is generated at build time; it must hold exactly what parse_rule_file reads
  // from the rule files today, field for field (a literal-escaping slip would change a pattern).
  RuleBook parsed;
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(SCAN_RULES_DIR))
    if (e.path().extension() == ".json") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), 4u);
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    Status s = parse_rule_file(text.str(), &parsed);
    ASSERT_TRUE(s.ok()) << f << ": " << s.message();
  }
  const RuleBook& built = book();
  ASSERT_EQ(built.categories.size(), parsed.categories.size());
  for (size_t i = 0; i < parsed.categories.size(); ++i) {
    const Category &a = built.categories[i], &b = parsed.categories[i];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.description, b.description);
    EXPECT_EQ(a.enabled, b.enabled) << b.name;
    for (int w = 0; w < 3; ++w) EXPECT_EQ(a.action.by_where[w], b.action.by_where[w]) << b.name;
    EXPECT_EQ(a.allow, b.allow) << b.name;
  }
  ASSERT_EQ(built.rules.size(), parsed.rules.size());
  for (size_t i = 0; i < parsed.rules.size(); ++i) {
    const Rule &a = built.rules[i], &b = parsed.rules[i];
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.category, b.category) << b.id;
    EXPECT_EQ(a.description, b.description) << b.id;
    EXPECT_EQ(a.pattern, b.pattern) << b.id;
    EXPECT_EQ(a.span, b.span) << b.id;
    EXPECT_EQ(a.validator, b.validator) << b.id;
    for (int w = 0; w < 3; ++w) EXPECT_EQ(a.action.by_where[w], b.action.by_where[w]) << b.id;
    EXPECT_EQ(a.fallback, b.fallback) << b.id;
    EXPECT_EQ(a.allow, b.allow) << b.id;
    EXPECT_EQ(a.examples, b.examples) << b.id;
    EXPECT_EQ(a.negatives, b.negatives) << b.id;
  }
}

TEST(Rules, AtLeastSixtySecretRulesEachWithExamplesAndNegatives) {
  int secrets = 0;
  for (const auto& r : book().rules) {
    secrets += r.category == "secret";
    EXPECT_FALSE(r.examples.empty()) << r.id;
    EXPECT_FALSE(r.negatives.empty()) << r.id;
    EXPECT_FALSE(r.description.empty()) << r.id;
  }
  EXPECT_GE(secrets, 60);
}

TEST(Rules, PiiIsOffByDefault) {
  Status s;
  auto p = Policy::build(nullptr, book(), &s);
  ASSERT_TRUE(p) << s.message();
  EXPECT_EQ(p->engine().index("email"), -1);
  EXPECT_GE(p->engine().index("aws-access-key-id"), 0);
}

TEST(Rules, ExamplesAreFound) {
  auto p = everything();
  for (const auto& r : book().rules) {
    long i = p->engine().index(r.id);
    ASSERT_GE(i, 0) << r.id;
    for (const auto& ex : r.examples) {
      std::vector<Span> spans;
      p->engine().find(ex, &spans);
      bool hit = false;
      for (const auto& s : spans) hit |= s.rule == static_cast<uint32_t>(i);
      EXPECT_TRUE(hit) << r.id << " missed its example: " << ex;
    }
  }
}

TEST(Rules, NegativesAreNotFound) {
  auto p = everything();
  for (const auto& r : book().rules) {
    long i = p->engine().index(r.id);
    for (const auto& neg : r.negatives) {
      std::vector<Span> spans;
      p->engine().find(neg, &spans);
      for (const auto& s : spans)
        EXPECT_NE(s.rule, static_cast<uint32_t>(i)) << r.id << " fired on its negative: " << neg;
    }
  }
}

// RE2 looking only near Hyperscan's match ends must find exactly what it finds reading the whole
// text: texts made of many rules' examples and negatives, cut and glued at random, with junk and
// word characters around them so matches touch, overlap and run into each other.
TEST(Engine, SpansNearMatchEndsEqualSpansOfTheWholeText) {
  auto p = everything();
  Engine& e = p->engine();
  std::vector<std::string> parts;
  for (const auto& r : book().rules) {
    for (const auto& ex : r.examples) parts.push_back(ex);
    for (const auto& n : r.negatives) parts.push_back(n);
  }
  std::mt19937 rng(3);
  static const char* glue[] = {"", " ", "\n", "a", "_", "=", "\"", "x9", "-----", ": ", "token="};
  int windows_used = 0;
  for (int round = 0; round < 400; ++round) {
    std::string text;
    size_t n = 1 + rng() % 12;
    for (size_t i = 0; i < n; ++i) {
      const std::string& part = parts[rng() % parts.size()];
      size_t a = rng() % 4 == 0 ? rng() % (part.size() + 1) : 0;
      size_t b = rng() % 4 == 0 ? a + rng() % (part.size() - a + 1) : part.size();
      text += part.substr(a, b - a);
      text += glue[rng() % (sizeof glue / sizeof *glue)];
      if (rng() % 8 == 0) text += std::string(rng() % 300, 'Q');
    }
    std::vector<uint32_t> fired;
    e.fired(text, &fired, Where::s2c);
    for (uint32_t i : fired) {
      std::vector<Span> whole, near;
      e.spans(i, text, &whole);
      e.spans(i, text, &near, e.ends(i));
      windows_used += e.ends(i) != nullptr;
      ASSERT_EQ(whole.size(), near.size()) << e.rules()[i].id << " in " << text;
      for (size_t k = 0; k < whole.size(); ++k) {
        EXPECT_EQ(whole[k].begin, near[k].begin) << e.rules()[i].id << " in " << text;
        EXPECT_EQ(whole[k].end, near[k].end) << e.rules()[i].id << " in " << text;
      }
    }
  }
  EXPECT_GT(windows_used, 100);
}

TEST(Validators, Checksums) {
  EXPECT_TRUE(luhn_ok("4539 1488 0343 6467"));
  EXPECT_FALSE(luhn_ok("4539 1488 0343 6468"));
  EXPECT_TRUE(iban_ok("GB82WEST12345698765432"));
  EXPECT_FALSE(iban_ok("GB83WEST12345698765432"));
  EXPECT_FALSE(github_crc32_ok("ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
  EXPECT_NEAR(shannon_entropy("aaaa"), 0.0, 1e-9);
  EXPECT_NEAR(shannon_entropy("abcd"), 2.0, 1e-9);
  // alg "none" carries no authority.
  EXPECT_FALSE(jwt_ok("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."));
  EXPECT_TRUE(jwt_ok("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"));
}

TEST(Policy, RejectsUnknownNames) {
  Status s;
  EXPECT_FALSE(Policy::build({{"rules", {{"no-such-rule", "warn"}}}}, book(), &s));
  EXPECT_NE(s.message().find("no-such-rule"), std::string::npos);
  EXPECT_FALSE(Policy::build({{"bogus", 1}}, book(), &s));
  EXPECT_FALSE(Policy::build({{"categories", {{"secret", "explode"}}}}, book(), &s));
  EXPECT_FALSE(
      Policy::build({{"server_requests", {{"sampling/createMessage", "maybe"}}}}, book(), &s));
  EXPECT_FALSE(Policy::build({{"allow", {"(unclosed"}}}, book(), &s));
}

TEST(Policy, ResolutionOrder) {
  Status s;
  nlohmann::json j = {
      {"rules", {{"jwt", {{"action", "warn"}}}}},
      {"tools", {{"debug", {{"action", "warn"}, {"rules", {{"aws-access-key-id", "off"}}}}}}}};
  auto p = Policy::build(j, book(), &s);
  ASSERT_TRUE(p) << s.message();
  auto idx = [&](const char* id) { return static_cast<uint32_t>(p->engine().index(id)); };
  EXPECT_EQ(p->action(idx("jwt"), Where::s2c, ""), Action::warn);
  EXPECT_EQ(p->action(idx("aws-access-key-id"), Where::s2c, ""), Action::redact);
  EXPECT_EQ(p->action(idx("aws-access-key-id"), Where::s2c, "debug"), Action::off);
  EXPECT_EQ(p->action(idx("stripe-secret-key"), Where::c2s, "debug"), Action::warn);
  EXPECT_EQ(p->action(idx("private-key"), Where::c2s, ""), Action::block);
  EXPECT_EQ(p->action(idx("private-key"), Where::s2c, ""), Action::redact);
  EXPECT_EQ(p->action(idx("poisoning-sensitive-file"), Where::lists, ""), Action::withhold);
  EXPECT_EQ(p->action(idx("poisoning-sensitive-file"), Where::s2c, ""), Action::off);
  EXPECT_EQ(p->action(idx("poisoning-ignore-instructions"), Where::s2c, ""), Action::off);
  EXPECT_EQ(p->action(idx("hidden-tag-characters"), Where::s2c, ""), Action::strip);
}

}  // namespace
}  // namespace mcpcell::scan

namespace mcpcell::scan {
namespace {

TEST(Engine, CompiledDatabaseIsCachedAndReloaded) {
  char tmpl[] = "/tmp/scan-cache-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = std::string(tmpl) + "/cache";
  Status s;
  auto first = Policy::build(nullptr, book(), &s, dir);
  ASSERT_TRUE(first) << s.message();
  auto second = Policy::build(nullptr, book(), &s, dir);
  ASSERT_TRUE(second) << s.message();
  std::vector<Span> spans;
  second->engine().find("key AKIAQYLPMN5HHHFPZAM2", &spans);
  ASSERT_EQ(spans.size(), 1u);
  // A corrupt cache is recompiled, not trusted.
  std::string cmd = "for f in " + dir + "/*.hsdb; do echo garbage > $f; done";
  ASSERT_EQ(system(cmd.c_str()), 0);
  auto third = Policy::build(nullptr, book(), &s, dir);
  ASSERT_TRUE(third) << s.message();
  spans.clear();
  third->engine().find("key AKIAQYLPMN5HHHFPZAM2", &spans);
  EXPECT_EQ(spans.size(), 1u);
  std::string rm = std::string("rm -rf ") + tmpl;
  EXPECT_EQ(system(rm.c_str()), 0);
}

}  // namespace
}  // namespace mcpcell::scan
