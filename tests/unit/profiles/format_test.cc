// The profile format: every mistake is reported with file:line:col, the key, and what was expected.
#include <gtest/gtest.h>

#include <set>

#include "profiles/catalog.h"
#include "profiles/profile.h"

namespace mcpcell::profiles {
namespace {

std::string error_of(const std::string& text) {
  Profile p;
  std::string err;
  EXPECT_FALSE(parse_profile(text, "t", "t.json", &p, &err)) << text;
  return err;
}

TEST(Format, MinimalProfileGrantsNothing) {
  Profile p;
  std::string err;
  ASSERT_TRUE(parse_profile("{\"schema\": 1}", "t", "t.json", &p, &err)) << err;
  EXPECT_TRUE(p.fs_read.empty() && p.fs_write.empty() && p.net_allow.empty());
  EXPECT_FALSE(p.has_network);
  EXPECT_TRUE(p.match.empty());
  EXPECT_TRUE(p.pins.is_null());
}

TEST(Format, FullProfileParses) {
  const char* text = R"({
    "$schema": "./schema.json",
    "schema": 1,
    "description": "d",
    "extends": ["runtime:node"],
    "match": {"npm": ["@a/b"], "pypi": ["x-y"], "executables": ["b"]},
    "filesystem": {"read": ["~/r", "${cwd}"], "write": ["${args}", "${dir:opt:--db}"], "hide": ["/h"]},
    "network": {"allow": ["api.example.com:443", "*.example.org", "${host:arg:1}"], "install": []},
    "env": {"pass": ["TOKEN", "LC_*"], "set": {"A": "${state}/a", "B": ""}},
    "limits": {"memory": "512MiB", "processes": 64, "files": 1024},
    "syscalls": {"allow": ["@debug"]},
    "cwd": "${state}",
    "pins": {"mode": "strict"},
    "scan": {"rules": {"x": "off"}}
  })";
  Profile p;
  std::string err;
  ASSERT_TRUE(parse_profile(text, "t", "t.json", &p, &err)) << err;
  EXPECT_EQ(p.fs_write[1].text, "${dir:opt:--db}");
  EXPECT_EQ(p.fs_write[1].line, 7);
  EXPECT_TRUE(p.has_network);
  EXPECT_EQ(p.memory->value, 512u << 20);
  EXPECT_EQ(p.memory->line, 10);
  EXPECT_EQ(p.env_set[0].first, "A");
  EXPECT_EQ(p.pins["mode"], "strict");
}

TEST(Format, ErrorsNameFileLineKeyAndExpectation) {
  struct Case {
    std::string text;
    std::string expect;
  } cases[] = {
      {"{}", "t.json:1:1: missing \"schema\": 1"},
      {"{\"schema\": 2}", "t.json:1:2: schema: expected 1"},
      {"{\"schema\": 1,\n \"filesytem\": {}}",
       "t.json:2:2: filesytem: unknown key \"filesytem\"; expected one of:"},
      {"{\"schema\": 1,\n \"filesystem\": {\n  \"read\": \"/a\"}}",
       "t.json:3:3: filesystem.read: expected an array of strings, found a string"},
      {"{\"schema\": 1, \"filesystem\": {\"read\": [\n \"/a\",\n \"relative/b\"]}}",
       "t.json:3:2: filesystem.read[1]: a path must start with '/', '~/' or a placeholder"},
      {"{\"schema\": 1, \"filesystem\": {\"write\": [\"${argz}\"]}}",
       "unknown placeholder ${argz}"},
      {"{\"schema\": 1, \"filesystem\": {\"write\": [\"${args}/${args}\"]}}",
       "at most one ${args}"},
      {"{\"schema\": 1, \"filesystem\": {\"write\": [\"${host:arg:1}\"]}}", "network entries only"},
      {"{\"schema\": 1, \"network\": {\n\"allow\": [\"api.example.com:99999\"]}}",
       "t.json:2:11: network.allow[0]: port must be a number from 1 to 65535"},
      {"{\"schema\": 1, \"network\": {\"allow\": [\"Bad_Host\"]}}", "is not a host name"},
      {"{\"schema\": 1, \"network\": {\"allow\": [\"a.*.com\"]}}", "'*' is allowed only"},
      {"{\"schema\": 1, \"network\": {\"allow\": [\"example.com.\"]}}", "trailing dot"},
      {"{\"schema\": 1, \"network\": {\"allow\": [\"${opt:--x}\"]}}", "exactly one ${host:...}"},
      {"{\"schema\": 1, \"network\": {\"deny\": []}}", "network.deny: unknown key"},
      {"{\"schema\": 1, \"env\": {\"pass\": [\"A-B\"]}}", "env.pass[0]: expected a variable name"},
      {"{\"schema\": 1, \"env\": {\"set\": {\"1A\": \"x\"}}}",
       "env.set.1A: \"1A\" is not a variable name"},
      {"{\"schema\": 1, \"env\": {\"set\": {\"A\": 5}}}",
       "env.set.A: expected a string, found a number"},
      {"{\"schema\": 1, \"env\": {\"set\": {\"A\": \"${args}\"}}}", "use ${arg:N} in a value"},
      {"{\"schema\": 1, \"limits\": {\"memory\": \"lots\"}}",
       "limits.memory: expected a size such as"},
      {"{\"schema\": 1, \"limits\": {\"processes\": \"10\"}}",
       "limits.processes: expected a positive whole number"},
      {"{\"schema\": 1, \"limits\": {\"files\": 0}}", "limits.files: must be greater than 0"},
      {"{\"schema\": 1, \"syscalls\": {\"allow\": [\"@debugging\"]}}",
       "unknown syscall group \"@debugging\""},
      {"{\"schema\": 1, \"syscalls\": [\"@debug\"]}", "syscalls: expected an object"},
      {"{\"schema\": 1, \"extends\": [\"Runtime Node\"]}", "extends[0]: expected a profile name"},
      {"{\"schema\": 1, \"match\": {\"cargo\": []}}", "match.cargo: unknown key"},
      {"{\"schema\": 1, \"pins\": []}", "pins: expected an object (the pins policy)"},
      {"{\"schema\": 1, \"cwd\": \"here\"}", "cwd: a path must start with"},
      {"{\"schema\": 1, \"filesystem\": {\"read\": [\"${arg:0}\"]}}",
       "${arg:N} needs a number N >= 1"},
      {"{\"schema\": 1, \"filesystem\": {\"read\": [\"${opt:db}\"]}}",
       "needs option names like --db-path"},
      {"{\"schema\": 1, \"filesystem\": {\"read\": [\"${env:}\"]}}",
       "${env:NAME} needs a variable name"},
      {"{\"schema\": 1, \"filesystem\": {\"read\": [\"${cwd\"]}}", "unterminated placeholder"},
      {"{\"schema\": 1,}", "t.json:1:14: expected a member name after ','"},
  };
  for (const Case& c : cases) {
    std::string err = error_of(c.text);
    EXPECT_NE(err.find(c.expect), std::string::npos) << "text: " << c.text << "\nerror: " << err;
  }
}

