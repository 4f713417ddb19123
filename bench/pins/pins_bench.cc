// The pin filter alone on a large tools/list response: mcpcell-pins-bench [TOOLS] [ITERATIONS].
// Prints the time per list for: a DOM parse alone (the floor), the first sight (every item pinned,
// store written in the background), a pinned session's lists (every item hashed and compared), and
// loading the pin store when a session starts.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "core/chain_config.h"
#include "pins/pin_filter.h"

using namespace mcpcell;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

class NullContext : public FilterContext {
 public:
  SessionInfo info{"bench", "s", "default"};
  const SessionInfo& session() const override { return info; }
  void send(Direction, std::string) override {}
  void audit(std::string_view, json) override {}
  std::string fingerprint(std::string_view) const override { return ""; }
};

std::string make_list(int n) {
  json tools = json::array();
  for (int i = 0; i < n; ++i) {
    tools.push_back(
        {{"name", "tool_" + std::to_string(i)},
         {"description", "Generated tool number " + std::to_string(i) +
                             ". It looks up a record in the inventory and returns its fields as "
                             "JSON, with paging and filtering options."},
         {"inputSchema",
          {{"type", "object"},
           {"properties",
            {{"id", {{"type", "integer"}, {"minimum", 0}, {"maximum", 1000000}}},
             {"fields",
              {{"type", "array"},
               {"items", {{"type", "string"}, {"enum", {"name", "size", "owner", "tags"}}}}}},
             {"limit", {{"type", "integer"}, {"default", 10}}}}},
           {"required", {"id"}}}},
         {"annotations", {{"title", "Tool " + std::to_string(i)}, {"readOnlyHint", true}}}});
  }
  return json{{"jsonrpc", "2.0"}, {"id", 1}, {"result", {{"tools", tools}}}}.dump();
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  int tools = argc > 1 ? std::atoi(argv[1]) : 500;
  int iters = argc > 2 ? std::atoi(argv[2]) : 200;
  std::string line = make_list(tools);
  char tmpl[] = "/tmp/pins-bench.XXXXXX";
  fs::path dir = ::mkdtemp(tmpl);
  ChainConfig cfg;
  cfg.session = {"bench", "s", "default"};
  cfg.state_dir = dir;
  cfg.argv = {"/bin/true"};
  NullContext ctx;

  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < iters; ++i) {
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded()) return 1;
  }
  double parse_ms = ms_since(t0) / iters;

  auto run_list = [&](Filter& f) {
    Message m(Direction::s2c, line);
    m.request_method = "tools/list";
    f.on_message(m, ctx);
  };
  Status st;
  auto first = make_pin_filter(cfg, &st);
  t0 = std::chrono::steady_clock::now();
  run_list(*first);
  double first_ms = ms_since(t0);
  first->on_end(ctx);
  first.reset();

  // A pinned session's first list: every item hashed and compared.
  int sessions = std::max(1, iters / 10);
  double load_ms = 0, pinned_ms = 0;
  for (int i = 0; i < sessions; ++i) {
    t0 = std::chrono::steady_clock::now();
    auto pinned = make_pin_filter(cfg, &st);
    load_ms += ms_since(t0);
    t0 = std::chrono::steady_clock::now();
    run_list(*pinned);
    pinned_ms += ms_since(t0);
  }
  load_ms /= sessions;
  pinned_ms /= sessions;
  // The same list again within a session.
  auto session = make_pin_filter(cfg, &st);
  run_list(*session);
  t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < iters; ++i) run_list(*session);
  double again_ms = ms_since(t0) / iters;
  session.reset();

  std::printf("pin filter alone, %d tools, %zu bytes per list:\n", tools, line.size());
  std::printf("  DOM parse only         %8.3f ms/list\n", parse_ms);
  std::printf("  first sight (pin all)  %8.3f ms\n", first_ms);
  std::printf("  pinned (compare all)   %8.3f ms/list (first list of a session)\n", pinned_ms);
  std::printf("  same list again        %8.3f ms/list (unchanged page, same session)\n", again_ms);
  std::printf("  load pin store         %8.3f ms/session\n", load_ms);
  fs::remove_all(dir);
  return 0;
}
