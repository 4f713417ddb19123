#include "sandbox/landlock.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace mcpcell::sandbox {
namespace {

// UAPI values (include/uapi/linux/landlock.h).
constexpr uint64_t kExecute = 1ULL << 0, kWriteFile = 1ULL << 1, kReadFile = 1ULL << 2,
                   kReadDir = 1ULL << 3, kRemoveDir = 1ULL << 4, kRemoveFile = 1ULL << 5,
                   kMakeChar = 1ULL << 6, kMakeDir = 1ULL << 7, kMakeReg = 1ULL << 8,
                   kMakeSock = 1ULL << 9, kMakeFifo = 1ULL << 10, kMakeBlock = 1ULL << 11,
                   kMakeSym = 1ULL << 12, kRefer = 1ULL << 13, kTruncate = 1ULL << 14,
                   kIoctlDev = 1ULL << 15;
constexpr uint64_t kScopeAbstractUnix = 1ULL << 0, kScopeSignal = 1ULL << 1;
constexpr uint32_t kCreateRulesetVersion = 1U << 0;
constexpr int kRulePathBeneath = 1;

struct RulesetAttr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;
  uint64_t scoped;
};
struct __attribute__((packed)) PathBeneathAttr {
  uint64_t allowed_access;
  int32_t parent_fd;
};

uint64_t fs_rights(int abi) {
  uint64_t r = kExecute | kWriteFile | kReadFile | kReadDir | kRemoveDir | kRemoveFile | kMakeChar |
               kMakeDir | kMakeReg | kMakeSock | kMakeFifo | kMakeBlock | kMakeSym;
  if (abi >= 2) r |= kRefer;
  if (abi >= 3) r |= kTruncate;
  if (abi >= 5) r |= kIoctlDev;
  return r;
}

}  // namespace

int landlock_abi() {
  long v = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, kCreateRulesetVersion);
  return v < 0 ? 0 : static_cast<int>(v);
}

LandlockPlan landlock_plan(int abi) {
  LandlockPlan p;
  p.abi = abi;
  if (abi <= 0) return p;
  p.handled_fs = fs_rights(abi);
  if (abi >= 6) p.scoped = kScopeAbstractUnix | kScopeSignal;
  return p;
}

void landlock_allow(LandlockPlan* plan, const std::string& path, Access what) {
  if (plan->abi <= 0) return;
  uint64_t read = kExecute | kReadFile | kReadDir;
  uint64_t write = kWriteFile | kRemoveDir | kRemoveFile | kMakeDir | kMakeReg | kMakeSock |
                   kMakeFifo | kMakeSym | kRefer | kTruncate;
  uint64_t a = 0;
  switch (what) {
    case Access::Read: a = read; break;
    case Access::ReadWrite: a = read | write; break;
    case Access::Device: a = kReadFile | kWriteFile | kTruncate | kIoctlDev; break;
  }
  plan->rules.push_back({path, a & plan->handled_fs});
}

std::vector<std::string> landlock_scope_names(const LandlockPlan& plan) {
  std::vector<std::string> out;
  if (plan.scoped & kScopeAbstractUnix) out.push_back("abstract_unix_socket");
  if (plan.scoped & kScopeSignal) out.push_back("signal");
  return out;
}

int landlock_apply(const LandlockPlan& plan) {
  if (plan.abi <= 0) return 0;
  RulesetAttr attr{plan.handled_fs, 0, plan.scoped};
  // Older ABIs reject unknown trailing fields: pass only the size they know.
  size_t size = plan.abi >= 6 ? sizeof attr : (plan.abi >= 4 ? 16 : 8);
  long rs = ::syscall(SYS_landlock_create_ruleset, &attr, size, 0);
  if (rs < 0) return errno;
  int ruleset = static_cast<int>(rs);
  for (const LandlockRule& r : plan.rules) {
    int fd = ::open(r.path.c_str(), O_PATH | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) continue;
      int e = errno;
      ::close(ruleset);
      return e;
    }
    PathBeneathAttr pb{r.access, fd};
    // A rule on a non-directory may only carry file rights.
    long rc = ::syscall(SYS_landlock_add_rule, ruleset, kRulePathBeneath, &pb, 0);
    if (rc < 0 && errno == EINVAL) {
      pb.allowed_access &= kExecute | kWriteFile | kReadFile | kTruncate | kIoctlDev;
      rc = ::syscall(SYS_landlock_add_rule, ruleset, kRulePathBeneath, &pb, 0);
    }
    int e = errno;
    ::close(fd);
    if (rc < 0) {
      ::close(ruleset);
      return e;
    }
  }
  long rc = ::syscall(SYS_landlock_restrict_self, ruleset, 0);
  int e = errno;
  ::close(ruleset);
  return rc < 0 ? e : 0;
}

}  // namespace mcpcell::sandbox
