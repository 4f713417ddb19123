#include "net/allowlist.h"

#include <gtest/gtest.h>

namespace mcpcell::net {
namespace {

Allowlist list(std::vector<std::string> e) {
  Allowlist a;
  std::string err;
  EXPECT_TRUE(Allowlist::parse(e, &a, &err)) << err;
  return a;
}

std::string canon(std::string_view s) {
  std::string out, why;
  return canonical_name(s, &out, &why) ? out : "!" + why;
}

TEST(Names, Canonical) {
  EXPECT_EQ(canon("API.Example.COM"), "api.example.com");
  EXPECT_EQ(canon("xn--bcher-kva.example"), "xn--bcher-kva.example");
  EXPECT_EQ(canon("a-b.c0"), "a-b.c0");
  EXPECT_EQ(canon("localhost"), "localhost");
}

TEST(Names, Refused) {
  const std::string refused[] = {
      std::string("evil.com\0.example.com", 21),
      "example.com.",
      "example.com%00",
      "example.com%2e",
      "ex ample.com",
      "exa\tmple.com",
      "under_score.example.com",
      "-lead.example.com",
      "trail-.example.com",
      "a..b",
      ".example.com",
      "",
      "b\xc3\xbc"
      "cher.example",        // raw UTF-8: IDNA A-label required
      "ab--cd.example.com",  // reserved for IDNA
      "xn--.example.com",
      "1.2.3.4",
      "127.1",
      "0x7f.1",
      std::string(64, 'a') + ".com",
      std::string(250, 'a').insert(63, ".").insert(127, ".").insert(191, ".") + ".com",
      "example.com\x7f",
  };
  for (const std::string& s : refused) EXPECT_EQ(canon(s)[0], '!') << printable_name(s);
}

TEST(Names, PrintableForAudit) {
  EXPECT_EQ(printable_name(std::string("evil.com\0.ok", 12)), "evil.com\\x00.ok");
  EXPECT_EQ(printable_name("a\\b\xff"), "a\\x5cb\\xff");
}

TEST(Entries, Parse) {
  Entry e;
  std::string err;
  ASSERT_TRUE(parse_entry("API.example.com:8443", &e, &err)) << err;
  EXPECT_EQ(e.kind, Entry::kName);
  EXPECT_EQ(e.host, "api.example.com");
  EXPECT_EQ(e.ports, std::vector<uint16_t>{8443});
  EXPECT_EQ(e.text, "api.example.com:8443");

  ASSERT_TRUE(parse_entry("api.example.com", &e, &err));
  EXPECT_EQ(e.ports, (std::vector<uint16_t>{80, 443}));

  ASSERT_TRUE(parse_entry("*.example.com:443", &e, &err));
  EXPECT_EQ(e.kind, Entry::kWildcard);
  EXPECT_EQ(e.host, "example.com");

  ASSERT_TRUE(parse_entry("localhost:5432", &e, &err));
  EXPECT_EQ(e.kind, Entry::kLocalhost);

  ASSERT_TRUE(parse_entry("10.0.0.5:5432", &e, &err));
  EXPECT_EQ(e.kind, Entry::kAddress);
  ASSERT_TRUE(parse_entry("[fd00::1]:443", &e, &err));
  EXPECT_EQ(e.kind, Entry::kAddress);
  EXPECT_TRUE(e.addr.v6);
  ASSERT_TRUE(parse_entry("*:443", &e, &err));
  EXPECT_EQ(e.kind, Entry::kAny);

  for (const char* bad :
       {"localhost", "example.com:0", "example.com:65536", "example.com:", "example.com:08",
        "*.com", "a.*.example.com", "*example.com", "example.com:53", "[::1", "[::1]x",
        "example.com.:443", "fe80::1", "0x7f.1:80", "exa%mple.com"})
    EXPECT_FALSE(parse_entry(bad, &e, &err)) << bad;
  EXPECT_FALSE(parse_entry(std::string("evil.com\0.example.com", 21), &e, &err));
}

TEST(Entries, WildcardNeedsALabelBoundary) {
  Allowlist a = list({"*.example.com:443"});
  EXPECT_TRUE(a.match("api.example.com", 443));
  EXPECT_TRUE(a.match("a.b.example.com", 443));
  EXPECT_FALSE(a.match("example.com", 443));       // apex is not a subdomain
  EXPECT_FALSE(a.match("evil-example.com", 443));  // look-alike
  EXPECT_FALSE(a.match("evilexample.com", 443));
  EXPECT_FALSE(a.match("example.com.evil.net", 443));
  EXPECT_FALSE(a.match("api.example.com", 80));  // port
  EXPECT_FALSE(a.match("api.example.co", 443));
}

TEST(Entries, ExactNameAndPorts) {
  Allowlist a = list({"api.example.com", "db.example.net:5432"});
  EXPECT_TRUE(a.match("api.example.com", 443));
  EXPECT_TRUE(a.match("api.example.com", 80));
  EXPECT_FALSE(a.match("api.example.com", 22));
  EXPECT_FALSE(a.match("x.api.example.com", 443));
  EXPECT_TRUE(a.match("db.example.net", 5432));
  EXPECT_FALSE(a.match("db.example.net", 443));
  EXPECT_TRUE(a.match_name("db.example.net"));
  EXPECT_EQ(a.ports(), (std::vector<uint16_t>{80, 443, 5432}));
}

TEST(Entries, EmptyListMeansNothing) {
  Allowlist a = list({});
  EXPECT_TRUE(a.empty());
  EXPECT_FALSE(a.match_name("example.com"));
  EXPECT_FALSE(a.match_address(IpAddr::v4(127, 0, 0, 1), 80));
  EXPECT_TRUE(a.ports().empty());
}

TEST(Entries, AddressEntries) {
  Allowlist a = list({"localhost:5432", "10.0.0.5:6379"});
  EXPECT_TRUE(a.match_address(IpAddr::v4(127, 0, 0, 1), 5432));
  EXPECT_TRUE(a.match_address(*parse_ipv6("::1"), 5432));
  EXPECT_FALSE(a.match_address(IpAddr::v4(127, 0, 0, 1), 5433));
  EXPECT_FALSE(a.match_address(*parse_ipv6("::ffff:127.0.0.1"), 5432));
  EXPECT_TRUE(a.match_address(IpAddr::v4(10, 0, 0, 5), 6379));
  EXPECT_FALSE(a.match_address(IpAddr::v4(10, 0, 0, 6), 6379));
  EXPECT_EQ(a.localhost_ports(), std::vector<uint16_t>{5432});
}

}  // namespace
}  // namespace mcpcell::net
