#include "io/audit_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>

#include <nlohmann/json.hpp>

#include "io/paths.h"

namespace mcpcell {
namespace fs = std::filesystem;

namespace {

constexpr size_t kPrevSuffix = 74;  // `"prev":"` + 64 hex + `"}`

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The "prev" value at the end of a record, or empty if the line has none.
std::string_view prev_of(std::string_view line) {
  if (line.size() < kPrevSuffix) return {};
  std::string_view tail = line.substr(line.size() - kPrevSuffix);
  if (!tail.starts_with("\"prev\":\"") || !tail.ends_with("\"}")) return {};
  return tail.substr(8, 64);
}

std::string rotated_name() {
  return utc_now("audit-%Y%m%dT%H%M%S.%fZ.jsonl");
}

}  // namespace

AuditFile::AuditFile(fs::path dir, AuditFileOptions options)
    : dir_(std::move(dir)),
      path_(dir_ / "audit.jsonl"),
      lock_path_(dir_ / "audit.lock"),
      checkpoint_path_(dir_ / "audit.checkpoint"),
      options_(options),
      // The first checkpoint comes 200 ms in (or at the end): a short session writes one, not two.
      last_checkpoint_ms_(now_ms()) {}

AuditFile::~AuditFile() {
  if (lock_fd_ >= 0 && fd_ >= 0 && known_size_ != UINT64_MAX) {
    ::flock(lock_fd_, LOCK_EX);
    struct stat st;
    if (::fstat(fd_, &st) == 0 && static_cast<uint64_t>(st.st_size) == known_size_ &&
        reopen_if_rotated().ok() && fd_ >= 0 && known_size_ != UINT64_MAX)
      write_checkpoint();
    ::flock(lock_fd_, LOCK_UN);
  }
  if (fd_ >= 0) ::close(fd_);
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Status AuditFile::open() {
  lock_fd_ = ::open(lock_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (lock_fd_ < 0)
    return Status::Error("cannot open " + lock_path_.string() + ": " + std::strerror(errno));
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd_ < 0)
    return Status::Error("cannot open audit log " + path_.string() + ": " + std::strerror(errno));
  ::fchmod(fd_, 0600);
  struct stat st;
  ::fstat(fd_, &st);
  dev_ = st.st_dev;
  ino_ = st.st_ino;
  return Status::Ok();
}

Status AuditFile::reopen_if_rotated() {
  struct stat st;
  if (::stat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_)
    return Status::Ok();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  known_size_ = UINT64_MAX;
  return open().ok() ? Status::Ok() : Status::Error("cannot reopen " + path_.string());
}

Status AuditFile::learn_tail() {
  struct stat st;
  if (::fstat(fd_, &st) != 0) return Status::Error(std::strerror(errno));
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size == 0) {
    // An empty file right after a rotation continues the chain of the file it replaced: the
    // rotating session left the chain head in the checkpoint (offset 0). Otherwise the trail is
    // new.
    prev_ = kGenesis;
    std::string cp;
    nlohmann::json j;
    if (read_file(checkpoint_path_, &cp) &&
        !(j = nlohmann::json::parse(cp, nullptr, false)).is_discarded() && j.is_object() &&
        j.value("file", "") == path_.filename().string() && j.value("offset", uint64_t{1}) == 0 &&
        j.value("last", "").size() == 64)
      prev_ = j.value("last", "");
    known_size_ = 0;
    return Status::Ok();
  }
  int rfd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (rfd < 0) return Status::Error(std::strerror(errno));
  // Read backwards in growing windows until the last line is whole.
  std::string tail;
  for (uint64_t window = 65536;; window *= 4) {
    uint64_t start = size > window ? size - window : 0;
    tail.resize(size - start);
    ssize_t n = ::pread(rfd, tail.data(), tail.size(), static_cast<off_t>(start));
    if (n < 0) {
      ::close(rfd);
      return Status::Error(std::strerror(errno));
    }
    tail.resize(static_cast<size_t>(n));
    std::string_view body = tail;
    if (!body.empty() && body.back() == '\n') body.remove_suffix(1);
    if (body.find('\n') != std::string_view::npos || start == 0) break;
  }
  ::close(rfd);
  bool torn = tail.empty() || tail.back() != '\n';
  std::string_view body = tail;
  if (!torn) body.remove_suffix(1);
  size_t nl = body.rfind('\n');
  std::string_view last = nl == std::string_view::npos ? body : body.substr(nl + 1);
  prev_ = sha256_hex(last);
  if (torn) {
    // A write was cut short (crash): end the torn record so the next one starts on its own line.
    if (!write_all(fd_, "\n")) return Status::Error(std::strerror(errno));
    ++size;
  }
  known_size_ = size;
  return Status::Ok();
}

Status AuditFile::append(const std::vector<std::string_view>& records) {
  if (records.empty()) return Status::Ok();
  ::flock(lock_fd_, LOCK_EX);
  struct Unlock {
    int fd;
    ~Unlock() { ::flock(fd, LOCK_UN); }
  } unlock{lock_fd_};

  if (Status s = reopen_if_rotated(); !s) return s;
  struct stat st;
  if (::fstat(fd_, &st) != 0) return Status::Error(std::strerror(errno));
  if (static_cast<uint64_t>(st.st_size) != known_size_)
    if (Status s = learn_tail(); !s) return s;

  std::string& out = out_;
  out.clear();
  for (std::string_view r : records) {
    size_t start = out.size();
    out += r;
    out += ",\"prev\":\"";
    out += prev_;
    out += "\"}";
    Sha256Digest d = sha256({std::string_view(out).substr(start)});
    prev_.resize(2 * d.size());
    hex_encode_to(prev_.data(), d.data(), d.size());
    out += '\n';
  }
  bool ok = write_all(fd_, out);
  int err = errno;
  size_t written = out.size();
  if (out.capacity() > (64u << 10)) std::string().swap(out);  // after a burst, do not keep it
  if (!ok) {
    known_size_ = UINT64_MAX;
    return Status::Error("cannot write " + path_.string() + ": " + std::strerror(err));
  }
  known_size_ += written;

  if (known_size_ >= options_.max_bytes) return rotate();
  if (now_ms() - last_checkpoint_ms_ >= 200) write_checkpoint();
  return Status::Ok();
}

Status AuditFile::rotate() {
  fs::path target = dir_ / rotated_name();
  if (::rename(path_.c_str(), target.c_str()) != 0)
    return Status::Error("cannot rotate " + path_.string() + ": " + std::strerror(errno));
  ::close(fd_);
  fd_ = -1;
  std::string keep_prev = prev_;
  if (Status s = open(); !s) return s;
  prev_ = keep_prev;  // the new file continues the chain
  known_size_ = 0;
  write_checkpoint();
  prune();
  return Status::Ok();
}

void AuditFile::prune() {
  std::vector<fs::path> files = audit_trail_files(dir_);
  std::vector<fs::path> rotated;
  for (const fs::path& f : files)
    if (f.filename() != "audit.jsonl") rotated.push_back(f);
  auto now = fs::file_time_type::clock::now();
  std::error_code ec;
  for (size_t i = 0; i < rotated.size(); ++i) {
    bool too_many = rotated.size() - i > static_cast<size_t>(std::max(0, options_.keep_files));
    auto age = now - fs::last_write_time(rotated[i], ec);
    bool too_old = !ec && age > std::chrono::hours(24) * options_.max_age_days;
    if (too_many || too_old) fs::remove(rotated[i], ec);
  }
}

void AuditFile::write_checkpoint() {
  nlohmann::json cp = {
      {"file", path_.filename().string()}, {"offset", known_size_}, {"last", prev_}};
  // Not fsync'd: the log it describes is not either, and a checkpoint on disk ahead of its log
  // would make an honest trail look cut off after a crash. It costs the relay's audit writer no
  // disk wait every 200 ms, nor the session's end one.
  std::string text = cp.dump() + "\n";
  if (!swap_in_checkpoint(text)) write_file_atomic(checkpoint_path_, text, /*durable=*/false);
  last_checkpoint_ms_ = now_ms();
}

bool AuditFile::swap_in_checkpoint(std::string_view text) {
  // Written in place into a spare file, then exchanged with the checkpoint: a reader sees the old
  // or the new checkpoint whole, as with a rename, but no inode is freed. Replacing the checkpoint
  // by rename freed the old one's block at every session's end, and on a filesystem mounted with
  // `discard` (this VM's) that waits for the device: ~0.3 ms. Every mcpcell writing this trail
  // shares the spare, so callers hold the audit lock (append, rotate and the destructor do).
  fs::path spare = dir_ / "audit.checkpoint.next";
  int fd = ::open(spare.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  bool ok = ::pwrite(fd, text.data(), text.size(), 0) == static_cast<ssize_t>(text.size()) &&
            ::ftruncate(fd, static_cast<off_t>(text.size())) == 0;
  ::close(fd);
  if (!ok) return false;
  if (::renameat2(AT_FDCWD, spare.c_str(), AT_FDCWD, checkpoint_path_.c_str(), RENAME_EXCHANGE) ==
      0)
    return true;
  // The first checkpoint, or a filesystem without RENAME_EXCHANGE: a plain rename.
  return ::rename(spare.c_str(), checkpoint_path_.c_str()) == 0;
}

std::vector<fs::path> audit_trail_files(const fs::path& dir) {
  std::vector<fs::path> rotated;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string n = e.path().filename().string();
    if (n.starts_with("audit-") && n.ends_with(".jsonl")) rotated.push_back(e.path());
  }
  std::sort(rotated.begin(), rotated.end());
  if (fs::exists(dir / "audit.jsonl", ec)) rotated.push_back(dir / "audit.jsonl");
  return rotated;
}

VerifyReport verify_audit_trail(const fs::path& dir) {
  VerifyReport rep;
  std::vector<fs::path> files = audit_trail_files(dir);
  std::string expected;  // empty: not known yet (start of the oldest file kept)
  auto problem = [&](std::string text) {
    rep.ok = false;
    if (rep.problems.size() < 20) rep.problems.push_back(std::move(text));
  };
  uint64_t current_size = 0;
  std::string current_data;
  for (size_t fi = 0; fi < files.size(); ++fi) {
    const fs::path& f = files[fi];
    std::string data;
    if (!read_file(f, &data)) {
      problem(f.string() + ": cannot be read");
      continue;
    }
    ++rep.files;
    size_t pos = 0, line_no = 0;
    while (pos < data.size()) {
      size_t nl = data.find('\n', pos);
      bool complete = nl != std::string::npos;
      std::string_view line(data.data() + pos, (complete ? nl : data.size()) - pos);
      ++line_no;
      pos = complete ? nl + 1 : data.size();
      std::string where = f.filename().string() + " line " + std::to_string(line_no);
      std::string_view prev = prev_of(line);
      if (!complete) {
        if (!line.starts_with("{\"ts\":\"")) {
          problem(where + ": not a record of the trail (appended text)");
          break;
        }
        ++rep.torn;
        rep.notes.push_back(where + ": the last record is incomplete (a write was cut short)");
        break;
      }
      if (prev.empty()) {
        // A torn record that a later writer ended with a newline; the chain runs through it.
        // A crash leaves the start of a record, which is never valid JSON on its own; anything
        // else (a whole object without a chain field, garbage) was put there by someone.
        bool record_start = line.starts_with("{\"ts\":\"") &&
                            nlohmann::json::parse(line, nullptr, false).is_discarded();
        if (!record_start) {
          problem(where + ": not a record of the trail (inserted text)");
          expected = sha256_hex(line);
          continue;
        }
        ++rep.torn;
        rep.notes.push_back(where + ": incomplete record (a write was cut short by a crash)");
        expected = sha256_hex(line);
        continue;
      }
      ++rep.records;
      if (expected.empty()) {
        if (prev != AuditFile::kGenesis)
          rep.notes.push_back("the trail starts at " + where +
                              "; older records were removed by retention");
      } else if (prev != expected) {
        problem(where +
                ": broken chain: the record before it was edited, or records were "
                "deleted, inserted or reordered just before it");
      }
      expected = sha256_hex(line);
    }
    if (fi + 1 == files.size()) {
      current_size = data.size();
      current_data = std::move(data);
    }
  }
  // The checkpoint catches records cut off the end, which the chain alone cannot see.
  std::string cp_text;
  nlohmann::json cp;
  if (read_file(dir / "audit.checkpoint", &cp_text) &&
      !(cp = nlohmann::json::parse(cp_text, nullptr, false)).is_discarded() && cp.is_object()) {
    std::string file = cp.value("file", "");
    uint64_t offset = cp.value("offset", uint64_t{0});
    std::string last = cp.value("last", "");
    bool current = !files.empty() && files.back().filename() == file;
    if (!current) {
      problem("the checkpoint names " + file +
              ", which is not the current audit file (the trail "
              "was replaced or deleted)");
    } else if (current_size < offset) {
      problem(file + " is shorter (" + std::to_string(current_size) +
              " bytes) than the checkpoint recorded (" + std::to_string(offset) +
              " bytes): records were cut off the end");
    } else if (offset > 0) {
      std::string_view upto(current_data.data(), offset);
      if (upto.back() != '\n') {
        problem(file + ": the checkpoint's offset does not end a record: records were changed");
      } else {
        upto.remove_suffix(1);
        size_t nl = upto.rfind('\n');
        std::string_view last_line = nl == std::string_view::npos ? upto : upto.substr(nl + 1);
        if (sha256_hex(last_line) != last)
          problem(file + ": the record at the checkpoint differs from the one checkpointed");
      }
    }
  } else if (!files.empty()) {
    rep.notes.push_back("no checkpoint found: truncation at the end cannot be checked");
  }
  return rep;
}

}  // namespace mcpcell
