// Resolution: matching, precedence, extends, hard denials, and every shipped profile.
#include "profiles/resolve.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "profiles/builtin_index.h"
#include "profiles/catalog.h"
#include "profiles/profile.h"

namespace mcpcell::profiles {
namespace {

namespace fs = std::filesystem;
using V = std::vector<std::string>;

bool has(const V& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

bool has_env(const sandbox::Policy& p, const std::string& name, std::string* value = nullptr) {
  for (const auto& [n, v] : p.env_set)
    if (n == name) {
      if (value) *value = v;
      return true;
    }
  return false;
}

class Resolve : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mcpcell-profiles-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = fs::path(tmpl);
    ctx_.home = root_ / "home";
    ctx_.cwd = root_ / "home/proj";
    ctx_.state_dir = root_ / "home/.local/state/mcpcell";
    ctx_.config_dir = root_ / "home/.config/mcpcell";
    ctx_.server_name = "test-server";
    fs::create_directories(ctx_.cwd);
    fs::create_directories(ctx_.config_dir / "profiles");
    ctx_.canonical = [](const std::string& p) {
      std::error_code ec;
      fs::path c = fs::weakly_canonical(p, ec);
      return ec ? p : c.string();
    };
  }
  void TearDown() override { fs::remove_all(root_); }

  void user_profile(const std::string& name, const std::string& text) {
    std::ofstream(ctx_.config_dir / "profiles" / (name + ".json")) << text;
  }
  std::string home(const std::string& rel = "") {
    return rel.empty() ? ctx_.home.string() : (ctx_.home / rel).string();
  }
  Resolved run(const std::string& profile, const V& argv, const Overrides& o = {}) {
    Resolved r;
    std::string err;
    EXPECT_TRUE(resolve(profile, argv, o, ctx_, &r, &err)) << err;
    return r;
  }
  std::string error(const std::string& profile, const V& argv, const Overrides& o = {}) {
    Resolved r;
    std::string err;
    EXPECT_FALSE(resolve(profile, argv, o, ctx_, &r, &err));
    return err;
  }

  fs::path root_;
  Context ctx_;
};

TEST_F(Resolve, MatchesByNpmPackageExecutableAndModule) {
  std::string why, err;
  EXPECT_EQ(match_profile({"npx", "-y", "@modelcontextprotocol/server-filesystem@2026.8.31", "/d"},
                          ctx_, &why, &err),
            "filesystem");
  EXPECT_NE(why.find("npm package @modelcontextprotocol/server-filesystem"), std::string::npos);
  EXPECT_EQ(
      match_profile({"node", "/x/node_modules/@modelcontextprotocol/server-memory/dist/index.js"},
                    ctx_, &why, &err),
      "memory");
  EXPECT_EQ(match_profile({"/usr/local/bin/mcp-server-filesystem", "/d"}, ctx_, &why, &err),
            "filesystem");
  EXPECT_EQ(match_profile({"uvx", "mcp-server-git", "--repository", "/r"}, ctx_, &why, &err),
            "git");
  EXPECT_EQ(match_profile({"python3", "-m", "mcp_server_git"}, ctx_, &why, &err), "git");
  EXPECT_EQ(match_profile({"uvx", "awslabs.aws-documentation-mcp-server@latest"}, ctx_, &why, &err),
            "aws-documentation");
  EXPECT_EQ(match_profile({"npx", "-y", "some-unknown-server"}, ctx_, &why, &err), "default");
  EXPECT_EQ(match_profile({"/bin/cat"}, ctx_, &why, &err), "default");
}

TEST_F(Resolve, NothingMatchedMeansDefaultWhichGrantsNoFilesNoNetworkNoSecrets) {
  Resolved r = run("", {"npx", "-y", "some-unknown-server", "/home/u/secret-dir"});
  EXPECT_EQ(r.name, "default");
  EXPECT_TRUE(r.policy.fs_write.empty());
  EXPECT_FALSE(r.network);
  EXPECT_TRUE(r.net_allow.empty());
  EXPECT_FALSE(has(r.policy.fs_read, "/home/u/secret-dir"));
  for (const std::string& name : r.policy.env_pass)
    EXPECT_TRUE(name == "LANG" || name == "TZ" || name.starts_with("LC_") ||
                name == "NODE_EXTRA_CA_CERTS" || name == "NVM_BIN")
        << name;
  EXPECT_EQ(r.net_install, V{"registry.npmjs.org:443"});  // npx may fetch, the server may not
}

TEST_F(Resolve, EmptyListsMeanNothing) {
  user_profile("empty", R"({"schema": 1, "filesystem": {"read": [], "write": []},
                            "network": {"allow": []}, "env": {"pass": []}})");
  Resolved r = run("empty", {"/bin/true"});
  EXPECT_TRUE(r.policy.fs_read.empty());
  EXPECT_TRUE(r.policy.fs_write.empty());
  EXPECT_TRUE(r.policy.env_pass.empty());
  EXPECT_TRUE(r.net_allow.empty());
  EXPECT_FALSE(r.network);
}

