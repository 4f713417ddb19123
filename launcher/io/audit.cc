#include "io/audit.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>

#include "io/paths.h"

namespace mcpcell {
namespace {

constexpr size_t kMaxQueuedBytes = 4u << 20;   // past this the relay waits for the disk
constexpr size_t kCopyForHashing = 64u << 10;  // larger lines are hashed on the caller's thread
constexpr size_t kBatchBytes = 256u << 10;     // a batch this big is written at once
constexpr auto kBatchDelay = std::chrono::milliseconds(2);
constexpr size_t kKeepBuffer = 64u << 10;  // queue buffers up to this size are reused
constexpr int kQuietPolls = 10;            // empty batch periods before the writer sleeps

}  // namespace

void append_rfc3339_now(std::string& out) {
  timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  // strftime and gmtime cost more than the rest of a record; the date part changes once a second.
  thread_local time_t cached_sec = -1;
  thread_local char prefix[32];
  if (ts.tv_sec != cached_sec) {
    tm t;
    ::gmtime_r(&ts.tv_sec, &t);
    if (std::strftime(prefix, sizeof prefix, "%Y-%m-%dT%H:%M:%S.", &t) == 0) prefix[0] = '\0';
    cached_sec = ts.tv_sec;
  }
  char usec[8];
  long us = ts.tv_nsec / 1000;
  for (int i = 5; i >= 0; --i, us /= 10) usec[i] = static_cast<char>('0' + us % 10);
  usec[6] = 'Z';
  out += prefix;
  out.append(usec, 7);
}

std::string rfc3339_now() {
  std::string s;
  append_rfc3339_now(s);
  return s;
}

std::unique_ptr<AuditLog> AuditLog::open(const std::filesystem::path& dir, std::string server,
                                         std::string session, Status* status,
                                         AuditFileOptions options) {
  *status = ensure_private_dir(dir);
  if (!status->ok()) return nullptr;
  std::unique_ptr<AuditLog> log(new AuditLog());
  log->server_ = std::move(server);
  log->session_ = std::move(session);
  log->head_rest_ = "\",\"server\":";
  append_json_string(log->head_rest_, log->server_);
  log->head_rest_ += ",\"session\":\"";
  log->head_rest_ += log->session_;
  log->head_rest_ += "\",\"event\":";
  log->path_ = dir / "audit.jsonl";

  // The fingerprint key: created once per installation, never leaves the state directory.
  std::filesystem::path key_path = dir / "audit.key";
  std::string key;
  if (!read_file(key_path, &key) || key.size() < 32) {
    key = random_hex(32);
    int fd = ::open(key_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0) {
      write_all(fd, key);
      ::close(fd);
    } else if (!read_file(key_path, &key) || key.size() < 32) {  // lost a race: use the winner's
      *status = Status::Error("cannot create " + key_path.string() + ": " + std::strerror(errno));
      return nullptr;
    }
  }
  log->hmac_ = std::make_unique<HmacSha256>(key);

  log->file_ = std::make_unique<AuditFile>(dir, options);
  if (Status s = log->file_->open(); !s) {
    *status = s;
    return nullptr;
  }
  return log;
}

AuditLog::~AuditLog() {
  close();
  if (writer_.joinable()) writer_.join();
}

void AuditLog::close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
}

void AuditLog::append_head(std::string& out, std::string_view event) const {
  out += "{\"ts\":\"";
  append_rfc3339_now(out);
  out += head_rest_;
  append_json_string(out, event);
}

namespace {
// Records are rendered into this (per thread: the egress proxy records from its own) and copied
// into the queue under the lock, so building one allocates nothing once it has grown.
std::string& scratch() {
  thread_local std::string s;
  s.clear();
  return s;
}

void append_decimal(std::string& out, uint64_t v) {
  char buf[24];
  char* e = buf + sizeof buf;
  char* p = e;
  do *--p = static_cast<char>('0' + v % 10);
  while ((v /= 10) != 0);
  out.append(p, static_cast<size_t>(e - p));
}

void append_fingerprint(std::string& out, const Sha256Digest& mac) {
  char buf[32];
  hex_encode_to(buf, mac.data(), 16);
  out += ",\"hash\":\"";
  out.append(buf, sizeof buf);
  out += '"';
}
}  // namespace

void AuditLog::message(Direction dir, const MessageInfo& info, std::string_view line,
                       std::string_view disposition, const Sha256Digest* line_mac) {
  std::string& t = scratch();
  append_head(t, "message");
  t += ",\"dir\":\"";
  t += to_string(dir);
  t += "\",\"kind\":\"";
  t += to_string(info.kind);
  t += '"';
  if (!info.method.empty()) {
    t += ",\"method\":";
    append_json_string(t, info.method);
  }
  if (!info.id.empty() && info.id.size() <= 256) {
    t += ",\"id\":";
    t += info.id;  // a validated JSON token (string or number)
  }
  t += ",\"bytes\":";
  append_decimal(t, line.size());
  if (disposition != "forwarded") {
    t += ",\"disposition\":";
    append_json_string(t, disposition);
  }
  if (line_mac != nullptr) {
    append_fingerprint(t, *line_mac);
  } else if (line.size() > kCopyForHashing) {
    // Hash big lines here rather than queue a copy: the copy would cost as much memory traffic
    // as the hash, and a queue of megabyte lines is what made mcpcell's memory grow.
    append_fingerprint(t, hmac_->mac(line));
  } else {
    enqueue(t, &line);  // the writer hashes it
    return;
  }
  enqueue(t, nullptr);
}

