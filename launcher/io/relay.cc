// The relay's event loop. See relay.h for the shape; the subtle parts are here:
//
// * Client fds are shared with the editor, so we avoid changing their flags: a pipe on stdout is
//   reopened through /proc/self/fd to get a private non-blocking open file description; a tty or a
//   regular file stays blocking (writes to those do not stall for long). stdin is read once per
//   readiness, which never blocks on a pipe, socket or tty; /dev/null and regular files cannot be
//   polled and are read as "always ready".
// * Every line is either forwarded, or answered and recorded: invalid and oversize lines get an
//   error reply when an id is visible, and always an audit record.
// * Responses are correlated with their request (per direction: each side has its own id space), so
//   filters know which method a response answers, and so an undeliverable response can be replaced
//   by an error for the waiting peer.
#include "io/relay.h"

#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <unordered_map>

#include "core/framing.h"

namespace mcpcell {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kBackpressure = 1u << 20;  // pause the feeding side past this much queued output:
                                            // the pipes hold the rest, not our heap
constexpr size_t kMaxTracked = 65536;       // outstanding requests remembered per direction
constexpr size_t kMaxParamsKept = 4096;
constexpr int kPipeSize =
    1 << 20;  // default pipes hold 64 KiB: a 1 MiB line took 16 reads and wakeups
constexpr size_t kCorkMax = 16u << 10;           // lines at least this big are written on their own
constexpr size_t kCorkKeep = 64u << 10;          // a cork buffer this big is kept between reads
constexpr size_t kHashInBackground = 64u << 10;  // lines this big are hashed on the second core
constexpr auto kLendFor = std::chrono::milliseconds(20);  // see unlend()
// After the server is gone: how long its output may take to drain, and then the client's.
constexpr auto kServerDrain = std::chrono::milliseconds(300);
constexpr auto kClientDrain = std::chrono::seconds(2);

enum Tag : uint64_t {
  kClientIn = 1,
  kClientOut,
  kServerIn,
  kServerOut,
  kServerErr,
  kSignal,
  kPidfd,
  kNotify,
  kStatus
};

// What an output stream did not take yet: a copy, or a line (with its '\n') still in the buffer of
// the framer that read it.
struct Chunk {
  std::string owned;
  std::string_view lent;
  std::string_view bytes() const { return lent.data() != nullptr ? lent : std::string_view(owned); }
};

// An output stream with a queue for what the fd did not take yet.
struct Sink {
  int fd = -1;
  bool pollable = true;  // registered with epoll (false for ttys and regular files: blocking)
  bool registered = false;
  bool broken = false;  // EPIPE or similar: the reader is gone
  std::deque<Chunk> queue;
  size_t head_off = 0;
  size_t bytes = 0;
  // Queued lines that are views into the reading framer's buffer: that direction must not read
  // (which could move them) until they are written, or until they become copies (unlend).
  size_t lent = 0;
  Clock::time_point lent_since;
  // While a read is being taken apart, small lines gather here and go out in one write: a burst
  // of sixteen responses costs the receiver one wake-up instead of sixteen.
  bool corked = false;
  std::string cork;

  bool empty() const { return queue.empty(); }
};

// An input stream.
struct Source {
  int fd = -1;
  bool open = false;
  bool pollable = true;
  bool paused = false;
};

struct Pending {
  std::string method;
  std::string params;
};

// Lets the pending maps be searched with the id's view, without building a string per response.
struct IdHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using PendingMap = std::unordered_map<std::string, Pending, IdHash, std::equal_to<>>;

}  // namespace

class Relay::Impl : public FilterContext {
 public:
  Impl(RelayConfig config, FilterChain& chain, AuditLog& audit, SessionInfo session)
      : cfg_(std::move(config)),
        chain_(chain),
        audit_(audit),
        session_(std::move(session)),
        framer_{LineFramer(cfg_.max_line), LineFramer(cfg_.max_line)} {}

  int run(const sandbox::Child& child, ServerPipes pipes, std::string* reason);

  // FilterContext
  const SessionInfo& session() const override { return session_; }
  void send(Direction towards, std::string line) override {
    if (towards == Direction::c2s) {
      enqueue(to_server_, std::move(line));
    } else {
      enqueue(to_client_, std::move(line));
    }
  }
  void audit(std::string_view event, nlohmann::json fields) override {
    audit_.event(event, std::move(fields));
  }
  std::string fingerprint(std::string_view secret) const override {
    return audit_.fingerprint(secret);
  }

