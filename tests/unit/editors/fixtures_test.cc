// Every editor's configuration, as people write them (comments, unrelated settings, variables,
// remote servers), through wrap and unwrap: only the command and args of local servers change,
// nothing is expanded, a second wrap changes nothing, and unwrap gives back the same bytes.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "editors/config.h"
#include "editors/diff.h"
#include "editors/rewrite.h"

namespace mcpcell::editors {
namespace {

struct Case {
  const char* file;
  Format format;
  std::vector<std::string> wrapped;  // names wrap rewrites
  std::vector<std::string> skipped;  // remote or without a command
};

const Case kCases[] = {
    {"claude_desktop_config.json", Format::kMcpServers, {"filesystem", "weather", "git"}, {}},
    {"claude.json", Format::kClaudeJson, {"memory", "db"}, {"linear"}},
    {"mcp.json", Format::kMcpServers, {"everything"}, {"sentry"}},
    {"cursor_mcp.json", Format::kMcpServers, {"fs", "py"}, {"remote-docs"}},
    {"vscode_mcp.json", Format::kVsCode, {"perplexity", "fs"}, {"github"}},
    {"windsurf_mcp_config.json", Format::kMcpServers, {"puppeteer", "brave"}, {"figma"}},
    {"zed_settings.json",
     Format::kZed,
     {"memory", "sqlite"},
     {"postgres-context-server", "spectron"}},
    {"continue_config.yaml", Format::kContinue, {"SQLite", "Filesystem", "Time"}, {"Remote docs"}},
    {"continue_block.yaml", Format::kContinue, {"Browser search"}, {}},
};

std::string read_fixture(const char* name) {
  std::ifstream in(std::string(EDITORS_FIXTURES) + "/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

WrapSettings settings() {
  WrapSettings s;
  s.mcpcell = "/usr/local/bin/mcpcell";
  s.choose_profile = [](const std::vector<std::string>& argv, std::string*) {
    for (const std::string& a : argv)
      if (a.find("server-filesystem") != std::string::npos) return std::string("filesystem");
    return std::string("default");
  };
  return s;
}

std::vector<ServerEntry> servers_of(const std::string& text, Format f) {
  Node doc;
  std::string err;
  EXPECT_TRUE(parse_document(text, f, &doc, &err)) << err;
  return find_servers(doc, text, f);
}

size_t count(const std::string& s, const std::string& needle) {
  size_t n = 0;
  for (size_t at = s.find(needle); at != std::string::npos; at = s.find(needle, at + 1)) ++n;
  return n;
}

// The members of an entry (or of Zed's nested launch object) other than the ones wrap rewrites,
// as written.
std::vector<std::pair<std::string, std::string>> untouched_members(const std::string& text,
                                                                   Format f, const ServerEntry& e) {
  Node doc;
  std::string err;
  parse_document(text, f, &doc, &err);
  // Find the entry node again by span.
  std::vector<std::pair<std::string, std::string>> out;
  std::function<void(const Node&)> walk = [&](const Node& n) {
    if (n.span.begin == e.span.begin && n.kind == Node::kObject) {
      for (size_t i = 0; i < n.keys.size(); ++i) {
        const Node& v = n.items[i];
        if (n.keys[i] == "command" && v.kind == Node::kObject) {
          for (size_t j = 0; j < v.keys.size(); ++j)
            if (v.keys[j] != "path" && v.keys[j] != "args")
              out.push_back({"command." + v.keys[j], std::string(v.items[j].span.of(text))});
        } else if (n.keys[i] != "command" && n.keys[i] != "args") {
          out.push_back({n.keys[i], std::string(v.span.of(text))});
        }
      }
      return;
    }
    for (const Node& c : n.items) walk(c);
  };
  walk(doc);
  return out;
}

class Fixture : public ::testing::TestWithParam<Case> {};

TEST_P(Fixture, FormatIsRecognisedFromContent) {
  const Case& c = GetParam();
  std::string text = read_fixture(c.file);
  Format f;
  std::string err;
  ASSERT_TRUE(detect_format(text, c.file, &f, &err)) << err;
  EXPECT_EQ(f, c.format);
}

TEST_P(Fixture, WrapRewritesOnlyCommandAndArgsOfLocalServers) {
  const Case& c = GetParam();
  std::string text = read_fixture(c.file);
  Plan plan;
  std::string err;
  ASSERT_TRUE(plan_wrap(text, c.format, settings(), {}, &plan, &err)) << err;
  ASSERT_TRUE(plan.changed);
  std::vector<std::string> wrapped, skipped;
  for (const Outcome& o : plan.outcomes)
    (o.action == Outcome::kWrapped ? wrapped : skipped).push_back(o.name);
  EXPECT_EQ(wrapped, c.wrapped);
  EXPECT_EQ(skipped, c.skipped);
  EXPECT_EQ(plan.records.size(), c.wrapped.size());

  auto before = servers_of(text, c.format);
  auto after = servers_of(plan.text, c.format);
  ASSERT_EQ(before.size(), after.size());
  for (size_t i = 0; i < before.size(); ++i) {
    const ServerEntry& b = before[i];
    const ServerEntry& a = after[i];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(untouched_members(plan.text, c.format, a), untouched_members(text, c.format, b))
        << b.name << ": members other than command/args must stay byte-identical";
    bool is_wrapped = std::find(c.wrapped.begin(), c.wrapped.end(), b.name) != c.wrapped.end();
    if (!is_wrapped) {
      EXPECT_EQ(a.span.of(plan.text), b.span.of(text)) << b.name << " must not change";
      continue;
    }
    EXPECT_EQ(a.command, "/usr/local/bin/mcpcell");
    auto w = read_wrapped(a);
    ASSERT_TRUE(w) << b.name;
    std::vector<std::string> launch{b.command};
    launch.insert(launch.end(), b.args.begin(), b.args.end());
    EXPECT_EQ(w->inner, launch) << b.name;
    EXPECT_EQ(w->name, identity_for(b.name, launch));
    EXPECT_EQ(w->allow_env, b.env_keys) << "each env key becomes --allow-env";
    bool fs_server = std::find(b.args.begin(), b.args.end(),
                               "@modelcontextprotocol/server-filesystem") != b.args.end();
    EXPECT_EQ(w->profile, fs_server ? "filesystem" : "default");
  }
  // Nothing is expanded: every ${...} of the original is still there, as written.
  EXPECT_EQ(count(plan.text, "${"), count(text, "${"));
  EXPECT_EQ(count(plan.text, "${input:"), count(text, "${input:"));
  // Comments survive.
  EXPECT_EQ(count(plan.text, "//"), count(text, "//"));
}

TEST_P(Fixture, WrapTwiceChangesNothing) {
  const Case& c = GetParam();
  std::string text = read_fixture(c.file);
  Plan first, second;
  std::string err;
  ASSERT_TRUE(plan_wrap(text, c.format, settings(), {}, &first, &err)) << err;
  ASSERT_TRUE(plan_wrap(first.text, c.format, settings(), first.records, &second, &err)) << err;
  EXPECT_FALSE(second.changed);
  EXPECT_EQ(second.text, first.text);
  EXPECT_EQ(second.records.size(), first.records.size());
  for (const Outcome& o : second.outcomes) EXPECT_NE(o.action, Outcome::kWrapped) << o.name;
}

TEST_P(Fixture, UnwrapGivesBackTheSameBytes) {
  const Case& c = GetParam();
  std::string text = read_fixture(c.file);
  Plan wrapped, restored;
  std::string err;
  ASSERT_TRUE(plan_wrap(text, c.format, settings(), {}, &wrapped, &err)) << err;
  // The records survive a trip through their file.
  std::vector<Record> records;
  ASSERT_TRUE(records_from_text(records_to_text("/x", wrapped.records), &records, &err)) << err;
  ASSERT_TRUE(plan_unwrap(wrapped.text, c.format, records, &restored, &err)) << err;
  EXPECT_EQ(restored.text, text);
  EXPECT_TRUE(restored.records.empty());
  for (const Outcome& o : restored.outcomes) {
    if (o.action != Outcome::kNotWrapped) {
      EXPECT_EQ(o.action, Outcome::kRestored) << o.name;
    }
  }
}

TEST_P(Fixture, UnwrapKeepsEditsMadeElsewhereInTheFile) {
  const Case& c = GetParam();
  std::string text = read_fixture(c.file);
  Plan wrapped, restored;
  std::string err;
  ASSERT_TRUE(plan_wrap(text, c.format, settings(), {}, &wrapped, &err)) << err;
  // The editor changed something unrelated after wrap: a new first line.
  const std::string edit = format_is_yaml(c.format) ? "# edited later\n" : "// edited later\n";
  ASSERT_TRUE(plan_unwrap(edit + wrapped.text, c.format, wrapped.records, &restored, &err)) << err;
  EXPECT_EQ(restored.text, edit + text);
}

TEST_P(Fixture, UnwrapWithoutRecordsRebuildsTheLaunch) {
  const Case& c = GetParam();
  std::string text = read_fixture(c.file);
  Plan wrapped, restored;
  std::string err;
  ASSERT_TRUE(plan_wrap(text, c.format, settings(), {}, &wrapped, &err)) << err;
  ASSERT_TRUE(plan_unwrap(wrapped.text, c.format, {}, &restored, &err)) << err;
  auto before = servers_of(text, c.format);
  auto after = servers_of(restored.text, c.format);
  ASSERT_EQ(before.size(), after.size());
  for (size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ(after[i].command, before[i].command) << before[i].name;
    EXPECT_EQ(after[i].args, before[i].args) << before[i].name;
    EXPECT_EQ(after[i].env_keys, before[i].env_keys);
  }
  for (const Outcome& o : restored.outcomes) {
    if (o.action != Outcome::kNotWrapped) {
      EXPECT_EQ(o.action, Outcome::kRestoredFromArgs);
    }
  }
  EXPECT_EQ(count(restored.text, "${"), count(text, "${"));
}

TEST_P(Fixture, DryRunDiffShowsOnlyTheRewrittenLines) {
  const Case& c = GetParam();
  std::string text = read_fixture(c.file);
  Plan plan;
  std::string err;
  ASSERT_TRUE(plan_wrap(text, c.format, settings(), {}, &plan, &err)) << err;
  std::string d = unified_diff(text, plan.text, "a", "b");
  ASSERT_TRUE(d.starts_with("--- a\n+++ b\n@@ -")) << d;
  std::istringstream lines(d);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.starts_with("+") || line.starts_with("+++")) continue;
    EXPECT_TRUE(line.find("mcpcell") != std::string::npos ||
                line.find("args") != std::string::npos || line.find('"') != std::string::npos ||
                line.find("]") != std::string::npos)
        << line;
  }
}

// examples/configs/*.after.* are exactly what wrap makes of *.before.* (so the documentation
// cannot go stale), and unwrap turns them back.
TEST(Examples, AfterIsWhatWrapWrites) {
  WrapSettings s;
  s.mcpcell = "mcpcell";
  s.choose_profile = [](const std::vector<std::string>& argv, std::string*) {
    for (auto [pkg, profile] : {std::pair{"server-filesystem", "filesystem"},
                                {"server-github", "github"},
                                {"mcp-server-sqlite", "sqlite"},
                                {"mcp-server-time", "time"}})
      for (const std::string& a : argv)
        if (a.find(pkg) != std::string::npos) return std::string(profile);
    return std::string("default");
  };
  for (auto [name, format] :
       {std::pair{"vscode", Format::kVsCode}, {"continue", Format::kContinue}}) {
    std::string ext = format == Format::kContinue ? ".yaml" : ".json";
    auto read = [](const std::string& file) {
      std::ifstream in(std::string(EDITORS_EXAMPLES) + "/" + file, std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      return ss.str();
    };
    std::string before = read(std::string(name) + ".before" + ext);
    std::string after = read(std::string(name) + ".after" + ext);
    ASSERT_FALSE(before.empty()) << name;
    before.replace(before.find("before `mcpcell wrap`"), 6, "after");
    Plan plan, back;
    std::string err;
    ASSERT_TRUE(plan_wrap(before, format, s, {}, &plan, &err)) << err;
    EXPECT_EQ(plan.text, after) << name;
    ASSERT_TRUE(plan_unwrap(plan.text, format, plan.records, &back, &err)) << err;
    EXPECT_EQ(back.text, before);
  }
}

// Damaged and odd variants of every fixture (bytes flipped, deleted, duplicated; truncation):
// the readers never crash, and whenever wrap accepts a variant, unwrap gives that variant back
// exactly and a second wrap changes nothing.
TEST_P(Fixture, MutatedFilesAreRefusedOrRoundTrip) {
  const Case& c = GetParam();
  const std::string text = read_fixture(c.file);
  const char kBytes[] = "{}[]\",:#-\n \\'/*|>&!";
  uint32_t seed = 12345;
  auto rnd = [&](uint32_t n) {
    seed = seed * 1103515245u + 12345u;
    return (seed >> 8) % n;
  };
  int accepted = 0;
  for (int i = 0; i < 400; ++i) {
    std::string m = text;
    switch (rnd(4)) {
      case 0:
        m[rnd(m.size())] = kBytes[rnd(sizeof kBytes - 1)];
        break;
      case 1:
        m.erase(rnd(m.size()), 1 + rnd(3));
        break;
      case 2: {
        size_t at = rnd(m.size());
        m.insert(at, m.substr(at, 1 + rnd(8)));
        break;
      }
      default:
        m.resize(rnd(m.size()));
        break;
    }
    Plan w, u, again;
    std::string err;
    if (!plan_wrap(m, c.format, settings(), {}, &w, &err)) continue;
    ++accepted;
    ASSERT_TRUE(plan_unwrap(w.text, c.format, w.records, &u, &err)) << err << "\n" << m;
    EXPECT_EQ(u.text, m);
    ASSERT_TRUE(plan_wrap(w.text, c.format, settings(), w.records, &again, &err)) << err;
    EXPECT_FALSE(again.changed) << m;
  }
  EXPECT_GT(accepted, 0);
}

INSTANTIATE_TEST_SUITE_P(Editors, Fixture, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& i) {
                           std::string n = i.param.file;
                           for (char& ch : n)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n;
                         });

}  // namespace
}  // namespace mcpcell::editors
