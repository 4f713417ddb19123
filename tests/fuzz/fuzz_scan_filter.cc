// The scan filter (scan/scan_filter.h) on whole messages, with the real rules and engine (linked
// directly, as the unit tests do) and two policies: the default one, and one that also enables the
// personal-data rules and makes hidden characters visible instead of stripping them (the other
// rebuild path). Checked after every message: a message the filter rewrote is still one valid
// JSON-RPC message of the same kind (nlohmann parses it, the classifier agrees, valid UTF-8), or
// an error for the same id in place of a blocked response; a stopped request is answered with one
// valid mcpcell: error for its id; every line injected towards a peer is valid.
//
// Input: one byte of settings (direction, policy, the method a response answers), then the line.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "check.h"
#include "core/chain_config.h"
#include "core/filter.h"
#include "scan/scan_filter.h"

using namespace mcpcell;
using nlohmann::json;

namespace {

class Context : public FilterContext {
 public:
  const SessionInfo& session() const override { return info_; }
  void send(Direction towards, std::string line) override { sent.emplace_back(towards, line); }
  void audit(std::string_view, json fields) override {
    FUZZ_CHECK(fields.is_object());
    (void)fields.dump();  // throws on invalid UTF-8, which an audit record must never hold
  }
  std::string fingerprint(std::string_view s) const override {
    return std::to_string(std::hash<std::string_view>()(s));
  }
  std::vector<std::pair<Direction, std::string>> sent;

 private:
  SessionInfo info_{"fuzz", "s1", "default"};
};

std::unique_ptr<Filter> build(json scan) {
  ChainConfig cfg;
  if (!scan.is_null()) cfg.policy["scan"] = std::move(scan);
  Status s;
  auto f = make_scan_filter(cfg, &s);
  if (!f) fuzz::fail("the scan filter could not be built", s.message());
  return f;
}

// The same message, checked like the relay checks what it forwards.
MessageInfo check_line(std::string_view line, const char* what) {
  MessageInfo info;
  scan_message(line, info);
  if (info.kind == MessageKind::invalid || !valid_utf8(line) ||
      json::parse(line, nullptr, false).is_discarded())
    fuzz::fail(what, line, info.error_text);
  return info;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::unique_ptr<Filter> filters[2] = {
      build(nullptr),
      build(json{{"categories",
                  {{"pii", {{"enabled", true}}},
                   {"hidden", {{"action", "visible"}}},
                   {"poisoning", {{"action", {{"c2s", "warn"}, {"s2c", "redact"}}}}}}}})};
  static const char* kMethods[] = {"",
                                   "tools/call",
                                   "tools/list",
                                   "initialize",
                                   "prompts/list",
                                   "resources/list",
                                   "resources/read",
                                   "ping"};
  if (size < 1) return 0;
  uint8_t settings = data[0];
  std::string_view line(reinterpret_cast<const char*>(data + 1), size - 1);
  Direction dir = settings & 1 ? Direction::s2c : Direction::c2s;
  Filter& filter = *filters[(settings >> 1) & 1];

  Message m(dir, line);
  MessageInfo before = m.info();
  std::string id(before.id);
  std::string method(before.method);  // may point into the message's storage, which edits replace
  if (before.is_response()) {
    m.request_method = kMethods[(settings >> 2) & 7];
    if (m.request_method == "tools/call") m.request_params = R"({"name":"run","arguments":{}})";
  }
  Context ctx;
  FilterStatus st = filter.on_message(m, ctx);

  if (before.kind == MessageKind::invalid) {
    FUZZ_CHECK(st == FilterStatus::Continue && !m.modified() && ctx.sent.empty(), line);
    return 0;
  }
  for (const auto& [towards, sent] : ctx.sent) {
    FUZZ_CHECK(towards == (dir == Direction::c2s ? Direction::s2c : Direction::c2s), sent);
    MessageInfo r = check_line(sent, "the filter sent an invalid line");
    FUZZ_CHECK(r.kind == MessageKind::error && r.id == id, sent, line);
  }
  if (st == FilterStatus::Stop) {
    FUZZ_CHECK(!m.modified(), line);
    // A request that waits for an answer gets exactly one; anything else is dropped silently.
    FUZZ_CHECK(ctx.sent.size() == (before.is_request() && before.has_id() ? 1u : 0u), line);
    return 0;
  }
  FUZZ_CHECK(ctx.sent.empty(), line);
  if (!m.modified()) return 0;
  MessageInfo after = check_line(m.bytes(), "the filter rewrote a message into an invalid line");
  FUZZ_CHECK(after.kind == m.info().kind, m.bytes());
  // Edits must not change how the message routes: the relay correlated it, and the filters before
  // this one judged it, as it was.
  bool same_routing = after.kind == before.kind && after.method == method && after.id == id;
  bool blocked_response =
      before.is_response() && after.kind == MessageKind::error && after.id == id;
  if (!same_routing && !blocked_response)
    fuzz::fail("the filter changed the message's kind, method or id", line, m.bytes());
  return 0;
}
