#include "io/audit.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
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

constexpr size_t kMaxQueuedBytes = 4u << 20;  // past this the relay waits for the disk
constexpr size_t kCopyForHashing = 64u << 10;  // larger lines are hashed on the caller's thread

}  // namespace

std::string rfc3339_now() { return utc_now("%Y-%m-%dT%H:%M:%S.%fZ"); }

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
  log->key_ = key;

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
  std::string h = "{\"ts\":\"";
  h += rfc3339_now();
  h += "\",\"server\":";
  append_json_string(h, server_);
  h += ",\"session\":\"";
  h += session_;
  h += "\",\"event\":";
  append_json_string(h, event);
  return h;
}

void AuditLog::message(Direction dir, const MessageInfo& info, std::string_view line,
                       std::string_view disposition) {
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
  if (line.size() > kCopyForHashing) {
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
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len);
  return hex_encode(md, 16);
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
  lock.unlock();
  cv_.notify_one();
}

void AuditLog::flush() {
  std::unique_lock<std::mutex> lock(mu_);
  uint64_t target = enqueued_;
  drained_.wait(lock, [&] { return written_ >= target || !writer_.joinable(); });
}

void AuditLog::writer_loop() {
  std::deque<Pending> batch;
  std::vector<std::string> records;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty() && stop_) return;
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
