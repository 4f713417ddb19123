#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include <gtest/gtest.h>

#include "net/dns.h"
#include "net/gate.h"
#include "net/resolver.h"

namespace mcpcell::net {
namespace {

// A stub resolver's query: id 0x1234, RD set, one question.
std::string query(const std::vector<std::string>& labels, uint16_t qtype = dns::kTypeA) {
  std::string m = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
  for (const std::string& l : labels) {
    m.push_back(static_cast<char>(l.size()));
    m += l;
  }
  m.push_back(0);
  m.push_back(static_cast<char>(qtype >> 8));
  m.push_back(static_cast<char>(qtype & 0xff));
  m += std::string("\0\1", 2);
  return m;
}

std::optional<uint8_t> parse(const std::string& m, DnsQuery* q) {
  return parse_query(reinterpret_cast<const uint8_t*>(m.data()), m.size(), q);
}

Gate gate(std::vector<std::string> entries, std::vector<IpAddr> own = {}) {
  Allowlist a;
  std::string err;
  EXPECT_TRUE(Allowlist::parse(entries, &a, &err)) << err;
  return Gate(a, own);
}

TEST(Dns, ParsesAStubQuery) {
  DnsQuery q;
  ASSERT_EQ(parse(query({"API", "Example", "com"}), &q), dns::kNoError);
  EXPECT_EQ(q.id, 0x1234);
  EXPECT_EQ(q.name, "api.example.com");
  EXPECT_EQ(q.qtype, dns::kTypeA);
}

TEST(Dns, NulOrDotInsideALabelIsRefused) {
  DnsQuery q;
  ASSERT_EQ(parse(query({std::string("evil\0", 5), "example", "com"}), &q), dns::kNoError);
  EXPECT_TRUE(q.name.empty());
  EXPECT_EQ(q.name_error, "NUL byte in name");
  EXPECT_EQ(q.raw_name, "evil\\x00.example.com");
  // One label "evil.com" followed by "example.com": as a dotted string it would read as a
  // subdomain of example.com.
  ASSERT_EQ(parse(query({"api.evil", "example", "com"}), &q), dns::kNoError);
  EXPECT_TRUE(q.name.empty());
  ASSERT_EQ(parse(query({"ex%61mple", "com"}), &q), dns::kNoError);
  EXPECT_TRUE(q.name.empty());
}

TEST(Dns, MalformedMessages) {
  DnsQuery q;
  EXPECT_FALSE(parse(std::string(5, '\0'), &q));  // too short for an id
  std::string resp = query({"a", "com"});
  resp[2] |= 0x80;
  EXPECT_FALSE(parse(resp, &q));  // a response: ignored
  std::string two = query({"a", "com"});
  two[5] = 2;
  EXPECT_EQ(parse(two, &q), dns::kFormErr);  // two questions
  std::string cut = query({"example", "com"});
  EXPECT_EQ(parse(cut.substr(0, cut.size() - 3), &q), dns::kFormErr);
  std::string ptr = std::string{0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0} + "\xc0\x0c";
  EXPECT_EQ(parse(ptr, &q), dns::kFormErr);  // compression loop
  std::string notify = query({"a", "com"});
  notify[2] = 0x20;  // opcode 4
  EXPECT_EQ(parse(notify, &q), dns::kNotImp);
}

TEST(Dns, BuildsAnAnswer) {
  DnsQuery q;
  ASSERT_EQ(parse(query({"api", "example", "com"}), &q), dns::kNoError);
  std::string r = build_response(q, dns::kNoError, {IpAddr::v4(127, 100, 0, 1)}, 60);
  ASSERT_EQ(r.size(), 12 + q.question.size() + 16);
  EXPECT_EQ(static_cast<uint8_t>(r[2]) & 0x80, 0x80);  // QR
  EXPECT_EQ(r[7], 1);                                  // one answer
  EXPECT_EQ(r.substr(r.size() - 4), std::string("\x7f\x64\x00\x01", 4));
  std::string nx = build_response(q, dns::kNxDomain, {}, 60);
  EXPECT_EQ(nx[3] & 0xf, dns::kNxDomain);
  EXPECT_EQ(nx[7], 0);
}

TEST(Gate, DnsAnswersOnlyAllowedNames) {
  Gate g = gate({"api.example.com:443", "*.example.org:443"});
  DnsQuery q;
  parse(query({"api", "example", "com"}), &q);
  auto a = g.on_query(q);
  EXPECT_EQ(a.rcode, dns::kNoError);
  ASSERT_EQ(a.answers.size(), 1u);
  EXPECT_EQ(a.answers[0], IpAddr::v4(127, 100, 0, 1));
  EXPECT_EQ(g.on_query(q).answers[0], a.answers[0]);  // stable
  parse(query({"x", "example", "org"}), &q);
  EXPECT_EQ(g.on_query(q).answers[0], IpAddr::v4(127, 100, 0, 2));
  for (auto labels :
       std::vector<std::vector<std::string>>{{"evil-example", "org"},
                                             {"example", "org"},
                                             {"evil", "com"},
                                             {std::string("evil.com\0", 9), "example", "com"}}) {
    parse(query(labels), &q);
    auto d = g.on_query(q);
    EXPECT_EQ(d.rcode, dns::kNxDomain);
    EXPECT_TRUE(d.denied);
    EXPECT_TRUE(d.answers.empty());
  }
  parse(query({"api", "example", "com"}, dns::kTypeAAAA), &q);
  auto six = g.on_query(q);
  EXPECT_EQ(six.rcode, dns::kNoError);  // NODATA: the program falls back to the A answer
  EXPECT_TRUE(six.answers.empty());
  EXPECT_TRUE(six.denied);  // and recorded: IPv6 is not served
  EXPECT_NE(six.reason.find("IPv6"), std::string::npos);
}

TEST(Gate, EmptyListAnswersNothing) {
  Gate g = gate({});
  DnsQuery q;
  parse(query({"example", "com"}), &q);
  EXPECT_EQ(g.on_query(q).rcode, dns::kNxDomain);
  EXPECT_FALSE(g.on_connect(IpAddr::v4(127, 100, 0, 1), 443).allowed);
  EXPECT_FALSE(g.on_connect(IpAddr::v4(127, 0, 0, 1), 443).allowed);
}

TEST(Gate, ConnectionsAreDecidedByTheAddressTheyArriveAt) {
  Gate g = gate({"api.example.com:443", "localhost:5432"});
  DnsQuery q;
  parse(query({"api", "example", "com"}), &q);
  IpAddr mapped = g.on_query(q).answers.at(0);
  auto t = g.on_connect(mapped, 443);
  EXPECT_TRUE(t.allowed);
  EXPECT_TRUE(t.is_name);
  EXPECT_EQ(t.host, "api.example.com");
  EXPECT_FALSE(g.on_connect(mapped, 80).allowed);                       // wrong port
  EXPECT_FALSE(g.on_connect(IpAddr::v4(127, 100, 0, 9), 443).allowed);  // never handed out
  EXPECT_FALSE(g.on_connect(IpAddr::v4(127, 0, 0, 1), 443).allowed);    // IP literal
  auto local = g.on_connect(IpAddr::v4(127, 0, 0, 1), 5432);
  EXPECT_TRUE(local.allowed);
  EXPECT_FALSE(local.is_name);
  EXPECT_EQ(local.host, "localhost");
  EXPECT_TRUE(g.on_connect(*parse_ipv6("::1"), 5432).allowed);
  EXPECT_FALSE(g.on_connect(IpAddr::v4(127, 0, 0, 2), 5432).allowed);
}

TEST(Gate, ResolvedAddressesAreChecked) {
  IpAddr own = IpAddr::v4(203, 0, 113, 77);
  Gate g = gate({"api.example.com:443", "db.example.com:5432", "10.0.0.5:5432", "localhost:8080",
                 "app.example.com:8080"},
                {own, IpAddr::v4(127, 0, 0, 1)});
  auto ok = g.check_addresses(443, {IpAddr::v4(93, 184, 215, 14)});
  EXPECT_EQ(ok.dial.size(), 1u);
  for (const char* bad : {"169.254.169.254", "127.0.0.1", "::ffff:127.0.0.1", "10.0.0.5",
                          "192.168.1.1", "fe80::1", "::1", "64:ff9b::a9fe:a9fe", "0.0.0.0"}) {
    auto c = g.check_addresses(443, {*parse_ip(bad)});
    EXPECT_TRUE(c.dial.empty()) << bad;
    EXPECT_NE(c.reason.find(bad), std::string::npos) << c.reason;
  }
  EXPECT_TRUE(g.check_addresses(443, {own}).dial.empty());  // the machine itself
  EXPECT_NE(g.check_addresses(443, {own}).reason.find("own address"), std::string::npos);
  // Named explicitly by an entry at that port: allowed (the server could dial it directly).
  EXPECT_EQ(g.check_addresses(5432, {IpAddr::v4(10, 0, 0, 5)}).dial.size(), 1u);
  EXPECT_EQ(g.check_addresses(8080, {IpAddr::v4(127, 0, 0, 1)}).dial.size(), 1u);
  EXPECT_TRUE(g.check_addresses(8081, {IpAddr::v4(127, 0, 0, 1)}).dial.empty());
  // Mixed answers: only the checked ones are dialed.
  auto mixed = g.check_addresses(443, {IpAddr::v4(169, 254, 169, 254), IpAddr::v4(1, 1, 1, 1)});
  ASSERT_EQ(mixed.dial.size(), 1u);
  EXPECT_EQ(mixed.dial[0], IpAddr::v4(1, 1, 1, 1));
}

TEST(Resolver, OverrideAnswersInSequence) {
  std::string err;
  auto r =
      OverrideResolver::parse("rebind.test=169.254.169.254|127.0.0.1;a.test=1.2.3.4,::1", &err);
  ASSERT_TRUE(r) << err;
  EXPECT_EQ(r->resolve("rebind.test", &err), std::vector<IpAddr>{IpAddr::v4(169, 254, 169, 254)});
  EXPECT_EQ(r->resolve("rebind.test", &err), std::vector<IpAddr>{IpAddr::v4(127, 0, 0, 1)});
  EXPECT_EQ(r->resolve("rebind.test", &err), std::vector<IpAddr>{IpAddr::v4(127, 0, 0, 1)});
  EXPECT_EQ(r->resolve("a.test", &err).size(), 2u);
  EXPECT_TRUE(r->resolve("other.test", &err).empty());
  EXPECT_EQ(r->lookups("rebind.test"), 3);
  EXPECT_FALSE(OverrideResolver::parse("x.test=999.1.1.1", &err));
  EXPECT_FALSE(OverrideResolver::parse("bad name=1.1.1.1", &err));
}

// mcpcell takes the test resolver only from a private file of the user's (never the environment),
// and refuses one that someone else could have written.
TEST(Resolver, TestHostsFileOnlyWhenPrivate) {
  char tmpl[] = "/tmp/mcpcell-resolver-XXXXXX";
  ASSERT_TRUE(::mkdtemp(tmpl));
  std::string dir = tmpl, path = dir + "/test-hosts", note, err;
  ::setenv("MCPCELL_TEST_HOSTS", "a.test=1.2.3.4", 1);
  auto sys = resolver_from_config(dir, &note, &err);
  ASSERT_TRUE(sys);
  EXPECT_TRUE(dynamic_cast<SystemResolver*>(sys.get())) << "the environment is not consulted";
  EXPECT_TRUE(note.empty());
  ::unsetenv("MCPCELL_TEST_HOSTS");
  FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_TRUE(f);
  std::fputs("# stand-ins\na.test=1.2.3.4\n\nb.test=5.6.7.8|9.9.9.9;c.test=::1\n", f);
  std::fclose(f);
  ::chmod(path.c_str(), 0600);
  auto r = resolver_from_config(dir, &note, &err);
  ASSERT_TRUE(r) << err;
  EXPECT_NE(note.find("test-hosts"), std::string::npos);
  EXPECT_EQ(r->resolve("a.test", &err), std::vector<IpAddr>{IpAddr::v4(1, 2, 3, 4)});
  EXPECT_EQ(r->resolve("b.test", &err), std::vector<IpAddr>{IpAddr::v4(5, 6, 7, 8)});
  EXPECT_EQ(r->resolve("c.test", &err).size(), 1u);
  ::chmod(path.c_str(), 0620);
  EXPECT_FALSE(resolver_from_config(dir, &note, &err)) << "group-writable file accepted";
  ::chmod(path.c_str(), 0600);
  std::string link_dir = dir + "/l";
  ::mkdir(link_dir.c_str(), 0700);
  ASSERT_EQ(::symlink(path.c_str(), (link_dir + "/test-hosts").c_str()), 0);
  EXPECT_FALSE(resolver_from_config(link_dir, &note, &err)) << "symbolic link accepted";
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mcpcell::net
