// The audit trail's digests against RFC test vectors and OpenSSL's own one-shot functions: the
// fast paths in digest.cc must never change a fingerprint or a chain hash.
#include "io/digest.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "io/audit.h"
#include "io/paths.h"

namespace mcpcell {
namespace {

std::string openssl_hmac(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len);
  return hex_encode(md, len);
}

std::string ours(std::string_view key, std::string_view data) {
  Sha256Digest d = HmacSha256(key).mac(data);
  return hex_encode(d.data(), d.size());
}

TEST(Digest, Sha256KnownAnswers) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256Digest parts = sha256({"a", "", "bc"});
  EXPECT_EQ(hex_encode(parts.data(), parts.size()), sha256_hex("abc"));
}

TEST(Digest, HmacRfc4231) {
  // RFC 4231 test case 2 and test case 6 (a key longer than the block is hashed first).
  EXPECT_EQ(ours("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(
      ours(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First"),
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(Digest, HmacMatchesOpenSslForEveryKeyAndDataLength) {
  std::string data;
  for (size_t klen : {0, 1, 31, 32, 63, 64, 65, 128}) {
    std::string key(klen, 'k');
    for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<char>(i * 7 + 1);
    for (size_t dlen : {0, 1, 55, 56, 64, 119, 120, 1000, 70000}) {
      data.assign(dlen, 'd');
      for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 13);
      EXPECT_EQ(ours(key, data), openssl_hmac(key, data)) << klen << " " << dlen;
    }
  }
}

TEST(Digest, ThreadsShareOneKeyWithoutInterference) {
  HmacSha256 h("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  std::string want = openssl_hmac(
      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "the same line");
  std::vector<std::thread> ts;
  std::vector<int> bad(4, 0);
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        Sha256Digest d = h.mac("the same line");
        if (hex_encode(d.data(), d.size()) != want) ++bad[t];
        sha256_hex(std::string(static_cast<size_t>(i % 300), 'x'));  // interleave other digests
      }
    });
  for (auto& t : ts) t.join();
  for (int b : bad) EXPECT_EQ(b, 0);
}

TEST(Digest, HmacInPiecesEqualsHmacOfTheWhole) {
  HmacSha256 h("key");
  std::string data(200000, 'x');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 31);
  for (size_t cut : {size_t{0}, size_t{1}, size_t{63}, size_t{64}, size_t{65536}, data.size()}) {
    Sha256 inner = h.begin();
    inner.update(std::string_view(data).substr(0, cut));
    inner.update(std::string_view(data).substr(cut));
    EXPECT_EQ(h.finish(inner), h.mac(data)) << cut;
  }
  EXPECT_EQ(ours("key", data), openssl_hmac("key", data));
}

TEST(Digest, TimestampIsRfc3339WithMicroseconds) {
  // The cached date part must agree with strftime, also across second boundaries.
  std::regex shape(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)");
  for (int i = 0; i < 3000; ++i) {
    std::string before = utc_now("%Y-%m-%dT%H:%M:%S");
    std::string ts = rfc3339_now();
    std::string after = utc_now("%Y-%m-%dT%H:%M:%S");
    ASSERT_TRUE(std::regex_match(ts, shape)) << ts;
    ASSERT_TRUE(ts.substr(0, 19) == before || ts.substr(0, 19) == after) << ts << " " << before;
    if (i % 100 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace
}  // namespace mcpcell
