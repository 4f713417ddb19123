// The audit log's queue: records handed over by the relay (and other threads) reach the file in
// order, each exactly once, with the right keyed hash, and the chain verifies, also when batches
// are big enough that the writer's buffers are dropped and regrown between batches.
#include "io/audit.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "io/audit_file.h"

namespace mcpcell {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/mcpcell-audit-test-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::vector<nlohmann::json> read_records(const fs::path& file) {
  std::vector<nlohmann::json> out;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
  return out;
}

TEST(AuditLog, BigBurstsArriveInOrderWithTheirHashesAndAChainThatVerifies) {
  TempDir dir;
  Status st;
  auto log = AuditLog::open(dir.path, "srv \"quoted\"", "sess1", &st);
  ASSERT_TRUE(log) << st.message();
  // Lines of many sizes: small ones are hashed by the writer from a copy, big ones (past 64 KiB)
  // on the caller's thread or from a precomputed MAC.
  std::vector<std::string> lines;
  for (int i = 0; i < 3000; ++i) {
    size_t size = i % 500 == 0 ? 70000 + static_cast<size_t>(i) : 20 + static_cast<size_t>(i % 900);
    std::string line = "{\"jsonrpc\":\"2.0\",\"id\":" + std::to_string(i) + ",\"method\":\"m\\t\"}";
    line.resize(std::max(line.size(), size), 'p');
    lines.push_back(std::move(line));
  }
  // A second thread records events meanwhile, as the egress proxy does.
  std::thread other([&] {
    for (int i = 0; i < 500; ++i) log->event("net.allow", {{"host", "h" + std::to_string(i)}});
  });
  for (size_t i = 0; i < lines.size(); ++i) {
    MessageInfo info;
    info.kind = MessageKind::request;
    info.method = "m\t";  // escaped in the record
    std::string id = std::to_string(i);
    info.id = id;
    Sha256Digest mac = log->hmac().mac(lines[i]);
    log->message(Direction::c2s, info, lines[i], i % 3 == 0 ? "blocked" : "forwarded",
                 i % 7 == 0 ? &mac : nullptr);
  }
  other.join();
  std::vector<std::string> want;
  for (const std::string& l : lines) want.push_back(log->fingerprint(l));
  log.reset();  // flushes

  std::vector<nlohmann::json> recs = read_records(dir.path / "audit.jsonl");
  ASSERT_EQ(recs.size(), lines.size() + 500);
  size_t next = 0, events = 0;
  for (const auto& r : recs) {
    EXPECT_EQ(r["server"], "srv \"quoted\"");
    EXPECT_EQ(r["session"], "sess1");
    if (r["event"] == "net.allow") {
      EXPECT_EQ(r["host"], "h" + std::to_string(events++));
      continue;
    }
    ASSERT_EQ(r["event"], "message");
    ASSERT_LT(next, lines.size());
    EXPECT_EQ(r["bytes"], lines[next].size()) << next;
    EXPECT_EQ(r["id"], next);
    EXPECT_EQ(r["method"], "m\t");
    EXPECT_EQ(r["hash"], want[next]) << next;
    EXPECT_EQ(r.value("disposition", "forwarded"), next % 3 == 0 ? "blocked" : "forwarded");
    ++next;
  }
  EXPECT_EQ(next, lines.size());
  EXPECT_EQ(events, 500u);
  VerifyReport v = verify_audit_trail(dir.path);
  EXPECT_TRUE(v.ok) << (v.problems.empty() ? "" : v.problems[0]);
  EXPECT_EQ(v.records, lines.size() + 500);
}

TEST(AuditLog, EveryMessageRecordCarriesTheKeyedHashOfItsLine) {
  TempDir dir;
  Status st;
  std::vector<std::string> lines = {R"({"jsonrpc":"2.0","id":1,"method":"a"})",
                                    std::string(100000, 'x'), R"({"jsonrpc":"2.0","id":2})"};
  std::string want[3];
  {
    auto log = AuditLog::open(dir.path, "s", "x", &st);
    ASSERT_TRUE(log) << st.message();
    MessageInfo info;
    for (size_t i = 0; i < lines.size(); ++i) {
      want[i] = log->fingerprint(lines[i]);
      log->message(Direction::s2c, info, lines[i], "forwarded");
    }
  }
  std::vector<nlohmann::json> recs = read_records(dir.path / "audit.jsonl");
  ASSERT_EQ(recs.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(recs[i]["hash"], want[i]) << i;
}

TEST(AuditLog, SteadyTrafficDoesNotWakeTheWriterForEveryBatch) {
  // One record every 200 us for 300 ms: about 150 batches of 2 ms. The writer finds them on its
  // own while they keep coming; the relay wakes it only after a quiet spell (here: at the start).
  TempDir dir;
  Status st;
  auto log = AuditLog::open(dir.path, "s", "x", &st);
  ASSERT_TRUE(log) << st.message();
  MessageInfo info;
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
  int n = 0;
  while (std::chrono::steady_clock::now() < until) {
    log->message(Direction::c2s, info, R"({"jsonrpc":"2.0","method":"a"})", "forwarded");
    ++n;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  EXPECT_GT(n, 300);
  EXPECT_LE(log->writer_wakeups(), 10u) << n << " records";
  log->flush();
  log.reset();
  EXPECT_EQ(read_records(dir.path / "audit.jsonl").size(), static_cast<size_t>(n));
}

}  // namespace
}  // namespace mcpcell