 private:
  // Setup helpers.
  void setup_client_fds();
  void restore_client_fds();
  void watch(int fd, uint64_t tag, uint32_t events);
  void rewatch(Sink& s, uint64_t tag);

  // Data path.
  void read_from(Direction dir);
  void on_frame(Direction dir, const FrameEvent& ev);
  void on_line(Direction dir, std::string_view line);
  void on_invalid(Direction dir, std::string_view line, const MessageInfo& info);
  void on_oversize(Direction dir, std::string_view prefix, size_t size);
  void correlate(Message& m);
  void deliver(Direction dir, std::string_view line);  // to the receiver of `dir`
  void enqueue(Sink& s, std::string line);
  // `from`: the framer whose buffer `line` may lie in, followed by its '\n'; it is then queued
  // without a copy if the fd does not take it at once.
  void write_line(Sink& s, std::string_view line, const LineFramer* from = nullptr);
  void queue_rest(Sink& s, std::string_view line, size_t done, bool lend);
  void unlend(Sink& s);
  void flush(Sink& s);
  void uncork(Sink& s);
  void read_stderr();
  void emit_stderr_line(std::string_view line);
  void log_line(std::string_view text);

  // Lifecycle.
  void on_client_eof(const char* why);
  void on_signal();
  void on_child_exit();
  void on_exit_note();
  void server_exited(int wait_status);
  void on_notify();
  void reap_orphans();
  void update_backpressure();
  int next_timeout_ms() const;
  void on_timers();

  RelayConfig cfg_;
  FilterChain& chain_;
  AuditLog& audit_;
  SessionInfo session_;
  LineFramer framer_[2];  // indexed by Direction: c2s reads the client, s2c reads the server

  int ep_ = -1;
  int sigfd_ = -1;
  sandbox::Child child_;
  Source client_in_, server_out_, server_err_;
  Sink to_client_, to_server_;
  int client_out_flags_ = -1;  // original flags to restore, when we changed them
  int client_out_reopened_ = -1;
  std::string err_buf_;
  std::unique_ptr<BackgroundMac> line_mac_;

  PendingMap pending_[2];  // by Direction of the request

  bool child_exited_ = false;  // the server's status is known
  bool child_reaped_ = false;
  int exit_status_ = 0;
  bool client_gone_ = false;
  bool server_in_closed_ = false;
  bool stopping_ = false;
  std::string reason_;
  Clock::time_point term_at_ = Clock::time_point::max();
  Clock::time_point kill_at_ = Clock::time_point::max();
  Clock::time_point drain_deadline_ = Clock::time_point::max();
  bool sent_term_ = false, sent_kill_ = false;
};

Relay::Relay(RelayConfig config, FilterChain& chain, AuditLog& audit, SessionInfo session)
    : impl_(new Impl(std::move(config), chain, audit, std::move(session))) {}
Relay::~Relay() {
  delete impl_;
}
int Relay::run(const sandbox::Child& child, ServerPipes pipes, std::string* reason) {
  return impl_->run(child, pipes, reason);
}

void Relay::Impl::watch(int fd, uint64_t tag, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = tag;
  ::epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
}

void Relay::Impl::setup_client_fds() {
  struct stat st;
  client_in_.fd = cfg_.client_in;
  client_in_.open = true;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kClientIn;
  if (::epoll_ctl(ep_, EPOLL_CTL_ADD, client_in_.fd, &ev) != 0) {
    client_in_.pollable = false;  // regular file or /dev/null: reads never block
  }

  to_client_.fd = cfg_.client_out;
  if (::fstat(cfg_.client_out, &st) == 0 && S_ISFIFO(st.st_mode)) {
    // A private open file description for the same pipe, so O_NONBLOCK stays ours.
    char path[64];
    std::snprintf(path, sizeof path, "/proc/self/fd/%d", cfg_.client_out);
    int fd = ::open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) {
      to_client_.fd = fd;
      client_out_reopened_ = fd;
    }
  } else if (::fstat(cfg_.client_out, &st) == 0 && S_ISSOCK(st.st_mode)) {
    client_out_flags_ = ::fcntl(cfg_.client_out, F_GETFL);
    ::fcntl(cfg_.client_out, F_SETFL, client_out_flags_ | O_NONBLOCK);
  }
  to_client_.pollable = client_out_reopened_ >= 0 || client_out_flags_ >= 0;
}

void Relay::Impl::restore_client_fds() {
  if (client_out_flags_ >= 0) ::fcntl(cfg_.client_out, F_SETFL, client_out_flags_);
  if (client_out_reopened_ >= 0) ::close(client_out_reopened_);
}

