// The scan module's implementation of engine.h: Hyperscan fires, RE2 finds spans. Built into
// mcpcell-scan.so (and, for tests and benchmarks, linked directly); nothing outside this file
// includes either library's headers, so mcpcell itself links neither (module.h).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include <hs/hs.h>
#include <re2/re2.h>

#include "scan/engine.h"
#include "scan/module.h"
#include "scan/validators.h"

namespace mcpcell::scan {

namespace {

std::unique_ptr<RE2> compile_re2(const std::string& pattern, std::string* error) {
  RE2::Options o;
  o.set_encoding(RE2::Options::EncodingLatin1);
  o.set_log_errors(false);
  o.set_max_mem(64 << 20);
  auto re = std::make_unique<RE2>(pattern, o);
  if (!re->ok()) {
    if (error) *error = re->error();
    return nullptr;
  }
  return re;
}

uint64_t fnv1a(uint64_t h, std::string_view s) {
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return (h ^ 0xFF) * 1099511628211ULL;  // separator, so ("ab","c") differs from ("a","bc")
}

// Databases (~250 KB each here) are written once, whole, by deserialization or compilation, and
// then only read. Mapped with MAP_POPULATE, the kernel fills all their pages in one call instead of
// taking a page fault for each 4 KiB as Hyperscan writes them (~60 per database, ~2 µs apiece in a
// VM): that work sits in every session's start, beside the sandbox's child building its root.
constexpr size_t kDbHeader = 64;  // keeps the size for munmap; Hyperscan wants 8-byte alignment
void* db_alloc(size_t n) {
  size_t total = n + kDbHeader;
  void* p = ::mmap(nullptr, total, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  std::memcpy(p, &total, sizeof total);
  return static_cast<char*>(p) + kDbHeader;
}
void db_free(void* q) {
  if (q == nullptr) return;
  char* p = static_cast<char*>(q) - kDbHeader;
  size_t total;
  std::memcpy(&total, p, sizeof total);
  ::munmap(p, total);
}

// Loads a cached database straight from a private mapping of its file: no buffer to grow or
// zero-fill, since Hyperscan copies the bytes into its own allocation anyway.
bool load_database(const std::string& path, hs_database_t** db) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return false;
  struct stat st {};
  void* map = MAP_FAILED;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
    map = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) return false;
  bool ok = hs_deserialize_database(static_cast<const char*>(map), static_cast<size_t>(st.st_size),
                                    db) == HS_SUCCESS;
  ::munmap(map, static_cast<size_t>(st.st_size));
  if (!ok) *db = nullptr;
  return ok;
}

void write_file(const std::string& dir, const std::string& path, const char* data, size_t size) {
  ::mkdir(dir.c_str(), 0700);
  std::string tmp = path + ".tmp" + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return;
  bool ok = ::write(fd, data, size) == static_cast<ssize_t>(size);
  ok = ::close(fd) == 0 && ok;
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) ::unlink(tmp.c_str());
}

// True when the pattern has a repeat without an upper bound (*, +, {n,}) outside a character
// class. Only a quick look at the text: a wrong "true" merely costs speed.
bool unbounded(std::string_view p) {
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '\\') {
      ++i;
    } else if (c == '[') {
      size_t j = i + 1;
      if (j < p.size() && p[j] == '^') ++j;
      if (j < p.size() && p[j] == ']') ++j;  // a literal ] first in the class
      for (; j < p.size() && p[j] != ']'; ++j)
        if (p[j] == '\\') ++j;
      i = j;
    } else if (c == '*' || c == '+') {
      return true;
    } else if (c == '{') {
      size_t j = i + 1;
      while (j < p.size() && p[j] >= '0' && p[j] <= '9') ++j;
      if (j + 1 < p.size() && p[j] == ',' && p[j + 1] == '}') return true;
    }
  }
  return false;
}

// The engine. Its state is what one scanning thread needs between fired() and spans().
class HsEngine final : public Engine {
 public:
  static std::unique_ptr<Engine> build(std::vector<Rule> rules, Status* status,
                                       const std::string& cache_dir, std::vector<uint8_t> places);
  ~HsEngine() override;

  const std::vector<Rule>& rules() const override { return rules_; }
  long index(std::string_view id) const override;
  void fired(std::string_view text, std::vector<uint32_t>* fired, Where where) override;
  const std::vector<uint32_t>* ends(uint32_t i) const override;
  void spans(uint32_t i, std::string_view text, std::vector<Span>* out,
             const std::vector<uint32_t>* ends) const override;
  void find(std::string_view text, std::vector<Span>* out) override;

