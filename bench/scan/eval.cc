// Detection quality on the corpus, with the default policy (PII rules switched on for their own
// examples). Positives: every rule example, sent the way that rule matters (secrets and PII as a
// tool result and as tool-call arguments, poisoning as a tool description in tools/list, hidden
// characters as a tool result and as a tool description). Negatives: every rule's negative examples
// sent the same ways, and the benign corpus of real server traffic. A message counts as detected
// when the filter acted on it at all (redact, block, strip, warn or a flag).
// Prints precision, recall, false positives per MB of benign traffic, and the misses.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "core/chain_config.h"
#include "fake_context.h"
#include "scan/rules.h"
#include "scan/scan_filter.h"

using namespace mcpcell;
using nlohmann::json;

namespace {

struct Outcome {
  bool acted = false;
  bool right_rule = false;
};

Outcome run(Filter& f, Direction dir, const std::string& line, const char* request_method,
            const std::string& rule) {
  Message m(dir, line);
  if (request_method) m.request_method = request_method;
  if (request_method && std::string(request_method) == "tools/call") m.request_params = R"({"name":"t"})";
  testing::FakeContext ctx;
  FilterStatus st = f.on_message(m, ctx);
  Outcome o;
  o.acted = st == FilterStatus::Stop || m.modified() || !m.flagged_items.empty();
  for (const auto& r : ctx.records) {
    if (r["event"] == "policy.server_request") continue;
    o.acted = true;
    o.right_rule |= r.value("rule", "") == rule;
  }
  for (const auto& fl : m.flagged_items) o.right_rule |= fl.rule == rule;
  return o;
}

std::vector<std::pair<Direction, std::pair<std::string, const char*>>> shapes(
    const std::string& category, const std::string& text) {
  auto result = json{{"jsonrpc", "2.0"}, {"id", 1},
                     {"result", {{"content", {{{"type", "text"}, {"text", text}}}}}}}.dump();
  auto call = json{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "tools/call"},
                   {"params", {{"name", "t"}, {"arguments", {{"input", text}}}}}}.dump();
  auto list = json{{"jsonrpc", "2.0"}, {"id", 1},
                   {"result", {{"tools", {{{"name", "t"}, {"description", text},
                                           {"inputSchema", {{"type", "object"}}}}}}}}}.dump();
  if (category == "poisoning") return {{Direction::s2c, {list, "tools/list"}}};
  if (category == "hidden")
    return {{Direction::s2c, {result, "tools/call"}}, {Direction::s2c, {list, "tools/list"}}};
  return {{Direction::s2c, {result, "tools/call"}}, {Direction::c2s, {call, nullptr}}};
}

}  // namespace

int main() {
  Status s;
  ChainConfig def, pii;
  pii.policy["scan"] = {{"categories", {{"pii", {{"enabled", true}}}}}};
  auto fdef = make_scan_filter(def, &s);
  auto fpii = make_scan_filter(pii, &s);
  if (!fdef || !fpii) {
    std::fprintf(stderr, "scan-eval: %s\n", s.message().c_str());
    return 1;
  }
  const auto& book = scan::builtin_rules(&s);
  size_t tp = 0, fn = 0, fp = 0, tn = 0, right = 0;
  std::vector<std::string> misses, false_alarms;
  for (const auto& r : book.rules) {
    Filter& f = r.category == "pii" ? *fpii : *fdef;
    for (const auto& ex : r.examples)
      for (const auto& [dir, sh] : shapes(r.category, ex)) {
        Outcome o = run(f, dir, sh.first, sh.second, r.id);
        if (o.acted) ++tp; else { ++fn; misses.push_back(r.id + " (" + to_string(dir) + "): " + ex.substr(0, 80)); }
        right += o.right_rule;
      }
    for (const auto& neg : r.negatives)
      for (const auto& [dir, sh] : shapes(r.category, neg)) {
        if (run(f, dir, sh.first, sh.second, r.id).acted) { ++fp; false_alarms.push_back(r.id + " negative: " + neg.substr(0, 80)); }
        else ++tn;
      }
  }
  // Benign corpus, default policy.
  size_t corpus_bytes = 0, corpus_lines = 0, corpus_fp = 0;
  for (const auto& entry : std::filesystem::directory_iterator(SCAN_CORPUS_DIR)) {
    std::ifstream in(entry.path());
    std::string l;
    while (std::getline(in, l)) {
      auto rec = json::parse(l, nullptr, false);
      if (rec.is_discarded()) continue;
      std::string line = rec["line"];
      Direction dir = rec["dir"] == "c2s" ? Direction::c2s : Direction::s2c;
      bool acted = run(*fdef, dir, line, dir == Direction::s2c ? "tools/call" : nullptr, "").acted;
      corpus_fp += acted;
      if (acted) false_alarms.push_back("corpus " + entry.path().filename().string() + ": " + line.substr(0, 80));
      corpus_bytes += line.size();
      ++corpus_lines;
    }
  }
  fp += corpus_fp;
  tn += corpus_lines - corpus_fp;
  double precision = tp + fp ? double(tp) / double(tp + fp) : 1.0;
  double recall = tp + fn ? double(tp) / double(tp + fn) : 1.0;
  std::printf("rules: %zu  positives: %zu  negatives: %zu (incl. %zu corpus lines, %.1f KB)\n",
              book.rules.size(), tp + fn, fp + tn, corpus_lines, corpus_bytes / 1024.0);
  std::printf("true positives %zu, false negatives %zu, false positives %zu, true negatives %zu\n",
              tp, fn, fp, tn);
  std::printf("precision %.4f  recall %.4f  attributed to the expected rule %zu/%zu\n", precision,
              recall, right, tp + fn);
  std::printf("false positives per MB of benign traffic: %.2f\n",
              corpus_fp / (corpus_bytes / 1048576.0));
  for (const auto& m : misses) std::printf("miss: %s\n", m.c_str());
  for (const auto& m : false_alarms) std::printf("false alarm: %s\n", m.c_str());
  return 0;
}
