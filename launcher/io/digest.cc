#include "io/digest.h"

#include <openssl/evp.h>

#include <cstdlib>

namespace mcpcell {
namespace {

// EVP_sha256() makes OpenSSL 3 look the algorithm up in its provider on every EVP_DigestInit;
// an explicitly fetched EVP_MD does not.
const EVP_MD* sha256_md() {
  static EVP_MD* md = [] {
    EVP_MD* m = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (m == nullptr) std::abort();  // libcrypto without SHA-256: nothing can be audited
    return m;
  }();
  return md;
}

// Re-initialising a context with the digest it already holds reuses its state, no allocation.
EVP_MD_CTX* thread_ctx() {
  struct Ctx {
    EVP_MD_CTX* c = EVP_MD_CTX_new();
    ~Ctx() { EVP_MD_CTX_free(c); }
  };
  thread_local Ctx ctx;
  return ctx.c;
}

}  // namespace

Sha256Digest sha256(std::initializer_list<std::string_view> parts) {
  EVP_MD_CTX* c = thread_ctx();
  Sha256Digest out{};
  unsigned int len = 0;
  if (c == nullptr || EVP_DigestInit_ex2(c, sha256_md(), nullptr) != 1) std::abort();
  for (std::string_view p : parts) EVP_DigestUpdate(c, p.data(), p.size());
  EVP_DigestFinal_ex(c, out.data(), &len);
  return out;
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
  std::array<unsigned char, 64> k{};
  if (key.size() > k.size()) {
    Sha256Digest d = sha256({key});
    std::copy(d.begin(), d.end(), k.begin());
  } else {
    std::copy(key.begin(), key.end(), k.begin());
  }
  for (size_t i = 0; i < k.size(); ++i) {
    ipad_[i] = k[i] ^ 0x36;
    opad_[i] = k[i] ^ 0x5c;
  }
}

Sha256Digest HmacSha256::mac(std::string_view data) const {
  auto view = [](const auto& a) {
    return std::string_view(reinterpret_cast<const char*>(a.data()), a.size());
  };
  Sha256Digest inner = sha256({view(ipad_), data});
  return sha256({view(opad_), view(inner)});
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
