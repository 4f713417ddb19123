// Two engines, each for what it is good at. Hyperscan (or Vectorscan) runs every enabled rule over
// the text in one pass and only says which rules fired; that is the hot path, and on ordinary
// traffic it is all that runs. RE2 then runs just the rules that fired, to find the exact spans,
// check them with the rule's validator and drop allowlisted ones. Both see bytes (Hyperscan without
// HS_FLAG_UTF8, RE2 in Latin-1 mode), so a pattern means the same thing to both and can name
// UTF-8 byte sequences such as the tag characters.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <re2/re2.h>

#include "core/status.h"
#include "scan/rules.h"

struct hs_database;
struct hs_scratch;

namespace mcpcell::scan {

struct Span {
  uint32_t rule;  // index into Engine::rules()
  size_t begin, end;
};

class Engine {
 public:
  // Compiling the Hyperscan database takes a few hundred milliseconds; when `cache_dir` is given
  // the serialized database is kept there (keyed by a hash of the patterns and the library
  // version) and later sessions load it in about a millisecond. A cache that does not load is
  // recompiled and rewritten.
  //
  // `places[i]` says where rule i can act (bit 1 << Where); one database is built per place so a
  // tool result is not slowed by rules that only matter for tool lists. Empty: everywhere.
  static std::unique_ptr<Engine> build(std::vector<Rule> rules, Status* status,
                                       const std::string& cache_dir = {},
                                       std::vector<uint8_t> places = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  const std::vector<Rule>& rules() const { return rules_; }
  long index(std::string_view id) const;

  // Sets `fired` to the rules that match somewhere in `text` (ascending). Uses the engine's own
  // scratch: one thread at a time. Also keeps where each fired rule's matches end (see ends()).
  void fired(std::string_view text, std::vector<uint32_t>* fired, Where where = Where::lists);
  // Where rule i's Hyperscan matches ended in the text of the last fired() call (ascending), or
  // null when they were not all kept (too many). Hyperscan in prefilter mode over-approximates but
  // never misses, so every match of the rule's pattern ends at one of these offsets.
  const std::vector<uint32_t>* ends(uint32_t i) const;
  // Appends the validated, non-allowlisted spans of rule `i` in `text`. With `ends` (from ends(),
  // for this text) RE2 starts its search near each match instead of reading the whole text once
  // per fired rule, which was three quarters of the time of redacting many keys in a large result.
  void spans(uint32_t i, std::string_view text, std::vector<Span>* out,
             const std::vector<uint32_t>* ends = nullptr) const;
  // Both: every finding in `text`.
  void find(std::string_view text, std::vector<Span>* out);

 private:
  Engine() = default;
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

// Sorts spans by position and drops those of fallback rules that overlap a specific rule's span.
void drop_shadowed(const std::vector<Rule>& rules, std::vector<Span>* spans);

// Compiles an RE2 pattern with the engine's options (bytes, quiet). Null and a message on error.
std::unique_ptr<RE2> compile_re2(const std::string& pattern, std::string* error);

}  // namespace mcpcell::scan
