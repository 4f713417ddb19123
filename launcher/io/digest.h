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
  // Continues from a state saved with state() (e.g. after an HMAC key block).
  explicit Sha256(const State& from) : state_(from) {}
  void update(std::string_view data);
  Sha256Digest final();
  const State& state() const { return state_; }

 private:
  State state_;
};

// SHA-256 of the concatenation of `parts`.
Sha256Digest sha256(std::initializer_list<std::string_view> parts);

// Lower-case hex of `n` bytes.
std::string hex_encode(const unsigned char* p, size_t n);
// The same into `out` (2 * n chars, not terminated), for callers that must not allocate per call.
void hex_encode_to(char* out, const unsigned char* p, size_t n);

// SHA-256 of `data`, hex.
std::string sha256_hex(std::string_view data);

// HMAC-SHA256 (RFC 2104) with a key fixed at construction; safe to use from several threads.
// The hash states after the key's inner and outer pad blocks are computed once, so a MAC costs the
// blocks of the data plus one for the outer hash: for a 200-byte message 5 compressions, not 7.
class HmacSha256 {
 public:
  explicit HmacSha256(std::string_view key);
  Sha256Digest mac(std::string_view data) const;

  // The same MAC over data that arrives in pieces: begin(), update()..., finish().
  Sha256 begin() const { return Sha256(inner_); }
  Sha256Digest finish(Sha256& inner) const;

 private:
  Sha256::State inner_{}, outer_{};
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