void AuditLog::event(std::string_view name, nlohmann::json fields) {
  std::string& t = scratch();
  append_head(t, name);
  if (fields.is_object()) {
    for (auto it = fields.begin(); it != fields.end(); ++it) {
      t += ',';
      append_json_string(t, it.key());
      t += ':';
      t += it.value().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
  }
  enqueue(t, nullptr);
}

std::string AuditLog::fingerprint(std::string_view data) const {
  return fingerprint_hex(hmac_->mac(data));
}

void AuditLog::enqueue(std::string_view text, const std::string_view* hash_data) {
  size_t size = text.size() + (hash_data != nullptr ? hash_data->size() : 0);
  std::unique_lock<std::mutex> lock(mu_);
  // Started lazily so that mcpcell is still single-threaded when it forks the server.
  if (!writer_.joinable()) writer_ = std::thread([this] { writer_loop(); });
  drained_.wait(lock, [&] { return queued_bytes_ < kMaxQueuedBytes || stop_; });
  Entry e{queue_buf_.size(), text.size(), 0, kNoHash};
  queue_buf_ += text;
  if (hash_data != nullptr) {
    e.hash_off = queue_buf_.size();
    e.hash_len = hash_data->size();
    queue_buf_ += *hash_data;
  }
  queue_.push_back(e);
  queued_bytes_ += size;

  ++enqueued_;
  // Wake the writer only when it sleeps on an empty queue or a batch is due; while it gathers a
  // batch, records just join it. Waking it for every record cost two context switches a message.
  bool wake = writer_idle_ || queued_bytes_ >= kBatchBytes;
  lock.unlock();
  if (wake) {
    wakeups_.fetch_add(1, std::memory_order_relaxed);
    cv_.notify_one();
  }
}

void AuditLog::flush() {
  std::unique_lock<std::mutex> lock(mu_);
  uint64_t target = enqueued_;
  flush_wanted_ = target;
  cv_.notify_one();
  drained_.wait(lock, [&] { return written_ >= target || !writer_.joinable(); });
}

void AuditLog::writer_loop() {
  std::string batch_buf, records_buf;
  std::vector<Entry> batch;
  std::vector<size_t> ends;
  std::vector<std::string_view> records;
  int quiet = kQuietPolls;  // batch periods in a row that brought no record
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      // While records keep coming the writer looks for them every kBatchDelay on its own; only
      // after a quiet spell does it sleep until the relay wakes it. Being woken for the first
      // record of every batch cost the relay a futex call and the writer a second wake-up per
      // batch (one every ~20 messages under load).
      if (queue_.empty() && quiet >= kQuietPolls) {
        writer_idle_ = true;
        cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
        writer_idle_ = false;
      }
      // Let a batch gather: one lock, one write and one chain update for many records. A record
      // reaches the disk at most about kBatchDelay after it was queued; flush() and exit do not
      // wait.
      cv_.wait_for(lock, kBatchDelay, [&] {
        return stop_ || queued_bytes_ >= kBatchBytes || flush_wanted_ > written_;
      });
      if (queue_.empty()) {
        if (stop_) {
          // The checkpoint is written here, on the writer's thread, while mcpcell finishes the
          // session; the destructor then only joins.
          lock.unlock();
          file_.reset();
          return;
        }
        ++quiet;
        continue;
      }
      quiet = 0;
      batch.swap(queue_);
      batch_buf.swap(queue_buf_);
    }
    records_buf.clear();
    ends.clear();
    size_t bytes = 0;
    for (const Entry& e : batch) {
      std::string_view text(batch_buf.data() + e.text_off, e.text_len);
      records_buf += text;
      bytes += text.size();
      if (e.hash_len != kNoHash) {
        std::string_view data(batch_buf.data() + e.hash_off, e.hash_len);
        append_fingerprint(records_buf, hmac_->mac(data));
        bytes += data.size();
      }
      ends.push_back(records_buf.size());  // AuditFile adds the chain field and the brace
    }
    records.clear();
    for (size_t i = 0, start = 0; i < ends.size(); start = ends[i++])
      records.emplace_back(records_buf.data() + start, ends[i] - start);
    size_t count = batch.size();
    if (Status s = file_->append(records); !s) {
      static bool warned = false;
      if (!warned) {
        warned = true;
        std::string msg = "mcpcell: cannot write the audit log: " + s.message() + "\n";
        ssize_t n = ::write(2, msg.data(), msg.size());
        (void)n;
      }
    }
    // `records` point into records_buf until here. A burst (a slow disk, a flood of stderr) may
    // have grown the buffers: keep them only at the size that steady traffic needs (a 2 ms batch
    // of small messages is ~20 KB), so that the session's resident memory does not grow.
    batch.clear();
    batch_buf.clear();
    if (batch_buf.capacity() > kKeepBuffer) std::string().swap(batch_buf);
    if (records_buf.capacity() > kKeepBuffer) std::string().swap(records_buf);
    if (batch.capacity() > kKeepBuffer / 64) std::vector<Entry>().swap(batch);
    {
      std::lock_guard<std::mutex> lock(mu_);
      written_ += count;
      queued_bytes_ -= std::min(queued_bytes_, bytes);
    }
    drained_.notify_all();
  }
}

}  // namespace mcpcell
