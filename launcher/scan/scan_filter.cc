// How one message is handled:
//   1. Server-initiated sampling/elicitation requests are allowed, logged or denied.
//   2. The text to scan is the raw line, or its decoded form when it holds escapes (json_text.h).
//   3. Hyperscan says which rules fired. Nothing fired: done, the line goes on untouched.
//   4. RE2 finds the spans of the rules that fired; validators and allowlists drop some; each
//      remaining finding gets its action for this place and tool.
//   5. A block answers the request with an mcpcell: error (or replaces a response with one).
//      Withheld items are flagged for the pins. Redactions and stripped characters rebuild only the
//      string literals they touch. Every action is audited with a fingerprint, never the secret.
#include "scan/scan_filter.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>

#include "scan/json_text.h"
#include "scan/policy.h"

namespace mcpcell {
namespace {

using nlohmann::json;
using scan::Action;
using scan::Where;

bool is_list_method(std::string_view m) {
  return m == "tools/list" || m == "prompts/list" || m == "resources/list" ||
         m == "resources/templates/list" || m == "initialize";
}

const char* item_kind(std::string_view list) {
  if (list == "tools") return "tool";
  if (list == "prompts") return "prompt";
  if (list == "resources") return "resource";
  if (list == "resourceTemplates") return "resource_template";
  return "instructions";
}

// Hidden characters made visible: <U+200B>, <ESC>[31m.
std::string make_visible(std::string_view s) {
  std::string out;
  static const char* hex = "0123456789ABCDEF";
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    uint32_t cp = c;
    size_t n = 1;
    if (c >= 0xF0)
      n = 4, cp = c & 0x07;
    else if (c >= 0xE0)
      n = 3, cp = c & 0x0F;
    else if (c >= 0xC0)
      n = 2, cp = c & 0x1F;
    if (i + n > s.size()) n = 1, cp = c;
    for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    i += n;
    if (cp == 0x1B) {
      out += "<ESC>";
    } else if (cp >= 0x20 && cp < 0x7F) {
      out += static_cast<char>(cp);
    } else {
      out += "<U+";
      std::string h;
      for (uint32_t v = cp; v || h.size() < 4; v >>= 4) h.insert(h.begin(), hex[v & 0xF]);
      out += h + ">";
    }
  }
  return out;
}

// Appends `s` escaped as inside a JSON string literal (without the quotes).
void append_escaped(std::string& out, std::string_view s) {
  std::string quoted;
  append_json_string(quoted, s);
  out.append(quoted, 1, quoted.size() - 2);
}

struct Finding {
  uint32_t rule;
  size_t begin, end;  // in the scanned text
  Action action;
};

// The session's scan policy once its filter exists: redact_text() uses its database rather than
// load a second one of the same secret rules (0.7 MB resident and a second load per session).
// Both run on the relay's thread only.
scan::Policy* g_session_policy = nullptr;

class ScanFilter : public Filter {
 public:
  explicit ScanFilter(std::unique_ptr<scan::Policy> policy) : policy_(std::move(policy)) {
    g_session_policy = policy_.get();
  }
  ~ScanFilter() override {
    if (g_session_policy == policy_.get()) g_session_policy = nullptr;
  }
  std::string_view name() const override { return "scan"; }
  FilterStatus on_message(Message& msg, FilterContext& ctx) override;

 private:
  std::string tool_of(const Message& msg) const;
  void audit(FilterContext& ctx, std::string_view event, const Message& msg,
             std::string_view method, std::string_view tool, const Finding& f,
             std::string_view text, int count);
  FilterStatus block(Message& msg, FilterContext& ctx, const std::string& text);

