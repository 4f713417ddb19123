// Two engines, each for what it is good at. Hyperscan (or Vectorscan) runs every enabled rule over
// the text in one pass and only says which rules fired; that is the hot path, and on ordinary
// traffic it is all that runs. RE2 then runs just the rules that fired, to find the exact spans,
// check them with the rule's validator and drop allowlisted ones. Both see bytes (Hyperscan without
// HS_FLAG_UTF8, RE2 in Latin-1 mode), so a pattern means the same thing to both and can name
// UTF-8 byte sequences such as the tag characters.
//
// This header names neither library: the implementation (engine.cc) lives in the scan module,
// which mcpcell loads only when it first builds an engine (module.h), so that the dynamic loader
// does not map and relocate libhs and libre2 before main() on every start.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "scan/rules.h"
#include "scan/spans.h"

namespace mcpcell::scan {

class Engine {
 public:
  // Compiling the Hyperscan database takes a few hundred milliseconds; when `cache_dir` is given
  // the serialized database is kept there (keyed by a hash of the patterns and the library
  // version) and later sessions load it in about a millisecond. A cache that does not load is
  // recompiled and rewritten.
  //
  // `places[i]` says where rule i can act (bit 1 << Where); one database is built per place so a
  // tool result is not slowed by rules that only matter for tool lists. Empty: everywhere.
  //
  // Null and an error status also when the scan module cannot be loaded.
  static std::unique_ptr<Engine> build(std::vector<Rule> rules, Status* status,
                                       const std::string& cache_dir = {},
                                       std::vector<uint8_t> places = {});
  virtual ~Engine() = default;

  virtual const std::vector<Rule>& rules() const = 0;
  virtual long index(std::string_view id) const = 0;

  // Sets `fired` to the rules that match somewhere in `text` (ascending). Uses the engine's own
  // scratch: one thread at a time. Also keeps where each fired rule's matches end (see ends()).
  virtual void fired(std::string_view text, std::vector<uint32_t>* fired,
                     Where where = Where::lists) = 0;
  // Where rule i's Hyperscan matches ended in the text of the last fired() call (ascending), or
  // null when they were not all kept (too many). Hyperscan in prefilter mode over-approximates but
  // never misses, so every match of the rule's pattern ends at one of these offsets.
  virtual const std::vector<uint32_t>* ends(uint32_t i) const = 0;
  // Appends the validated, non-allowlisted spans of rule `i` in `text`. With `ends` (from ends(),
  // for this text) RE2 starts its search near each match instead of reading the whole text once
  // per fired rule, which was three quarters of the time of redacting many keys in a large result.
  virtual void spans(uint32_t i, std::string_view text, std::vector<Span>* out,
                     const std::vector<uint32_t>* ends = nullptr) const = 0;
  // Both: every finding in `text`.
  virtual void find(std::string_view text, std::vector<Span>* out) = 0;

 protected:
  Engine() = default;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;
};

// A compiled RE2 pattern, for the policy's allowlists.
class Pattern {
 public:
  virtual ~Pattern() = default;
  virtual bool partial_match(std::string_view text) const = 0;
};

// Compiles an RE2 pattern with the engine's options (bytes, quiet). Null and a message on error,
// also when the scan module cannot be loaded.
std::unique_ptr<Pattern> compile_pattern(const std::string& pattern, std::string* error);

}  // namespace mcpcell::scan
