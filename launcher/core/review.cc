#include "core/review.h"

namespace mcpcell {
namespace {

std::string field(const nlohmann::json& r, const char* k) {
  auto it = r.find(k);
  if (it == r.end() || it->is_null()) return {};
  return it->is_string() ? it->get<std::string>() : it->dump();
}

}  // namespace

bool describe_refusal(const nlohmann::json& r, RefusalGroup* g) {
  std::string ev = field(r, "event");
  std::string server = field(r, "server");
  g->server = server.empty() ? "?" : server;
  if (ev == "policy.block" || ev == "policy.redact" || ev == "policy.warn") {
    g->kind = ev.substr(7);
    std::string rule = field(r, "rule"), tool = field(r, "tool");
    g->what = "rule " + rule + (tool.empty() ? "" : " (tool " + tool + ")");
    g->next = "if this is a false positive, allow rule " + rule +
              (tool.empty() ? "" : " for tool " + tool) + " in the profile's \"scan\" section";
  } else if (ev == "pin.quarantined") {
    g->kind = "withheld";
    std::string item = field(r, "item"), reason = field(r, "reason");
    g->what = field(r, "kind") + " " + item + (reason.empty() ? "" : " (" + reason + ")");
    g->next = "review with 'mcpcell pins diff " + server + "', then 'mcpcell pins approve " +
              server + " " + item + "'";
  } else if (ev == "sandbox.denied") {
    g->kind = "sandbox";
    std::string what = field(r, "what"), detail = field(r, "syscall");
    if (detail.empty()) detail = field(r, "path");
    g->what = what + " " + detail;
    g->next = "if the server needs it, add its group to the profile's \"syscalls\" list (only "
              "for servers you trust)";
  } else if (ev == "net.deny") {
    g->kind = "network";
    std::string host = field(r, "host"), port = field(r, "port"), reason = field(r, "reason");
    std::string target = host + (port.empty() ? "" : ":" + port);
    g->what = target + (reason.empty() ? "" : " (" + reason + ")");
    g->next = "to allow it: --allow-net " + target +
              " for one run, or add it to the profile's network allow list";
  } else if (ev == "message.invalid" || ev == "message.oversize") {
    g->kind = "dropped";
    g->what = ev.substr(8) + " message " + field(r, "dir") +
              (ev == "message.invalid" ? ": " + field(r, "reason")
                                       : " of " + field(r, "bytes") + " bytes");
    g->next = ev == "message.oversize" ? "raise --max-line-bytes if the message is legitimate"
                                       : "the peer sent something that is not JSON-RPC";
  } else {
    return false;
  }
  return true;
}

void Review::add(const nlohmann::json& r) {
  ++records_;
  std::string ev = field(r, "event"), session = field(r, "session"), ts = field(r, "ts");
  RefusalGroup g;
  if (describe_refusal(r, &g)) {
    auto [it, fresh] = groups_.emplace(g.server + '\x1f' + g.kind + '\x1f' + g.what, g);
    if (fresh) it->second.first = ts;
    it->second.last = ts;
    ++it->second.count;
  }
  if (ev.starts_with("pin.")) ++pins_[field(r, "server")][ev];
  if (session.empty()) return;
  auto [it, fresh] = sessions_.try_emplace(session);
  SessionSummary& s = it->second;
  if (fresh) {
    session_order_.push_back(session);
    s.session = session;
    s.server = field(r, "server");
    s.start = ts;
  }
  if (ev == "session.start") {
    s.start = ts;
    s.profile = field(r, "profile");
    s.sandbox = r.value("sandbox", nlohmann::json());
    s.command = r.value("command", nlohmann::json());
  } else if (ev == "session.end") {
    s.end = ts;
    s.reason = field(r, "reason");
    auto e = r.find("exit");
    if (e != r.end() && e->is_number_integer()) s.exit = e->get<int>();
  } else if (ev == "message") {
    ++s.messages;
  }
  if (describe_refusal(r, &g)) ++s.refusals;
}

std::vector<RefusalGroup> Review::refusals() const {
  std::vector<RefusalGroup> out;
  for (const auto& [k, g] : groups_) out.push_back(g);
  return out;
}

std::vector<SessionSummary> Review::sessions() const {
  std::vector<SessionSummary> out;
  for (const auto& id : session_order_) out.push_back(sessions_.at(id));
  return out;
}

uint64_t Review::refusal_count() const {
  uint64_t n = 0;
  for (const auto& [k, g] : groups_) n += g.count;
  return n;
}

}  // namespace mcpcell
