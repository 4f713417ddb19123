// The seccomp rule table: group consistency, the ioctl cover, and compilation.
#include <gtest/gtest.h>

#include <seccomp.h>
#include <sys/ioctl.h>

#include <filesystem>
#include <random>
#include <set>

#include "sandbox/syscalls.h"

namespace mcpcell::sandbox {
namespace {

bool allowed_by(const std::vector<MaskedEq>& cover, uint32_t v) {
  for (const auto& m : cover)
    if ((v & m.mask) == m.value) return true;
  return false;
}

TEST(Syscalls, IoctlCoverIsExactlyTheComplementOfTheDeniedNumbers) {
  const auto& denied = arg_rules().denied_ioctls;
  auto cover = masked_cover(denied);
  ASSERT_FALSE(cover.empty());
  for (uint32_t d : denied) EXPECT_FALSE(allowed_by(cover, d)) << std::hex << d;
  // Every number near them, and a million random ones, is allowed unless denied.
  for (uint32_t v = 0x5400; v < 0x5500; ++v)
    EXPECT_EQ(allowed_by(cover, v), v != TIOCSTI && v != TIOCLINUX) << std::hex << v;
  std::mt19937 rng(7);
  for (int i = 0; i < 1000000; ++i) {
    uint32_t v = rng();
    if (v == TIOCSTI || v == TIOCLINUX) continue;
    ASSERT_TRUE(allowed_by(cover, v)) << std::hex << v;
  }
  // Common ioctls runtimes use stay allowed.
  for (uint32_t v : {FIONREAD, FIONBIO, FIOCLEX, TCGETS, TIOCGWINSZ})
    EXPECT_TRUE(allowed_by(cover, v)) << std::hex << v;
}

TEST(Syscalls, CoverOfOtherSets) {
  for (std::vector<uint32_t> denied : {std::vector<uint32_t>{0}, {0xffffffffu}, {1, 2, 3},
                                       {0x80000000u, 0x80000001u}}) {
    auto cover = masked_cover(denied);
    for (uint32_t d : denied) EXPECT_FALSE(allowed_by(cover, d));
    for (uint32_t v : {0u, 1u, 2u, 3u, 4u, 0x80000000u, 0x80000001u, 0xffffffffu}) {
      bool is_denied = std::find(denied.begin(), denied.end(), v) != denied.end();
      EXPECT_EQ(allowed_by(cover, v), !is_denied) << v;
    }
  }
}

TEST(Syscalls, NoCallIsBothAllowedByDefaultAndForbidden) {
  std::set<std::string_view> allowed, forbidden;
  for (const auto& g : syscall_groups()) {
    for (auto c : g.calls) (g.default_on ? allowed : forbidden).insert(c);
  }
  for (auto c : allowed) EXPECT_EQ(forbidden.count(c), 0u) << c;
  for (const char* must : {"io_uring_setup", "io_uring_enter", "io_uring_register", "bpf",
                           "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key",
                           "ptrace", "process_vm_readv", "process_vm_writev", "mount",
                           "umount2", "pivot_root", "unshare", "setns", "kexec_load",
                           "init_module", "finit_module", "swapon", "reboot", "settimeofday",
                           "clock_settime", "acct", "syslog", "open_by_handle_at", "open_tree",
                           "move_mount", "fsopen"})
    EXPECT_EQ(allowed.count(must), 0u) << must;
  for (const char* must : {"memfd_create", "rseq", "membarrier", "futex", "epoll_wait", "read",
                           "execve", "mprotect", "getrandom", "statx"})
    EXPECT_EQ(allowed.count(must), 1u) << must;
}

TEST(Syscalls, ProbedCallsGetEnosys) {
  EXPECT_TRUE(refuse_with_enosys("io_uring_setup"));
  EXPECT_TRUE(refuse_with_enosys("clone3"));
  EXPECT_FALSE(refuse_with_enosys("bpf"));
}

TEST(Syscalls, ArgumentRules) {
  const auto& r = arg_rules();
  EXPECT_EQ(r.socket_families.size(), 3u);  // unix, inet, inet6 (+ netlink route separately)
  EXPECT_NE(r.clone_namespace_flags & CLONE_NEWUSER, 0u);
  EXPECT_EQ(std::count(r.personalities.begin(), r.personalities.end(), 0x0400000u), 0);
}

TEST(Syscalls, CompilesAndRefusesBadGroups) {
  CompiledFilter f;
  std::string err;
  ASSERT_TRUE(compile_filter({}, &f, &err)) << err;
  EXPECT_GT(f.count, 100u);
  EXPECT_EQ(f.insns.size(), f.count);
  ASSERT_TRUE(compile_filter({"@debug"}, &f, &err)) << err;
  EXPECT_NE(std::find(f.enabled_groups.begin(), f.enabled_groups.end(), "@debug"),
            f.enabled_groups.end());
  EXPECT_FALSE(compile_filter({"@mount"}, &f, &err));
  EXPECT_NE(err.find("never"), std::string::npos);
  EXPECT_FALSE(compile_filter({"@nonsense"}, &f, &err));
  EXPECT_NE(err.find("unknown"), std::string::npos);
}

TEST(Syscalls, NamesForForeignArchitectures) {
  EXPECT_EQ(syscall_name(0xc000003e /* x86_64 */, 425), "io_uring_setup");
  EXPECT_EQ(syscall_name(0x40000003 /* i386 */, 20), "i386:getpid");
  EXPECT_EQ(syscall_name(0xc000003e, 39 | 0x40000000), "x32:getpid");
}

}  // namespace
}  // namespace mcpcell::sandbox

namespace mcpcell::sandbox {
namespace {

TEST(Syscalls, CachedFilterIsTheCompiledOne) {
  char tmpl[] = "/tmp/mcpcell-bpf-cache-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string dir = std::string(tmpl) + "/cache";
  CompiledFilter fresh, first, cached;
  std::string err;
  ASSERT_TRUE(compile_filter({"@debug"}, &fresh, &err)) << err;
  ASSERT_TRUE(load_or_compile_filter({"@debug"}, dir, &first, &err)) << err;
  ASSERT_TRUE(load_or_compile_filter({"@debug"}, dir, &cached, &err)) << err;
  EXPECT_EQ(fresh.insns, first.insns);
  EXPECT_EQ(fresh.insns, cached.insns);
  EXPECT_EQ(cached.enabled_groups, fresh.enabled_groups);
  // A different group set is a different program, and forbidden groups still fail.
  CompiledFilter other;
  ASSERT_TRUE(load_or_compile_filter({}, dir, &other, &err));
  EXPECT_NE(other.insns, cached.insns);
  EXPECT_FALSE(load_or_compile_filter({"@mount"}, dir, &other, &err));
  std::filesystem::remove_all(tmpl);
}

}  // namespace
}  // namespace mcpcell::sandbox
