#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/filter.h"

namespace mcpcell::testing {

class FakeContext : public FilterContext {
 public:
  const SessionInfo& session() const override { return info_; }
  void send(Direction towards, std::string line) override { sent.emplace_back(towards, line); }
  void audit(std::string_view event, nlohmann::json fields) override {
    fields["event"] = std::string(event);
    records.push_back(std::move(fields));
  }
  std::string fingerprint(std::string_view s) const override {
    uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
    return "fp" + std::to_string(h);
  }
  std::vector<nlohmann::json> events(std::string_view name) const {
    std::vector<nlohmann::json> out;
    for (const auto& r : records)
      if (r["event"] == name) out.push_back(r);
    return out;
  }
  std::vector<std::pair<Direction, std::string>> sent;
  std::vector<nlohmann::json> records;

 private:
  SessionInfo info_{"test-server", "s1", "default"};
};

}  // namespace mcpcell::testing