void Relay::Impl::rewatch(Sink& s, uint64_t tag) {
  if (!s.pollable || s.fd < 0) return;
  bool want = !s.empty() && !s.broken;
  if (want == s.registered) return;
  epoll_event ev{};
  ev.events = EPOLLOUT;
  ev.data.u64 = tag;
  ::epoll_ctl(ep_, want ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, s.fd, &ev);
  s.registered = want;
}

// ---------------------------------------------------------------------------------------------
// Data path

void Relay::Impl::read_from(Direction dir) {
  Source& src = dir == Direction::c2s ? client_in_ : server_out_;
  LineFramer& framer = framer_[static_cast<int>(dir)];
  if (!src.open || (dir == Direction::c2s ? to_server_ : to_client_).lent > 0) return;
  LineFramer::Space space = framer.space();
  ssize_t n = ::read(src.fd, space.data, space.size);
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return;
    n = 0;  // treat read errors as end of stream
  }
  if (n == 0) {
    framer.finish([&](const FrameEvent& ev) { on_frame(dir, ev); });
    src.open = false;
    if (src.pollable) ::epoll_ctl(ep_, EPOLL_CTL_DEL, src.fd, nullptr);
    if (dir == Direction::c2s) {
      on_client_eof("client closed stdin");
    } else {
      ::close(server_out_.fd);
      server_out_.fd = -1;
    }
    return;
  }
  to_client_.corked = to_server_.corked = true;
  framer.commit(static_cast<size_t>(n), [&](const FrameEvent& ev) { on_frame(dir, ev); });
  uncork(to_server_);
  uncork(to_client_);
}

void Relay::Impl::on_frame(Direction dir, const FrameEvent& ev) {
  switch (ev.kind) {
    case FrameEvent::line:
      on_line(dir, ev.bytes);
      break;
    case FrameEvent::partial_at_eof:
      // A last message without its newline: handled like a line (it is forwarded with one only if
      // it is a complete, valid message).
      on_line(dir, ev.bytes);
      break;
    case FrameEvent::oversize:
      on_oversize(dir, ev.bytes, ev.size);
      break;
  }
}

void Relay::Impl::correlate(Message& m) {
  const MessageInfo& info = m.info();
  int d = static_cast<int>(m.dir());
  if (info.kind == MessageKind::request && info.has_id()) {
    auto& map = pending_[d];
    if (map.size() < kMaxTracked) {
      Pending p;
      p.method = std::string(info.method);
      if (info.params.size() <= kMaxParamsKept) p.params = std::string(info.params);
      map[std::string(info.id)] = std::move(p);
    }
  } else if (info.is_response()) {
    // A response travels opposite to its request.
    auto& map = pending_[static_cast<int>(reverse(m.dir()))];
    auto it = map.find(info.id);
    if (it != map.end()) {
      m.request_method = std::move(it->second.method);
      m.request_params = std::move(it->second.params);
      map.erase(it);
    }
  } else if (info.kind == MessageKind::notification && info.method == "notifications/cancelled") {
    // The receiver may never answer a cancelled request; forget it (best effort, by requestId).
    std::string_view params = info.params;
    size_t k = params.find("\"requestId\"");
    if (k != std::string_view::npos) {
      size_t colon = params.find(':', k);
      if (colon != std::string_view::npos) {
        size_t s = params.find_first_not_of(" \t", colon + 1);
        size_t e = s;
        if (s != std::string_view::npos && params[s] == '"') {
          e = params.find('"', s + 1);
          if (e != std::string_view::npos) ++e;
        } else if (s != std::string_view::npos) {
          e = params.find_first_of(",} \t", s);
        }
        if (s != std::string_view::npos && e != std::string_view::npos && e > s)
          pending_[d].erase(std::string(params.substr(s, e - s)));
      }
    }
  }
}

