// The scan section of a profile, compiled once per session: which rules run, what each one does
// where, and what is allowed. Resolution order for one finding, first set wins:
//   tools.<tool>.rules.<rule>  >  tools.<tool>.action  >  rules.<rule>.action
//   >  categories.<category>.action  >  the rule's own action  >  its category's action  >  off
// Each level may give one action for every place or one per place (c2s, s2c, lists).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "scan/engine.h"
#include "scan/rules.h"

namespace mcpcell::scan {

enum class ServerRequestAction : uint8_t { allow, log, deny };

class Policy {
 public:
  // `scan` is ChainConfig.policy["scan"] (null or absent means the defaults).
  static std::unique_ptr<Policy> build(const nlohmann::json& scan, const RuleBook& book,
                                       Status* status, const std::string& cache_dir = {});

  bool enabled() const { return enabled_; }
  Engine& engine() { return *engine_; }
  const Engine& engine() const { return *engine_; }

  Action action(uint32_t rule, Where where, std::string_view tool) const;
  // True when the global or the tool's allowlist covers this finding.
  bool allowed(std::string_view finding, std::string_view tool) const;
  ServerRequestAction server_request(std::string_view method) const;

 private:
  struct ToolPolicy {
    ActionSet action;
    std::map<std::string, ActionSet, std::less<>> rules;
    std::vector<std::unique_ptr<Pattern>> allow;
  };
  bool enabled_ = true;
  std::unique_ptr<Engine> engine_;
  std::vector<ActionSet> chain_;  // per engine rule: policy rule > policy category > rule > category
  std::map<std::string, ToolPolicy, std::less<>> tools_;
  std::vector<std::unique_ptr<Pattern>> allow_;
  std::map<std::string, ServerRequestAction, std::less<>> server_requests_;
};

}  // namespace mcpcell::scan
