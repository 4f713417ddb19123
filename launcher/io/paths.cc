#include "io/paths.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

namespace mcpcell {
namespace fs = std::filesystem;

fs::path home_dir() {
  const char* h = ::getenv("HOME");
  if (h && *h == '/') return h;
  if (passwd* pw = ::getpwuid(::getuid()); pw && pw->pw_dir) return pw->pw_dir;
  return "/";
}

static fs::path xdg(const char* var, const char* fallback) {
  const char* v = ::getenv(var);
  fs::path base = (v && *v == '/') ? fs::path(v) : home_dir() / fallback;
  return base / "mcpcell";
}

fs::path state_dir() {
  return xdg("XDG_STATE_HOME", ".local/state");
}
fs::path config_dir() {
  return xdg("XDG_CONFIG_HOME", ".config");
}

Status ensure_private_dir(const fs::path& dir) {
  std::error_code ec;
  fs::path parent = dir.parent_path();
  if (!parent.empty() && !fs::exists(parent, ec)) {
    fs::create_directories(parent, ec);
    if (ec) return Status::Error("cannot create " + parent.string() + ": " + ec.message());
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return Status::Error("cannot create " + dir.string() + ": " + std::strerror(errno));
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return Status::Error(dir.string() + " is not a directory");
  if (st.st_uid != ::getuid())
    return Status::Error(dir.string() + " belongs to another user; refusing to use it");
  if ((st.st_mode & 077) != 0 && ::chmod(dir.c_str(), 0700) != 0)
    return Status::Error("cannot make " + dir.string() + " private: " + std::strerror(errno));
  return Status::Ok();
}

Status write_file_atomic(const fs::path& path, std::string_view data, bool durable) {
  std::string tmp = path.string() + ".tmp." + std::to_string(::getpid()) + "." + random_hex(4);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Status::Error("cannot write " + tmp + ": " + std::strerror(errno));
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return Status::Error("cannot write " + tmp + ": " + std::strerror(e));
    }
    off += static_cast<size_t>(n);
  }
  if ((durable && ::fsync(fd) != 0) || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return Status::Error("cannot flush " + tmp + ": " + std::strerror(errno));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return Status::Error("cannot replace " + path.string() + ": " + std::strerror(e));
  }
  return Status::Ok();
}

bool read_file(const fs::path& path, std::string* out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  out->clear();
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    out->append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return true;
}

std::string random_hex(size_t n) {
  std::string raw(n, '\0');
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::getrandom(raw.data() + got, n - got, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  return hex_encode(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
}

bool write_all(int fd, std::string_view data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

std::string utc_now(const char* fmt) {
  timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  tm t;
  ::gmtime_r(&ts.tv_sec, &t);
  std::string f(fmt);
  char usec[24];
  std::snprintf(usec, sizeof usec, "%06ld", ts.tv_nsec / 1000);
  for (size_t i; (i = f.find("%f")) != std::string::npos;) f.replace(i, 2, usec);
  char buf[128];
  size_t n = std::strftime(buf, sizeof buf, f.c_str(), &t);
  return std::string(buf, n);
}

}  // namespace mcpcell