TEST_F(Resolve, FilesystemProfileGrantsItsArgumentDirectories) {
  Resolved r =
      run("", {"npx", "-y", "@modelcontextprotocol/server-filesystem", "/srv/data", "notes"});
  EXPECT_EQ(r.name, "filesystem");
  EXPECT_TRUE(has(r.policy.fs_write, "/srv/data"));
  EXPECT_TRUE(has(r.policy.fs_write, home("proj/notes")));
  EXPECT_EQ(r.policy.fs_write.size(), 2u);
  // Project-level editor configuration inside a granted directory stays hidden.
  EXPECT_TRUE(has(r.policy.fs_hide, "/srv/data/.vscode/mcp.json"));
  EXPECT_TRUE(has(r.policy.fs_hide, "/srv/data/.mcp.json"));
}

TEST_F(Resolve, MemoryProfileRedirectsItsDataFileIntoThePrivateDirectory) {
  Resolved r = run("", {"npx", "-y", "@modelcontextprotocol/server-memory"});
  EXPECT_EQ(r.name, "memory");
  std::string v;
  ASSERT_TRUE(has_env(r.policy, "MEMORY_FILE_PATH", &v));
  EXPECT_EQ(v, (ctx_.state_dir / "homes/test-server/memory.jsonl").string());
  EXPECT_EQ(r.private_dir, ctx_.state_dir / "homes/test-server");
  std::string err;
  ASSERT_TRUE(prepare(r, &err)) << err;
  EXPECT_EQ(fs::status(r.private_dir).permissions() & fs::perms::all, fs::perms::owner_all);
}

TEST_F(Resolve, PrecedenceBaseThenProfileThenFlags) {
  user_profile("base", R"({"schema": 1,
    "filesystem": {"read": ["/base"]},
    "env": {"pass": ["A"], "set": {"X": "base", "Y": "base"}},
    "limits": {"memory": "1GiB", "processes": 10},
    "pins": {"mode": "warn", "keep": 1}})");
  user_profile("top", R"({"schema": 1, "extends": ["base"],
    "filesystem": {"read": ["/top"]},
    "env": {"set": {"Y": "top"}},
    "limits": {"memory": "2GiB"},
    "pins": {"mode": "strict"}})");
  Overrides o;
  o.allow_read = {"/flag", "rel"};
  o.allow_write = {"/top"};
  o.allow_net = {"API.example.com:443"};
  o.allow_env = {"B"};
  Resolved r = run("top", {"/bin/true"}, o);
  EXPECT_TRUE(has(r.policy.fs_read, "/base"));
  EXPECT_TRUE(has(r.policy.fs_read, "/flag"));
  EXPECT_TRUE(has(r.policy.fs_read, home("proj/rel")));
  EXPECT_FALSE(has(r.policy.fs_read, "/top"));  // granted read-write by the flag
  EXPECT_TRUE(has(r.policy.fs_write, "/top"));
  std::string v;
  ASSERT_TRUE(has_env(r.policy, "X", &v));
  EXPECT_EQ(v, "base");
  ASSERT_TRUE(has_env(r.policy, "Y", &v));
  EXPECT_EQ(v, "top");
  EXPECT_TRUE(has(r.policy.env_pass, "A") && has(r.policy.env_pass, "B"));
  EXPECT_EQ(r.policy.limits.memory_bytes, 2ull << 30);
  EXPECT_EQ(r.policy.limits.tasks, 10u);
  EXPECT_EQ(r.net_allow, V{"api.example.com:443"});
  EXPECT_TRUE(r.network);
  EXPECT_EQ(r.filter_policy["pins"], nlohmann::json({{"mode", "strict"}, {"keep", 1}}));
  // Provenance says where each grant came from.
  std::string text = r.provenance.dump();
  EXPECT_NE(text.find("base.json:2"), std::string::npos) << text;
  EXPECT_NE(text.find("\"from\":\"--allow-read\""), std::string::npos);
  EXPECT_NE(render_provenance(r.provenance).find("/flag  [--allow-read"), std::string::npos);
}

