// Scanner throughput on realistic tool results, about 1 MiB each, through the whole filter
// (decode when escaped, Hyperscan, and RE2 + rebuild only when something fires):
//   plain         one long line of prose, no escapes (the Hyperscan-only fast path)
//   markdown      the SDK README repeated: newlines and quotes, so the line holds escapes
//   escaped_json  a JSON directory tree returned as text: escaped JSON inside JSON, an escape
//                 every ~6 bytes
//   image         a base64 PNG in an image content block
//   secret        the markdown result with one API key in it (the redaction path)
//   redact        the markdown result with a key every 4 KiB, four kinds (256 redactions)
// Also: Hyperscan alone with the tools/list database (every rule, poisoning included), the escape
// decoder alone, and building the policy cold vs from the cache.
#include <benchmark/benchmark.h>

#include <fstream>
#include <random>
#include <sstream>

#include "core/chain_config.h"
#include "fake_context.h"
#include "scan/json_text.h"
#include "scan/policy.h"
#include "scan/scan_filter.h"

namespace mcpcell {
namespace {
using nlohmann::json;

constexpr size_t kSize = 1 << 20;

std::string repeat_to(const std::string& unit, size_t n) {
  std::string s;
  while (s.size() < n) s += unit;
  s.resize(n);
  while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0x80) s.pop_back();
  if (!s.empty() && static_cast<unsigned char>(s.back()) >= 0xC0) s.pop_back();
  return s;
}

std::string result(const json& content) {
  return json{{"jsonrpc", "2.0"}, {"id", 42}, {"result", {{"content", content}}}}.dump();
}

std::string text_result(const std::string& t) { return result({{{"type", "text"}, {"text", t}}}); }

std::string readme() {
  std::ifstream in(SDK_README);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str().empty() ? std::string("# Title\n\nSome \"quoted\" text.\n") : ss.str();
}

std::string line_for(const std::string& kind) {
  if (kind == "plain")
    return text_result(repeat_to(
        "The quick brown fox jumps over the lazy dog while the build runs 42 tests in 3.1 seconds. ",
        kSize));
  if (kind == "markdown") return text_result(repeat_to(readme(), kSize));
  if (kind == "escaped_json") {
    // Sized by a running estimate: dumping the whole tree each time round is quadratic.
    json tree = json::array();
    for (size_t i = 0, size = 0; size < kSize; ++i) {
      json node = {{"name", "file-" + std::to_string(i) + ".ts"},
                   {"type", "file"},
                   {"children", json::array()}};
      size += node.dump(2).size() + 8;
      tree.push_back(std::move(node));
    }
    return text_result(tree.dump(2));
  }
  if (kind == "image") {
    std::mt19937 rng(1);
    static const char* b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string data(kSize, 'A');
    for (auto& c : data) c = b64[rng() % 64];
    return result({{{"type", "image"}, {"data", data}, {"mimeType", "image/png"}}});
  }
  std::string t = repeat_to(readme(), kSize);
  if (kind == "secret") {
    t.insert(t.size() / 2, " STRIPE_KEY=sk_live_4eC39HqLyjWDarjtT1zdp7dcQ8nR2xYv ");
    return text_result(t);
  }
  // "redact": a dumped environment or log with a secret every 4 KiB (256 in all), of a few kinds.
  static const char* secrets[] = {
      " STRIPE_KEY=sk_live_4eC39HqLyjWDarjtT1zdp7dcQ8nR2xYv ",
      " aws_access_key_id = AKIAZ7QX2MPLR4JD5WTE ",
      " token: xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx ",
      " OPENAI_API_KEY=sk-proj-Zq8Xr2Lm4Np6Tv0Wy3Bd5Fh7Jk9Mc1Qs2Ue4Gi6Ko8Pa0Rb ",
  };
  // Inserted back to front so earlier positions stay put; moved off UTF-8 continuation bytes.
  for (size_t k = t.size() / 4096; k > 0; --k) {
    size_t pos = k * 4096;
    while (pos < t.size() && (static_cast<unsigned char>(t[pos]) & 0xC0) == 0x80) ++pos;
    t.insert(pos, secrets[k % 4]);
  }
  return text_result(t);
}

std::unique_ptr<Filter> default_filter() {
  ChainConfig cfg;
  Status s;
  return make_scan_filter(cfg, &s);
}

void BM_Filter(benchmark::State& state, std::string kind) {
  auto f = default_filter();
  std::string line = line_for(kind);
  testing::FakeContext ctx;
  {
    Message m(Direction::s2c, line);
    m.request_method = "tools/call";
    f->on_message(m, ctx);
    state.counters["findings"] = static_cast<double>(ctx.records.size());
    state.counters["modified"] = m.modified();
    ctx.records.clear();
  }
  for (auto _ : state) {
    Message m(Direction::s2c, line);
    m.request_method = "tools/call";
    benchmark::DoNotOptimize(f->on_message(m, ctx));
    ctx.records.clear();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * line.size()));
}

