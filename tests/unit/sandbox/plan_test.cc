// The filesystem planner against a fake filesystem: grants, protected locations, masks, symlinks,
// downgrades, ordering, and the automatic installation grants.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <map>

#include "sandbox/plan.h"

namespace mcpcell::sandbox {
namespace {

// A fake tree: directories, files, and symlinks (resolved by `canonical` like realpath).
struct FakeFs {
  std::map<std::string, FileKind> entries;
  std::map<std::string, std::string> links;  // path -> absolute target
  std::vector<std::string> made;             // placeholders created through ops()
  bool can_make = true;

  void dir(const std::string& p) {
    for (std::string a = p; a != "/" && !a.empty(); a = a.substr(0, a.rfind('/')))
      if (!entries.count(a)) entries[a] = FileKind::Directory;
    entries[p] = FileKind::Directory;
  }
  void file(const std::string& p) {
    dir(p.substr(0, p.rfind('/')));
    entries[p] = FileKind::Other;
  }
  void link(const std::string& p, const std::string& target) {
    dir(p.substr(0, p.rfind('/')));
    links[p] = target;
    entries[p] = FileKind::Symlink;
  }
  std::optional<std::string> resolve(const std::string& p, int depth = 0) const {
    if (depth > 16) return std::nullopt;
    std::string n = normalize_path(p);
    // Resolve the longest symlinked prefix first.
    for (size_t i = n.size(); i > 0; i = n.rfind('/', i - 1)) {
      std::string pre = n.substr(0, i);
      auto l = links.find(pre);
      if (l != links.end()) return resolve(l->second + n.substr(i), depth + 1);
      if (i == 0) break;
    }
    if (n != "/" && !entries.count(n)) return std::nullopt;
    return n;
  }
  FsOps ops() const {
    FsOps o;
    o.canonical = [this](const std::string& p) { return resolve(p); };
    o.kind = [this](const std::string& p) {
      auto it = entries.find(p);
      return it == entries.end() ? FileKind::Missing : it->second;
    };
    o.make_placeholder = [this](const std::string& p, bool d, const std::string&) {
      auto* self = const_cast<FakeFs*>(this);
      if (!can_make || entries.count(p)) return false;
      if (d)
        self->dir(p);
      else
        self->file(p);
      self->made.push_back(p);
      return true;
    };
    return o;
  }
};

struct PlanTest : ::testing::Test {
  FakeFs fs;
  PlanInput in;
  void SetUp() override {
    in.home = "/home/u";
    in.state_dir = "/home/u/.local/state/mcpcell";
    in.config_dir = "/home/u/.config/mcpcell";
    in.private_home = "/home/u/.local/state/mcpcell/homes/srv";
    fs.dir("/home/u/project/src");
    fs.file("/home/u/project/.env");
    fs.dir("/home/u/.ssh");
    fs.file("/home/u/.ssh/id_ed25519");
    fs.dir("/home/u/.aws");
    fs.file("/home/u/.netrc");
    fs.dir(in.private_home);
    fs.dir("/home/u/.config/mcpcell");
    fs.dir("/tmp/work");
  }
  FsPlan plan() { return plan_filesystem(in, fs.ops()); }
  static const PlannedMount* find(const FsPlan& p, const std::string& path) {
    for (const auto& m : p.mounts)
      if (m.path == path) return &m;
    return nullptr;
  }
  static bool refused(const FsPlan& p, const std::string& path) {
    for (const auto& r : p.refused)
      if (r.path == path) return true;
    return false;
  }
};

TEST_F(PlanTest, EmptyListsGrantNothingButThePrivateHome) {
  FsPlan p = plan();
  ASSERT_EQ(p.mounts.size(), 1u);
  EXPECT_EQ(p.mounts[0].path, in.private_home);
  EXPECT_EQ(p.mounts[0].kind, MountKind::ReadWrite);
  EXPECT_TRUE(p.refused.empty());
}

TEST_F(PlanTest, ReadAndWriteGrantsAreBoundAtTheirPath) {
  in.read = {"/home/u/project"};
  in.write = {"/tmp/work"};
  FsPlan p = plan();
  ASSERT_NE(find(p, "/home/u/project"), nullptr);
  EXPECT_EQ(find(p, "/home/u/project")->kind, MountKind::ReadOnly);
  ASSERT_NE(find(p, "/tmp/work"), nullptr);
  EXPECT_EQ(find(p, "/tmp/work")->kind, MountKind::ReadWrite);
}

TEST_F(PlanTest, ProtectedLocationsCannotBeGrantedInAnySpelling) {
  in.read = {"/home/u/.ssh", "/home/u/project/../.ssh/id_ed25519", "/home/u/.aws/",
             "/home/u/.config/mcpcell", "/home/u/.local/state/mcpcell", "/etc/shadow"};
  fs.file("/etc/shadow");
  FsPlan p = plan();
  EXPECT_EQ(p.mounts.size(), 1u);  // the private home only
  EXPECT_EQ(p.refused.size(), 6u);
}

TEST_F(PlanTest, SymlinkToAProtectedLocationIsRefused) {
  fs.link("/home/u/project/keys", "/home/u/.ssh");
  fs.link("/tmp/work/innocent", "/home/u/.netrc");
  in.read = {"/home/u/project/keys"};
  in.write = {"/tmp/work/innocent"};
  FsPlan p = plan();
  EXPECT_TRUE(refused(p, "/home/u/project/keys"));
  EXPECT_TRUE(refused(p, "/tmp/work/innocent"));
  EXPECT_EQ(find(p, "/home/u/.ssh"), nullptr);
}

TEST_F(PlanTest, ProtectedLocationUnderASymlinkedHomeIsMaskedWhereItReallyIs) {
  // ~/.ssh is a link to /data/ssh; granting /data must not reveal it.
  fs.entries.erase("/home/u/.ssh");
  fs.entries.erase("/home/u/.ssh/id_ed25519");
  fs.dir("/data/ssh");
  fs.link("/home/u/.ssh", "/data/ssh");
  in.read = {"/data"};
  FsPlan p = plan();
  ASSERT_NE(find(p, "/data/ssh"), nullptr);
  EXPECT_EQ(find(p, "/data/ssh")->kind, MountKind::HideDir);
}

TEST_F(PlanTest, BroadReadGrantMasksWhatItContains) {
  in.read = {"/home/u"};
  FsPlan p = plan();
  EXPECT_EQ(find(p, "/home/u")->kind, MountKind::ReadOnly);
  EXPECT_EQ(find(p, "/home/u/.ssh")->kind, MountKind::HideDir);
  EXPECT_EQ(find(p, "/home/u/.aws")->kind, MountKind::HideDir);
  EXPECT_EQ(find(p, "/home/u/.netrc")->kind, MountKind::HideFile);
  EXPECT_EQ(find(p, "/home/u/.config/mcpcell")->kind, MountKind::HideDir);
  EXPECT_EQ(find(p, "/home/u/.local/state/mcpcell")->kind, MountKind::HideDir);
  // Missing protected paths need no mask (nothing to see).
  EXPECT_EQ(find(p, "/home/u/.kube"), nullptr);
}

TEST_F(PlanTest, MountsAreOrderedParentsFirst) {
  in.read = {"/home/u"};
  in.write = {"/home/u/project"};
  FsPlan p = plan();
  for (size_t i = 1; i < p.mounts.size(); ++i) {
    auto depth = [](const std::string& s) { return std::count(s.begin(), s.end(), '/'); };
    EXPECT_LE(depth(p.mounts[i - 1].path), depth(p.mounts[i].path)) << p.mounts[i].path;
  }
  // The state dir mask comes before the private home inside it.
  size_t mask = 0, home = 0;
  for (size_t i = 0; i < p.mounts.size(); ++i) {
    if (p.mounts[i].path == in.state_dir) mask = i;
    if (p.mounts[i].path == in.private_home) home = i;
  }
  EXPECT_LT(mask, home);
}

TEST_F(PlanTest, WriteGrantsHoldingPersistenceOrSecretsAreDowngraded) {
  fs.dir("/home/u/.config/systemd");
  in.write = {"/home/u", "/home/u/.config"};
  FsPlan p = plan();
  EXPECT_EQ(find(p, "/home/u")->kind, MountKind::ReadOnly);
  EXPECT_EQ(find(p, "/home/u/.config")->kind, MountKind::ReadOnly);
  EXPECT_EQ(p.downgraded.size(), 2u);
}

TEST_F(PlanTest, NeverGrantedTrees) {
  fs.dir("/proc/1");
  fs.dir("/sys/fs");
  fs.dir("/run/user/1000");
  fs.dir("/dev/shm");
  fs.dir("/var/tmp");
  in.read = {"/", "/proc/1", "/sys/fs", "/run/user/1000", "/dev/shm", "/tmp", "/var/tmp",
             "relative/path", "/does/not/exist"};
  FsPlan p = plan();
  EXPECT_EQ(p.mounts.size(), 1u);
  EXPECT_EQ(p.refused.size(), in.read.size());
}

TEST_F(PlanTest, HideWinsOverGrants) {
  fs.dir("/home/u/project/secrets/public");
  in.read = {"/home/u/project", "/home/u/project/secrets/public"};
  in.hide = {"/home/u/project/secrets", "/home/u/project/.env"};
  FsPlan p = plan();
  EXPECT_EQ(find(p, "/home/u/project/secrets")->kind, MountKind::HideDir);
  EXPECT_EQ(find(p, "/home/u/project/.env")->kind, MountKind::HideFile);
  EXPECT_EQ(find(p, "/home/u/project/secrets/public"), nullptr);
  EXPECT_TRUE(refused(p, "/home/u/project/secrets/public"));
}

TEST_F(PlanTest, GitHooksAndConfigStayReadOnlyInWritableRepositories) {
  fs.dir("/home/u/project/.git/hooks");
  fs.file("/home/u/project/.git/config");
  fs.dir("/tmp/work/.git");  // no hooks directory: all of .git read-only
  in.write = {"/home/u/project", "/tmp/work"};
  FsPlan p = plan();
  EXPECT_EQ(find(p, "/home/u/project")->kind, MountKind::ReadWrite);
  // .git itself is a mount point (pinned: it cannot be renamed away and recreated with hooks).
  EXPECT_EQ(find(p, "/home/u/project/.git")->kind, MountKind::ReadWrite);
  EXPECT_EQ(find(p, "/home/u/project/.git/hooks")->kind, MountKind::ReadOnly);
  EXPECT_EQ(find(p, "/home/u/project/.git/config")->kind, MountKind::ReadOnly);
  EXPECT_EQ(find(p, "/tmp/work/.git")->kind, MountKind::ReadOnly);
}

TEST_F(PlanTest, WorktreeGitFileIsReadOnly) {
  fs.file("/tmp/work/.git");  // gitdir: pointer; rewritten, it could point at a repo with hooks
  in.write = {"/tmp/work"};
  FsPlan p = plan();
  ASSERT_NE(find(p, "/tmp/work/.git"), nullptr);
  EXPECT_EQ(find(p, "/tmp/work/.git")->kind, MountKind::ReadOnly);
  EXPECT_FALSE(find(p, "/tmp/work/.git")->is_dir);
}

TEST_F(PlanTest, EditorAndAutoRunEntriesOfWritableGrantsStayReadOnly) {
  fs.dir("/tmp/work/.vscode");
  fs.file("/tmp/work/.vscode/settings.json");
  fs.dir("/tmp/work/.zed");  // guarded when present, no placeholder when missing
  in.write = {"/tmp/work"};
  in.read = {"/home/u/project"};  // read-only grants need nothing
  FsPlan p = plan();
  EXPECT_EQ(find(p, "/tmp/work")->kind, MountKind::ReadWrite);
  for (const GuardedEntry& e : guarded_entries()) {
    std::string path = std::string("/tmp/work/") + e.name;
    const PlannedMount* m = find(p, path);
    bool expected = e.placeholder || path == "/tmp/work/.zed";
    ASSERT_EQ(m != nullptr, expected) << path;
    if (!m) continue;
    EXPECT_EQ(m->kind, MountKind::ReadOnly) << path;
    EXPECT_EQ(m->is_dir, e.dir) << path;
  }
  // Placeholders made only for the missing ones, never in read-only grants.
  std::vector<std::string> want;
  for (const GuardedEntry& e : guarded_entries())
    if (e.placeholder && std::string(e.name) != ".vscode")
      want.push_back(std::string("/tmp/work/") + e.name);
  EXPECT_EQ(p.placeholders, want);
  EXPECT_EQ(fs.made, want);
  EXPECT_EQ(find(p, "/home/u/project/.mcp.json"), nullptr);
  // Each guard is mounted after (on top of) its grant.
  size_t grant = 0, guard = 0;
  for (size_t i = 0; i < p.mounts.size(); ++i) {
    if (p.mounts[i].path == "/tmp/work") grant = i;
    if (p.mounts[i].path == "/tmp/work/.mcp.json") guard = i;
  }
  EXPECT_LT(grant, guard);
}

TEST_F(PlanTest, UnpinnableEntryMakesTheGrantReadOnly) {
  // A symlink can be replaced by the server (no mount point), a placeholder that cannot be made
  // leaves the name creatable: either way the grant is downgraded, never silently left open.
  fs.link("/tmp/work/.envrc", "/tmp/work/envrc.real");
  fs.dir("/tmp/other");
  fs.file("/tmp/other/.cursor");  // a file where a directory is expected
  fs.dir("/tmp/third");
  in.write = {"/tmp/work", "/tmp/other", "/tmp/third"};
  fs.can_make = true;
  FsPlan p = plan();
  EXPECT_EQ(find(p, "/tmp/work")->kind, MountKind::ReadOnly);
  EXPECT_EQ(find(p, "/tmp/other")->kind, MountKind::ReadOnly);
  EXPECT_EQ(find(p, "/tmp/third")->kind, MountKind::ReadWrite);
  EXPECT_EQ(p.downgraded, (std::vector<std::string>{"/tmp/work", "/tmp/other"}));

  fs.entries.erase("/tmp/third/.mcp.json");
  fs.can_make = false;
  in.write = {"/tmp/third"};
  FsPlan q = plan();
  EXPECT_EQ(find(q, "/tmp/third")->kind, MountKind::ReadOnly);
}

TEST_F(PlanTest, SshAgentSocketIsProtected) {
  fs.file("/tmp/ssh-abc/agent.1");
  in.ssh_auth_sock = "/tmp/ssh-abc/agent.1";
  in.read = {"/tmp/ssh-abc"};
  FsPlan p = plan();
  EXPECT_EQ(find(p, "/tmp/ssh-abc/agent.1")->kind, MountKind::HideFile);
}

TEST(Paths, NormalizeAndWithin) {
  EXPECT_EQ(normalize_path("/a/./b/../c/"), "/a/c");
  EXPECT_EQ(normalize_path("/../.."), "/");
  EXPECT_EQ(normalize_path("a/b"), "");
  EXPECT_TRUE(path_within("/a/b", "/a"));
  EXPECT_TRUE(path_within("/a", "/a"));
  EXPECT_FALSE(path_within("/ab", "/a"));
  EXPECT_TRUE(path_within("/x", "/"));
}

struct GrantsTest : ::testing::Test {
  FakeFs fs;
  std::string home = "/home/u";
  void SetUp() override {
    fs.dir("/home/u/.ssh");
    fs.dir("/home/u/.local/state/mcpcell");
  }
};

TEST_F(GrantsTest, NvmInstallationPrefix) {
  fs.file("/home/u/.nvm/versions/node/v22/lib/node_modules/npm/bin/npx-cli.js");
  fs.link("/home/u/.nvm/versions/node/v22/bin/npx",
          "/home/u/.nvm/versions/node/v22/lib/node_modules/npm/bin/npx-cli.js");
  auto g = installation_grants("/home/u/.nvm/versions/node/v22/bin/npx", {"npx", "-y", "pkg"},
                               home, fs.ops());
  ASSERT_FALSE(g.empty());
  EXPECT_EQ(g[0], "/home/u/.nvm/versions/node/v22");
}

TEST_F(GrantsTest, SystemExecutableNeedsNothing) {
  fs.file("/usr/bin/true");
  EXPECT_TRUE(installation_grants("/usr/bin/true", {"true"}, home, fs.ops()).empty());
}

TEST_F(GrantsTest, NodeScriptInNodeModulesGrantsTheTree) {
  fs.file("/usr/bin/node");
  fs.file("/work/main/node_modules/@modelcontextprotocol/server-memory/dist/index.js");
  fs.dir("/work/node_modules");
  auto g = installation_grants(
      "/usr/bin/node",
      {"node", "/work/main/node_modules/@modelcontextprotocol/server-memory/dist/index.js"}, home,
      fs.ops());
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g[0], "/work/main/node_modules");
  EXPECT_EQ(g[1], "/work/node_modules");
}

TEST_F(GrantsTest, ScriptPackageDirectoryByMarker) {
  fs.file("/usr/bin/python3");
  fs.file("/home/u/src/tool/pyproject.toml");
  fs.file("/home/u/src/tool/pkg/server.py");
  auto g = installation_grants("/usr/bin/python3", {"python3", "-u", "/home/u/src/tool/pkg/server.py"},
                               home, fs.ops());
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(g[0], "/home/u/src/tool");
}

TEST_F(GrantsTest, NeverTheHomeOrSomethingHoldingSecrets) {
  fs.file("/home/u/bin/tool");        // prefix would be ~ itself
  fs.file("/home/u/.local/bin/uv");   // prefix ~/.local holds mcpcell's state
  fs.file("/tmp/tool");               // prefix would be the host's /tmp
  EXPECT_EQ(installation_grants("/home/u/bin/tool", {"tool"}, home, fs.ops()),
            std::vector<std::string>{"/home/u/bin"});
  EXPECT_EQ(installation_grants("/home/u/.local/bin/uv", {"uv"}, home, fs.ops()),
            std::vector<std::string>{"/home/u/.local/bin"});
  EXPECT_EQ(installation_grants("/tmp/tool", {"tool"}, home, fs.ops()),
            std::vector<std::string>{"/tmp/tool"});
  fs.file("/home/u/script.js");
  fs.file("/usr/bin/node");
  auto g = installation_grants("/usr/bin/node", {"node", "/home/u/script.js"}, home, fs.ops());
  EXPECT_EQ(g, std::vector<std::string>{"/home/u/script.js"});
}

TEST(Etc, SynthesizedFilesNameTheUserAndHome) {
  auto files = synthesize_etc(1000, 1000, "alice", "/h/alice");
  std::map<std::string, std::string> m(files.begin(), files.end());
  EXPECT_NE(m["passwd"].find("alice:x:1000:1000::/h/alice:"), std::string::npos);
  EXPECT_NE(m["group"].find("alice:x:1000:"), std::string::npos);
  EXPECT_TRUE(m.count("hosts") && m.count("resolv.conf") && m.count("nsswitch.conf"));
  EXPECT_EQ(m["passwd"].find("shadow"), std::string::npos);
}

}  // namespace
}  // namespace mcpcell::sandbox