void Relay::Impl::on_line(Direction dir, std::string_view line) {
  // The keyed hash of a big line costs as much as classifying and scanning it; run it on the other
  // core meanwhile. `line` lives in the framer's buffer until we return, and nothing writes to it.
  struct LineMac {
    BackgroundMac* bg = nullptr;
    Sha256Digest mac{};
    const Sha256Digest* get() {
      if (bg != nullptr) mac = bg->wait();
      bg = nullptr;
      return &mac;
    }
    ~LineMac() {
      if (bg != nullptr) bg->wait();
    }
  } line_mac;
  if (line.size() > kHashInBackground) {
    if (!line_mac_) line_mac_ = std::make_unique<BackgroundMac>(audit_.hmac());
    line_mac_->start(line);
    line_mac.bg = line_mac_.get();
  }
  Message m(dir, line);
  const MessageInfo& info = m.info();
  if (info.kind == MessageKind::invalid) {
    on_invalid(dir, line, info);
    return;
  }
  correlate(m);
  // A filter that changed the line makes the precomputed hash stale: the record hashes what went
  // on.
  auto mac = [&]() -> const Sha256Digest* {
    if (line_mac.bg == nullptr || m.modified()) return nullptr;
    return line_mac.get();
  };
  if (chain_.run(m, *this) == FilterStatus::Stop) {
    audit_.message(dir, m.info(), m.bytes(), "blocked", mac());
    return;
  }
  deliver(dir, m.bytes());
  audit_.message(dir, m.info(), m.bytes(), m.modified() ? "modified" : "forwarded", mac());
}

void Relay::Impl::on_invalid(Direction dir, std::string_view line, const MessageInfo& info) {
  bool blank = line.find_first_not_of(" \t\r") == std::string_view::npos;
  nlohmann::json rec = {{"dir", to_string(dir)},
                        {"bytes", line.size()},
                        {"reason", blank ? "empty line" : info.error_text}};
  if (!blank) rec["hash"] = audit_.fingerprint(line);
  audit_.event("message.invalid", std::move(rec));
  if (blank) return;  // nothing to answer, nothing lost
  std::string_view id = find_id_in_prefix(line.substr(0, 65536));
  if (!valid_utf8(id)) id = {};
  std::string what = std::string(dir == Direction::c2s ? "client" : "server") +
                     " sent a line that is not valid JSON-RPC (" + info.error_text + "); dropped";
  if (dir == Direction::s2c) {
    // Servers that print logs to stdout are common: show the user what was dropped.
    std::string shown(line.substr(0, 200));
    for (char& c : shown)
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
    log_line("mcpcell: " + what + ": " + shown + (line.size() > 200 ? "..." : ""));
    // If it answered a client request, the client must not wait forever.
    if (!id.empty()) {
      auto it = pending_[static_cast<int>(Direction::c2s)].find(id);
      if (it != pending_[static_cast<int>(Direction::c2s)].end()) {
        pending_[static_cast<int>(Direction::c2s)].erase(it);
        send(Direction::s2c, make_error_response(id, rpc_code::parse_error,
                                                 "mcpcell: the server's response was not valid "
                                                 "JSON-RPC and was dropped"));
      }
    }
    return;
  }
  log_line("mcpcell: " + what);
  send(Direction::s2c, make_error_response(id, rpc_code::parse_error, "mcpcell: " + what));
}

void Relay::Impl::on_oversize(Direction dir, std::string_view prefix, size_t size) {
  std::string_view id = find_id_in_prefix(prefix);
  if (!valid_utf8(id)) id = {};
  bool has_method = prefix.find("\"method\"") != std::string_view::npos;
  nlohmann::json rec = {{"dir", to_string(dir)}, {"bytes", size}, {"limit", cfg_.max_line}};
  if (!id.empty()) rec["id"] = nlohmann::json::parse(id, nullptr, false);
  audit_.event("message.oversize", std::move(rec));
  std::string text = "mcpcell: message of " + std::to_string(size) + " bytes exceeds the " +
                     std::to_string(cfg_.max_line) +
                     "-byte line limit (--max-line-bytes) and was "
                     "dropped";
  log_line(text + " (" + to_string(dir) + ")");
  if (id.empty()) return;
  // A response to a request of the other side: answer that side in its place. Otherwise it was a
  // request: answer its sender.
  auto& theirs = pending_[static_cast<int>(reverse(dir))];
  auto it = theirs.find(id);
  if (it != theirs.end() && !has_method) {
    theirs.erase(it);
    send(reverse(dir) == Direction::c2s ? Direction::s2c : Direction::c2s,
         make_error_response(id, rpc_code::too_large, text));
    return;
  }
  if (has_method) send(reverse(dir), make_error_response(id, rpc_code::too_large, text));
}

void Relay::Impl::deliver(Direction dir, std::string_view line) {
  write_line(dir == Direction::c2s ? to_server_ : to_client_, line,
             &framer_[static_cast<int>(dir)]);
}

void Relay::Impl::enqueue(Sink& s, std::string line) {
  line.push_back('\n');
  if (s.empty()) {
    write_line(s, std::string_view(line.data(), line.size() - 1));
    return;
  }
  s.bytes += line.size();
  s.queue.push_back(Chunk{std::move(line), {}});
}

