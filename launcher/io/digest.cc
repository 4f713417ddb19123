#include "io/digest.h"

// OpenSSL 3 deprecates the one-shot SHA256_* functions in favour of EVP, but EVP initialises the
// provider machinery first, which alone keeps ~1.8 MB of libcrypto resident in every session (the
// relay's memory budget is 10 MB). The low-level functions run the same SHA-NI/AVX code.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <cstdlib>

namespace mcpcell {

static_assert(sizeof(Sha256::State) >= sizeof(SHA256_CTX), "Sha256::State too small");
static_assert(alignof(Sha256::State) >= alignof(SHA256_CTX), "Sha256::State misaligned");

namespace {
SHA256_CTX* ctx(Sha256::State& s) {
  return reinterpret_cast<SHA256_CTX*>(s.bytes);
}
}  // namespace

Sha256::Sha256() {
  SHA256_Init(ctx(state_));
}

void Sha256::update(std::string_view data) {
  SHA256_Update(ctx(state_), data.data(), data.size());
}

Sha256Digest Sha256::final() {
  Sha256Digest out{};
  SHA256_Final(out.data(), ctx(state_));
  return out;
}

Sha256Digest sha256(std::initializer_list<std::string_view> parts) {
  Sha256 h;
  for (std::string_view p : parts) h.update(p);
  return h.final();
}

std::string hex_encode(const unsigned char* p, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(2 * n, '\0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[p[i] >> 4];
    out[2 * i + 1] = kHex[p[i] & 15];
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  Sha256Digest d = sha256({data});
  return hex_encode(d.data(), d.size());
}

HmacSha256::HmacSha256(std::string_view key) {
  std::array<unsigned char, 64> k{}, ipad{}, opad{};
  if (key.size() > k.size()) {
    Sha256Digest d = sha256({key});
    std::copy(d.begin(), d.end(), k.begin());
  } else {
    std::copy(key.begin(), key.end(), k.begin());
  }
  for (size_t i = 0; i < k.size(); ++i) {
    ipad[i] = k[i] ^ 0x36;
    opad[i] = k[i] ^ 0x5c;
  }
  auto view = [](const auto& a) {
    return std::string_view(reinterpret_cast<const char*>(a.data()), a.size());
  };
  Sha256 in, out;
  in.update(view(ipad));
  out.update(view(opad));
  inner_ = in.state();
  outer_ = out.state();
}

Sha256Digest HmacSha256::finish(Sha256& inner) const {
  Sha256Digest d = inner.final();
  Sha256 outer(outer_);
  outer.update(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
  return outer.final();
}

Sha256Digest HmacSha256::mac(std::string_view data) const {
  Sha256 inner(inner_);
  inner.update(data);
  return finish(inner);
}

BackgroundMac::~BackgroundMac() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void BackgroundMac::add(std::string_view piece) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
  running_ = true;
  if (piece.empty()) return;
  todo_.push_back(piece);
  lock.unlock();
  cv_.notify_all();
}

Sha256Digest BackgroundMac::finish(std::string_view last) {
  add(last);
  std::unique_lock<std::mutex> lock(mu_);
  finish_ = true;
  cv_.notify_all();
  idle_cv_.wait(lock, [&] { return done_; });
  done_ = false;
  running_ = false;
  return result_;
}

void BackgroundMac::cancel() {
  std::unique_lock<std::mutex> lock(mu_);
  running_ = false;
  if (!thread_.joinable()) return;
  todo_.clear();
  reset_ = true;
  cv_.notify_all();
  // The thread may be hashing a piece right now: the bytes must stay until it is done with them.
  idle_cv_.wait(lock, [&] { return !reset_ && !busy_; });
}

void BackgroundMac::drain() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_cv_.wait(lock, [&] { return todo_.empty() && !busy_; });
}

void BackgroundMac::loop() {
  std::unique_lock<std::mutex> lock(mu_);
  size_t next = 0;  // index of the next piece in todo_
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || reset_ || next < todo_.size() || finish_; });
    if (stop_) return;
    if (reset_) {
      inner_ = key_.begin();
      todo_.clear();
      next = 0;
      reset_ = false;
      idle_cv_.notify_all();
      continue;
    }
    if (next < todo_.size()) {
      std::string_view piece = todo_[next++];
      busy_ = true;
      lock.unlock();
      inner_.update(piece);
      lock.lock();
      busy_ = false;
      if (next == todo_.size() || reset_) {
        if (!reset_) todo_.clear();
        next = 0;
        idle_cv_.notify_all();
      }
      continue;
    }
    // finish_, and every piece is hashed.
    result_ = key_.finish(inner_);
    inner_ = key_.begin();
    finish_ = false;
    done_ = true;
    idle_cv_.notify_all();
  }
}

}  // namespace mcpcell
