// The audit trail on disk: a hash chain of JSONL records across rotated files.
//
// Problem: several mcpcell sessions append to one trail, a crash can cut a write short, the trail
// must rotate, and an edited, deleted, reordered or truncated record must be detectable.
// Solution: every record ends with `"prev":"<sha256 of the previous record's bytes>"`, and the
// first record of the trail has 64 zeros. Appends happen under an exclusive flock on a separate
// lock file (the log itself is renamed on rotation, so it cannot carry the lock). Under the lock a
// writer checks that its fd is still the current file (another session may have rotated it), learns
// the previous hash from the file's tail unless it wrote that tail itself, and repairs a torn tail
// by ending it with a newline (the torn bytes stay, and the chain continues from their hash, so
// verification reports the crash without calling it tampering). Rotation renames the file to
// audit-<UTC time>.jsonl; retention deletes the oldest rotated files. A checkpoint (last offset and
// hash) is kept in a separate file so that cutting records off the end is detected too.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace mcpcell {

struct AuditFileOptions {
  uint64_t max_bytes = 32ull << 20;  // rotate past this size
  int keep_files = 10;               // rotated files kept
  int max_age_days = 90;             // rotated files older than this are deleted
};

class AuditFile {
 public:
  AuditFile(std::filesystem::path dir, AuditFileOptions options);
  ~AuditFile();

  Status open();
  // Appends records (each a complete JSON object without the closing brace and without "prev");
  // adds the chain field, the brace and the newline, and writes them with one write(2).
  Status append(const std::vector<std::string_view>& records_without_brace);

  const std::filesystem::path& path() const { return path_; }

  static constexpr const char* kGenesis =
      "0000000000000000000000000000000000000000000000000000000000000000";

 private:
  Status reopen_if_rotated();
  Status learn_tail();  // sets prev_ from the file's last record; repairs a torn tail
  Status rotate();
  void prune();
  void write_checkpoint();
  bool swap_in_checkpoint(std::string_view text);

  std::filesystem::path dir_, path_, lock_path_, checkpoint_path_;
  AuditFileOptions options_;
  int fd_ = -1, lock_fd_ = -1;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  uint64_t known_size_ = UINT64_MAX;  // file size after our last write (UINT64_MAX: unknown)
  std::string prev_;
  std::string out_;  // what one append() writes; kept to reuse its memory
  int64_t last_checkpoint_ms_ = 0;
};

// The verdict of `mcpcell log verify`.
struct VerifyReport {
  bool ok = true;
  uint64_t records = 0, files = 0, torn = 0;
  std::vector<std::string> problems;  // first broken link first; each names file and line
  std::vector<std::string> notes;     // not tampering: torn writes, pruned history
};

// Walks the rotated files and the current file in order and checks the chain and the checkpoint.
VerifyReport verify_audit_trail(const std::filesystem::path& dir);

// The trail's files, oldest first (rotated ones, then audit.jsonl if present).
std::vector<std::filesystem::path> audit_trail_files(const std::filesystem::path& dir);

}  // namespace mcpcell
