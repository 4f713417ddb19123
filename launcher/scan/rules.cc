#include "scan/rules.h"

#include "scan/validators.h"

namespace mcpcell::scan {

namespace {
constexpr const char* kActionNames[] = {"unset", "off",     "warn",  "redact",
                                        "strip", "visible", "block", "withhold"};
}

const char* to_string(Action a) {
  return kActionNames[static_cast<int>(a)];
}

bool parse_action(std::string_view s, Action* out) {
  for (int i = 1; i < 8; ++i) {
    if (s == kActionNames[i]) {
      *out = static_cast<Action>(i);
      return true;
    }
  }
  return false;
}

const char* to_string(Where w) {
  switch (w) {
    case Where::c2s:
      return "c2s";
    case Where::s2c:
      return "s2c";
    case Where::lists:
      return "lists";
  }
  return "c2s";
}

bool ActionSet::any_set() const {
  for (Action a : by_where)
    if (a != Action::unset) return true;
  return false;
}

Status parse_action_set(const nlohmann::json& j, ActionSet* out) {
  Action a;
  if (j.is_string()) {
    if (!parse_action(j.get<std::string>(), &a))
      return Status::Error("unknown action \"" + j.get<std::string>() +
                           "\" (use off, warn, redact, strip, visible, block or withhold)");
    for (Action& x : out->by_where) x = a;
    return Status::Ok();
  }
  if (!j.is_object())
    return Status::Error("an action is a string or an object keyed by c2s/s2c/lists");
  for (auto it = j.begin(); it != j.end(); ++it) {
    int w;
    if (it.key() == "c2s")
      w = 0;
    else if (it.key() == "s2c")
      w = 1;
    else if (it.key() == "lists")
      w = 2;
    else
      return Status::Error("unknown place \"" + it.key() + "\" (use c2s, s2c or lists)");
    if (!it.value().is_string() || !parse_action(it.value().get<std::string>(), &a))
      return Status::Error("bad action for " + it.key());
    out->by_where[w] = a;
  }
  return Status::Ok();
}

const Category* RuleBook::category(std::string_view name) const {
  for (const auto& c : categories)
    if (c.name == name) return &c;
  return nullptr;
}

const Rule* RuleBook::rule(std::string_view id) const {
  for (const auto& r : rules)
    if (r.id == id) return &r;
  return nullptr;
}

namespace {
std::vector<std::string> strings(const nlohmann::json& j, const char* key) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (const auto& s : *it)
    if (s.is_string()) out.push_back(s.get<std::string>());
  return out;
}
std::string string_or(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}
}  // namespace

Status parse_rule_file(std::string_view text, RuleBook* book) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::Error("rule file is not a JSON object");
  Category cat;
  cat.name = string_or(j, "category");
  if (cat.name.empty()) return Status::Error("rule file without \"category\"");
  cat.description = string_or(j, "description");
  cat.enabled = j.value("enabled", true);
  if (j.contains("action")) {
    Status s = parse_action_set(j["action"], &cat.action);
    if (!s) return Status::Error(cat.name + ": " + s.message());
  }
  cat.allow = strings(j, "allow");
  auto rules = j.find("rules");
  if (rules == j.end() || !rules->is_array())
    return Status::Error(cat.name + ": no \"rules\" array");
  for (const auto& rj : *rules) {
    Rule r;
    r.id = string_or(rj, "id");
    r.category = cat.name;
    r.description = string_or(rj, "description");
    r.pattern = string_or(rj, "pattern");
    r.span = string_or(rj, "span");
    r.validator = string_or(rj, "validator");
    if (r.id.empty() || r.pattern.empty())
      return Status::Error(cat.name + ": a rule needs \"id\" and \"pattern\"");
    if (book->rule(r.id)) return Status::Error("duplicate rule id " + r.id);
    if (!r.validator.empty() && !known_validator(r.validator))
      return Status::Error(r.id + ": unknown validator " + r.validator);
    if (rj.contains("action")) {
      Status s = parse_action_set(rj["action"], &r.action);
      if (!s) return Status::Error(r.id + ": " + s.message());
    }
    r.fallback = rj.value("fallback", false);
    r.allow = strings(rj, "allow");
    r.examples = strings(rj, "examples");
    r.negatives = strings(rj, "negatives");
    book->rules.push_back(std::move(r));
  }
  book->categories.push_back(std::move(cat));
  return Status::Ok();
}

}  // namespace mcpcell::scan
