// The audit log's queue: records handed over by the relay (and other threads) reach the file in
// order, each exactly once, with the right keyed hash, and the chain verifies, also when batches
// are big enough that the writer's buffers are dropped and regrown between batches.
#include "io/audit.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
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

// Each session's end rewrites the checkpoint. It is written into a spare file and exchanged with
// the old one, so a reader sees one whole or the other and no inode is freed (freeing one waited
// for the device's discard at every session's end). A spare planted as a symlink is not followed.
TEST(AuditLog, TheCheckpointIsSwappedInWholeAndMatchesTheLogAfterEachSession) {
  TempDir dir;
  ino_t previous = 0;
  for (int session = 0; session < 4; ++session) {
    {
      Status st;
      auto log = AuditLog::open(dir.path, "srv", "s" + std::to_string(session), &st);
      ASSERT_TRUE(log) << st.message();
      log->event("session.start", {{"n", session}});
      log->event("session.end", {{"exit", 0}});
      log->close();
    }
    nlohmann::json cp;
    std::ifstream(dir.path / "audit.checkpoint") >> cp;
    EXPECT_EQ(cp["offset"].get<uint64_t>(), fs::file_size(dir.path / "audit.jsonl"));
    std::vector<nlohmann::json> recs = read_records(dir.path / "audit.jsonl");
    ASSERT_EQ(recs.size(), 2u * (session + 1));
    struct stat now {
    }, spare{};
    ASSERT_EQ(::stat((dir.path / "audit.checkpoint").c_str(), &now), 0);
    EXPECT_EQ(now.st_mode & 0777, 0600u);
    // The checkpoint that was replaced lives on as the next spare: its inode was not freed.
    if (previous != 0) {
      ASSERT_EQ(::stat((dir.path / "audit.checkpoint.next").c_str(), &spare), 0);
      EXPECT_EQ(spare.st_ino, previous);
    }
    previous = now.st_ino;
  }
  EXPECT_TRUE(verify_audit_trail(dir.path).ok);

  fs::path secret = dir.path / "elsewhere";
  std::ofstream(secret) << "keep";
  fs::remove(dir.path / "audit.checkpoint.next");
  fs::create_symlink(secret, dir.path / "audit.checkpoint.next");
  {
    Status st;
    auto log = AuditLog::open(dir.path, "srv", "s9", &st);
    ASSERT_TRUE(log) << st.message();
    log->event("session.end", {{"exit", 0}});
  }
  std::string kept;
  std::ifstream(secret) >> kept;
  EXPECT_EQ(kept, "keep");
  EXPECT_TRUE(verify_audit_trail(dir.path).ok);
}

}  // namespace
}  // namespace mcpcell
