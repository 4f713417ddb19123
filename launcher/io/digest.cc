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

void hex_encode_to(char* out, const unsigned char* p, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[p[i] >> 4];
    out[2 * i + 1] = kHex[p[i] & 15];
  }
}

std::string hex_encode(const unsigned char* p, size_t n) {
  std::string out(2 * n, '\0');
  hex_encode_to(out.data(), p, n);
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

void BackgroundMac::start(std::string_view data) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
  job_ = data;
  pending_ = true;
  done_ = false;
  lock.unlock();
  cv_.notify_all();
}

Sha256Digest BackgroundMac::wait() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return done_ || !pending_; });
  pending_ = false;
  done_ = false;
  return result_;
}

void BackgroundMac::loop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || (pending_ && !done_); });
    if (stop_) return;
    std::string_view job = job_;
    lock.unlock();
    Sha256Digest d = key_.mac(job);
    lock.lock();
    result_ = d;
    done_ = true;
    cv_.notify_all();
  }
}

}  // namespace mcpcell
