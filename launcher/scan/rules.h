// Scan rules are data: launcher/scan/rules/*.json, compiled into the binary at build time. Each
// file is one category (secret, pii, poisoning, hidden) with default actions and an allowlist; each
// rule has a pattern understood by both Hyperscan and RE2, an optional wider RE2 `span` for what to
// redact, an optional offline validator, and examples and negatives that the unit tests iterate.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace mcpcell::scan {

// What to do with a finding. `unset` defers to the next level (tool, rule, category, built-in).
enum class Action : uint8_t { unset, off, warn, redact, strip, visible, block, withhold };
const char* to_string(Action a);
bool parse_action(std::string_view s, Action* out);

// Where a message is: client to server, server to client, or a server's answer to a list request
// (tools/list, prompts/list, resources/list, resources/templates/list, initialize's instructions).
enum class Where : uint8_t { c2s = 0, s2c = 1, lists = 2 };
const char* to_string(Where w);

struct ActionSet {
  Action by_where[3] = {Action::unset, Action::unset, Action::unset};
  Action get(Where w) const { return by_where[static_cast<int>(w)]; }
  bool any_set() const;
};
// Accepts "redact" (every place) or {"c2s": "block", "s2c": "redact", "lists": "withhold"}.
Status parse_action_set(const nlohmann::json& j, ActionSet* out);

struct Rule {
  std::string id;
  std::string category;
  std::string description;
  std::string pattern;    // Hyperscan and RE2 (byte semantics, no look-around, no backreferences)
  std::string span;       // RE2 only: what to act on; empty means `pattern`. Group 1 if it has one.
  std::string validator;  // see validators.h; empty means none
  ActionSet action;       // overrides the category's defaults
  bool fallback = false;  // a generic rule: yields to any specific rule that finds the same bytes
  std::vector<std::string> allow;  // RE2 patterns; a finding matching one is ignored
  std::vector<std::string> examples;
  std::vector<std::string> negatives;
};

struct Category {
  std::string name;
  std::string description;
  bool enabled = true;
  ActionSet action;
  std::vector<std::string> allow;
};

struct RuleBook {
  std::vector<Category> categories;
  std::vector<Rule> rules;
  const Category* category(std::string_view name) const;
  const Rule* rule(std::string_view id) const;
};

// Parses one rule file and appends its category and rules.
Status parse_rule_file(std::string_view text, RuleBook* book);

// The rules compiled into the binary: launcher/scan/rules/*.json, parsed by parse_rule_file at
// build time (mcpcell-rules-index), so a broken rule file fails the build and a start parses
// nothing. `status` (optional) is always Ok; it stays for callers that load rule files.
const RuleBook& builtin_rules(Status* status);

}  // namespace mcpcell::scan
