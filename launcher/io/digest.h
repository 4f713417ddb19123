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
#include <vector>

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

// One HMAC at a time on a helper thread, fed as the bytes of a big line arrive: the relay hands
// over each piece of an unfinished line as it is read (add()), so that when the line's last bytes
// come in only the tail is left to hash while the relay classifies and scans the whole line on its
// own core; then it collects the result (finish()). The thread starts with the first job, so a
// process that never hashes big lines never has it.
//
// Pieces are views: each must stay valid and unchanged until finish() or cancel() returns (the
// relay's framer does not move an unfinished line while a MAC is running over it; see
// LineFramer::pin()).
class BackgroundMac {
 public:
  explicit BackgroundMac(const HmacSha256& key) : key_(key), inner_(key.begin()) {}
  ~BackgroundMac();
  // Starts a MAC (or continues the running one) with `piece`.
  void add(std::string_view piece);
  // Whether a MAC is running (add() was called since the last finish() or cancel()).
  bool running() const { return running_; }
  // Adds `last` (may be empty) and returns the MAC of everything added.
  Sha256Digest finish(std::string_view last);
  // Drops the running MAC (its line turned out oversize or was cut off by the end of stream).
  void cancel();
  // Waits until every piece handed over is hashed, so the bytes under them may move.
  void drain();

  // One whole piece at once: add(data) + finish({}).
  void start(std::string_view data) { add(data); }
  Sha256Digest wait() { return finish({}); }

 private:
  void loop();

  const HmacSha256& key_;
  std::mutex mu_;
  std::condition_variable cv_, idle_cv_;
  // Pieces handed over and not yet hashed; the thread hashes them in order.
  std::vector<std::string_view> todo_;
  bool busy_ = false;    // the thread is hashing a piece outside the lock
  bool finish_ = false;  // after the pieces: finish the MAC into result_
  bool done_ = false;    // result_ is ready
  bool reset_ = false;   // drop the running MAC
  bool stop_ = false;
  bool running_ = false;  // relay side: a MAC is running
  Sha256 inner_;          // the thread's running inner hash
  Sha256Digest result_{};
  std::thread thread_;
};

}  // namespace mcpcell
