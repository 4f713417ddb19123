// Reading the audit trail back for people: what was refused (grouped, counted, with the step that
// would change it), the sessions, and the pins. Pure logic over parsed records, so `log --blocked`,
// `report --html` and the tests share one definition of what counts as a refusal.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mcpcell {

struct RefusalGroup {
  std::string server;
  std::string kind;  // block, redact, warn, withheld, sandbox, network, dropped
  std::string what;  // rule, item, syscall or host, readable
  std::string next;  // the step that would change it
  uint64_t count = 0;
  std::string first, last;  // timestamps
};

struct SessionSummary {
  std::string server, session, start, end, profile, reason;
  nlohmann::json sandbox, command;
  int exit = -1;
  uint64_t messages = 0, refusals = 0;
};

// Fills `g` (without count/first/last) when `record` is a refusal; false otherwise.
bool describe_refusal(const nlohmann::json& record, RefusalGroup* g);

class Review {
 public:
  void add(const nlohmann::json& record);

  // Groups ordered by server, kind, what.
  std::vector<RefusalGroup> refusals() const;
  std::vector<SessionSummary> sessions() const;  // in start order
  // Per server: counts of pin.new / pin.changed / pin.quarantined events.
  std::map<std::string, std::map<std::string, uint64_t>> pin_counts() const { return pins_; }
  uint64_t records() const { return records_; }
  uint64_t refusal_count() const;

 private:
  std::map<std::string, RefusalGroup> groups_;
  std::map<std::string, SessionSummary> sessions_;
  std::vector<std::string> session_order_;
  std::map<std::string, std::map<std::string, uint64_t>> pins_;
  uint64_t records_ = 0;
};

}  // namespace mcpcell