 private:
  HsEngine() = default;
  std::vector<Rule> rules_;
  // RE2 programs are compiled when their rule first fires: compiling all of them took ~25 ms of
  // every start, and most rules never fire in a session. A rule set is still checked whole when
  // it is first seen (no cached Hyperscan database), so a bad pattern fails at load, not later.
  struct Compiled {
    std::once_flag once;
    std::unique_ptr<RE2> span;
    std::vector<std::unique_ptr<RE2>> allow;
    bool ok = false;
    // Longest match of the Hyperscan pattern (the prefilter's, so an upper bound), or 0 when
    // unbounded, when it can match the empty string, or when RE2 uses a `span` of its own: then
    // RE2 reads from where it stands.
    size_t max_width = 0;
  };
  const Compiled& compiled(uint32_t i) const;
  static bool compile_rule(const Rule& r, Compiled* c, std::string* error);
  mutable std::unique_ptr<Compiled[]> re_;
  hs_database* db_[3] = {nullptr, nullptr, nullptr};
  hs_scratch* scratch_ = nullptr;  // allocated for all three databases
  std::vector<uint32_t> fired_scratch_;
  // Per rule, the match ends of the last scan; `full` once too many to keep them all.
  struct Hits {
    std::vector<std::vector<uint32_t>>* ends;
    std::vector<uint32_t>* fired;
    size_t kept = 0;
    bool full = false;
  };
  static int on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
                      void* ctx);
  std::vector<std::vector<uint32_t>> ends_;
  std::vector<uint32_t> dirty_;  // the rules whose ends_ are not empty
  // Per rule: its pattern is RE2's and has no unbounded repeat, so it reports every match end.
  std::vector<bool> windowed_;
  bool ends_complete_ = true;
};

std::unique_ptr<Engine> HsEngine::build(std::vector<Rule> rules, Status* status,
                                        const std::string& cache_dir, std::vector<uint8_t> places) {
  static std::once_flag allocator;
  std::call_once(allocator, [] { hs_set_database_allocator(db_alloc, db_free); });
  std::unique_ptr<HsEngine> e(new HsEngine());
  e->rules_ = std::move(rules);
  places.resize(e->rules_.size(), 0x7);
  e->windowed_.resize(e->rules_.size());
  for (size_t i = 0; i < e->rules_.size(); ++i)
    e->windowed_[i] = e->rules_[i].span.empty() && !unbounded(e->rules_[i].pattern);
  e->re_ = std::make_unique<Compiled[]>(e->rules_.size());
  bool all_cached = !cache_dir.empty();
  for (int w = 0; w < 3; ++w) {
    std::vector<const char*> exprs;
    std::vector<unsigned> flags, ids;
    for (size_t i = 0; i < e->rules_.size(); ++i) {
      if (!(places[i] & (1u << w))) continue;
      exprs.push_back(e->rules_[i].pattern.c_str());
      // Prefilter mode: Hyperscan may over-approximate a pattern (large bounded repeats compile
      // much faster) but never misses; RE2 confirms every hit anyway.
      // Every match end is reported for the rules RE2 can then search near their matches
      // (benign text fires nothing, so this costs nothing there). The others stop at their first
      // match: a megabyte of zero-width characters would otherwise be a callback per character.
      flags.push_back(HS_FLAG_PREFILTER | (e->windowed_[i] ? 0 : HS_FLAG_SINGLEMATCH));
      ids.push_back(static_cast<unsigned>(i));
    }
    if (exprs.empty()) continue;
    std::string cache_path;
    if (!cache_dir.empty()) {
      uint64_t h = fnv1a(1469598103934665603ULL, hs_version());
      // A database is tuned for the CPU that built it and does not load on a lesser one (or
      // under valgrind); keying by platform keeps two kinds of machine from evicting each other.
      hs_platform_info_t plat{};
      if (hs_populate_platform(&plat) == HS_SUCCESS)
        h ^= (static_cast<uint64_t>(plat.tune) << 48) ^ (plat.cpu_features << 56);
      for (size_t i = 0; i < exprs.size(); ++i) {
        h = fnv1a(h, exprs[i]) ^ (static_cast<uint64_t>(flags[i]) << 1) ^ (uint64_t{ids[i]} << 40);
        // The RE2 side too: a cached database vouches that the whole rule compiled.
        const Rule& r = e->rules_[ids[i]];
        h = fnv1a(h, r.span.c_str());
        for (const auto& a : r.allow) h = fnv1a(h, a.c_str());
      }
      char name[40];
      std::snprintf(name, sizeof name, "/scan-%016llx.hsdb", static_cast<unsigned long long>(h));
      cache_path = cache_dir + name;
      load_database(cache_path, &e->db_[w]);
    }
    if (!e->db_[w]) {
      all_cached = false;
      hs_compile_error_t* cerr = nullptr;
      if (hs_compile_multi(exprs.data(), flags.data(), ids.data(),
                           static_cast<unsigned>(exprs.size()), HS_MODE_BLOCK, nullptr, &e->db_[w],
                           &cerr) != HS_SUCCESS) {
        std::string what = cerr && cerr->message ? cerr->message : "compile failed";
        std::string id = cerr && cerr->expression >= 0 ? e->rules_[ids[cerr->expression]].id : "?";
        hs_free_compile_error(cerr);
        *status = Status::Error("rule " + id + ": " + what);
        return nullptr;
      }
      if (!cache_path.empty()) {
        char* bytes = nullptr;
        size_t size = 0;
        if (hs_serialize_database(e->db_[w], &bytes, &size) == HS_SUCCESS) {
          write_file(cache_dir, cache_path, bytes, size);
          std::free(bytes);
        }
      }
    }
    if (hs_alloc_scratch(e->db_[w], &e->scratch_) != HS_SUCCESS) {
      *status = Status::Error("cannot allocate Hyperscan scratch");
      return nullptr;
    }
  }
  if (!all_cached) {
    for (size_t i = 0; i < e->rules_.size(); ++i) {
      std::string err;
      Compiled& c = e->re_[i];
      bool ok = false;
      std::call_once(c.once, [&] { ok = c.ok = compile_rule(e->rules_[i], &c, &err); });
      if (!ok) {
        *status = Status::Error("rule " + e->rules_[i].id + ": " + err);
        return nullptr;
      }
    }
  }
  *status = Status::Ok();
  return e;
}

