#include "scan/validators.h"

#include <array>
#include <cmath>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

namespace mcpcell::scan {
namespace {

uint32_t crc32(std::string_view s) {
  static const auto table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : s) c = table[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

int base62_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  if (c >= 'a' && c <= 'z') return c - 'a' + 36;
  return -1;
}

bool is_placeholder(std::string_view v) {
  if (v.size() < 3) return true;
  // Template variables and masks: ${X}, {{x}}, <x>, %X%, $X, ****, xxxx.
  if (v.front() == '$' || v.front() == '<' || v.front() == '{' || v.front() == '%') return true;
  bool all_same = true;
  for (char c : v) all_same &= (c == v[0]);
  if (all_same) return true;
  std::string lower;
  for (char c : v) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const char* words[] = {"password", "passwd", "secret", "changeme", "pass", "pwd",
                                "token", "example", "test", "admin", "root", "user"};
  for (const char* w : words) {
    // A value that is only a well-known word, maybe with digits after it (changeme123).
    std::string_view lw = lower;
    size_t n = std::char_traits<char>::length(w);
    if (lw.substr(0, n) == w) {
      bool rest_digits = true;
      for (char c : lw.substr(n)) rest_digits &= (c >= '0' && c <= '9') || c == '!';
      if (rest_digits) return true;
    }
  }
  return false;
}

bool is_uuid(std::string_view v) {
  if (v.size() != 36) return false;
  for (size_t i = 0; i < 36; ++i) {
    char c = v[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

}  // namespace

double shannon_entropy(std::string_view s) {
  if (s.empty()) return 0;
  std::array<uint32_t, 256> counts{};
  for (unsigned char c : s) ++counts[c];
  double h = 0, n = static_cast<double>(s.size());
  for (uint32_t c : counts) {
    if (!c) continue;
    double p = c / n;
    h -= p * std::log2(p);
  }
  return h;
}

bool luhn_ok(std::string_view s) {
  int sum = 0, n = 0;
  for (auto it = s.rbegin(); it != s.rend(); ++it) {
    char c = *it;
    if (c == ' ' || c == '-') continue;
    if (c < '0' || c > '9') return false;
    int d = c - '0';
    if (n % 2 == 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    ++n;
  }
  return n >= 13 && n <= 19 && sum % 10 == 0;
}

bool iban_ok(std::string_view s) {
  std::string v;
  for (char c : s)
    if (c != ' ') v += c;
  if (v.size() < 15 || v.size() > 34) return false;
  std::string r = v.substr(4) + v.substr(0, 4);
  int mod = 0;
  for (char c : r) {
    int x;
    if (c >= '0' && c <= '9') x = c - '0';
    else if (c >= 'A' && c <= 'Z') x = c - 'A' + 10;
    else return false;
    mod = x >= 10 ? (mod * 100 + x) % 97 : (mod * 10 + x) % 97;
  }
  return mod == 1;
}

bool github_crc32_ok(std::string_view t) {
  size_t us = t.find('_');
  if (us == std::string_view::npos) return false;
  std::string_view rest = t.substr(us + 1);
  if (rest.size() != 36) return false;
  uint64_t v = 0;
  for (char c : rest.substr(30)) {
    int d = base62_digit(c);
    if (d < 0) return false;
    v = v * 62 + static_cast<uint64_t>(d);
  }
  return v == crc32(rest.substr(0, 30));
}

bool base64_decode(std::string_view in, bool url, std::string* out) {
  out->clear();
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == (url ? '-' : '+')) v = 62;
    else if (c == (url ? '_' : '/')) v = 63;
    else if (c == '=') break;
    else return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return true;
}

bool jwt_ok(std::string_view t) {
  size_t d1 = t.find('.');
  if (d1 == std::string_view::npos) return false;
  size_t d2 = t.find('.', d1 + 1);
  if (d2 == std::string_view::npos) return false;
  std::string header, payload;
  if (!base64_decode(t.substr(0, d1), true, &header)) return false;
  if (!base64_decode(t.substr(d1 + 1, d2 - d1 - 1), true, &payload)) return false;
  auto h = nlohmann::json::parse(header, nullptr, false);
  auto p = nlohmann::json::parse(payload, nullptr, false);
  if (h.is_discarded() || !h.is_object() || !h.contains("alg") || !h["alg"].is_string()) return false;
  if (p.is_discarded() || !p.is_object()) return false;
  // An unsigned token ("alg":"none", empty signature) carries no authority.
  return h["alg"] != "none" && d2 + 1 < t.size();
}

bool known_validator(std::string_view name) {
  if (name.substr(0, 8) == "entropy:") return std::atof(std::string(name.substr(8)).c_str()) > 0;
  return name == "github_crc32" || name == "luhn" || name == "iban" || name == "jwt" ||
         name == "basic_auth" || name == "not_placeholder" || name == "generic_secret";
}

bool validate(std::string_view name, std::string_view secret) {
  if (name.empty()) return true;
  if (name.substr(0, 8) == "entropy:")
    return shannon_entropy(secret) >= std::atof(std::string(name.substr(8)).c_str());
  if (name == "github_crc32") return github_crc32_ok(secret);
  if (name == "luhn") return luhn_ok(secret);
  if (name == "iban") return iban_ok(secret);
  if (name == "jwt") return jwt_ok(secret);
  if (name == "not_placeholder") return !is_placeholder(secret);
  if (name == "basic_auth") {
    std::string d;
    if (!base64_decode(secret, false, &d)) return false;
    size_t colon = d.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 >= d.size()) return false;
    for (unsigned char c : d)
      if (c < 0x20 || c >= 0x7f) return false;
    return !is_placeholder(d.substr(colon + 1));
  }
  if (name == "generic_secret") {
    if (secret.size() < 12 || is_placeholder(secret) || is_uuid(secret)) return false;
    bool letter = false, digit = false;
    for (unsigned char c : secret) {
      letter |= std::isalpha(c) != 0;
      digit |= std::isdigit(c) != 0;
    }
    return letter && digit && shannon_entropy(secret) >= 3.0;
  }
  return false;
}

}  // namespace mcpcell::scan