TEST_F(Resolve, UserProfileShadowsShippedAndCanExtendIt) {
  user_profile("filesystem", R"({"schema": 1, "extends": ["filesystem"],
    "match": {"npm": ["@modelcontextprotocol/server-filesystem"]},
    "filesystem": {"read": ["/extra"]}})");
  Resolved r = run("", {"npx", "@modelcontextprotocol/server-filesystem", "/d"});
  EXPECT_EQ(r.source, (ctx_.config_dir / "profiles/filesystem.json").string());
  EXPECT_TRUE(has(r.policy.fs_read, "/extra"));
  EXPECT_TRUE(has(r.policy.fs_write, "/d"));  // from the shipped one it extends
}

TEST_F(Resolve, UserProfileWinsAMatchTie) {
  user_profile("myfs",
               R"({"schema": 1, "match": {"npm": ["@modelcontextprotocol/server-filesystem"]}})");
  EXPECT_EQ(run("", {"npx", "@modelcontextprotocol/server-filesystem", "/d"}).name, "myfs");
}

TEST_F(Resolve, ProfileFileByPath) {
  fs::path f = root_ / "p.jsonc";
  std::ofstream(f) << "// c\n{\"schema\": 1, \"network\": {\"allow\": [\"x.example.com:443\"]}}";
  Resolved r = run(f.string(), {"/bin/true"});
  EXPECT_EQ(r.name, "p");
  EXPECT_EQ(r.net_allow, V{"x.example.com:443"});
}

TEST_F(Resolve, ErrorsNameTheFileAndLine) {
  user_profile("broken", "{\"schema\": 1,\n\"extends\": [\"runtime:node\",\n \"nope\"]}");
  std::string err = error("broken", {"/bin/true"});
  EXPECT_NE(err.find("broken.json:3: extends: no profile named \"nope\""), std::string::npos)
      << err;
  user_profile("a", R"({"schema": 1, "extends": ["b"]})");
  user_profile("b", R"({"schema": 1, "extends": ["a"]})");
  err = error("a", {"/bin/true"});
  EXPECT_NE(err.find("cycle"), std::string::npos) << err;
  EXPECT_NE(error("no-such-profile", {"/bin/true"}).find("no profile named \"no-such-profile\""),
            std::string::npos);
  Overrides o;
  o.allow_net = {"bad host"};
  EXPECT_NE(error("default", {"/bin/true"}, o).find("--allow-net bad host"), std::string::npos);
  // A broken user profile stops matching rather than being skipped silently.
  user_profile("zz", "{\"schema\": 1, \"bogus\": 1}");
  err = error("", {"/bin/true"});
  EXPECT_NE(err.find("zz.json:1:15: bogus: unknown key"), std::string::npos) << err;
}

TEST_F(Resolve, HardDenialsDropGrantsInsideAndHideWhatGrantsContain) {
  ctx_.env["SSH_AUTH_SOCK"] = "/tmp/ssh-XXXX/agent.1";
  user_profile("greedy", R"({"schema": 1,
    "filesystem": {"read": ["~", "~/.ssh/id_ed25519", "~/.aws", "~/.config/mcpcell/profiles"],
                   "write": ["~/.local/state/mcpcell/pins", "~/.claude.json", "${cwd}/.vscode/mcp.json",
                             "${state}/data"]},
    "env": {"pass": ["SSH_AUTH_SOCK", "OK"], "set": {"SSH_AUTH_SOCK": "/x"}},
    "syscalls": {"allow": ["@mount", "@debug"]},
    "cwd": "~/.ssh"})");
  Overrides o;
  o.allow_read = {"~/.gnupg", "/tmp/ssh-XXXX/agent.1"};
  Resolved r = run("greedy", {"/bin/true"}, o);
  EXPECT_EQ(r.policy.fs_read, V{home()});
  EXPECT_TRUE(r.policy.fs_write.empty());  // ${state}/data is the server's own already
  for (const char* hidden :
       {".ssh", ".gnupg", ".aws", ".kube", ".config/gcloud", ".docker", ".netrc",
        ".git-credentials", ".local/state/mcpcell", ".config/mcpcell", ".claude.json", ".cursor",
        ".config/Code/User", ".local/share/keyrings"})
    EXPECT_TRUE(has(r.policy.fs_hide, home(hidden))) << hidden;
  EXPECT_TRUE(has(r.policy.fs_hide, home("proj/.vscode/mcp.json")));
  EXPECT_EQ(r.policy.env_pass, V{"OK"});
  EXPECT_FALSE(has_env(r.policy, "SSH_AUTH_SOCK"));
  EXPECT_EQ(r.policy.syscall_groups, V{"@debug"});
  EXPECT_EQ(r.policy.cwd, r.private_dir.string());
  std::string all;
  for (const std::string& w : r.warnings) all += w + "\n";
  for (const char* dropped :
       {"read ", "/.ssh/id_ed25519", "/.aws", "/.config/mcpcell/profiles",
        "/.local/state/mcpcell/pins", "/.claude.json", "/proj/.vscode/mcp.json", "/.gnupg",
        "agent.1", "env SSH_AUTH_SOCK", "syscalls @mount", "cwd "})
    EXPECT_NE(all.find(dropped), std::string::npos) << dropped << "\n" << all;
  EXPECT_NE(all.find("(from --allow-read)"), std::string::npos);
}