bool HsEngine::compile_rule(const Rule& r, Compiled* c, std::string* error) {
  c->span = compile_re2(r.span.empty() ? r.pattern : r.span, error);
  if (!c->span) return false;
  hs_expr_info_t* info = nullptr;
  hs_compile_error_t* cerr = nullptr;
  if (r.span.empty() &&
      hs_expression_info(r.pattern.c_str(), HS_FLAG_PREFILTER, &info, &cerr) == HS_SUCCESS &&
      info && info->max_width != UINT_MAX && info->min_width > 0)
    c->max_width = info->max_width;
  std::free(info);
  if (cerr) hs_free_compile_error(cerr);
  for (const auto& a : r.allow) {
    auto are = compile_re2(a, error);
    if (!are) {
      *error = "allow pattern " + a + ": " + *error;
      return false;
    }
    c->allow.push_back(std::move(are));
  }
  return true;
}

const HsEngine::Compiled& HsEngine::compiled(uint32_t i) const {
  Compiled& c = re_[i];
  std::call_once(c.once, [&] {
    std::string err;
    c.ok = compile_rule(rules_[i], &c, &err);
  });
  return c;
}

HsEngine::~HsEngine() {
  if (scratch_) hs_free_scratch(scratch_);
  for (hs_database* db : db_)
    if (db) hs_free_database(db);
}

long HsEngine::index(std::string_view id) const {
  for (size_t i = 0; i < rules_.size(); ++i)
    if (rules_[i].id == id) return static_cast<long>(i);
  return -1;
}

// Enough for thousands of findings in one message; past it RE2 reads whole texts again, and a
// message built to fire a rule at every byte costs bounded memory.
constexpr size_t kMaxEnds = 1 << 16;

int HsEngine::on_match(unsigned id, unsigned long long, unsigned long long to, unsigned,
                       void* ctx) {
  Hits& h = *static_cast<Hits*>(ctx);
  std::vector<uint32_t>& e = (*h.ends)[id];
  if (e.empty()) h.fired->push_back(id);
  if (h.kept < kMaxEnds) {
    if (e.empty() || e.back() != to) {
      e.push_back(static_cast<uint32_t>(to));
      ++h.kept;
    }
  } else {
    h.full = true;
    if (e.empty()) e.push_back(static_cast<uint32_t>(to));  // marks the rule fired
  }
  return 0;
}

void HsEngine::fired(std::string_view text, std::vector<uint32_t>* fired, Where where) {
  for (uint32_t i : dirty_) ends_[i].clear();
  dirty_.clear();
  fired->clear();
  ends_complete_ = true;
  hs_database* db = db_[static_cast<int>(where)];
  if (!db || text.empty()) return;
  if (ends_.size() != rules_.size()) ends_.resize(rules_.size());
  Hits h{&ends_, fired};
  // Hyperscan takes an unsigned length; lines are capped far below 4 GiB by the relay.
  hs_scan(db, text.data(), static_cast<unsigned>(text.size()), 0, scratch_, on_match, &h);
  std::sort(fired->begin(), fired->end());
  // Reported in order of end offset, but that is not promised across a database's engines.
  for (uint32_t i : *fired) {
    std::vector<uint32_t>& e = ends_[i];
    if (!std::is_sorted(e.begin(), e.end())) std::sort(e.begin(), e.end());
  }
  ends_complete_ = !h.full;
  dirty_ = *fired;
}