  std::unique_ptr<scan::Policy> policy_;
  std::string decoded_;
  std::vector<uint32_t> fired_;
  std::vector<scan::Span> spans_;
  std::vector<scan::StringSpan> strings_;
  std::vector<scan::ItemSpan> items_;
  struct Cut {
    size_t raw_begin, raw_end;
    const std::string* repl;
  };
  std::vector<Cut> cuts_;
};

std::string ScanFilter::tool_of(const Message& msg) const {
  std::string_view params;
  if (msg.info().is_request() && msg.info().method == "tools/call")
    params = msg.info().params;
  else if (msg.info().is_response() && msg.request_method == "tools/call")
    params = msg.request_params;
  if (params.empty()) return {};
  auto j = json::parse(params, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("name") || !j["name"].is_string())
    return {};
  return j["name"].get<std::string>();
}

void ScanFilter::audit(FilterContext& ctx, std::string_view event, const Message& msg,
                       std::string_view method, std::string_view tool, const Finding& f,
                       std::string_view text, int count) {
  const scan::Rule& r = policy_->engine().rules()[f.rule];
  json j = {{"rule", r.id},
            {"category", r.category},
            {"action", scan::to_string(f.action)},
            {"dir", to_string(msg.dir())},
            {"fingerprint", ctx.fingerprint(text.substr(f.begin, f.end - f.begin))}};
  if (!method.empty()) j["method"] = std::string(method);
  if (msg.info().has_id()) j["id"] = std::string(msg.info().id);
  if (!tool.empty()) j["tool"] = std::string(tool);
  if (count > 1) j["count"] = count;
  ctx.audit(event, std::move(j));
}

FilterStatus ScanFilter::block(Message& msg, FilterContext& ctx, const std::string& text) {
  const MessageInfo& info = msg.info();
  if (info.is_request()) {
    ctx.reply_error(msg, rpc_code::blocked, text);
    return FilterStatus::Stop;
  }
  if (info.is_response()) {
    // The peer waits for this id: it gets an error instead of the content.
    msg.replace(make_error_response(info.id, rpc_code::blocked, "mcpcell: " + text));
    return FilterStatus::Continue;
  }
  return FilterStatus::Stop;
}

FilterStatus ScanFilter::on_message(Message& msg, FilterContext& ctx) {
  if (!policy_->enabled()) return FilterStatus::Continue;
  const MessageInfo& info = msg.info();
  if (info.kind == MessageKind::invalid) return FilterStatus::Continue;
  std::string_view method = info.is_response() ? std::string_view(msg.request_method) : info.method;
  Where where = msg.dir() == Direction::c2s ? Where::c2s : Where::s2c;
  if (where == Where::s2c && info.is_response() && is_list_method(method)) where = Where::lists;

  if (msg.dir() == Direction::s2c && info.is_request()) {
    auto sr = policy_->server_request(method);
    if (sr == scan::ServerRequestAction::deny) {
      ctx.audit("policy.block", {{"rule", "server-request"},
                                 {"dir", "s2c"},
                                 {"method", std::string(method)},
                                 {"fingerprint", ctx.fingerprint(method)}});
      ctx.reply_error(msg, rpc_code::blocked,
                      "blocked by policy: server requests " + std::string(method) + " are denied");
      return FilterStatus::Stop;
    }
    if (sr == scan::ServerRequestAction::log)
      ctx.audit("policy.server_request",
                {{"dir", "s2c"}, {"method", std::string(method)}, {"bytes", msg.bytes().size()}});
  }

  std::string_view raw = msg.bytes();
  std::string_view text = raw;
  if (info.has_escapes) text = scan::decode_into(raw, &decoded_);
  scan::Engine& engine = policy_->engine();
  engine.fired(text, &fired_, where);
  if (fired_.empty()) return FilterStatus::Continue;

  // Something fired: from here on speed matters less than being exact.
  std::string tool = tool_of(msg);
  std::vector<Finding> findings;
  spans_.clear();
  for (uint32_t i : fired_)
    if (policy_->action(i, where, tool) != Action::off)
      engine.spans(i, text, &spans_, engine.ends(i));
  scan::drop_shadowed(engine.rules(), &spans_);
  for (const auto& s : spans_)
    if (!policy_->allowed(text.substr(s.begin, s.end - s.begin), tool))
      findings.push_back({s.rule, s.begin, s.end, policy_->action(s.rule, where, tool)});
  if (findings.empty()) return FilterStatus::Continue;

  strings_.clear();
  items_.clear();
  scan::map_strings(raw, &strings_, where == Where::lists ? &items_ : nullptr);

  // Blocks win over everything else.
  for (const auto& f : findings) {
    if (f.action != Action::block) continue;
    audit(ctx, "policy.block", msg, method, tool, f, text, 1);
    const scan::Rule& r = engine.rules()[f.rule];
    return block(msg, ctx, "blocked by rule " + r.id + " (" + r.description + ")");
  }

  // Edits per string literal, flags per item; audit records grouped by (event, rule, secret).
  std::map<long, std::vector<std::pair<Finding, std::string>>> edits;
  std::map<std::tuple<std::string, uint32_t, std::string>, std::pair<Finding, int>> records;
  std::set<std::pair<size_t, uint32_t>> flagged;
  for (Finding f : findings) {
    const scan::Rule& r = engine.rules()[f.rule];
    if (f.action == Action::withhold) {
      auto it = std::find_if(items_.begin(), items_.end(), [&](const scan::ItemSpan& s) {
        return f.begin >= s.dec_begin && f.begin < s.dec_end;
      });
      if (it == items_.end()) {
        f.action = Action::warn;
      } else {
        size_t idx = static_cast<size_t>(it - items_.begin());
        if (flagged.insert({idx, f.rule}).second) {
          std::string name = "instructions";
          if (it->list != "instructions") {
            auto j =
                json::parse(raw.substr(it->raw_begin, it->raw_end - it->raw_begin), nullptr, false);
            const char* key = it->list == "resources"           ? "uri"
                              : it->list == "resourceTemplates" ? "uriTemplate"
                                                                : "name";
            if (j.is_object() && j.contains(key) && j[key].is_string())
              name = j[key].get<std::string>();
            else
              name.clear();
          }
          if (!name.empty()) {
            msg.flagged_items.push_back(
                {item_kind(it->list), name, r.id, r.category + ": " + r.description});
            continue;
          }
        }
        continue;
      }
    }
    if (f.action == Action::redact || f.action == Action::strip || f.action == Action::visible) {
      long s = scan::find_string(strings_, f.begin);
      if (s < 0) {
        f.action = Action::warn;  // e.g. a card number written as a JSON number: cannot edit
      } else {
        std::string repl;
        if (f.action == Action::redact)
          repl = "[REDACTED:" + r.id + "]";
        else if (f.action == Action::visible)
          repl = make_visible(text.substr(f.begin, f.end - f.begin));
        edits[s].push_back({f, std::move(repl)});
      }
    }
    const char* event = f.action == Action::warn ? "policy.warn" : "policy.redact";
    auto key = std::make_tuple(std::string(event), f.rule,
                               std::string(text.substr(f.begin, f.end - f.begin)));
    auto [it, fresh] = records.try_emplace(key, f, 0);
    ++it->second.second;
    (void)fresh;
  }
  for (const auto& [key, rec] : records)
    audit(ctx, std::get<0>(key), msg, method, tool, rec.first, text, rec.second);

  if (edits.empty()) return FilterStatus::Continue;
  std::string out;
  out.reserve(raw.size());
  size_t raw_pos = 0;
  for (auto& [si, list] : edits) {
    const scan::StringSpan& sp = strings_[static_cast<size_t>(si)];
    std::sort(list.begin(), list.end(),
              [](const auto& a, const auto& b) { return a.first.begin < b.first.begin; });
    // Each edit's raw range inside the literal; the bytes between edits are copied as they are.
    cuts_.clear();
    size_t r = sp.raw_begin, d = sp.dec_begin, pos = sp.dec_begin;
    bool aligned = true;
    for (const auto& [f, repl] : list) {
      if (f.begin < pos) continue;  // overlaps an earlier edit
      size_t end = std::min(f.end, sp.dec_end);
      size_t rb;
      aligned = scan::advance_to(raw, &r, &d, f.begin);
      rb = r;
      aligned = aligned && scan::advance_to(raw, &r, &d, end);
      if (!aligned) break;
      cuts_.push_back({rb, r, &repl});
      pos = end;
    }
    if (aligned) {
      for (const Cut& c : cuts_) {
        out.append(raw.substr(raw_pos, c.raw_begin - raw_pos));
        append_escaped(out, *c.repl);
        raw_pos = c.raw_end;
      }
      continue;
    }
    // A finding that starts or ends among the bytes of one escape (part of a \u sequence): the
    // literal is rebuilt from its decoded text instead.
    std::string content;
    pos = sp.dec_begin;
    for (const auto& [f, repl] : list) {
      if (f.begin < pos) continue;
      size_t end = std::min(f.end, sp.dec_end);
      content.append(text.substr(pos, f.begin - pos));
      content += repl;
      pos = end;
    }
    content.append(text.substr(pos, sp.dec_end - pos));
    out.append(raw.substr(raw_pos, sp.raw_begin - 1 - raw_pos));
    append_json_string(out, content);
    raw_pos = sp.raw_end + 1;
  }
  out.append(raw.substr(raw_pos));
  // An edit may reach a member name: stripping a tag character from "meth\u{E004F}od" makes a
  // "method". The relay correlated the line, and the filters before this one judged it, by what
  // it was; a line that would now route as another kind, method or id (a sampling request the
  // policy denies, a call to a withheld tool) is refused instead. Found by
  // tests/fuzz/fuzz_scan_filter.cc.
  MessageInfo edited;
  scan_message(out, edited);
  if (edited.kind != info.kind || edited.method != info.method || edited.id != info.id) {
    const Finding& f = edits.begin()->second.front().first;
    audit(ctx, "policy.block", msg, method, tool, f, text, 1);
    return block(msg, ctx,
                 "blocked: removing what rule " + engine.rules()[f.rule].id +
                     " found would change the message's method, id or kind");
  }
  msg.replace(std::move(out));
  return FilterStatus::Continue;
}

// Where compiled databases are cached: set by the first filter built (the state directory).
std::mutex g_cache_mu;
std::string g_cache_dir;

// Before any filter exists (run.cc redacts the command line first) the state directory is found
// the way paths.h does; the cache is used only when that directory already exists.
std::string cache_dir() {
  std::lock_guard<std::mutex> lock(g_cache_mu);
  if (!g_cache_dir.empty()) return g_cache_dir;
  const char* xdg = std::getenv("XDG_STATE_HOME");
  const char* home = std::getenv("HOME");
  std::string base = xdg && *xdg == '/'     ? std::string(xdg)
                     : home && *home == '/' ? std::string(home) + "/.local/state"
                                            : std::string();
  if (base.empty()) return {};
  std::error_code ec;
  if (!std::filesystem::is_directory(base + "/mcpcell", ec)) return {};
  return base + "/mcpcell/cache";
}

}  // namespace

