// SHA-256 and HMAC-SHA256 for the audit trail's chain and fingerprints, and for pinned files. They
// run once or twice per relayed message, so they keep OpenSSL's per-call costs off the data path:
// no provider lookup or context allocation per call, and the HMAC key's pads are computed once.
#pragma once

#include <array>
#include <condition_variable>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace mcpcell {

using Sha256Digest = std::array<unsigned char, 32>;

// Streaming SHA-256.
class Sha256 {
 public:
  struct State {
    alignas(8) unsigned char bytes[112];  // an OpenSSL SHA256_CTX, kept out of this header
  };
  Sha256();
  void update(std::string_view data);
  Sha256Digest final();

 private:
  State state_;
};

// SHA-256 of the concatenation of `parts`.
Sha256Digest sha256(std::initializer_list<std::string_view> parts);

// Lower-case hex of `n` bytes.
std::string hex_encode(const unsigned char* p, size_t n);

// SHA-256 of `data`, hex.
std::string sha256_hex(std::string_view data);

// HMAC-SHA256 (RFC 2104) with a key fixed at construction; safe to use from several threads.
class HmacSha256 {
 public:
  explicit HmacSha256(std::string_view key);
  Sha256Digest mac(std::string_view data) const;

 private:
  std::array<unsigned char, 64> ipad_{}, opad_{};
};

// One HMAC at a time on a helper thread: the relay starts the hash of a big line, classifies and
// scans the line on its own core meanwhile, then collects the result. The thread starts with the
// first job, so a process that never hashes big lines never has it.
class BackgroundMac {
 public:
  explicit BackgroundMac(const HmacSha256& key) : key_(key) {}
  ~BackgroundMac();
  // `data` must stay valid and unchanged until wait() returns.
  void start(std::string_view data);
  Sha256Digest wait();

 private:
  void loop();

  const HmacSha256& key_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string_view job_;
  bool pending_ = false, done_ = false, stop_ = false;
  Sha256Digest result_{};
  std::thread thread_;
};

}  // namespace mcpcell