// Writes line + '\n' directly when nothing is queued (the common case: no copy), and queues what
// the fd did not take.
void Relay::Impl::write_line(Sink& s, std::string_view line, const LineFramer* from) {
  if (s.broken || s.fd < 0) return;
  if (s.corked && line.size() < kCorkMax) {
    s.cork.append(line);
    s.cork.push_back('\n');
    return;
  }
  if (!s.cork.empty()) uncork(s);  // keep the order: what gathered goes first
  bool lend = from != nullptr && from->holds(line.data(), line.size() + 1) &&
              line.data()[line.size()] == '\n';
  if (!s.empty()) {
    queue_rest(s, line, 0, lend);
    return;
  }
  // A lent line is written with the '\n' that follows it; a copy gets one from here.
  const size_t first = line.size() + (lend ? 1 : 0), total = line.size() + 1;
  iovec iov[2] = {{const_cast<char*>(line.data()), first},
                  {const_cast<char*>("\n"), total - first}};
  size_t done = 0;
  for (;;) {
    ssize_t n = ::writev(s.fd, iov, 2);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    if (n < 0) {
      s.broken = true;
      return;
    }
    done += static_cast<size_t>(n);
    if (done == total) return;
    if (s.pollable) break;
    // A blocking fd took part of it: write the rest.
    if (done < first) {
      iov[0].iov_base = const_cast<char*>(line.data() + done);
      iov[0].iov_len = first - done;
    } else {
      iov[0].iov_len = 0;
      iov[1].iov_len = total - done;
    }
  }
  queue_rest(s, line, done, lend);
}

void Relay::Impl::queue_rest(Sink& s, std::string_view line, size_t done, bool lend) {
  size_t rest = line.size() + 1 - done;
  s.bytes += rest;
  if (lend) {
    s.queue.push_back(Chunk{{}, std::string_view(line.data() + done, rest)});
    if (s.lent++ == 0) s.lent_since = Clock::now();
    return;
  }
  std::string copy;
  copy.reserve(rest);
  if (done < line.size()) copy.append(line.substr(done));
  copy.push_back('\n');
  s.queue.push_back(Chunk{std::move(copy), {}});
}

// Lending pauses the sending side, which is right while the receiver is taking the line, but a
// receiver that stalls must not hide the sender's next lines or its end of stream for long: after
// kLendFor the lent lines become copies and that side reads again (up to kBackpressure).
void Relay::Impl::unlend(Sink& s) {
  for (Chunk& c : s.queue) {
    if (c.lent.data() == nullptr) continue;
    c.owned.assign(c.lent);
    c.lent = {};
  }
  s.lent = 0;
}

