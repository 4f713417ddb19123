// The seccomp policy as data: which system calls a sandboxed server may make, grouped under
// systemd-style names, and the few calls whose arguments decide (ioctl, socket, clone, personality).
//
// The filter is an allowlist whose default action is SECCOMP_RET_USER_NOTIF: every refused call
// reaches mcpcell, which logs it as `sandbox.denied` and answers EPERM (ENOSYS for calls runtimes
// probe for, like io_uring_setup). Nothing is ever killed and nothing is ever continued. Foreign
// architectures (i386 `int 0x80`, x32) take the same path.
//
// libseccomp refuses a rule whose action equals the default, so a "deny these ioctl numbers"
// rule cannot be written directly in an allowlist that notifies by default. Instead the allowed
// ioctl space is written as a union of masked equalities on the low 32 bits that covers every
// number except TIOCSTI and TIOCLINUX (see `masked_cover`); high bits are ignored by the mask, so
// TIOCSTI | (1 << 32) is still refused (CVE-2019-10063).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mcpcell::sandbox {

struct SyscallGroup {
  std::string_view name;      // "@basic-io"
  bool default_on;            // part of every sandbox
  bool may_enable;            // a profile may add it through syscall_groups
  std::vector<std::string_view> calls;
};

// Every group mcpcell knows, in table order.
const std::vector<SyscallGroup>& syscall_groups();

// Calls that are refused with ENOSYS rather than EPERM, because runtimes probe for them and fall
// back when the kernel "lacks" them (libuv's io_uring, glibc's clone3).
bool refuse_with_enosys(std::string_view call);

// One masked equality on a 32-bit value: matches when (v & mask) == value.
struct MaskedEq {
  uint32_t mask;
  uint32_t value;
};

// Masked equalities whose union is exactly the complement of `denied` within 32-bit values.
// Requires the denied values to differ in at most 8 bit positions (true for TIOCSTI/TIOCLINUX).
std::vector<MaskedEq> masked_cover(const std::vector<uint32_t>& denied);

// The argument-checked rules, as data for the compiler and the tests.
struct ArgRules {
  std::vector<uint32_t> denied_ioctls;          // TIOCSTI, TIOCLINUX
  std::vector<uint64_t> socket_families;        // AF_UNIX, AF_INET, AF_INET6
  uint64_t netlink_family;                      // AF_NETLINK, allowed only with protocol below
  uint64_t netlink_protocol;                    // NETLINK_ROUTE
  uint64_t clone_namespace_flags;               // clone() with any of these is refused
  std::vector<uint64_t> personalities;          // allowed personality() arguments
};
const ArgRules& arg_rules();

// A compiled filter: classic BPF, ready for seccomp(SECCOMP_SET_MODE_FILTER).
struct CompiledFilter {
  std::vector<uint64_t> insns;  // struct sock_filter is 8 bytes; stored as raw words
  size_t count = 0;             // number of instructions
  std::vector<std::string> enabled_groups;
  std::vector<std::string> unknown_calls;  // names this libseccomp cannot resolve (left denied)
};

// Compiles the default groups plus `extra_groups` for the native architecture. Fails (false plus
// an error) on an unknown or forbidden group name. Runs in the parent, before anything is forked.
bool compile_filter(const std::vector<std::string>& extra_groups, CompiledFilter* out,
                    std::string* error);

// compile_filter() through a cache under `cache_dir` (mcpcell's own state, never visible to a
// sandbox): libseccomp takes milliseconds to build the program, a cached one loads in microseconds.
// The key covers the rule table, the groups, and libseccomp's version and kernel API level.
bool load_or_compile_filter(const std::vector<std::string>& extra_groups,
                            const std::string& cache_dir, CompiledFilter* out, std::string* error);

// Name of syscall `nr` for audit architecture `arch` (as in seccomp_data), e.g. "io_uring_setup",
// "x32:read", "i386:getpid"; "#<nr>" when unknown.
std::string syscall_name(uint32_t arch, int nr);

}  // namespace mcpcell::sandbox
