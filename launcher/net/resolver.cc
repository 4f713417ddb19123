#include "net/resolver.h"

#include <fcntl.h>
#include <netdb.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "net/allowlist.h"

namespace mcpcell::net {

std::vector<IpAddr> SystemResolver::resolve(const std::string& name, std::string* error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(name.c_str(), nullptr, &hints, &res);
  std::vector<IpAddr> out;
  if (rc != 0) {
    *error = std::string("cannot resolve: ") + ::gai_strerror(rc);
    return out;
  }
  for (addrinfo* ai = res; ai; ai = ai->ai_next)
    if (auto a = IpAddr::from_sockaddr(ai->ai_addr))
      if (std::find(out.begin(), out.end(), *a) == out.end()) out.push_back(*a);
  ::freeaddrinfo(res);
  if (out.empty()) *error = "cannot resolve: no addresses";
  return out;
}

std::unique_ptr<OverrideResolver> OverrideResolver::parse(const std::string& text,
                                                          std::string* error,
                                                          const std::string& origin) {
  // Lines and ";" both separate names; "#" lines are comments.
  std::string spec;
  for (size_t start = 0; start <= text.size();) {
    size_t nl = text.find('\n', start);
    std::string_view line(text.data() + start,
                          (nl == std::string::npos ? text.size() : nl) - start);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    if (!line.empty() && line.front() != '#') spec.append(line).push_back(';');
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  auto r = std::make_unique<OverrideResolver>();
  auto split = [](std::string_view s, char sep) {
    std::vector<std::string_view> parts;
    while (true) {
      size_t i = s.find(sep);
      parts.push_back(s.substr(0, i));
      if (i == std::string_view::npos) break;
      s.remove_prefix(i + 1);
    }
    return parts;
  };
  for (std::string_view item : split(spec, ';')) {
    if (item.empty()) continue;
    size_t eq = item.find('=');
    std::string name, why;
    if (eq == std::string_view::npos || !canonical_name(item.substr(0, eq), &name, &why)) {
      *error = origin + ": bad entry \"" + printable_name(item) + "\"";
      return nullptr;
    }
    auto& seq = r->answers_[name];
    for (std::string_view answer : split(item.substr(eq + 1), '|')) {
      std::vector<IpAddr> addrs;
      for (std::string_view a : split(answer, ',')) {
        auto ip = parse_ip(a);
        if (!ip) {
          *error = origin + ": \"" + printable_name(a) + "\" is not an IP address";
          return nullptr;
        }
        addrs.push_back(*ip);
      }
      seq.push_back(std::move(addrs));
    }
  }
  return r;
}

std::vector<IpAddr> OverrideResolver::resolve(const std::string& name, std::string* error) {
  std::lock_guard lock(mu_);
  int n = asked_[name]++;
  auto it = answers_.find(name);
  if (it == answers_.end() || it->second.empty()) {
    *error = "cannot resolve: not in the test resolver's list";
    return {};
  }
  const auto& seq = it->second;
  return seq[std::min<size_t>(n, seq.size() - 1)];
}

int OverrideResolver::lookups(const std::string& name) {
  std::lock_guard lock(mu_);
  return asked_[name];
}

std::unique_ptr<Resolver> resolver_from_config(const std::string& config_dir, std::string* note,
                                               std::string* error) {
  std::string path = config_dir + "/" + kTestHostsFile;
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) return std::make_unique<SystemResolver>();
    *error = path + ": " + std::strerror(errno) + " (a symbolic link is not accepted)";
    return nullptr;
  }
  struct stat st;
  std::string text;
  bool ok = ::fstat(fd, &st) == 0;
  if (ok && (!S_ISREG(st.st_mode) || st.st_uid != ::getuid() || (st.st_mode & 022) != 0)) {
    *error = path + " must be a regular file of yours that no one else can write";
    ok = false;
  } else if (ok) {
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0 && text.size() < (1u << 20))
      text.append(buf, static_cast<size_t>(n));
    if (n < 0) *error = path + ": " + std::strerror(errno), ok = false;
  } else {
    *error = path + ": " + std::strerror(errno);
  }
  ::close(fd);
  if (!ok) return nullptr;
  auto r = OverrideResolver::parse(text, error, path);
  if (!r) return nullptr;
  *note = path + " exists: allowed names are resolved from it, not from DNS (testing only)";
  return r;
}

}  // namespace mcpcell::net
