// mcpcell-load: a minimal MCP load client for the relay benchmarks.
//
// It starts COMMAND with pipes, performs the initialize handshake, then drives `tools/call echo`:
//   latency     one request at a time; per round trip times, reported as p50/p99/mean in µs
//   throughput  up to --window requests in flight, non-blocking in both directions (a client that
//               writes 1 MiB while the server writes 1 MiB back must never wait on one side only)
// --payload letters (default) or escaped (the message is pretty-printed JSON, full of escapes).
// The request is built once with a fixed-width string id that is patched in place, so the client
// itself costs a memcpy-free write per message. Responses are framed with memchr and checked by
// length only (the echo server returns the message literal unchanged, so every reply of one run has
// the same size; the integration tests check content).
//
// Before closing the child's stdin it reads the child's VmHWM from /proc, which is how bench/run.sh
// measures mcpcell's peak resident memory while relaying (the child is mcpcell in those runs).
// Output: one JSON object on stdout.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string mode = "latency";
  long count = 10000;
  long warmup = 1000;
  size_t size = 16;
  int window = 4;
  std::string payload = "letters";
  std::vector<std::string> argv;
};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "mcpcell-load: %s\n", what.c_str());
  std::exit(2);
}

struct Child {
  pid_t pid = -1;
  int in = -1;   // we write
  int out = -1;  // we read
};

Child spawn_child(const std::vector<std::string>& argv) {
  int to[2], from[2];
  if (::pipe2(to, O_CLOEXEC) != 0 || ::pipe2(from, O_CLOEXEC) != 0) die("pipe failed");
  ::fcntl(to[1], F_SETPIPE_SZ, 1 << 20);
  ::fcntl(from[1], F_SETPIPE_SZ, 1 << 20);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, to[0], 0);
  posix_spawn_file_actions_adddup2(&fa, from[1], 1);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  Child c;
  if (posix_spawnp(&c.pid, args[0], &fa, nullptr, args.data(), environ) != 0)
    die("cannot start " + argv[0]);
  posix_spawn_file_actions_destroy(&fa);
  ::close(to[0]);
  ::close(from[1]);
  c.in = to[1];
  c.out = from[0];
  return c;
}

void write_all(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t n = ::write(fd, s.data(), s.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) die(std::string("write to server failed: ") + strerror(errno));
    s.remove_prefix(static_cast<size_t>(n));
  }
}

// Reads whole lines from a blocking or non-blocking fd.
class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) { buf_.reserve(1 << 21); }
  // Reads once; returns bytes read, 0 on EOF, -1 when it would block.
  ssize_t fill() {
    if (start_ > 0 && start_ == buf_.size()) {
      buf_.clear();
      start_ = scan_ = 0;
    } else if (start_ > (1u << 20)) {
      buf_.erase(0, start_);
      scan_ -= start_;
      start_ = 0;
    }
    size_t old = buf_.size();
    buf_.resize(old + (1 << 20));
    ssize_t n;
    do n = ::read(fd_, buf_.data() + old, 1 << 20);
    while (n < 0 && errno == EINTR);
    buf_.resize(old + static_cast<size_t>(std::max<ssize_t>(n, 0)));
    if (n < 0 && errno == EAGAIN) return -1;
    if (n < 0) die("read failed");
    return n;
  }
  // The next complete line (without '\n'), or false.
  bool next(std::string_view* line) {
    const void* nl = memchr(buf_.data() + scan_, '\n', buf_.size() - scan_);
    if (!nl) {
      scan_ = buf_.size();
      return false;
    }
    size_t end = static_cast<const char*>(nl) - buf_.data();
    *line = std::string_view(buf_.data() + start_, end - start_);
    start_ = scan_ = end + 1;
    return true;
  }
  std::string_view read_line_blocking() {
    std::string_view line;
    while (!next(&line))
      if (fill() == 0) die("server closed its stdout");
    return line;
  }

 private:
  int fd_;
  std::string buf_;
  size_t start_ = 0, scan_ = 0;
};

// A tools/call echo request with a fixed-width string id at `id_pos`.
struct Request {
  std::string bytes;
  size_t id_pos = 0;
  static constexpr int kIdWidth = 12;
  void set_id(long id) {
    for (int k = kIdWidth - 1; k >= 0; --k, id /= 10)
      bytes[id_pos + k] = static_cast<char>('0' + id % 10);
  }
};

