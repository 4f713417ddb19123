#include "net/resolver.h"

#include <netdb.h>

#include <algorithm>
#include <cstdlib>

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

std::unique_ptr<OverrideResolver> OverrideResolver::parse(const std::string& spec,
                                                          std::string* error) {
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
      *error = "MCPCELL_TEST_HOSTS: bad entry \"" + printable_name(item) + "\"";
      return nullptr;
    }
    auto& seq = r->answers_[name];
    for (std::string_view answer : split(item.substr(eq + 1), '|')) {
      std::vector<IpAddr> addrs;
      for (std::string_view a : split(answer, ',')) {
        auto ip = parse_ip(a);
        if (!ip) {
          *error = "MCPCELL_TEST_HOSTS: \"" + printable_name(a) + "\" is not an IP address";
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
    *error = "cannot resolve: not in MCPCELL_TEST_HOSTS";
    return {};
  }
  const auto& seq = it->second;
  return seq[std::min<size_t>(n, seq.size() - 1)];
}

int OverrideResolver::lookups(const std::string& name) {
  std::lock_guard lock(mu_);
  return asked_[name];
}

std::unique_ptr<Resolver> resolver_from_environment(std::string* note, std::string* error) {
  const char* spec = std::getenv("MCPCELL_TEST_HOSTS");
  if (!spec) return std::make_unique<SystemResolver>();
  auto r = OverrideResolver::parse(spec, error);
  if (!r) return nullptr;
  *note = "MCPCELL_TEST_HOSTS is set: names are resolved from it, not from DNS (testing only)";
  return r;
}

}  // namespace mcpcell::net