const std::vector<uint32_t>* HsEngine::ends(uint32_t i) const {
  if (!ends_complete_ || i >= ends_.size() || !windowed_[i] || ends_[i].empty()) return nullptr;
  return &ends_[i];
}

void HsEngine::spans(uint32_t i, std::string_view text, std::vector<Span>* out,
                     const std::vector<uint32_t>* ends) const {
  const Compiled& c = compiled(i);
  const Rule& rule = rules_[i];
  if (!c.ok) {
    // Cannot happen for a rule set that compiled when its cache was written; if the cache lied,
    // act on the whole text rather than let a finding through.
    out->push_back({i, 0, text.size()});
    return;
  }
  const RE2& re = *c.span;
  int groups = std::min(re.NumberOfCapturingGroups(), 1);
  re2::StringPiece m[2];
  re2::StringPiece input(text.data(), text.size());
  size_t pos = 0;
  if (c.max_width == 0) ends = nullptr;
  // With the match ends: every match of the pattern is non-empty, at most W long, and ends at
  // one of them. So for the next end e after pos, a match starting at s <= e lies wholly within
  // [e - W, e + W], and RE2 run on just that window (it still sees the bytes around it, for \b
  // and $) finds the leftmost one. The window with no match rules out every start before the
  // first end beyond it, so the next window starts there; no byte is read more than twice.
  const size_t W = c.max_width;
  size_t k = 0, lo = 0;  // no match starts in [pos, lo)
  for (;;) {
    if (pos > text.size()) break;
    bool found;
    if (ends) {
      while (k < ends->size() && (*ends)[k] <= pos) ++k;
      if (k == ends->size()) break;
      size_t e = (*ends)[k];
      size_t from = std::max({pos, lo, e > W ? e - W : 0});
      if (from > e) {  // every start up to e is ruled out already
        ++k;
        continue;
      }
      size_t to = std::min(text.size(), e + W);
      found = re.Match(input, from, to, RE2::UNANCHORED, m, groups + 1);
      if (!found) {
        // No match ends in [from, to]: the next one ends beyond `to`.
        lo = std::max(lo, from);
        while (k < ends->size() && (*ends)[k] <= to) ++k;
        continue;
      }
      if (static_cast<size_t>(m[0].data() - text.data()) > e) {
        // Starts after e: an earlier start may have a match reaching past the window.
        lo = std::max(lo, e + 1);
        ++k;
        continue;
      }
    } else {
      found = re.Match(input, pos, text.size(), RE2::UNANCHORED, m, groups + 1);
      if (!found) break;
    }
    re2::StringPiece secret = (groups && m[1].data()) ? m[1] : m[0];
    size_t mend = static_cast<size_t>(m[0].data() - text.data()) + m[0].size();
    pos = m[0].empty() ? mend + 1 : mend;
    lo = pos;
    std::string_view s(secret.data(), secret.size());
    if (s.empty() || !validate(rule.validator, s)) continue;
    bool allowed = false;
    for (const auto& a : c.allow)
      if (RE2::PartialMatch(re2::StringPiece(s.data(), s.size()), *a)) {
        allowed = true;
        break;
      }
    if (allowed) continue;
    size_t b = static_cast<size_t>(s.data() - text.data());
    out->push_back({i, b, b + s.size()});
  }
}

void HsEngine::find(std::string_view text, std::vector<Span>* out) {
  fired(text, &fired_scratch_, Where::lists);
  for (uint32_t i : fired_scratch_) spans(i, text, out, ends(i));
  drop_shadowed(rules_, out);
}

class Re2Pattern final : public Pattern {
 public:
  explicit Re2Pattern(std::unique_ptr<RE2> re) : re_(std::move(re)) {}
  bool partial_match(std::string_view text) const override {
    return RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *re_);
  }

 private:
  std::unique_ptr<RE2> re_;
};

std::unique_ptr<Pattern> new_pattern(const std::string& pattern, std::string* error) {
  auto re = compile_re2(pattern, error);
  if (!re) return nullptr;
  return std::make_unique<Re2Pattern>(std::move(re));
}

constexpr ModuleApi kApi = {kModuleAbi, sizeof(ModuleApi), HsEngine::build, new_pattern};

}  // namespace
}  // namespace mcpcell::scan

// The module's only exported symbol: everything else in it is local (module.map).
extern "C" __attribute__((visibility("default"))) const mcpcell::scan::ModuleApi*
mcpcell_scan_module() {
  return &mcpcell::scan::kApi;
}