std::unique_ptr<Filter> make_scan_filter(const ChainConfig& config, Status* status) {
  Status s;
  const scan::RuleBook& book = scan::builtin_rules(&s);
  if (!s) {
    *status = s;
    return nullptr;
  }
  if (!config.state_dir.empty()) {
    std::lock_guard<std::mutex> lock(g_cache_mu);
    g_cache_dir = (config.state_dir / "cache").string();
  }
  auto it = config.policy.find("scan");
  auto policy =
      scan::Policy::build(it == config.policy.end() ? json() : *it, book, status, cache_dir());
  if (!policy) return nullptr;
  return std::make_unique<ScanFilter>(std::move(policy));
}

std::string redact_text(std::string_view text) {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  scan::Policy* policy = g_session_policy;
  if (policy == nullptr) {
    // No scan filter in this session (scanning off, or a caller outside a session): secrets only.
    static std::unique_ptr<scan::Policy> own = [] {
      Status s;
      const scan::RuleBook& book = scan::builtin_rules(&s);
      json only_secrets = {
          {"categories", {{"poisoning", {{"enabled", false}}}, {"hidden", {{"enabled", false}}}}}};
      return s ? scan::Policy::build(only_secrets, book, &s, cache_dir()) : nullptr;
    }();
    policy = own.get();
  }
  // A record never holds a secret, so text that could not be scanned is not recorded.
  if (policy == nullptr) return text.empty() ? std::string() : std::string("[REDACTED:unscanned]");
  std::vector<scan::Span> spans;
  policy->engine().find(text, &spans);
  if (spans.empty()) return std::string(text);
  std::string out;
  size_t pos = 0;
  for (const auto& s : spans) {
    // Stderr and command lines are redacted for secrets; instructions and hidden characters there
    // are the user's to read.
    const std::string& category = policy->engine().rules()[s.rule].category;
    if (category == "poisoning" || category == "hidden") continue;
    if (s.begin < pos) continue;
    out.append(text.substr(pos, s.begin - pos));
    out += "[REDACTED:" + policy->engine().rules()[s.rule].id + "]";
    pos = s.end;
  }
  out.append(text.substr(pos));
  return out;
}

}  // namespace mcpcell
