// The memoizing path resolver: against a fake filesystem for each rule of realpath(3) and
// std::filesystem::weakly_canonical(), then differentially against both on a real temporary tree
// with every kind of symlink, over generated paths and with one warm cache for all of them.
#include <gtest/gtest.h>

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <map>
#include <random>
#include <set>

#include "sandbox/path_resolver.h"

namespace mcpcell::sandbox {
namespace {

// A fake tree answering lstat like the kernel for paths whose parent is physical, which is all the
// resolver may ask about: a question through a symlink, or about a path twice, fails the test.
struct FakeTree {
  std::map<std::string, PathEntry> entries{{"/", PathEntry{0, true, false, ""}}};
  std::string cwd = "/";
  std::map<std::string, int> asked;

  void dir(const std::string& p) { add(p, PathEntry{0, true, false, ""}); }
  void file(const std::string& p) { add(p, PathEntry{0, false, false, ""}); }
  void link(const std::string& p, const std::string& target) {
    add(p, PathEntry{0, false, true, target});
  }
  void add(const std::string& p, PathEntry e) {
    std::string parent = p.substr(0, p.rfind('/'));
    if (!parent.empty() && !entries.count(parent)) dir(parent);
    entries[p] = std::move(e);
  }
  PathEntry lstat(const std::string& p) {
    ++asked[p];
    EXPECT_TRUE(!p.empty() && p[0] == '/' && p != "/" && p.back() != '/') << p;
    for (size_t i = p.find('/', 1); i != std::string::npos; i = p.find('/', i + 1)) {
      auto it = entries.find(p.substr(0, i));
      if (it == entries.end()) return PathEntry{ENOENT, false, false, ""};
      if (it->second.error) return PathEntry{it->second.error, false, false, ""};
      EXPECT_FALSE(it->second.link) << "asked through a symlink: " << p;
      if (!it->second.dir) return PathEntry{ENOTDIR, false, false, ""};
    }
    auto it = entries.find(p);
    return it == entries.end() ? PathEntry{ENOENT, false, false, ""} : it->second;
  }
  PathResolver resolver() {
    PathLookup l;
    l.entry = [this](const std::string& p) { return lstat(p); };
    l.cwd = [this]() -> std::optional<std::string> { return cwd; };
    return PathResolver(l);
  }
};

FakeTree sample() {
  FakeTree t;
  t.dir("/a/b/c");
  t.file("/a/b/f");
  t.file("/a/top");
  t.link("/a/abs", "/a/b");     // absolute target
  t.link("/a/rel", "b/c");      // relative target
  t.link("/a/b/up", "../top");  // relative target with ..
  t.link("/chain1", "chain2");  // chain: relative, then absolute, then relative
  t.link("/chain2", "/a/chain3");
  t.link("/a/chain3", "rel");
  t.link("/dangling", "/nowhere/x");
  t.link("/loop1", "loop2");
  t.link("/loop2", "/loop1");
  t.link("/self", "self");
  t.link("/tofile", "a/b/f");
  t.link("/root", "/");
  t.cwd = "/a/b";
  return t;
}

TEST(PathResolver, RootAndPlainPaths) {
  FakeTree t = sample();
  PathResolver r = t.resolver();
  EXPECT_EQ(r.canonical("/"), "/");
  EXPECT_EQ(r.canonical("//"), "/");
  EXPECT_EQ(r.canonical("/.."), "/");
  EXPECT_EQ(r.canonical("/../a/./b"), "/a/b");
  EXPECT_EQ(r.canonical("//a///b//c"), "/a/b/c");
  EXPECT_EQ(r.canonical("/a/b/f"), "/a/b/f");
  EXPECT_EQ(r.canonical("/a/b/c/.."), "/a/b");
  EXPECT_EQ(r.canonical(""), std::nullopt);
  EXPECT_EQ(r.weakly_canonical(""), "");
  EXPECT_EQ(r.weakly_canonical("/"), "/");
}

TEST(PathResolver, RelativePathsAgainstTheCurrentDirectory) {
  FakeTree t = sample();
  PathResolver r = t.resolver();
  EXPECT_EQ(r.canonical("."), "/a/b");
  EXPECT_EQ(r.canonical("c"), "/a/b/c");
  EXPECT_EQ(r.canonical("./c/../f"), "/a/b/f");
  EXPECT_EQ(r.canonical(".."), "/a");
  EXPECT_EQ(r.canonical("../../../.."), "/");
  EXPECT_EQ(r.canonical("up"), "/a/top");
  EXPECT_EQ(r.weakly_canonical("c/new/x"), "/a/b/c/new/x");
  // weakly_canonical keeps a relative path whose first element is missing relative.
  EXPECT_EQ(r.weakly_canonical("nope/x/../y"), "nope/y");
  EXPECT_EQ(r.weakly_canonical("nope/.."), ".");
  t.cwd = "/";
  PathResolver at_root = t.resolver();
  EXPECT_EQ(at_root.canonical("a/rel"), "/a/b/c");
  EXPECT_EQ(at_root.canonical(".."), "/");
}

TEST(PathResolver, NoCurrentDirectory) {
  FakeTree t = sample();
  PathLookup l;
  l.entry = [&](const std::string& p) { return t.lstat(p); };
  l.cwd = [] { return std::optional<std::string>(); };
  PathResolver r(l);
  EXPECT_EQ(r.canonical("c"), std::nullopt);
  EXPECT_EQ(r.canonical("/a/b/c"), "/a/b/c");
}

TEST(PathResolver, SymlinksToAbsoluteAndRelativeTargets) {
  FakeTree t = sample();
  PathResolver r = t.resolver();
  EXPECT_EQ(r.canonical("/a/abs"), "/a/b");
  EXPECT_EQ(r.canonical("/a/abs/c"), "/a/b/c");
  EXPECT_EQ(r.canonical("/a/rel"), "/a/b/c");
  EXPECT_EQ(r.canonical("/a/b/up"), "/a/top");
  EXPECT_EQ(r.canonical("/root/a/rel"), "/a/b/c");
  EXPECT_EQ(r.canonical("/tofile"), "/a/b/f");
  EXPECT_EQ(r.weakly_canonical("/a/abs/new/../x"), "/a/b/x");
}

TEST(PathResolver, DotDotAfterASymlinkIsPhysical) {
  FakeTree t = sample();
  PathResolver r = t.resolver();
  EXPECT_EQ(r.canonical("/a/rel/.."), "/a/b");        // not /a
  EXPECT_EQ(r.canonical("/a/abs/../top"), "/a/top");  // /a/b/.. = /a
  EXPECT_EQ(r.canonical("/root/.."), "/");
  EXPECT_EQ(r.weakly_canonical("/a/rel/../missing"), "/a/b/missing");
  // Lexically these would be /a and /a/missing.
}

TEST(PathResolver, ChainsOfSymlinks) {
  FakeTree t = sample();
  PathResolver r = t.resolver();
  EXPECT_EQ(r.canonical("/chain1"), "/a/b/c");
  EXPECT_EQ(r.canonical("/chain1/.."), "/a/b");
  EXPECT_EQ(r.weakly_canonical("/chain1/new"), "/a/b/c/new");
}

TEST(PathResolver, FortySymlinksResolveTheFortyFirstLoops) {
  FakeTree t;
  t.dir("/end");
  for (int i = 0; i < 41; ++i)
    t.link("/l" + std::to_string(i), i == 40 ? "/end" : "l" + std::to_string(i + 1));
  PathResolver r = t.resolver();
  EXPECT_EQ(r.canonical("/l1"), "/end");  // 40 links
  EXPECT_EQ(r.canonical("/l0"), std::nullopt);
  EXPECT_EQ(r.weakly_canonical("/l0/x"), "/l0/x");  // ELOOP: the input, as it was
  EXPECT_FALSE(r.exists("/l0"));
  EXPECT_TRUE(r.exists("/l1"));
}

TEST(PathResolver, LoopsFailAndWeaklyCanonicalReturnsTheInput) {
  FakeTree t = sample();
  PathResolver r = t.resolver();
  EXPECT_EQ(r.canonical("/loop1"), std::nullopt);
  EXPECT_EQ(r.canonical("/self/x"), std::nullopt);
  EXPECT_EQ(r.weakly_canonical("/loop1"), "/loop1");
  EXPECT_EQ(r.weakly_canonical("/a/../self/x/"), "/a/../self/x/");
  EXPECT_FALSE(r.exists("/self"));
}

TEST(PathResolver, DanglingSymlinks) {
  FakeTree t = sample();
  PathResolver r = t.resolver();
  EXPECT_EQ(r.canonical("/dangling"), std::nullopt);
  EXPECT_FALSE(r.exists("/dangling"));
  // stat() of the link fails with ENOENT, so weakly_canonical stops before it, not at its target.
  EXPECT_EQ(r.weakly_canonical("/dangling"), "/dangling");
  EXPECT_EQ(r.weakly_canonical("/a/abs/../../dangling/y"), "/dangling/y");
}

TEST(PathResolver, TrailingSlashes) {
  FakeTree t = sample();
  PathResolver r = t.resolver();
  EXPECT_EQ(r.canonical("/a/b/"), "/a/b");
  EXPECT_EQ(r.canonical("/a/abs/"), "/a/b");
  EXPECT_EQ(r.canonical("/a/b/f/"), std::nullopt);
  EXPECT_EQ(r.canonical("/tofile/"), std::nullopt);
  EXPECT_EQ(r.canonical("/a/b/f/."), std::nullopt);
  EXPECT_EQ(r.canonical("/a/b/f/.x"), std::nullopt);
  EXPECT_EQ(r.weakly_canonical("/a/b/"), "/a/b");
  EXPECT_EQ(r.weakly_canonical("/a/b/f/"), "/a/b/f/");
  EXPECT_EQ(r.weakly_canonical("/a/new/"), "/a/new/");
  EXPECT_EQ(r.weakly_canonical("/a/new//x//"), "/a/new/x/");
}

TEST(PathResolver, PathsThroughAFile) {
  FakeTree t = sample();
  PathResolver r = t.resolver();
  EXPECT_EQ(r.canonical("/a/b/f/x"), std::nullopt);
  EXPECT_EQ(r.canonical("/a/b/f/.."), std::nullopt);  // not /a/b: f is no directory
  EXPECT_EQ(r.canonical("/tofile/x"), std::nullopt);
  EXPECT_FALSE(r.exists("/a/b/f/.."));
  EXPECT_EQ(r.weakly_canonical("/a/b/f/x"), "/a/b/f/x");
  EXPECT_EQ(r.weakly_canonical("/tofile/x"), "/a/b/f/x");  // /tofile exists: resolved
  EXPECT_EQ(r.weakly_canonical("/a/b/f/../c"), "/a/b/c");  // lexical on the missing tail
}

TEST(PathResolver, NonExistentTails) {
  FakeTree t = sample();
  PathResolver r = t.resolver();
  EXPECT_EQ(r.canonical("/a/b/missing"), std::nullopt);
  EXPECT_EQ(r.weakly_canonical("/a/b/missing"), "/a/b/missing");
  EXPECT_EQ(r.weakly_canonical("/a/rel/m1/./m2/../m3"), "/a/b/c/m1/m3");
  EXPECT_EQ(r.weakly_canonical("/missing/../a/rel"), "/a/rel");  // lexical once missing
  EXPECT_EQ(r.weakly_canonical("/a/b/c/../../../../x"), "/x");
}

TEST(PathResolver, OtherErrorsFailWithoutGuessing) {
  FakeTree t = sample();
  t.add("/locked", PathEntry{EACCES, false, false, ""});
  PathResolver r = t.resolver();
  EXPECT_EQ(r.canonical("/locked"), std::nullopt);
  EXPECT_EQ(r.canonical("/locked/x"), std::nullopt);
  EXPECT_EQ(r.weakly_canonical("/locked/x/.."), "/locked/x/..");
  EXPECT_FALSE(r.exists("/locked"));
}

TEST(PathResolver, EachEntryIsLookedUpOnceUntilForgotten) {
  FakeTree t = sample();
  PathResolver r = t.resolver();
  for (int i = 0; i < 3; ++i) {
    r.canonical("/a/b/c");
    r.canonical("/a/rel/..");
    r.weakly_canonical("/a/b/c/new/deeper");
    r.exists("/chain1");
  }
  for (const auto& [path, n] : t.asked) EXPECT_EQ(n, 1) << path;
  EXPECT_EQ(r.lookups(), t.asked.size());
  // /a /a/b /a/b/c /a/rel /a/b/c/new /chain1 /chain2 /a/chain3
  EXPECT_EQ(r.lookups(), 8u);
  r.forget();
  t.dir("/a/b/c/new");
  EXPECT_EQ(r.canonical("/a/b/c/new"), "/a/b/c/new");
  EXPECT_EQ(t.asked["/a/b"], 2);
}

// ---- Differential: the real functions on a real tree.

std::string realpath_of(const std::string& p, bool* ok) {
  char buf[PATH_MAX];
  *ok = ::realpath(p.c_str(), buf) != nullptr;
  return *ok ? buf : "";
}

std::string weakly_of(const std::string& p) {  // resolve.cc's canonicalization before the resolver
  std::error_code ec;
  std::filesystem::path c = std::filesystem::weakly_canonical(p, ec);
  return ec ? p : c.lexically_normal().string();
}

class RealTree : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mcpcell-paths-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    char cwd[PATH_MAX];
    ASSERT_NE(::getcwd(cwd, sizeof cwd), nullptr);
    old_cwd_ = cwd;
    mk("d");
    mk("d/sub");
    mk("d/sub/deep");
    touch("d/f");
    touch("d/sub/f");
    ln(root_ + "/d/sub", "abs");  // absolute
    ln("d/sub", "rel");           // relative
    ln("chain2", "chain1");       // relative -> absolute -> relative
    ln(root_ + "/chain3", "chain2");
    ln("rel/deep", "chain3");
    ln("nowhere", "dangling");
    ln(root_ + "/nowhere/deeper", "dangabs");
    ln("loop2", "loop1");
    ln(root_ + "/loop1", "loop2");
    ln("self", "self");
    ln("d/sub/..", "up");       // a target with ..
    ln("../..", "d/sub/back");  // relative target leaving the directory
    ln("../sub/f", "d/sub/dotdot");
    ln("d/f", "filelink");
    ln("/", "d/toroot");
    ln("f", "d/sub/deep/dead");                // dangling, relative, inside
    ln("../../rel/deep", "d/sub/deep/twist");  // through another link
    for (int i = 0; i < 41; ++i)
      ln(i == 40 ? "d" : "c" + std::to_string(i + 1), "c" + std::to_string(i));
  }
  void TearDown() override {
    ASSERT_EQ(::chdir(old_cwd_.c_str()), 0);
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  void mk(const std::string& rel) { ASSERT_EQ(::mkdir((root_ + "/" + rel).c_str(), 0755), 0); }
  void touch(const std::string& rel) {
    FILE* f = ::fopen((root_ + "/" + rel).c_str(), "w");
    ASSERT_NE(f, nullptr);
    ::fclose(f);
  }
  void ln(const std::string& target, const std::string& rel) {
    ASSERT_EQ(::symlink(target.c_str(), (root_ + "/" + rel).c_str()), 0) << rel;
  }

  // Absolute and relative spellings of generated paths: a start that exists (often through a
  // link), then names of the tree, dots, missing names, doubled and trailing slashes.
  std::vector<std::string> generated(size_t count) {
    const std::vector<std::string> starts = {"d",
                                             "d/sub",
                                             "d/sub/deep",
                                             "d/f",
                                             "abs",
                                             "rel",
                                             "chain1",
                                             "chain3",
                                             "up",
                                             "d/sub/back",
                                             "d/sub/dotdot",
                                             "filelink",
                                             "d/toroot",
                                             "d/sub/deep/twist",
                                             "c1",
                                             "dangling",
                                             "dangabs",
                                             "loop1",
                                             "self",
                                             "c0",
                                             "missing",
                                             ".",
                                             ".."};
    const std::vector<std::string> words = {
        "d",        "sub",     "deep",  "f",       "abs",      "rel",  "chain1", "chain3",
        "dangling", "dangabs", "loop1", "self",    "up",       "back", "dotdot", "filelink",
        "toroot",   "dead",    "twist", "missing", ".",        "..",   "..",     "..",
        "c0",       "c1",      "tmp",   "",        "sub/deep", "deep", "sub",    "."};
    const std::vector<std::string> common = {".", "..", "sub", "deep", "f"};
    std::mt19937 rng(20261203);
    std::set<std::string> out;
    for (const std::string& w : words) {
      out.insert(root_ + "/" + w);
      out.insert(w);
    }
    for (const char* odd : {"", "/", "//", "///", "./", "..//", ".//missing//", "//tmp/"}) {
      out.insert(odd);
      out.insert("//" + root_ + "/" + odd);
    }
    while (out.size() < count) {
      std::string p = starts[rng() % starts.size()];
      size_t n = rng() % 4;
      for (size_t i = 0; i < n; ++i) {
        p += rng() % 8 == 0 ? "//" : "/";
        // Half the time a name that most directories of the tree have.
        p += rng() % 2 ? words[rng() % words.size()] : common[rng() % common.size()];
      }
      if (rng() % 6 == 0) p += "/";
      switch (rng() % 4) {  // the current directory is d/sub
        case 0:
          break;
        case 1:
          p = "../../" + p;
          break;
        default:
          p = root_ + "/" + p;
      }
      out.insert(p);
    }
    return {out.begin(), out.end()};
  }

  void check_all(PathResolver& r, const std::vector<std::string>& paths, size_t* resolvable) {
    for (const std::string& p : paths) {
      bool ok;
      std::string want = realpath_of(p, &ok);
      std::optional<std::string> got = r.canonical(p);
      EXPECT_EQ(got.has_value(), ok) << "realpath " << p;
      if (got && ok) {
        EXPECT_EQ(*got, want) << "realpath " << p;
      }
      EXPECT_EQ(r.weakly_canonical(p), weakly_of(p)) << "weakly_canonical " << p;
      std::error_code ec;
      EXPECT_EQ(r.exists(p), std::filesystem::exists(p, ec)) << "exists " << p;
      if (ok) ++*resolvable;
    }
  }

  std::string root_, old_cwd_;
};

TEST_F(RealTree, EqualsRealpathAndWeaklyCanonical) {
  ASSERT_EQ(::chdir((root_ + "/d/sub").c_str()), 0);  // relative paths start below a symlink target
  std::vector<std::string> paths = generated(600);
  PathResolver warm(real_path_lookup());  // one cache for every path, as in a plan
  size_t resolvable = 0;
  check_all(warm, paths, &resolvable);
  // The generated set must exercise both outcomes in earnest.
  EXPECT_GT(resolvable, paths.size() / 8);
  EXPECT_LT(resolvable, paths.size() * 7 / 8);
  for (const std::string& p : paths) {  // and each with a cache of its own
    PathResolver cold(real_path_lookup());
    size_t ignored = 0;
    check_all(cold, {p}, &ignored);
  }
  for (const std::string& p : std::vector<std::string>{
           root_ + "/c0", root_ + "/c1", root_ + "/c1/sub/..", "../../c0", "../../c1"}) {
    PathResolver cold(real_path_lookup());
    bool ok;
    std::string want = realpath_of(p, &ok);
    EXPECT_EQ(cold.canonical(p), ok ? std::optional<std::string>(want) : std::nullopt) << p;
    EXPECT_EQ(cold.weakly_canonical(p), weakly_of(p)) << p;
  }
}

TEST_F(RealTree, FewerLookupsThanRealpath) {
  PathResolver r(real_path_lookup());
  for (const std::string& p : generated(300)) r.weakly_canonical(p);
  // Every distinct entry once: the tree has fewer than 80 and the generated paths reach few more.
  EXPECT_LT(r.lookups(), 400u);
}

}  // namespace
}  // namespace mcpcell::sandbox
