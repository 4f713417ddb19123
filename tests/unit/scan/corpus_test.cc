// The benign corpus (bench/scan/capture_corpus.mjs): tool lists and results of the real npm servers
// plus synthetic look-alikes (hashes, UUIDs, public keys, certificates, base64 images, publishable
// keys). With the default policy not one finding, not one changed byte, not one flagged item.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "core/chain_config.h"
#include "fake_context.h"
#include "scan/scan_filter.h"

namespace mcpcell {
namespace {

using nlohmann::json;

TEST(Corpus, BenignTrafficHasZeroFindings) {
  ChainConfig cfg;
  Status s;
  auto f = make_scan_filter(cfg, &s);
  ASSERT_TRUE(f) << s.message();
  size_t lines = 0, bytes = 0;
  for (const auto& entry : std::filesystem::directory_iterator(SCAN_CORPUS_DIR)) {
    std::ifstream in(entry.path());
    std::string l;
    std::map<std::string, std::pair<std::string, std::string>> requests;  // id -> method, params
    while (std::getline(in, l)) {
      auto rec = json::parse(l, nullptr, false);
      ASSERT_FALSE(rec.is_discarded());
      std::string line = rec["line"];
      Direction dir = rec["dir"] == "c2s" ? Direction::c2s : Direction::s2c;
      Message m(dir, line);
      if (m.info().is_request())
        requests[std::string(m.info().id)] = {std::string(m.info().method), std::string(m.info().params)};
      if (m.info().is_response() && dir == Direction::s2c) {
        auto it = requests.find(std::string(m.info().id));
        if (it != requests.end()) {
          m.request_method = it->second.first;
          m.request_params = it->second.second;
        }
      }
      testing::FakeContext ctx;
      EXPECT_EQ(f->on_message(m, ctx), FilterStatus::Continue);
      EXPECT_FALSE(m.modified()) << entry.path().filename() << ": " << line.substr(0, 300);
      EXPECT_TRUE(m.flagged_items.empty()) << entry.path().filename() << ": "
                                           << m.flagged_items[0].item << " " << m.flagged_items[0].rule;
      for (const auto& r : ctx.records)
        EXPECT_EQ(r["event"], "policy.server_request") << entry.path().filename() << ": " << r.dump();
      ++lines;
      bytes += line.size();
    }
  }
  EXPECT_GT(lines, 80u);
  EXPECT_GT(bytes, 90000u);
}

}  // namespace
}  // namespace mcpcell