void Relay::Impl::uncork(Sink& s) {
  s.corked = false;
  if (s.cork.empty()) return;
  if (s.broken || s.fd < 0) {
    s.cork.clear();
    return;
  }
  if (!s.empty()) {
    s.bytes += s.cork.size();
    s.queue.push_back(Chunk{std::move(s.cork), {}});
    s.cork = std::string();
    flush(s);
    return;
  }
  // Nothing queued (the usual case): write straight from the cork, which keeps its memory for the
  // next read's lines; only what the fd does not take is copied into the queue.
  size_t done = 0;
  while (done < s.cork.size()) {
    ssize_t n = ::write(s.fd, s.cork.data() + done, s.cork.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    if (n < 0) {
      s.broken = true;
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (!s.broken && done < s.cork.size()) {
    s.bytes += s.cork.size() - done;
    s.queue.push_back(Chunk{s.cork.substr(done), {}});
  }
  s.cork.clear();
  if (s.cork.capacity() > kCorkKeep) std::string().swap(s.cork);
}

void Relay::Impl::flush(Sink& s) {
  while (!s.empty() && !s.broken) {
    std::string_view front = s.queue.front().bytes();
    ssize_t n = ::write(s.fd, front.data() + s.head_off, front.size() - s.head_off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    if (n < 0) {
      s.broken = true;
      break;
    }
    s.head_off += static_cast<size_t>(n);
    s.bytes -= static_cast<size_t>(n);
    if (s.head_off == front.size()) {
      if (s.queue.front().lent.data() != nullptr) --s.lent;
      s.queue.pop_front();
      s.head_off = 0;
    }
  }
  if (s.broken) {
    s.queue.clear();
    s.lent = 0;
    s.bytes = 0;
    s.head_off = 0;
  }
}

void Relay::Impl::log_line(std::string_view text) {
  std::string out(text);
  out.push_back('\n');
  ssize_t n = ::write(cfg_.log_fd, out.data(), out.size());
  (void)n;
}

void Relay::Impl::read_stderr() {
  char buf[65536];
  ssize_t n = ::read(server_err_.fd, buf, sizeof buf);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    if (!err_buf_.empty()) emit_stderr_line(err_buf_);
    err_buf_.clear();
    server_err_.open = false;
    ::epoll_ctl(ep_, EPOLL_CTL_DEL, server_err_.fd, nullptr);
    ::close(server_err_.fd);
    server_err_.fd = -1;
    return;
  }
  // Pass through unchanged and at once (the editor shows it), then record it line by line.
  ssize_t w = ::write(cfg_.log_fd, buf, static_cast<size_t>(n));
  (void)w;
  err_buf_.append(buf, static_cast<size_t>(n));
  size_t start = 0, nl;
  while ((nl = err_buf_.find('\n', start)) != std::string::npos) {
    emit_stderr_line(std::string_view(err_buf_).substr(start, nl - start));
    start = nl + 1;
  }
  err_buf_.erase(0, start);
  if (err_buf_.size() > 65536) {  // a runaway line: record it in pieces
    emit_stderr_line(err_buf_);
    err_buf_.clear();
  }
}

void Relay::Impl::emit_stderr_line(std::string_view line) {
  nlohmann::json rec = {{"bytes", line.size()}, {"hash", audit_.fingerprint(line)}};
  if (cfg_.redact_text) {
    std::string text = cfg_.redact_text(line.substr(0, 2048));
    if (!valid_utf8(text)) text = "(not UTF-8)";
    rec["text"] = text;
  }
  audit_.event("server.stderr", std::move(rec));
}

// ---------------------------------------------------------------------------------------------
// Lifecycle

void Relay::Impl::on_client_eof(const char* why) {
  if (client_gone_) return;
  client_gone_ = true;
  if (reason_.empty()) reason_ = why;
  if (client_in_.open) {
    client_in_.open = false;
    if (client_in_.pollable) ::epoll_ctl(ep_, EPOLL_CTL_DEL, client_in_.fd, nullptr);
  }
  // Let the server finish what it was sent, then close its stdin; escalate if it lingers.
  auto now = Clock::now();
  term_at_ = std::min(term_at_, now + cfg_.eof_grace);
  kill_at_ = std::min(kill_at_, term_at_ + cfg_.term_grace);
}

void Relay::Impl::on_signal() {
  signalfd_siginfo si;
  while (::read(sigfd_, &si, sizeof si) == sizeof si) {
    int sig = static_cast<int>(si.ssi_signo);
    if (sig == SIGCHLD) {
      reap_orphans();
      continue;
    }
    if (reason_.empty()) reason_ = std::string("mcpcell got ") + ::sigabbrev_np(sig);
    stopping_ = true;
    if (!child_exited_) {
      sandbox::signal_tree(child_, SIGTERM);
      sent_term_ = true;
      kill_at_ = std::min(kill_at_, Clock::now() + cfg_.term_grace);
    }
    if (client_in_.open) {
      client_in_.open = false;
      if (client_in_.pollable) ::epoll_ctl(ep_, EPOLL_CTL_DEL, client_in_.fd, nullptr);
    }
  }
}

void Relay::Impl::reap_orphans() {
  // Orphans reparented to mcpcell (child subreaper) must not stay zombies. The main child is reaped
  // through its pidfd in on_child_exit, so skip it here.
  for (;;) {
    siginfo_t info{};
    if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == 0) break;
    if (info.si_pid == child_.pid) {
      on_child_exit();
      continue;
    }
    ::waitpid(info.si_pid, nullptr, WNOHANG);
  }
}

void Relay::Impl::on_child_exit() {
  if (child_reaped_) return;
  siginfo_t info{};
  int rc = child_.pidfd >= 0
               ? ::waitid(P_PIDFD, static_cast<id_t>(child_.pidfd), &info, WEXITED | WNOHANG)
               : ::waitid(P_PID, static_cast<id_t>(child_.pid), &info, WEXITED | WNOHANG);
  if (rc != 0 || info.si_pid == 0) return;
  child_reaped_ = true;
  if (child_.pidfd >= 0) ::epoll_ctl(ep_, EPOLL_CTL_DEL, child_.pidfd, nullptr);
  if (child_exited_) return;  // init told us the server's status first
  server_exited(info.si_code == CLD_EXITED ? W_EXITCODE(info.si_status, 0) : info.si_status);
}

void Relay::Impl::on_exit_note() {
  int wait_status = 0;
  bool exited = sandbox::read_exit_note(child_.status_fd, &wait_status);
  // One note, then init exits: nothing more to read either way.
  ::epoll_ctl(ep_, EPOLL_CTL_DEL, child_.status_fd, nullptr);
  if (!exited || child_exited_) return;
  // Init is leaving, and takes every other process of the namespace with it; its pidfd turns
  // readable once the namespaces are torn down, and run() reaps it last.
  if (child_.pidfd >= 0) ::epoll_ctl(ep_, EPOLL_CTL_DEL, child_.pidfd, nullptr);
  server_exited(wait_status);
}

void Relay::Impl::server_exited(int wait_status) {
  child_exited_ = true;
  exit_status_ = sandbox::exit_code_of(wait_status);
  if (reason_.empty()) reason_ = "server exited";
  // Anything the server left behind goes with it.
  sandbox::signal_tree(child_, SIGKILL);
  // Drain what it wrote, but do not wait long for descendants that hold the pipe.
  drain_deadline_ = Clock::now() + kServerDrain;
}

void Relay::Impl::on_notify() {
  std::optional<sandbox::Denial> d = sandbox::answer_notification(child_.notify_fd);
  if (!d) {
    return;
  }
  nlohmann::json rec = {
      {"what", "syscall"}, {"syscall", d->syscall}, {"nr", d->nr}, {"pid", d->pid}};
  if (!d->comm.empty()) rec["comm"] = d->comm;
  audit_.event("sandbox.denied", std::move(rec));
}

void Relay::Impl::update_backpressure() {
  auto set = [&](Source& src, uint64_t tag, bool pause) {
    if (!src.open || !src.pollable || src.paused == pause) return;
    src.paused = pause;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = tag;
    ::epoll_ctl(ep_, pause ? EPOLL_CTL_DEL : EPOLL_CTL_ADD, src.fd, &ev);
  };
  set(client_in_, kClientIn, to_server_.bytes > kBackpressure || to_server_.lent > 0);
  set(server_out_, kServerOut, to_client_.bytes > kBackpressure || to_client_.lent > 0);
}

int Relay::Impl::next_timeout_ms() const {
  if (!client_in_.pollable && client_in_.open && !client_in_.paused) return 0;
  auto now = Clock::now();
  Clock::time_point next = Clock::time_point::max();
  if (!child_exited_) {
    if (!sent_term_) next = std::min(next, term_at_);
    if (!sent_kill_)
      next = std::min(next, kill_at_);
    else if (kill_at_ != Clock::time_point::max())
      next = std::min(next, kill_at_ + kClientDrain);
  }
  next = std::min(next, drain_deadline_);
  for (const Sink* s : {&to_client_, &to_server_})
    if (s->lent > 0) next = std::min(next, s->lent_since + kLendFor);
  if (drain_deadline_ != Clock::time_point::max())
    next = std::min(next, drain_deadline_ + kClientDrain);
  if (next == Clock::time_point::max()) return -1;
  if (next <= now) return 0;
  return static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count() + 1);
}

void Relay::Impl::on_timers() {
  auto now = Clock::now();
  for (Sink* s : {&to_client_, &to_server_})
    if (s->lent > 0 && now >= s->lent_since + kLendFor) unlend(*s);
  if (!child_exited_ && !sent_term_ && now >= term_at_) {
    sandbox::signal_tree(child_, SIGTERM);
    sent_term_ = true;
  }
  if (!child_exited_ && !sent_kill_ && now >= kill_at_) {
    sandbox::signal_tree(child_, SIGKILL);
    sent_kill_ = true;
  }
}

int Relay::Impl::run(const sandbox::Child& child, ServerPipes pipes, std::string* reason) {
  child_ = child;
  ep_ = ::epoll_create1(EPOLL_CLOEXEC);

  sigset_t mask;
  sigemptyset(&mask);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaddset(&mask, s);
  ::sigprocmask(SIG_BLOCK, &mask, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  sigfd_ = ::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  watch(sigfd_, kSignal, EPOLLIN);

  setup_client_fds();
  // Bigger pipe buffers where the kernel allows (up to fs.pipe-max-size); fails harmlessly for
  // anything that is not a pipe.
  for (int fd : {cfg_.client_in, to_client_.fd, pipes.in, pipes.out})
    if (fd >= 0) ::fcntl(fd, F_SETPIPE_SZ, kPipeSize);
  to_server_.fd = pipes.in;
  ::fcntl(pipes.in, F_SETFL, ::fcntl(pipes.in, F_GETFL) | O_NONBLOCK);
  server_out_ = {pipes.out, true, true, false};
  ::fcntl(pipes.out, F_SETFL, ::fcntl(pipes.out, F_GETFL) | O_NONBLOCK);
  watch(pipes.out, kServerOut, EPOLLIN);
  server_err_ = {pipes.err, pipes.err >= 0, true, false};
  if (pipes.err >= 0) {
    ::fcntl(pipes.err, F_SETFL, ::fcntl(pipes.err, F_GETFL) | O_NONBLOCK);
    watch(pipes.err, kServerErr, EPOLLIN);
  }
  if (child_.pidfd >= 0) watch(child_.pidfd, kPidfd, EPOLLIN);
  if (child_.notify_fd >= 0) watch(child_.notify_fd, kNotify, EPOLLIN);
  if (child_.status_fd >= 0) watch(child_.status_fd, kStatus, EPOLLIN);

  chain_.start(*this);
  // Setup parsed profiles and rule files and loaded the scan database; give back the heap it
  // freed, so the session's resident set is what relaying needs.
  ::malloc_trim(0);

  epoll_event events[16];
  for (;;) {
    // Close the server's stdin once the client is gone and everything for it is written.
    if (client_gone_ && !server_in_closed_ &&
        (to_server_.empty() || to_server_.broken || sent_term_)) {
      if (to_server_.registered) ::epoll_ctl(ep_, EPOLL_CTL_DEL, to_server_.fd, nullptr);
      ::close(to_server_.fd);
      to_server_.fd = -1;
      to_server_.registered = false;
      server_in_closed_ = true;
    }
    if (to_client_.broken && !client_gone_) on_client_eof("client stopped reading (stdout closed)");

    // The session is over when the server is gone and its output is drained (or the drain
    // deadline passed), and the client has what was meant for it (or cannot take it).
    if (child_exited_) {
      bool drained = !server_out_.open || Clock::now() >= drain_deadline_;
      if (drained && (to_client_.empty() || to_client_.broken ||
                      Clock::now() >= drain_deadline_ + kClientDrain))
        break;
    }

    // A server that survives SIGKILL (stuck in the kernel) must not keep mcpcell alive.
    if (!child_exited_ && sent_kill_ && Clock::now() >= kill_at_ + kClientDrain) {
      exit_status_ = 128 + SIGKILL;
      reason_ += "; the server did not die after SIGKILL";
      break;
    }

    update_backpressure();
    rewatch(to_client_, kClientOut);
    if (to_server_.fd >= 0) rewatch(to_server_, kServerIn);

    int n = ::epoll_wait(ep_, events, 16, next_timeout_ms());
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < n; ++i) {
      switch (events[i].data.u64) {
        case kClientIn:
          read_from(Direction::c2s);
          break;
        case kServerOut:
          read_from(Direction::s2c);
          break;
        case kServerErr:
          read_stderr();
          break;
        case kClientOut:
          flush(to_client_);
          break;
        case kServerIn:
          flush(to_server_);
          break;
        case kSignal:
          on_signal();
          break;
        case kPidfd:
          on_child_exit();
          break;
        case kStatus:
          on_exit_note();
          break;
        case kNotify:
          if (events[i].events & (EPOLLHUP | EPOLLERR)) {
            ::epoll_ctl(ep_, EPOLL_CTL_DEL, child_.notify_fd, nullptr);
          } else {
            on_notify();
          }
          break;
      }
    }
    if (!client_in_.pollable && client_in_.open && !client_in_.paused &&
        to_server_.bytes <= kBackpressure && to_server_.lent == 0)
      read_from(Direction::c2s);
    if (!to_client_.pollable) flush(to_client_);
    on_timers();
  }

  // Whatever is left: the stderr tail and the last output for the client (blocking, bounded).
  if (server_err_.open) {
    for (int i = 0; i < 64 && server_err_.open; ++i) read_stderr();
  }
  if (!to_client_.empty() && !to_client_.broken) {
    // The client stopped reading; never hang on it.
    audit_.event("message.undelivered", {{"dir", "s2c"}, {"bytes", to_client_.bytes}});
  }
  chain_.end(*this);
  sandbox::signal_tree(child_, SIGKILL);
  reap_orphans();
  restore_client_fds();
  if (!child_exited_ && exit_status_ == 0) exit_status_ = 125;
  *reason = reason_.empty() ? "server exited" : reason_;
  return exit_status_;
}

}  // namespace mcpcell