TEST_F(Resolve, SymlinkIntoACredentialStoreIsDropped) {
  fs::create_directories(ctx_.home / ".ssh");
  fs::create_symlink(ctx_.home / ".ssh", root_ / "innocent");
  Overrides o;
  o.allow_read = {(root_ / "innocent").string(), (root_ / "innocent/id_rsa").string()};
  Resolved r = run("default", {"/bin/true"}, o);
  EXPECT_FALSE(has(r.policy.fs_read, (root_ / "innocent").string()));
  EXPECT_FALSE(has(r.policy.fs_read, (root_ / "innocent/id_rsa").string()));
  EXPECT_EQ(r.warnings.size(), 2u);
}

TEST_F(Resolve, ArgumentsCannotSmuggleDeniedPaths) {
  Resolved r = run("", {"npx", "@modelcontextprotocol/server-filesystem", "~/.ssh",
                        ctx_.state_dir.string(), "../proj/../.aws"});
  EXPECT_TRUE(r.policy.fs_write.empty());
  EXPECT_EQ(r.warnings.size(), 3u);
}

TEST_F(Resolve, ForbiddenSyscallGroupsNeverPass) {
  for (const char* g : {"@mount", "@module", "@reboot", "@swap", "@raw-io", "@keyring",
                        "@privileged", "@clock", "@cpu-emulation", "@obsolete"})
    EXPECT_TRUE(forbidden_syscall_group(g)) << g;
}

TEST_F(Resolve, EveryShippedProfilePassesCheckAndIsLeastPrivilege) {
  int count = 0;
  for (const ProfileText& t : builtin_profiles()) {
    Profile p;
    std::string err;
    ASSERT_TRUE(parse_profile(t.text, t.name, t.source, &p, &err)) << err;
    EXPECT_FALSE(p.description.empty()) << t.name;
    Resolved r;
    ASSERT_TRUE(resolve(t.name, {"/bin/true"}, {}, ctx_, &r, &err)) << t.name << ": " << err;
    EXPECT_TRUE(r.warnings.empty()) << t.name << ": " << r.warnings.front();
    if (t.name.starts_with("runtime:")) {
      EXPECT_TRUE(p.match.empty()) << t.name;
      EXPECT_TRUE(p.net_allow.empty()) << t.name << ": a runtime base grants no server traffic";
      continue;
    }
    if (t.name != "default") {
      ++count;
      EXPECT_FALSE(p.match.empty()) << t.name << " has no match rules";
      // Nothing shipped may write to the home directory or the project as a whole.
      for (const std::string& w : r.policy.fs_write)
        EXPECT_TRUE(w != home() && w != ctx_.cwd.string()) << t.name << " writes " << w;
      // Ports are explicit: no shipped profile opens every port of a host.
      for (const std::string& h : r.net_allow)
        EXPECT_NE(h.find(':'), std::string::npos) << t.name << ": " << h;
    }
  }
  EXPECT_GE(count, 25);
}

TEST_F(Resolve, ShippedProfilesMatchTheirOwnPackages) {
  std::string why, err;
  for (const ProfileText& t : builtin_profiles()) {
    if (t.name.starts_with("runtime:") || t.name == "default") continue;
    Profile p;
    ASSERT_TRUE(parse_profile(t.text, t.name, t.source, &p, &err));
    for (const std::string& pkg : p.match.npm)
      EXPECT_EQ(match_profile({"npx", "-y", pkg + "@latest"}, ctx_, &why, &err), t.name) << pkg;
    for (const std::string& pkg : p.match.pypi)
      EXPECT_EQ(match_profile({"uvx", pkg}, ctx_, &why, &err), t.name) << pkg;
    for (const std::string& exe : p.match.executables)
      EXPECT_EQ(match_profile({"/opt/bin/" + exe}, ctx_, &why, &err), t.name) << exe;
  }
}