TEST(Format, Sizes) {
  uint64_t n = 0;
  EXPECT_TRUE(parse_size("1048576", &n) && n == 1048576u);
  EXPECT_TRUE(parse_size("64K", &n) && n == 65536u);
  EXPECT_TRUE(parse_size("2GiB", &n) && n == (2ull << 30));
  EXPECT_TRUE(parse_size("3 MiB", &n) && n == (3ull << 20));
  EXPECT_FALSE(parse_size("1.5G", &n));
  EXPECT_FALSE(parse_size("G", &n));
  EXPECT_FALSE(parse_size("99999999999999999999", &n));
  EXPECT_FALSE(parse_size("20000000000T", &n));
}

TEST(Format, SyscallGroups) {
  EXPECT_TRUE(known_syscall_group("@debug"));
  EXPECT_FALSE(known_syscall_group("debug"));
  EXPECT_TRUE(forbidden_syscall_group("@mount"));
  EXPECT_FALSE(forbidden_syscall_group("@aio"));
}

}  // namespace
}  // namespace mcpcell::profiles

// profiles/schema.json (what editors validate with) and the validator accept the same keys.
namespace mcpcell::profiles {
namespace {

TEST(Format, SchemaAndValidatorAgree) {
  nlohmann::json schema = nlohmann::json::parse(builtin_schema(), nullptr, false);
  ASSERT_FALSE(schema.is_discarded());
  const nlohmann::json sample = {
      {"$schema", "x"},
      {"schema", 1},
      {"description", "d"},
      {"extends", {"runtime:node"}},
      {"match", {{"npm", {"a"}}, {"pypi", {"b"}}, {"executables", {"c"}}}},
      {"filesystem", {{"read", {"/a"}}, {"write", {"/b"}}, {"hide", {"/c"}}}},
      {"network", {{"allow", {"a.com:443"}}, {"install", {"b.com:443"}}}},
      {"env", {{"pass", {"A"}}, {"set", {{"B", "c"}}}}},
      {"limits", {{"memory", "1GiB"}, {"processes", 1}, {"files", 1}}},
      {"syscalls", {{"allow", {"@aio"}}}},
      {"cwd", "/"},
      {"pins", nlohmann::json::object()},
      {"scan", nlohmann::json::object()}};
  std::set<std::string> schema_keys, sample_keys;
  for (auto it = schema["properties"].begin(); it != schema["properties"].end(); ++it) {
    schema_keys.insert(it.key());
    const nlohmann::json& sub = it.value();
    if (sub.contains("properties"))
      for (auto s = sub["properties"].begin(); s != sub["properties"].end(); ++s)
        schema_keys.insert(it.key() + "." + s.key());
  }
  for (auto it = sample.begin(); it != sample.end(); ++it) {
    sample_keys.insert(it.key());
    if (it->is_object() && it.key() != "pins" && it.key() != "scan")
      for (auto s = it->begin(); s != it->end(); ++s) sample_keys.insert(it.key() + "." + s.key());
  }
  EXPECT_EQ(schema_keys, sample_keys);
  Profile p;
  std::string err;
  EXPECT_TRUE(parse_profile(sample.dump(), "s", "s.json", &p, &err)) << err;
  for (const auto& g : schema["properties"]["syscalls"]["properties"]["allow"]["items"]["enum"])
    EXPECT_TRUE(known_syscall_group(g.get<std::string>())) << g;
}

}  // namespace
}  // namespace mcpcell::profiles
