#include "profiles/expand.h"

#include <gtest/gtest.h>

namespace mcpcell::profiles {
namespace {

using V = std::vector<std::string>;

struct Fixture {
  std::map<std::string, std::string> env{{"TOKEN_FILE", "~/tok"},
                                         {"DB", "postgres://u:p@db.example.com/x"}};
  Vars vars;
  Fixture(V args) {
    vars.home = "/home/u";
    vars.cwd = "/work/proj";
    vars.state = "/home/u/.local/state/mcpcell/homes/x";
    vars.server_args = std::move(args);
    vars.env = &env;
  }
  V path(const std::string& p, std::string* missing = nullptr) {
    std::string m;
    V r = expand_pattern(p, PatternKind::kPath, vars, missing ? missing : &m);
    return r;
  }
  V host(const std::string& p) {
    std::string m;
    return expand_pattern(p, PatternKind::kHost, vars, &m);
  }
};

TEST(Expand, HomeCwdState) {
  Fixture f({});
  EXPECT_EQ(f.path("~"), V{"/home/u"});
  EXPECT_EQ(f.path("~/a/../b/"), V{"/home/u/b"});
  EXPECT_EQ(f.path("${cwd}/out"), V{"/work/proj/out"});
  EXPECT_EQ(f.path("${state}/memory.jsonl"),
            V{"/home/u/.local/state/mcpcell/homes/x/memory.jsonl"});
  EXPECT_EQ(f.path("/etc/ssl/certs"), V{"/etc/ssl/certs"});
}

TEST(Expand, ArgsGiveOneGrantEachAndSkipFlagsAndUrls) {
  Fixture f({"/data", "--verbose", "rel/dir", "~/notes", "https://x.example.com"});
  EXPECT_EQ(f.path("${args}"), (V{"/data", "/work/proj/rel/dir", "/home/u/notes"}));
  EXPECT_EQ(f.path("${arg:2}"), V{"/work/proj/rel/dir"});
  std::string missing;
  EXPECT_TRUE(f.path("${arg:4}", &missing).empty());
  EXPECT_NE(missing.find("argument 4 is a URL"), std::string::npos);
  EXPECT_TRUE(f.path("${arg:5}", &missing).empty());
  EXPECT_NE(missing.find("no argument 5"), std::string::npos);
}

TEST(Expand, NoArgsGrantsNothing) {
  Fixture f({});
  std::string missing;
  EXPECT_TRUE(f.path("${args}", &missing).empty());
  EXPECT_FALSE(missing.empty());
}

TEST(Expand, OptionsBothSpellingsAndAlternatives) {
  Fixture f({"--db-path", "data/app.db", "-r=/repo"});
  EXPECT_EQ(f.path("${opt:--db-path}"), V{"/work/proj/data/app.db"});
  EXPECT_EQ(f.path("${dir:opt:--db-path}"), V{"/work/proj/data"});
  EXPECT_EQ(f.path("${opt:--repository|-r}"), V{"/repo"});
  Fixture g({"--db-path=/x/y.db"});
  EXPECT_EQ(g.path("${opt:--db-path}-journal"), V{"/x/y.db-journal"});
  std::string missing;
  EXPECT_TRUE(g.path("${opt:--repository}", &missing).empty());
  EXPECT_NE(missing.find("no --repository option"), std::string::npos);
}

TEST(Expand, EnvVariables) {
  Fixture f({});
  EXPECT_EQ(f.path("${env:TOKEN_FILE}"), V{"/home/u/tok"});
  std::string missing;
  EXPECT_TRUE(f.path("${env:UNSET_THING}", &missing).empty());
  EXPECT_NE(missing.find("$UNSET_THING is not set"), std::string::npos);
  std::string m;
  EXPECT_EQ(expand_pattern("${state}/m.jsonl", PatternKind::kValue, f.vars, &m),
            V{"/home/u/.local/state/mcpcell/homes/x/m.jsonl"});
}

TEST(Expand, HostsFromUrls) {
  Fixture f({"postgresql://user:secret@DB.internal:6543,replica.internal/db?sslmode=require"});
  EXPECT_EQ(f.host("${host:arg:1}"), (V{"db.internal:6543", "replica.internal:5432"}));
  Fixture g({"redis://cache.example.com"});
  EXPECT_EQ(g.host("${host:arg:1}"), V{"cache.example.com:6379"});
  EXPECT_EQ(g.host("${host:env:DB}"), V{"db.example.com:5432"});
  Fixture h({"--url=https://sentry.example.com/"});
  EXPECT_EQ(h.host("${host:opt:--url}"), V{"sentry.example.com:443"});
  EXPECT_EQ(h.host("API.Example.com:0443"), V{"api.example.com:443"});
}

TEST(Expand, HostGrammar) {
  std::string c, e;
  EXPECT_TRUE(valid_host_entry("*", &c, &e));
  EXPECT_TRUE(valid_host_entry("*:443", &c, &e));
  EXPECT_TRUE(valid_host_entry("*.githubusercontent.com:443", &c, &e));
  EXPECT_TRUE(valid_host_entry("10.0.0.1:5432", &c, &e));
  EXPECT_TRUE(valid_host_entry("[::1]:8080", &c, &e) && c == "[::1]:8080");
  EXPECT_FALSE(valid_host_entry("exa mple.com", &c, &e));
  EXPECT_FALSE(valid_host_entry("a..b", &c, &e));
  EXPECT_FALSE(valid_host_entry("-a.com", &c, &e));
  EXPECT_FALSE(valid_host_entry("a.com:", &c, &e));
  EXPECT_FALSE(valid_host_entry("a.com:x", &c, &e));
  EXPECT_FALSE(valid_host_entry("a%00.com", &c, &e));
  EXPECT_FALSE(valid_host_entry(std::string("a\0b.com", 7), &c, &e));
  EXPECT_FALSE(valid_host_entry("**.com", &c, &e));
  EXPECT_FALSE(valid_host_entry("[zz::1]", &c, &e));
}

TEST(Expand, ServerArguments) {
  EXPECT_EQ(server_arguments({"npx", "-y", "@modelcontextprotocol/server-filesystem", "/a", "/b"}),
            (V{"/a", "/b"}));
  EXPECT_EQ(server_arguments({"npx", "--package", "x", "cmd", "/a"}), V{"/a"});
  EXPECT_EQ(server_arguments({"npm", "exec", "pkg@1", "--", "/a"}), V{"/a"});
  EXPECT_EQ(server_arguments({"uvx", "--from", "git+https://x", "mcp-server-git", "-r", "/repo"}),
            (V{"-r", "/repo"}));
  EXPECT_EQ(server_arguments({"uv", "tool", "run", "mcp-server-sqlite", "--db-path", "x.db"}),
            (V{"--db-path", "x.db"}));
  EXPECT_EQ(server_arguments({"python3", "-u", "-m", "mcp_server_git", "-r", "/r"}),
            (V{"-r", "/r"}));
  EXPECT_EQ(server_arguments({"python3", "server.py", "/d"}), V{"/d"});
  EXPECT_EQ(server_arguments({"node", "--require", "x", "dist/index.js", "/d"}), V{"/d"});
  EXPECT_EQ(server_arguments({"deno", "run", "-A", "main.ts", "/d"}), V{"/d"});
  EXPECT_EQ(server_arguments({"/usr/bin/mcp-server-filesystem", "/d"}), V{"/d"});
  EXPECT_EQ(server_arguments({}), V{});
}

}  // namespace
}  // namespace mcpcell::profiles