// `escaped`: the message is itself pretty-printed JSON (a directory listing), so on the wire it is
// full of \" and \n escapes, as a tool result that returns JSON as text is; the scanner must
// decode it. `payload` is the length on the wire.
Request make_request(size_t payload, const std::string& kind) {
  Request r;
  r.bytes = R"({"jsonrpc":"2.0","id":")";
  r.id_pos = r.bytes.size();
  r.bytes.append(Request::kIdWidth, '0');
  r.bytes += R"(","method":"tools/call","params":{"name":"echo","arguments":{"message":")";
  if (kind == "escaped") {
    std::string text;
    for (long n = 0; text.size() < payload; ++n)
      text += R"(\n  {\n    \"name\": \"file-)" + std::to_string(n) +
              R"(.ts\",\n    \"type\": \"file\",\n    \"children\": []\n  },)";
    text.resize(payload);
    while (!text.empty() && text.back() == '\\') text.pop_back();  // no cut-off escape
    text.resize(payload, ' ');
    r.bytes += text;
  } else {
    for (size_t i = 0; i < payload; ++i) r.bytes += static_cast<char>('a' + i % 26);
  }
  r.bytes += "\"}}}\n";
  return r;
}

long read_hwm_kb(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.starts_with("VmHWM:")) return std::strtol(line.c_str() + 6, nullptr, 10);
  return -1;
}

// CPU time (ns, from schedstat) and context switches of every thread of `pid`, summed: what the
// relay costs per message is the difference between two readings divided by the messages between.
struct TaskCost {
  double cpu_ns = 0;
  long voluntary = 0, involuntary = 0;
};
TaskCost read_task_cost(pid_t pid) {
  TaskCost c;
  std::string dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return c;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::string t = dir + "/" + e->d_name;
    std::ifstream ss(t + "/schedstat");
    double ns = 0;
    if (ss >> ns) c.cpu_ns += ns;
    std::ifstream st(t + "/status");
    std::string line;
    while (std::getline(st, line)) {
      if (line.starts_with("voluntary_ctxt_switches:"))
        c.voluntary += std::strtol(line.c_str() + line.find(':') + 1, nullptr, 10);
      else if (line.starts_with("nonvoluntary_ctxt_switches:"))
        c.involuntary += std::strtol(line.c_str() + line.find(':') + 1, nullptr, 10);
    }
  }
  ::closedir(d);
  return c;
}

// The child's cost per message over the measured part, as JSON fields.
std::string cost_fields(const TaskCost& a, const TaskCost& b, long messages) {
  char buf[160];
  double n = static_cast<double>(messages);
  std::snprintf(buf, sizeof buf,
                ",\"child_cpu_us_per_msg\":%.2f,\"child_vcsw_per_msg\":%.3f,"
                "\"child_ivcsw_per_msg\":%.3f",
                (b.cpu_ns - a.cpu_ns) / 1000.0 / n,
                static_cast<double>(b.voluntary - a.voluntary) / n,
                static_cast<double>(b.involuntary - a.involuntary) / n);
  return buf;
}

