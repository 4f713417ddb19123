#include "scan/policy.h"

namespace mcpcell::scan {
using nlohmann::json;

namespace {

// Fills unset places of `into` from `from`.
void underlay(ActionSet* into, const ActionSet& from) {
  for (int i = 0; i < 3; ++i)
    if (into->by_where[i] == Action::unset) into->by_where[i] = from.by_where[i];
}

Status check_keys(const json& j, std::initializer_list<const char*> known, const std::string& where) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool ok = false;
    for (const char* k : known) ok |= it.key() == k;
    if (!ok) return Status::Error(where + ": unknown key \"" + it.key() + "\"");
  }
  return Status::Ok();
}

Status compile_list(const json& j, const std::string& where,
                    std::vector<std::unique_ptr<Pattern>>* out) {
  if (!j.is_array()) return Status::Error(where + " must be an array of patterns");
  for (const auto& p : j) {
    if (!p.is_string()) return Status::Error(where + " must be an array of patterns");
    std::string err;
    auto re = compile_pattern(p.get<std::string>(), &err);
    if (!re) return Status::Error(where + ": " + p.get<std::string>() + ": " + err);
    out->push_back(std::move(re));
  }
  return Status::Ok();
}

}  // namespace

std::unique_ptr<Policy> Policy::build(const json& scan_in, const RuleBook& book, Status* status,
                                      const std::string& cache_dir) {
  static const json kEmpty = json::object();
  const json& scan = scan_in.is_object() ? scan_in : kEmpty;
  if (!scan_in.is_null() && !scan_in.is_object()) {
    *status = Status::Error("scan: must be an object");
    return nullptr;
  }
  auto fail = [&](Status s) -> std::unique_ptr<Policy> {
    *status = Status::Error("scan policy: " + s.message());
    return nullptr;
  };
  Status s = check_keys(scan, {"enabled", "categories", "rules", "tools", "allow", "server_requests"},
                        "scan");
  if (!s) return fail(s);
  auto p = std::unique_ptr<Policy>(new Policy());
  p->enabled_ = scan.value("enabled", true);

  // Categories: enabled flag and action overrides.
  std::map<std::string, std::pair<bool, ActionSet>, std::less<>> cats;
  for (const auto& c : book.categories) cats[c.name] = {c.enabled, ActionSet{}};
  if (scan.contains("categories")) {
    const json& cj = scan["categories"];
    if (!cj.is_object()) return fail(Status::Error("categories must be an object"));
    for (auto it = cj.begin(); it != cj.end(); ++it) {
      auto c = cats.find(it.key());
      if (c == cats.end()) return fail(Status::Error("unknown category \"" + it.key() + "\""));
      const json& v = it.value();
      if (v.is_string() || (v.is_object() && !v.contains("enabled") && !v.contains("action"))) {
        s = parse_action_set(v, &c->second.second);
        if (!s) return fail(Status::Error("categories." + it.key() + ": " + s.message()));
        c->second.first = true;  // naming an action for a category switches it on
        continue;
      }
      if (!v.is_object()) return fail(Status::Error("categories." + it.key() + " must be an object"));
      s = check_keys(v, {"enabled", "action"}, "categories." + it.key());
      if (!s) return fail(s);
      c->second.first = v.value("enabled", true);
      if (v.contains("action")) {
        s = parse_action_set(v["action"], &c->second.second);
        if (!s) return fail(Status::Error("categories." + it.key() + ": " + s.message()));
      }
    }
  }

  // Rules: enabled flag, action, extra allow patterns.
  const json* rj = scan.contains("rules") ? &scan["rules"] : nullptr;
  if (rj && !rj->is_object()) return fail(Status::Error("rules must be an object"));
  if (rj) {
    for (auto it = rj->begin(); it != rj->end(); ++it)
      if (!book.rule(it.key())) return fail(Status::Error("unknown rule \"" + it.key() + "\""));
  }
  std::vector<Rule> selected;
  std::vector<uint8_t> places;
  bool tool_overrides = scan.contains("tools");
  for (const Rule& r : book.rules) {
    const auto& cat = cats[r.category];
    bool enabled = cat.first;
    ActionSet chain;
    Rule copy = r;
    if (rj && rj->contains(r.id)) {
      const json& v = (*rj)[r.id];
      if (v.is_string()) {
        s = parse_action_set(v, &chain);
        if (!s) return fail(Status::Error("rules." + r.id + ": " + s.message()));
        enabled = true;
      } else if (v.is_object()) {
        s = check_keys(v, {"enabled", "action", "allow"}, "rules." + r.id);
        if (!s) return fail(s);
        enabled = v.value("enabled", v.contains("action") ? true : enabled);
        if (v.contains("action")) {
          s = parse_action_set(v["action"], &chain);
          if (!s) return fail(Status::Error("rules." + r.id + ": " + s.message()));
        }
        if (v.contains("allow")) {
          if (!v["allow"].is_array()) return fail(Status::Error("rules." + r.id + ".allow must be an array"));
          for (const auto& a : v["allow"])
            if (a.is_string()) copy.allow.push_back(a.get<std::string>());
        }
      } else {
        return fail(Status::Error("rules." + r.id + " must be an action or an object"));
      }
    }
    if (!enabled) continue;
    underlay(&chain, cat.second);
    underlay(&chain, r.action);
    if (const Category* c = book.category(r.category)) {
      underlay(&chain, c->action);
      for (const auto& a : c->allow) copy.allow.push_back(a);
    }
    bool any = false;
    for (Action a : chain.by_where) any |= a != Action::unset && a != Action::off;
    // A rule off everywhere still runs when a tool might switch it on; otherwise skip it.
    if (!any && !scan.contains("tools")) continue;
    uint8_t where = 0;
    for (int w = 0; w < 3; ++w)
      if (tool_overrides || (chain.by_where[w] != Action::unset && chain.by_where[w] != Action::off))
        where |= static_cast<uint8_t>(1u << w);
    selected.push_back(std::move(copy));
    places.push_back(where);
    p->chain_.push_back(chain);
  }

  // Tools.
  if (scan.contains("tools")) {
    const json& tj = scan["tools"];
    if (!tj.is_object()) return fail(Status::Error("tools must be an object"));
    for (auto it = tj.begin(); it != tj.end(); ++it) {
      const json& v = it.value();
      std::string where = "tools." + it.key();
      if (!v.is_object()) return fail(Status::Error(where + " must be an object"));
      s = check_keys(v, {"action", "rules", "allow"}, where);
      if (!s) return fail(s);
      ToolPolicy tp;
      if (v.contains("action")) {
        s = parse_action_set(v["action"], &tp.action);
        if (!s) return fail(Status::Error(where + ": " + s.message()));
      }
      if (v.contains("rules")) {
        if (!v["rules"].is_object()) return fail(Status::Error(where + ".rules must be an object"));
        for (auto r = v["rules"].begin(); r != v["rules"].end(); ++r) {
          if (!book.rule(r.key())) return fail(Status::Error(where + ": unknown rule \"" + r.key() + "\""));
          ActionSet as;
          s = parse_action_set(r.value(), &as);
          if (!s) return fail(Status::Error(where + ".rules." + r.key() + ": " + s.message()));
          tp.rules[r.key()] = as;
        }
      }
      if (v.contains("allow")) {
        s = compile_list(v["allow"], where + ".allow", &tp.allow);
        if (!s) return fail(s);
      }
      p->tools_[it.key()] = std::move(tp);
    }
  }
  if (scan.contains("allow")) {
    s = compile_list(scan["allow"], "allow", &p->allow_);
    if (!s) return fail(s);
  }

  p->server_requests_["sampling/createMessage"] = ServerRequestAction::log;
  p->server_requests_["elicitation/create"] = ServerRequestAction::log;
  if (scan.contains("server_requests")) {
    const json& sj = scan["server_requests"];
    if (!sj.is_object()) return fail(Status::Error("server_requests must be an object"));
    for (auto it = sj.begin(); it != sj.end(); ++it) {
      std::string a = it.value().is_string() ? it.value().get<std::string>() : "";
      ServerRequestAction x;
      if (a == "allow") x = ServerRequestAction::allow;
      else if (a == "log") x = ServerRequestAction::log;
      else if (a == "deny") x = ServerRequestAction::deny;
      else return fail(Status::Error("server_requests." + it.key() + ": use allow, log or deny"));
      p->server_requests_[it.key()] = x;
    }
  }

  p->engine_ = Engine::build(std::move(selected), &s, cache_dir, std::move(places));
  if (!p->engine_) return fail(s);
  *status = Status::Ok();
  return p;
}

Action Policy::action(uint32_t rule, Where where, std::string_view tool) const {
  Action a = Action::unset;
  if (!tool.empty()) {
    auto t = tools_.find(tool);
    if (t != tools_.end()) {
      auto r = t->second.rules.find(engine_->rules()[rule].id);
      if (r != t->second.rules.end()) a = r->second.get(where);
      if (a == Action::unset) a = t->second.action.get(where);
    }
  }
  if (a == Action::unset) a = chain_[rule].get(where);
  if (a == Action::unset) return Action::off;
  // Withholding only means something for advertised items; elsewhere it is a warning.
  if (a == Action::withhold && where != Where::lists) return Action::warn;
  return a;
}

bool Policy::allowed(std::string_view finding, std::string_view tool) const {
  for (const auto& re : allow_)
    if (re->partial_match(finding)) return true;
  if (!tool.empty()) {
    auto t = tools_.find(tool);
    if (t != tools_.end())
      for (const auto& re : t->second.allow)
        if (re->partial_match(finding)) return true;
  }
  return false;
}

ServerRequestAction Policy::server_request(std::string_view method) const {
  auto it = server_requests_.find(method);
  return it == server_requests_.end() ? ServerRequestAction::allow : it->second;
}

}  // namespace mcpcell::scan