namespace mcpcell::sandbox {

// The real placeholder maker, on a temporary directory: creates what is missing, never follows a
// symlink (neither a planted leaf nor a swapped parent), and accepts only the kind it was asked
// for.
TEST(RealFs, PlaceholdersNeverFollowSymlinks) {
  char tmpl[] = "/tmp/mcpcell-plan-test-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string d = tmpl;
  FsOps fs = real_fs();
  EXPECT_TRUE(fs.make_placeholder(d + "/.mcp.json", false, "{}\n"));
  EXPECT_EQ(fs.kind(d + "/.mcp.json"), FileKind::Other);
  EXPECT_TRUE(fs.make_placeholder(d + "/.vscode", true, ""));
  EXPECT_EQ(fs.kind(d + "/.vscode"), FileKind::Directory);
  EXPECT_TRUE(fs.make_placeholder(d + "/.vscode", true, ""));     // already there: fine
  EXPECT_FALSE(fs.make_placeholder(d + "/.mcp.json", true, ""));  // a file, not a directory
  ASSERT_EQ(::mkdir((d + "/elsewhere").c_str(), 0755), 0);
  ASSERT_EQ(::symlink((d + "/elsewhere/target").c_str(), (d + "/.envrc").c_str()), 0);
  EXPECT_FALSE(fs.make_placeholder(d + "/.envrc", false, ""));  // planted link: not followed
  EXPECT_EQ(fs.kind(d + "/.envrc"), FileKind::Symlink);
  EXPECT_EQ(fs.kind(d + "/elsewhere/target"), FileKind::Missing);
  ASSERT_EQ(::symlink((d + "/elsewhere").c_str(), (d + "/proj").c_str()), 0);
  EXPECT_FALSE(fs.make_placeholder(d + "/proj/.claude", true, ""));  // swapped parent
  EXPECT_EQ(fs.kind(d + "/elsewhere/.claude"), FileKind::Missing);
  std::string cmd = "rm -rf " + d;
  EXPECT_EQ(std::system(cmd.c_str()), 0);
}

}  // namespace mcpcell::sandbox