// The filter without the relay's own JSON validation (Message's constructor), which runs anyway.
void BM_FilterOnly(benchmark::State& state, std::string kind) {
  auto f = default_filter();
  std::string line = line_for(kind);
  testing::FakeContext ctx;
  Message m(Direction::s2c, line);
  m.request_method = "tools/call";
  // Copied outside the timing so a redaction case scans the original every time, not the
  // message it redacted the time before.
  for (auto _ : state) {
    state.PauseTiming();
    Message copy = m;
    state.ResumeTiming();
    benchmark::DoNotOptimize(f->on_message(copy, ctx));
    ctx.records.clear();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * line.size()));
}

void BM_HyperscanOnly(benchmark::State& state, std::string kind) {
  Status s;
  auto p = scan::Policy::build(nullptr, scan::builtin_rules(&s), &s);
  std::string line = line_for(kind);
  std::vector<uint32_t> fired;
  for (auto _ : state) {
    p->engine().fired(line, &fired);
    benchmark::DoNotOptimize(fired.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * line.size()));
}

void BM_Decode(benchmark::State& state, std::string kind) {
  std::string line = line_for(kind), out;
  for (auto _ : state) {
    out.clear();
    scan::decode_escapes(line, &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * line.size()));
}

void BM_PolicyBuild(benchmark::State& state, bool cached) {
  std::string dir = cached ? "/tmp/mcpcell-scan-bench-cache" : "";
  Status s;
  const auto& book = scan::builtin_rules(&s);
  if (cached) scan::Policy::build(nullptr, book, &s, dir);
  for (auto _ : state) benchmark::DoNotOptimize(scan::Policy::build(nullptr, book, &s, dir));
}

}  // namespace
}  // namespace mcpcell

int main(int argc, char** argv) {
  using namespace mcpcell;
  for (const char* k : {"plain", "markdown", "escaped_json", "image", "secret", "redact"}) {
    benchmark::RegisterBenchmark((std::string("filter/") + k).c_str(), BM_Filter, k)->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark((std::string("filter_only/") + k).c_str(), BM_FilterOnly, k)->Unit(benchmark::kMillisecond);
  }
  for (const char* k : {"plain", "markdown", "escaped_json"}) {
    benchmark::RegisterBenchmark((std::string("hyperscan_lists_db/") + k).c_str(), BM_HyperscanOnly, k)->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark((std::string("decode/") + k).c_str(), BM_Decode, k)->Unit(benchmark::kMillisecond);
  }
  benchmark::RegisterBenchmark("policy_build/cold", BM_PolicyBuild, false)->Unit(benchmark::kMillisecond)->Iterations(3);
  benchmark::RegisterBenchmark("policy_build/cached", BM_PolicyBuild, true)->Unit(benchmark::kMillisecond);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
}
