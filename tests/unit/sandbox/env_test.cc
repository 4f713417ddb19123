// The environment allowlist: what passes, what never does.
#include <gtest/gtest.h>

#include <algorithm>

#include "sandbox/plan.h"

namespace mcpcell::sandbox {
namespace {

const std::vector<std::string> kHost = {
    "PATH=/usr/bin:/bin",         "HOME=/home/u",
    "LANG=C.UTF-8",               "LC_ALL=C",
    "TZ=UTC",                     "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI",
    "OPENAI_API_KEY=sk-abc",      "GITHUB_TOKEN=ghp_x",
    "SSH_AUTH_SOCK=/tmp/ssh/agent", "DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/1/bus",
    "XDG_RUNTIME_DIR=/run/user/1", "DISPLAY=:0",
    "LD_PRELOAD=/evil.so",        "MY_SETTING=1",
    "NOEQUALS",
};

bool has(const std::vector<std::string>& env, const std::string& kv) {
  return std::find(env.begin(), env.end(), kv) != env.end();
}
bool has_name(const std::vector<std::string>& env, const std::string& name) {
  return std::any_of(env.begin(), env.end(),
                     [&](const std::string& kv) { return kv.rfind(name + "=", 0) == 0; });
}

TEST(Env, OnlyTheBaseAllowlistByDefault) {
  auto env = build_environment(kHost, {}, {}, "/state/homes/x", "u", nullptr);
  EXPECT_TRUE(has(env, "PATH=/usr/bin:/bin"));
  EXPECT_TRUE(has(env, "LANG=C.UTF-8"));
  EXPECT_TRUE(has(env, "LC_ALL=C"));
  EXPECT_TRUE(has(env, "TZ=UTC"));
  EXPECT_TRUE(has(env, "HOME=/state/homes/x"));
  EXPECT_TRUE(has(env, "USER=u"));
  EXPECT_TRUE(has(env, "TMPDIR=/tmp"));
  for (const char* secret : {"AWS_SECRET_ACCESS_KEY", "OPENAI_API_KEY", "GITHUB_TOKEN",
                             "SSH_AUTH_SOCK", "DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR",
                             "DISPLAY", "LD_PRELOAD", "MY_SETTING"})
    EXPECT_FALSE(has_name(env, secret)) << secret;
}

TEST(Env, PassedNamesArriveButHostChannelsNever) {
  std::vector<std::string> withheld;
  auto env = build_environment(kHost, {"GITHUB_TOKEN", "SSH_AUTH_SOCK", "DBUS_SESSION_BUS_ADDRESS",
                                       "XDG_RUNTIME_DIR", "DISPLAY", "HOME", "ABSENT"},
                               {}, "/state/homes/x", "u", &withheld);
  EXPECT_TRUE(has(env, "GITHUB_TOKEN=ghp_x"));
  EXPECT_TRUE(has(env, "HOME=/state/homes/x"));
  EXPECT_FALSE(has_name(env, "SSH_AUTH_SOCK"));
  EXPECT_FALSE(has_name(env, "DBUS_SESSION_BUS_ADDRESS"));
  EXPECT_FALSE(has_name(env, "XDG_RUNTIME_DIR"));
  EXPECT_FALSE(has_name(env, "DISPLAY"));
  EXPECT_FALSE(has_name(env, "ABSENT"));
  EXPECT_GE(withheld.size(), 5u);
}

TEST(Env, SetOverridesAndCannotOpenChannels) {
  auto env = build_environment(kHost, {}, {{"LANG", "de_DE.UTF-8"}, {"NODE_ENV", "production"},
                                           {"DBUS_SESSION_BUS_ADDRESS", "x"}, {"HOME", "/"}},
                               "/h", "u", nullptr);
  EXPECT_TRUE(has(env, "LANG=de_DE.UTF-8"));
  EXPECT_TRUE(has(env, "NODE_ENV=production"));
  EXPECT_FALSE(has_name(env, "DBUS_SESSION_BUS_ADDRESS"));
  EXPECT_TRUE(has(env, "HOME=/h"));
}

TEST(Env, DefaultPathWhenTheHostHasNone) {
  auto env = build_environment({}, {}, {}, "/h", "u", nullptr);
  EXPECT_TRUE(has(env, "PATH=/usr/local/bin:/usr/bin:/bin"));
}

}  // namespace
}  // namespace mcpcell::sandbox