// Private memory (USS: pages only this process maps) from smaps_rollup. VmHWM also counts the
// shared libraries' pages, which every mcpcell on the machine shares with every other process.
long read_private_kb(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/smaps_rollup");
  std::string line;
  long kb = 0;
  while (std::getline(f, line))
    if (line.starts_with("Private_Clean:") || line.starts_with("Private_Dirty:"))
      kb += std::strtol(line.c_str() + line.find(':') + 1, nullptr, 10);
  return kb;
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t k = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

void handshake(Child& c, LineReader& in) {
  write_all(
      c.in,
      R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18",)"
      R"("capabilities":{},"clientInfo":{"name":"mcpcell-load","version":"1"}}})"
      "\n");
  std::string_view line = in.read_line_blocking();
  if (line.find("\"result\"") == std::string_view::npos) die("initialize failed");
  write_all(c.in, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n");
}

void run_latency(const Options& o, Child& c, LineReader& in) {
  Request req = make_request(o.size, o.payload);
  std::vector<double> us;
  us.reserve(static_cast<size_t>(o.count));
  size_t expect = 0;
  TaskCost cost0 = read_task_cost(c.pid);
  for (long i = 0; i < o.warmup + o.count; ++i) {
    if (i == o.warmup) cost0 = read_task_cost(c.pid);
    req.set_id(i + 1);
    auto t0 = Clock::now();
    write_all(c.in, req.bytes);
    std::string_view line = in.read_line_blocking();
    auto t1 = Clock::now();
    if (expect == 0) expect = line.size();
    if (line.size() != expect) die("unexpected reply: " + std::string(line.substr(0, 200)));
    if (i >= o.warmup) us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  double sum = 0;
  for (double x : us) sum += x;
  double mean = sum / static_cast<double>(us.size());
  std::string cost = cost_fields(cost0, read_task_cost(c.pid), o.count);
  double p50 = percentile(us, 0.50), p99 = percentile(us, 0.99), p999 = percentile(us, 0.999);
  std::printf(
      "{\"mode\":\"latency\",\"size\":%zu,\"count\":%ld,\"p50_us\":%.2f,\"p99_us\":%.2f,"
      "\"p999_us\":%.2f,\"mean_us\":%.2f,\"child_hwm_kb\":%ld,\"child_private_kb\":%ld%s}\n",
      o.size, o.count, p50, p99, p999, mean, read_hwm_kb(c.pid), read_private_kb(c.pid),
      cost.c_str());
}

void run_throughput(const Options& o, Child& c, LineReader& in) {
  Request req = make_request(o.size, o.payload);
  ::fcntl(c.in, F_SETFL, ::fcntl(c.in, F_GETFL) | O_NONBLOCK);
  ::fcntl(c.out, F_SETFL, ::fcntl(c.out, F_GETFL) | O_NONBLOCK);
  long total = o.warmup + o.count, sent = 0, received = 0;
  size_t write_off = 0;  // progress within the request being written
  size_t expect = 0;
  Clock::time_point start = Clock::now();  // reset when the warm-up ends (if there is one)
  TaskCost cost0 = read_task_cost(c.pid);
  while (received < total) {
    bool want_write = sent < total && sent - received < o.window;
    pollfd fds[2] = {{c.out, POLLIN, 0}, {c.in, static_cast<short>(want_write ? POLLOUT : 0), 0}};
    if (::poll(fds, 2, 10000) <= 0) die("stalled: no progress for 10 s");
    if (fds[1].revents & (POLLERR | POLLHUP)) die("server closed its stdin");
    if (want_write && (fds[1].revents & POLLOUT)) {
      if (write_off == 0) req.set_id(sent + 1);
      ssize_t n = ::write(c.in, req.bytes.data() + write_off, req.bytes.size() - write_off);
      if (n > 0) {
        write_off += static_cast<size_t>(n);
        if (write_off == req.bytes.size()) {
          write_off = 0;
          ++sent;
        }
      } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        die("write failed");
      }
    }
    if (fds[0].revents & (POLLIN | POLLHUP)) {
      for (;;) {
        ssize_t n = in.fill();
        if (n == 0) die("server closed its stdout");
        std::string_view line;
        while (in.next(&line)) {
          if (expect == 0) expect = line.size();
          if (line.size() != expect) die("unexpected reply: " + std::string(line.substr(0, 200)));
          if (++received == o.warmup) {
            start = Clock::now();
            cost0 = read_task_cost(c.pid);
          }
        }
        if (n < 0) break;
      }
    }
  }
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::string cost = cost_fields(cost0, read_task_cost(c.pid), o.count);
  double mib = static_cast<double>(o.count) * static_cast<double>(o.size) / (1 << 20);
  std::printf(
      "{\"mode\":\"throughput\",\"payload\":\"%s\",\"size\":%zu,\"count\":%ld,\"window\":%d,"
      "\"seconds\":%.4f,\"calls_per_s\":%.1f,\"mib_per_s\":%.1f,\"child_hwm_kb\":%ld,"
      "\"child_private_kb\":%ld%s}\n",
      o.payload.c_str(), o.size, o.count, o.window, secs, static_cast<double>(o.count) / secs,
      mib / secs, read_hwm_kb(c.pid), read_private_kb(c.pid), cost.c_str());
}

Options parse(int argc, char** argv) {
  Options o;
  int i = 1;
  for (; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) die(std::string(a) + " needs a value");
      return argv[++i];
    };
    if (a == "--") {
      ++i;
      break;
    }
    if (a == "--mode")
      o.mode = value();
    else if (a == "--count")
      o.count = std::strtol(value(), nullptr, 10);
    else if (a == "--warmup")
      o.warmup = std::strtol(value(), nullptr, 10);
    else if (a == "--size")
      o.size = std::strtoul(value(), nullptr, 10);
    else if (a == "--payload")
      o.payload = value();
    else if (a == "--window")
      o.window = static_cast<int>(std::strtol(value(), nullptr, 10));
    else
      die("unknown option " + std::string(a));
  }
  for (; i < argc; ++i) o.argv.push_back(argv[i]);
  if (o.argv.empty() || o.count <= 0 || o.window <= 0 ||
      (o.mode != "latency" && o.mode != "throughput") ||
      (o.payload != "letters" && o.payload != "escaped"))
    die("usage: mcpcell-load [--mode latency|throughput] [--count N] [--warmup N] [--size BYTES] "
        "[--window N] [--payload letters|escaped] -- COMMAND [ARG...]");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  ::signal(SIGPIPE, SIG_IGN);
  Child c = spawn_child(o.argv);
  LineReader in(c.out);
  handshake(c, in);
  if (o.mode == "latency")
    run_latency(o, c, in);
  else
    run_throughput(o, c, in);
  ::close(c.in);
  int status = 0;
  ::waitpid(c.pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
