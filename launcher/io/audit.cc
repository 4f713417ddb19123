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
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
}

std::string AuditLog::head(std::string_view event) const {
  std::string h;
  h.reserve(128 + server_.size() + event.size());
  h += "{\"ts\":\"";
  append_rfc3339_now(h);
  h += "\",\"server\":";
  append_json_string(h, server_);
  h += ",\"session\":\"";
  h += session_;
  h += "\",\"event\":";
  append_json_string(h, event);
  return h;
}

void AuditLog::message(Direction dir, const MessageInfo& info, std::string_view line,
                       std::string_view disposition, const Sha256Digest* line_mac) {
  Pending p;
  p.head = head("message");
  std::string& t = p.tail;
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
  t += std::to_string(line.size());
  if (disposition != "forwarded") {
    t += ",\"disposition\":";
    append_json_string(t, disposition);
  }
  if (line_mac != nullptr) {
    t += ",\"hash\":\"";
    t += fingerprint_hex(*line_mac);
    t += '"';
  } else if (line.size() > kCopyForHashing) {
    // Hash big lines here rather than queue a copy: the copy would cost as much memory traffic
    // as the hash, and a queue of megabyte lines is what made mcpcell's memory grow.
    t += ",\"hash\":\"";
    t += fingerprint(line);
    t += '"';
  } else {
    p.hash_data.assign(line.data(), line.size());
    if (p.hash_data.empty()) p.hash_data.push_back('\0');  // still gets a hash field
  }
  enqueue(std::move(p));
}

void AuditLog::event(std::string_view name, nlohmann::json fields) {
  Pending p;
  p.head = head(name);
  p.fields = std::move(fields);
  enqueue(std::move(p));
}

std::string AuditLog::fingerprint(std::string_view data) const {
  return fingerprint_hex(hmac_->mac(data));
}

void AuditLog::enqueue(Pending p) {
  size_t size = p.head.size() + p.tail.size() + p.hash_data.size();
  std::unique_lock<std::mutex> lock(mu_);
  // Started lazily so that mcpcell is still single-threaded when it forks the server.
  if (!writer_.joinable()) writer_ = std::thread([this] { writer_loop(); });
  drained_.wait(lock, [&] { return queued_bytes_ < kMaxQueuedBytes || stop_; });
  queue_.push_back(std::move(p));
  queued_bytes_ += size;
  ++enqueued_;
  // Wake the writer only when it sleeps on an empty queue or a batch is due; while it gathers a
  // batch, records just join it. Waking it for every record cost two context switches a message.
  bool wake = writer_idle_ || queued_bytes_ >= kBatchBytes;
  lock.unlock();
  if (wake) cv_.notify_one();
}

void AuditLog::flush() {
  std::unique_lock<std::mutex> lock(mu_);
  uint64_t target = enqueued_;
  flush_wanted_ = target;
  cv_.notify_one();
  drained_.wait(lock, [&] { return written_ >= target || !writer_.joinable(); });
}

void AuditLog::writer_loop() {
  std::deque<Pending> batch;
  std::vector<std::string> records;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      writer_idle_ = true;
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      writer_idle_ = false;
      if (queue_.empty() && stop_) return;
      // Let a batch gather: one lock, one write and one chain update for many records. A record
      // reaches the disk at most kBatchDelay after it was queued; flush() and exit do not wait.
      cv_.wait_for(lock, kBatchDelay, [&] {
        return stop_ || queued_bytes_ >= kBatchBytes || flush_wanted_ > written_;
      });
      batch.swap(queue_);
    }
    records.clear();
    size_t bytes = 0;
    for (Pending& p : batch) {
      bytes += p.head.size() + p.tail.size() + p.hash_data.size();
      std::string out = std::move(p.head);
      out += p.tail;
      if (!p.hash_data.empty()) {
        out += ",\"hash\":\"";
        out += fingerprint(p.hash_data);
        out += '"';
      }
      if (p.fields.is_object()) {
        for (auto it = p.fields.begin(); it != p.fields.end(); ++it) {
          out += ',';
          append_json_string(out, it.key());
          out += ':';
          out += it.value().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        }
      }
      records.push_back(std::move(out));  // AuditFile adds the chain field and the brace
    }
    size_t count = batch.size();
    batch.clear();
    if (Status s = file_->append(records); !s) {
      static bool warned = false;
      if (!warned) {
        warned = true;
        std::string msg = "mcpcell: cannot write the audit log: " + s.message() + "\n";
        ssize_t n = ::write(2, msg.data(), msg.size());
        (void)n;
      }
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      written_ += count;
      queued_bytes_ -= std::min(queued_bytes_, bytes);
    }
    drained_.notify_all();
  }
}

}  // namespace mcpcell
