// The scan module's loader (module_loader.h): where it looks, which files and tables it refuses,
// and that it loads the module the build made. This binary links the loader, not the engine, as
// mcpcell does, and has no module next to it.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "scan/engine.h"
#include "scan/module_loader.h"
#include "scan/policy.h"

namespace mcpcell::scan {
namespace {

struct stat file(mode_t mode, uid_t uid) {
  struct stat st {};
  st.st_mode = mode;
  st.st_uid = uid;
  return st;
}

TEST(ModuleLoader, LooksNextToTheExecutableThenInTheInstalledLibdir) {
  std::vector<std::string> c = module_candidates("/opt/mc/bin");
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0], "/opt/mc/bin/mcpcell-scan.so");
  EXPECT_EQ(c[1].rfind("/opt/mc/", 0), 0u) << c[1];
  EXPECT_NE(c[1].find("/mcpcell/mcpcell-scan.so"), std::string::npos) << c[1];
  EXPECT_EQ(c[1].find(".."), std::string::npos) << c[1];
}

TEST(ModuleLoader, AcceptsAModuleOwnedByRootOrByTheExecutablesOwner) {
  EXPECT_EQ(refuse_module_file("/m.so", file(S_IFREG | 0755, 0), 1000), "");
  EXPECT_EQ(refuse_module_file("/m.so", file(S_IFREG | 0644, 1000), 1000), "");
}

TEST(ModuleLoader, RefusesAGroupOrWorldWritableModule) {
  for (mode_t mode : {0775, 0757, 0620, 0602}) {
    std::string why = refuse_module_file("/lib/m.so", file(S_IFREG | mode, 0), 0);
    EXPECT_NE(why.find("/lib/m.so"), std::string::npos) << why;
    EXPECT_NE(why.find("writable by group or others"), std::string::npos) << why;
  }
}

TEST(ModuleLoader, RefusesAModuleOfAnotherOwner) {
  std::string why = refuse_module_file("/lib/m.so", file(S_IFREG | 0755, 1234), 1000);
  EXPECT_NE(why.find("owned by uid 1234"), std::string::npos) << why;
  EXPECT_NE(why.find("reinstall mcpcell"), std::string::npos) << why;
}

TEST(ModuleLoader, RefusesWhatIsNotARegularFile) {
  EXPECT_NE(refuse_module_file("/lib/m.so", file(S_IFDIR | 0755, 0), 0), "");
}

TEST(ModuleLoader, RefusesATableOfAnotherAbi) {
  ModuleApi other = {kModuleAbi + 1, sizeof(ModuleApi), nullptr, nullptr};
  std::string why = refuse_module_api("/lib/m.so", &other);
  EXPECT_NE(why.find("another build"), std::string::npos) << why;
  ModuleApi shorter = {kModuleAbi, sizeof(ModuleApi) - 8, nullptr, nullptr};
  EXPECT_NE(refuse_module_api("/lib/m.so", &shorter), "");
  EXPECT_NE(refuse_module_api("/lib/m.so", nullptr), "");
  ModuleApi same = {kModuleAbi, sizeof(ModuleApi), nullptr, nullptr};
  EXPECT_EQ(refuse_module_api("/lib/m.so", &same), "");
}

TEST(ModuleLoader, LoadsTheBuiltModuleAndItsEngineWorks) {
  std::string error;
  const ModuleApi* api = open_module(SCAN_MODULE, &error);
  ASSERT_NE(api, nullptr) << error;
  auto pattern = api->compile_pattern("ab+c", &error);
  ASSERT_TRUE(pattern) << error;
  EXPECT_TRUE(pattern->partial_match("xxabbbcxx"));
  EXPECT_FALSE(pattern->partial_match("xxacxx"));
  EXPECT_FALSE(api->compile_pattern("(unclosed", &error));

  Rule r;
  r.id = "test-token";
  r.pattern = "tok_[a-z]{8}";
  Status s;
  auto engine = api->build_engine({r}, &s, {}, {});
  ASSERT_TRUE(engine) << s.message();
  std::vector<Span> spans;
  engine->find("a tok_abcdefgh here", &spans);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].begin, 2u);
  EXPECT_EQ(spans[0].end, 14u);
}

TEST(ModuleLoader, RefusesAModuleBuiltForAnotherAbi) {
  std::string error;
  EXPECT_EQ(open_module(WRONG_ABI_MODULE, &error), nullptr);
  EXPECT_NE(error.find("another build of mcpcell"), std::string::npos) << error;
  EXPECT_NE(error.find(WRONG_ABI_MODULE), std::string::npos) << error;
}

TEST(ModuleLoader, ReportsAMissingModuleFile) {
  std::string error;
  EXPECT_EQ(open_module("/nonexistent/mcpcell-scan.so", &error), nullptr);
  EXPECT_NE(error.find("/nonexistent/mcpcell-scan.so"), std::string::npos) << error;
  EXPECT_NE(error.find("reinstall mcpcell"), std::string::npos) << error;
}

// This test binary has no module next to it (nor in ../lib/.../mcpcell/): everything that needs
// an engine fails, saying where it looked and what to do.
TEST(ModuleLoader, WithoutAModuleNoEngineIsBuiltAndTheMessageSaysWhy) {
  std::string why;
  EXPECT_FALSE(scan_module_found(&why));
  EXPECT_NE(why.find("mcpcell-scan.so is missing (looked for /"), std::string::npos) << why;
  EXPECT_NE(why.find("reinstall mcpcell"), std::string::npos) << why;
  std::string error;
  EXPECT_EQ(scan_module(&error), nullptr);
  EXPECT_EQ(error, why);
  Status s;
  EXPECT_FALSE(Engine::build({}, &s));
  EXPECT_EQ(s.message(), why);
  EXPECT_FALSE(compile_pattern("a", &error));
  EXPECT_EQ(error, why);
  Status ps;
  Status rs;
  EXPECT_FALSE(Policy::build(nullptr, builtin_rules(&rs), &ps));
  EXPECT_NE(ps.message().find("mcpcell-scan.so is missing"), std::string::npos) << ps.message();
}

}  // namespace
}  // namespace mcpcell::scan
