// `mcpcell report --html FILE`: one self-contained page (inline CSS, no scripts, no network) with a
// timeline per server, what was refused, pins, and the sandbox each session ran in. Counts carry
// data-* attributes so tests (and scripts) can read them from the rendered DOM.
#include <cstdio>
#include <map>

#include <nlohmann/json.hpp>

#include "commands/commands.h"
#include "core/review.h"
#include "io/audit.h"
#include "io/audit_file.h"
#include "io/paths.h"

namespace mcpcell {
namespace {

std::string esc(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string sandbox_text(const nlohmann::json& sb) {
  if (!sb.is_object() || sb.empty()) return "not started";
  if (!sb.value("isolated", false)) return "NONE (--no-sandbox)";
  std::string out = "isolated";
  for (const char* k : {"landlock_abi", "seccomp", "namespaces"}) {
    auto it = sb.find(k);
    if (it != sb.end()) out += std::string("; ") + k + "=" + (it->is_string() ? it->get<std::string>() : it->dump());
  }
  return out;
}

const char* kStyle = R"(
body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#1d1d1f;background:#fbfbfd}
h1{font-size:1.6em;margin:0 0 .2em}h2{margin-top:1.8em;border-bottom:1px solid #ddd}
.cards{display:flex;gap:1em;flex-wrap:wrap}.card{background:#fff;border:1px solid #e3e3e8;
border-radius:8px;padding:.8em 1.2em;min-width:9em}.card b{display:block;font-size:1.8em}
table{border-collapse:collapse;width:100%;background:#fff}th,td{border:1px solid #e3e3e8;
padding:.35em .6em;text-align:left;vertical-align:top}th{background:#f3f3f6}
.warn{color:#b00020}.ok{color:#1b7f3b}.muted{color:#777}code{font-size:.92em}
)";

}  // namespace

int cmd_report(const Args& args) {
  std::string out_path, server;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--help" || args[i] == "-h") {
      std::printf("Usage: mcpcell report --html FILE [--server NAME]\n\n"
                  "Writes one self-contained HTML page (no network, no external assets) with a\n"
                  "timeline per server, what was refused, pins and sandbox status.\n");
      return 0;
    }
    if (args[i] == "--html" && i + 1 < args.size()) {
      out_path = args[++i];
    } else if (args[i] == "--server" && i + 1 < args.size()) {
      server = args[++i];
    } else {
      return fail(125, "unknown or incomplete option '" + args[i] + "' for 'mcpcell report'",
                  "usage: mcpcell report --html FILE [--server NAME]");
    }
  }
  if (out_path.empty()) return fail(125, "mcpcell report needs --html FILE");

  Review review;
  for (const auto& file : audit_trail_files(state_dir())) {
    std::string data;
    if (!read_file(file, &data)) continue;
    size_t pos = 0;
    while (pos < data.size()) {
      size_t nl = data.find('\n', pos);
      if (nl == std::string::npos) break;
      nlohmann::json r = nlohmann::json::parse(data.substr(pos, nl - pos), nullptr, false);
      pos = nl + 1;
      if (r.is_discarded() || !r.is_object()) continue;
      if (!server.empty() && r.value("server", "") != server) continue;
      review.add(r);
    }
  }
  VerifyReport verify = verify_audit_trail(state_dir());
  std::vector<SessionSummary> sessions = review.sessions();
  std::vector<RefusalGroup> refusals = review.refusals();
  std::map<std::string, std::vector<const SessionSummary*>> by_server;
  for (const auto& s : sessions) by_server[s.server].push_back(&s);
  uint64_t unsandboxed = 0;
  for (const auto& s : sessions)
    if (s.sandbox.is_object() && !s.sandbox.value("isolated", false)) ++unsandboxed;

  std::string h = "<!doctype html><html lang=en><head><meta charset=utf-8>"
                  "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                  "style-src 'unsafe-inline'\"><title>mcpcell report</title><style>";
  h += kStyle;
  h += "</style></head><body><h1>mcpcell report</h1><p class=muted>Generated " +
       esc(rfc3339_now()) + " from " + esc(state_dir().string()) + "</p>";
  h += "<div class=cards>";
  auto card = [&](const char* id, const std::string& label, uint64_t n, bool bad) {
    h += "<div class=card><b id=\"" + std::string(id) + "\" data-count=\"" + std::to_string(n) +
         "\" class=\"" + (bad && n ? "warn" : "") + "\">" + std::to_string(n) + "</b>" +
         esc(label) + "</div>";
  };
  card("count-servers", "servers", by_server.size(), false);
  card("count-sessions", "sessions", sessions.size(), false);
  card("count-refusals", "refusals", review.refusal_count(), true);
  card("count-unsandboxed", "sessions without sandbox", unsandboxed, true);
  h += "<div class=card><b id=\"chain\" data-ok=\"" + std::string(verify.ok ? "true" : "false") +
       "\" class=\"" + (verify.ok ? "ok" : "warn") + "\">" + (verify.ok ? "intact" : "BROKEN") +
       "</b>audit chain</div></div>";
  if (!verify.ok) {
    h += "<ul class=warn>";
    for (const auto& p : verify.problems) h += "<li>" + esc(p) + "</li>";
    h += "</ul>";
  }

  h += "<h2>Refused</h2>";
  if (refusals.empty()) {
    h += "<p class=ok>Nothing was refused.</p>";
  } else {
    h += "<table id=refusals><tr><th>server</th><th>kind</th><th>what</th><th>count</th>"
         "<th>first / last</th><th>next step</th></tr>";
    for (const auto& g : refusals)
      h += "<tr data-kind=\"" + esc(g.kind) + "\" data-count=\"" + std::to_string(g.count) +
           "\"><td>" + esc(g.server) + "</td><td>" + esc(g.kind) + "</td><td><code>" +
           esc(g.what) + "</code></td><td>" + std::to_string(g.count) + "</td><td>" +
           esc(g.first) + "<br>" + esc(g.last) + "</td><td>" + esc(g.next) + "</td></tr>";
    h += "</table>";
  }

  h += "<h2>Servers</h2>";
  auto pins = review.pin_counts();
  for (const auto& [name, list] : by_server) {
    h += "<h3 data-server=\"" + esc(name) + "\">" + esc(name) + "</h3>";
    auto p = pins.find(name);
    if (p != pins.end()) {
      h += "<p>pins:";
      for (const auto& [ev, n] : p->second) h += " " + esc(ev) + " &times;" + std::to_string(n);
      h += "</p>";
    }
    h += "<table><tr><th>started</th><th>ended</th><th>exit</th><th>messages</th>"
         "<th>refusals</th><th>sandbox</th><th>profile</th><th>reason</th></tr>";
    for (const SessionSummary* s : list) {
      std::string sb = sandbox_text(s->sandbox);
      bool weak = sb.starts_with("NONE");
      h += "<tr><td>" + esc(s->start) + "</td><td>" + esc(s->end) + "</td><td>" +
           (s->exit >= 0 ? std::to_string(s->exit) : "") + "</td><td>" +
           std::to_string(s->messages) + "</td><td>" + std::to_string(s->refusals) +
           "</td><td class=\"" + (weak ? "warn" : "") + "\">" + esc(sb) + "</td><td>" +
           esc(s->profile) + "</td><td>" + esc(s->reason) + "</td></tr>";
    }
    h += "</table>";
  }
  h += "</body></html>\n";
  if (Status s = write_file_atomic(out_path, h); !s) return fail(1, s.message());
  std::fprintf(stderr, "mcpcell: wrote %s (%zu sessions, %llu refusals)\n", out_path.c_str(),
               sessions.size(), static_cast<unsigned long long>(review.refusal_count()));
  return 0;
}

}  // namespace mcpcell
