// The audit trail: one JSON object per line in $XDG_STATE_HOME/mcpcell/audit.jsonl (SPEC "Audit
// records"). The relay thread renders a record's text and queues it (with a copy of a small line,
// which the writer hashes); a writer thread adds keyed hashes and the chain and appends, so a slow
// disk never stalls the relay. The file side (hash chain, locking, rotation, checkpoints) is
// AuditFile in audit_file.h.
#pragma once

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/filter.h"
#include "core/jsonrpc.h"
#include "core/status.h"
#include "io/audit_file.h"
#include "io/digest.h"

namespace mcpcell {

class AuditLog {
 public:
  // Opens (creating 0600 if needed) `dir/audit.jsonl` and the fingerprint key `dir/audit.key`.
  static std::unique_ptr<AuditLog> open(const std::filesystem::path& dir, std::string server,
                                        std::string session, Status* status,
                                        AuditFileOptions options = {});
  ~AuditLog();  // flushes everything queued, then stops the writer

  // Takes no more records: the writer drains the queue, writes the checkpoint and ends by itself,
  // so that the caller can finish other work meanwhile. The destructor waits for it.
  void close();

  // A `message` record: direction, method or id, size, and a keyed hash of the line (never the
  // line). `disposition` is "forwarded", "blocked", "modified", "dropped" or "injected".
  // `line_mac`, when given, is hmac().mac(line) computed by the caller (see BackgroundMac).
  void message(Direction dir, const MessageInfo& info, std::string_view line,
               std::string_view disposition, const Sha256Digest* line_mac = nullptr);
  // Any other record; `fields` must be an object.
  void event(std::string_view name, nlohmann::json fields);
  // Keyed hash (HMAC-SHA256, first 16 bytes, hex) with this installation's audit key.
  std::string fingerprint(std::string_view data) const;
  static std::string fingerprint_hex(const Sha256Digest& mac) { return hex_encode(mac.data(), 16); }
  const HmacSha256& hmac() const { return *hmac_; }
  // Blocks until every record queued so far is on disk.
  void flush();
  // How often queuing a record had to wake the writer thread (for tests and diagnostics).
  uint64_t writer_wakeups() const { return wakeups_; }

  const std::filesystem::path& path() const { return path_; }

 private:
  // Records wait in one byte buffer: each is its rendered text (without the closing brace and the
  // chain field) and, for lines the writer hashes, the line's bytes right after it. The buffers
  // are swapped between the relay and the writer, so in steady state queuing a record allocates
  // nothing (it used to take a deque node and three strings per message).
  struct Entry {
    size_t text_off, text_len;
    size_t hash_off, hash_len;  // hash_len == SIZE_MAX: no "hash" field to add
  };
  static constexpr size_t kNoHash = SIZE_MAX;

  AuditLog() = default;
  // Appends `text` (and `hash_data`, when given) as one record.
  void enqueue(std::string_view text, const std::string_view* hash_data);
  void writer_loop();
  // Starts a record: `{"ts":"...","server":...,"session":"...","event":...`.
  void append_head(std::string& out, std::string_view event) const;

  std::filesystem::path path_;
  std::string server_, session_;
  std::string head_rest_;  // `","server":...,"session":"...","event":` after the timestamp
  std::unique_ptr<HmacSha256> hmac_;  // keyed with audit.key
  std::unique_ptr<AuditFile> file_;

  std::mutex mu_;
  std::condition_variable cv_, drained_;
  std::string queue_buf_;
  std::vector<Entry> queue_;
  size_t queued_bytes_ = 0;
  uint64_t enqueued_ = 0, written_ = 0;
  bool stop_ = false;
  bool writer_idle_ = false;   // the writer sleeps on an empty queue and needs a wake-up
  uint64_t flush_wanted_ = 0;  // flush() waits for this many records
  std::atomic<uint64_t> wakeups_{0};
  std::thread writer_;
};

// RFC 3339 UTC timestamp with microseconds, e.g. 2026-11-22T10:00:00.123456Z.
std::string rfc3339_now();
// The same, appended to `out` (no temporary: this runs for every relayed message).
void append_rfc3339_now(std::string& out);

}  // namespace mcpcell