TEST(BuiltinIndex, HoldsEveryShippedProfilesMatchExactlyAsTheParserReadsIt) {
  // The build-time table must agree with parsing the embedded texts, name for name and entry for
  // entry (including an empty match, e.g. default's), or profile choice would differ from
  // `profile show`.
  std::vector<std::string> shipped;
  for (const ProfileText& t : builtin_profiles())
    if (!t.name.starts_with("runtime:")) shipped.push_back(t.name);
  const std::vector<BuiltinMatch>& index = builtin_matches();
  ASSERT_EQ(index.size(), shipped.size());
  for (size_t i = 0; i < index.size(); ++i) {
    EXPECT_EQ(index[i].name, shipped[i]);
    std::optional<ProfileText> t = builtin_profile(index[i].name);
    ASSERT_TRUE(t) << index[i].name;
    Profile p;
    std::string err;
    ASSERT_TRUE(parse_profile(t->text, t->name, t->source, &p, &err)) << err;
    EXPECT_EQ(index[i].match.npm, p.match.npm) << t->name;
    EXPECT_EQ(index[i].match.pypi, p.match.pypi) << t->name;
    EXPECT_EQ(index[i].match.executables, p.match.executables) << t->name;
  }
}

TEST_F(Resolve, ArgumentDrivenProfiles) {
  Resolved git = run("", {"uvx", "mcp-server-git", "--repository", "~/src/app"});
  EXPECT_EQ(git.name, "git");
  EXPECT_TRUE(has(git.policy.fs_write, home("src/app")));
  Resolved db = run("", {"uvx", "mcp-server-sqlite", "--db-path", "data/app.db"});
  EXPECT_TRUE(has(db.policy.fs_write, home("proj/data")));
  Resolved pg = run("", {"npx", "-y", "@modelcontextprotocol/server-postgres",
                         "postgresql://me:pw@db.internal/app"});
  EXPECT_EQ(pg.net_allow, V{"db.internal:5432"});
  // The password in the URL never reaches provenance.
  EXPECT_EQ(pg.provenance.dump().find("pw@"), std::string::npos);
}

}  // namespace
}  // namespace mcpcell::profiles

namespace mcpcell::profiles {
namespace {

TEST(ResolveExists, MissingOptionalPathsGrantNothingButFlagsStay) {
  char tmpl[] = "/tmp/mcpcell-profiles-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  fs::path root(tmpl);
  Context ctx;
  ctx.home = root;
  ctx.cwd = root;
  ctx.state_dir = root / ".local/state/mcpcell";
  ctx.config_dir = root / ".config/mcpcell";
  ctx.server_name = "s";
  ctx.exists = [](const std::string& p) { return fs::exists(p); };
  fs::create_directories(ctx.config_dir / "profiles");
  fs::create_directories(root / "present");
  std::ofstream(ctx.config_dir / "profiles/opt.json")
      << R"({"schema": 1, "filesystem": {"read": ["~/present", "~/absent"], "write": ["${state}/x"]}})";
  Overrides o;
  o.allow_read = {(root / "typo").string()};
  Resolved r;
  std::string err;
  ASSERT_TRUE(resolve("opt", {"/bin/true"}, o, ctx, &r, &err)) << err;
  EXPECT_EQ(r.policy.fs_read,
            (std::vector<std::string>{(root / "present").string(), (root / "typo").string()}));
  EXPECT_NE(r.provenance["unexpanded"].dump().find("absent does not exist"), std::string::npos);
  fs::remove_all(root);
}

TEST_F(Resolve, AllowEnvFlagBeatsTheProfilesFixedValue) {
  Overrides o;
  o.allow_env = {"MEMORY_FILE_PATH"};
  Resolved r = run("", {"npx", "-y", "@modelcontextprotocol/server-memory"}, o);
  std::string v;
  EXPECT_FALSE(has_env(r.policy, "MEMORY_FILE_PATH", &v)) << "still set to " << v;
  EXPECT_NE(std::find(r.policy.env_pass.begin(), r.policy.env_pass.end(), "MEMORY_FILE_PATH"),
            r.policy.env_pass.end());
}

}  // namespace
}  // namespace mcpcell::profiles
