// mcpcell-net-bench: the two ends of the egress benchmark (bench/net/run.sh).
//   mcpcell-net-bench server                       prints its 127.0.0.1 port, serves until killed
//   mcpcell-net-bench latency HOST PORT COUNT      connect + 1-byte round trip + close, COUNT times
//   mcpcell-net-bench upload|download HOST PORT BYTES
// Prints one JSON object. HOST is resolved with getaddrinfo, once, before timing starts.
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kChunk = 1 << 20;

bool write_all(int fd, const char* p, size_t n) {
  while (n) {
    ssize_t w = ::write(fd, p, n);
    if (w <= 0) return false;
    p += w, n -= static_cast<size_t>(w);
  }
  return true;
}

bool read_all(int fd, char* p, size_t n) {
  while (n) {
    ssize_t r = ::read(fd, p, n);
    if (r <= 0) return false;
    p += r, n -= static_cast<size_t>(r);
  }
  return true;
}

void serve(int fd) {
  char cmd;
  std::vector<char> buf(kChunk, 'x');
  if (read_all(fd, &cmd, 1)) {
    if (cmd == 'P') {
      write_all(fd, &cmd, 1);
    } else if (cmd == 'U') {
      uint64_t total = 0;
      ssize_t r;
      while ((r = ::read(fd, buf.data(), buf.size())) > 0) total += static_cast<uint64_t>(r);
      write_all(fd, reinterpret_cast<char*>(&total), sizeof total);
    } else if (cmd == 'D') {
      uint64_t n;
      if (read_all(fd, reinterpret_cast<char*>(&n), sizeof n))
        while (n) {
          size_t k = std::min<uint64_t>(n, buf.size());
          if (!write_all(fd, buf.data(), k)) break;
          n -= k;
        }
    }
  }
  ::close(fd);
}

int server() {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t l = sizeof a;
  if (::bind(s, reinterpret_cast<sockaddr*>(&a), l) != 0 || ::listen(s, 512) != 0) return 1;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &l);
  std::printf("%d\n", ntohs(a.sin_port));
  std::fflush(stdout);
  while (true) {
    int c = ::accept(s, nullptr, nullptr);
    if (c >= 0) std::thread(serve, c).detach();
  }
}

sockaddr_storage target;
socklen_t target_len;

int dial() {
  int s = ::socket(target.ss_family, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(s, reinterpret_cast<sockaddr*>(&target), target_len) != 0) {
    std::perror("connect");
    std::exit(1);
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "server") == 0) return server();
  if (argc != 5) {
    std::fprintf(stderr, "usage: see the comment at the top of bench/net/net_bench.cc\n");
    return 2;
  }
  std::string mode = argv[1];
  addrinfo hints{}, *res;
  hints.ai_socktype = SOCK_STREAM;
  if (::getaddrinfo(argv[2], argv[3], &hints, &res) != 0) {
    std::fprintf(stderr, "cannot resolve %s\n", argv[2]);
    return 1;
  }
  std::memcpy(&target, res->ai_addr, res->ai_addrlen);
  target_len = res->ai_addrlen;
  uint64_t n = std::strtoull(argv[4], nullptr, 10);
  if (mode == "latency") {
    std::vector<double> us;
    for (uint64_t i = 0; i < n; ++i) {
      auto t0 = Clock::now();
      int s = dial();
      char c = 'P';
      if (!write_all(s, &c, 1) || !read_all(s, &c, 1)) return 1;
      ::close(s);
      us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    }
    std::sort(us.begin(), us.end());
    std::printf("{\"p50_us\":%.1f,\"p99_us\":%.1f,\"count\":%llu}\n", us[us.size() / 2],
                us[us.size() * 99 / 100], static_cast<unsigned long long>(n));
    return 0;
  }
  std::vector<char> buf(kChunk, 'y');
  auto t0 = Clock::now();
  int s = dial();
  if (mode == "upload") {
    char c = 'U';
    write_all(s, &c, 1);
    for (uint64_t left = n; left;) {
      size_t k = std::min<uint64_t>(left, buf.size());
      if (!write_all(s, buf.data(), k)) return 1;
      left -= k;
    }
    ::shutdown(s, SHUT_WR);
    uint64_t got = 0;
    if (!read_all(s, reinterpret_cast<char*>(&got), sizeof got) || got != n) return 1;
  } else {
    char c = 'D';
    write_all(s, &c, 1);
    write_all(s, reinterpret_cast<char*>(&n), sizeof n);
    uint64_t got = 0;
    ssize_t r;
    while ((r = ::read(s, buf.data(), buf.size())) > 0) got += static_cast<uint64_t>(r);
    if (got != n) return 1;
  }
  ::close(s);
  double sec = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("{\"MBps\":%.1f,\"bytes\":%llu,\"seconds\":%.3f}\n", n / sec / 1e6,
              static_cast<unsigned long long>(n), sec);
  return 0;
}
