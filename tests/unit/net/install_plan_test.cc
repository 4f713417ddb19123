// plan_install(): which package runners get a separate install step, and the step's command.
#include <gtest/gtest.h>

#include "commands/install_phase.h"
#include "commands/network.h"

namespace mcpcell {
namespace {

using Mode = InstallPlan::Mode;
using V = std::vector<std::string>;
const V kHosts = {"registry.npmjs.org:443"};

TEST(InstallPlan, NpxGetsASeparateStepNamingThePackageAsWritten) {
  InstallPlan p =
      plan_install({"/usr/bin/npx", "-y", "@scope/server@1.2.3", "--flag"}, kHosts, true);
  EXPECT_EQ(p.mode, Mode::kSeparate);
  EXPECT_EQ(p.argv, (V{"/usr/bin/npx", "--yes", "--package=@scope/server@1.2.3", "--", "true"}));
  EXPECT_EQ(p.hosts, kHosts);
  ASSERT_FALSE(p.offline_env.empty());
  EXPECT_EQ(p.offline_env[0], (std::pair<std::string, std::string>{"npm_config_offline", "true"}));
  EXPECT_EQ(plan_install({"npx", "-y", "srv"}, kHosts, true).argv,
            (V{"npx", "--yes", "--package=srv", "--", "true"}));
}

TEST(InstallPlan, NpmExec) {
  InstallPlan p =
      plan_install({"npm", "exec", "--yes", "--package=srv@2", "--", "srv"}, kHosts, true);
  EXPECT_EQ(p.mode, Mode::kSeparate);
  EXPECT_EQ(p.argv, (V{"npm", "exec", "--yes", "--package=srv@2", "--", "true"}));
}

TEST(InstallPlan, UvxPrefetchesWithFromAndTrueThenRunsOffline) {
  InstallPlan p = plan_install({"/usr/bin/uvx", "mcp-server-fetch@2025.1.1", "--x"}, kHosts, true);
  EXPECT_EQ(p.mode, Mode::kSeparate);
  EXPECT_EQ(p.runner, "uvx");
  EXPECT_EQ(p.argv, (V{"/usr/bin/uvx", "--from", "mcp-server-fetch@2025.1.1", "true"}));
  EXPECT_EQ(p.offline_env, (std::vector<std::pair<std::string, std::string>>{{"UV_OFFLINE", "1"}}));
  // The options that shape uv's cached environment are carried over as written; --from already
  // there is kept, and the server's own command and arguments are not.
  EXPECT_EQ(plan_install({"uvx", "--python", "3.12", "--with", "httpx", "--from", "pkg==1.0", "srv",
                          "--port", "1"},
                         kHosts, true)
                .argv,
            (V{"uvx", "--python", "3.12", "--with", "httpx", "--from", "pkg==1.0", "true"}));
  EXPECT_EQ(plan_install({"uv", "tool", "run", "--with=a", "pkg"}, kHosts, true).argv,
            (V{"uv", "tool", "run", "--with=a", "--from", "pkg", "true"}));
  EXPECT_EQ(plan_install({"uv", "tool", "run", "pkg"}, kHosts, true).runner, "uv tool run");
  // `uv run` is not a package runner.
  EXPECT_EQ(plan_install({"uv", "run", "server.py"}, kHosts, true).mode, Mode::kNone);
}

TEST(InstallPlan, PnpmDlx) {
  InstallPlan p = plan_install({"pnpm", "dlx", "@scope/srv@1.2.3", "--stdio"}, kHosts, true);
  EXPECT_EQ(p.mode, Mode::kSeparate);
  EXPECT_EQ(p.argv, (V{"pnpm", "--package=@scope/srv@1.2.3", "dlx", "true"}));
  EXPECT_EQ(p.offline_env[0], (std::pair<std::string, std::string>{"npm_config_offline", "true"}));
  EXPECT_EQ(plan_install({"pnpx", "srv"}, kHosts, true).argv, (V{"pnpx", "--package=srv", "true"}));
}

TEST(InstallPlan, RunnersWithoutAnOfflineModeKeepTheHostsUntilTheFirstMessage) {
  for (const V& argv : {V{"pipx", "run", "x"}, V{"bunx", "x"}, V{"yarn", "dlx", "x"}}) {
    InstallPlan p = plan_install(argv, kHosts, true);
    EXPECT_EQ(p.mode, Mode::kUntilReady) << argv[0];
    EXPECT_FALSE(p.why.empty()) << argv[0];
    EXPECT_TRUE(p.argv.empty()) << argv[0];
  }
  // A runner with a prefetch but no package named: nothing to prefetch.
  EXPECT_EQ(plan_install({"uvx", "--python", "3.12"}, kHosts, true).mode, Mode::kUntilReady);
}

TEST(InstallPlan, EveryRunnerIsInTheTableOnce) {
  // The table is the one place a runner is described; each (tool, subcommand) once.
  auto t = package_runners();
  for (size_t i = 0; i < t.size(); ++i)
    for (size_t j = i + 1; j < t.size(); ++j)
      EXPECT_FALSE(t[i].tool == t[j].tool && t[i].sub == t[j].sub) << t[i].name;
  for (const RunnerSpec& r : t) {
    EXPECT_EQ(r.prefetch == PrefetchShape::kNone, !r.fallback_why.empty()) << r.name;
    EXPECT_EQ(r.prefetch == PrefetchShape::kNone, r.offline_env.empty()) << r.name;
    for (std::string_view kv : words(r.offline_env))
      EXPECT_NE(kv.find('='), std::string_view::npos) << r.name;
  }
}

TEST(InstallPlan, Words) {
  EXPECT_EQ(words("tool run"), (std::vector<std::string_view>{"tool", "run"}));
  EXPECT_TRUE(words("").empty());
  EXPECT_EQ(words("a  b"), (std::vector<std::string_view>{"a", "b"}));
}

TEST(InstallPlan, UntilReadyHostsThatAllowNamesAreNeverRevoked) {
  // A host in both lists is decided by its allow entry (the first match), so only install-only
  // hosts are withdrawn at the server's first message. Checked to fail with every install host
  // made revocable.
  Network n;
  sandbox::Policy policy;
  ASSERT_TRUE(n.prepare({"api.example.com:443", "registry.npmjs.org:443"}, false, &policy,
                        {"registry.npmjs.org:443", "pypi.org:443"}));
  EXPECT_EQ(n.revoke_install("test"), (V{"pypi.org:443"}));
  nlohmann::json d = n.describe();
  EXPECT_EQ(d["allow"], nlohmann::json({"api.example.com:443", "registry.npmjs.org:443"}));
  EXPECT_EQ(d["install_until_first_message"], nlohmann::json({"pypi.org:443"}));
  Network none;
  ASSERT_TRUE(none.prepare({"api.example.com:443"}, false, &policy));
  EXPECT_TRUE(none.revoke_install("test").empty());
  EXPECT_FALSE(none.describe().contains("install_until_first_message"));
}

TEST(InstallPlan, NothingToDo) {
  EXPECT_EQ(plan_install({"node", "server.js"}, kHosts, true).mode, Mode::kNone);
  EXPECT_EQ(plan_install({"npx", "-y", "srv"}, {}, true).mode, Mode::kNone);
  EXPECT_EQ(plan_install({"npx", "-y", "srv"}, kHosts, false).mode, Mode::kNone);  // --no-sandbox
  EXPECT_EQ(plan_install({}, kHosts, true).mode, Mode::kNone);
  EXPECT_EQ(plan_install({"uvx"}, {}, true).mode, Mode::kNone);
}

}  // namespace
}  // namespace mcpcell
