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
  // scratch: one thread at a time.
  void fired(std::string_view text, std::vector<uint32_t>* fired, Where where = Where::lists);
  // Appends the validated, non-allowlisted spans of rule `i` in `text`.
  void spans(uint32_t i, std::string_view text, std::vector<Span>* out) const;
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
  };
  const Compiled& compiled(uint32_t i) const;
  static bool compile_rule(const Rule& r, Compiled* c, std::string* error);
  mutable std::unique_ptr<Compiled[]> re_;
  hs_database* db_[3] = {nullptr, nullptr, nullptr};
  hs_scratch* scratch_ = nullptr;  // allocated for all three databases
  std::vector<uint32_t> fired_scratch_;
};

// Sorts spans by position and drops those of fallback rules that overlap a specific rule's span.
void drop_shadowed(const std::vector<Rule>& rules, std::vector<Span>* spans);

// Compiles an RE2 pattern with the engine's options (bytes, quiet). Null and a message on error.
std::unique_ptr<RE2> compile_re2(const std::string& pattern, std::string* error);

}  // namespace mcpcell::scan
