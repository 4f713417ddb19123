#include "pins/canonical.h"

#include "io/paths.h"


#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <utility>
#include <vector>

namespace mcpcell::pins {
namespace {

// UTF-16 code units of a (valid) UTF-8 string: the sort key JCS prescribes for member names.
std::u16string utf16_key(std::string_view s) {
  std::u16string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    char32_t cp;
    size_t len;
    if (c < 0x80) {
      cp = c, len = 1;
    } else if ((c >> 5) == 0x6) {
      cp = c & 0x1f, len = 2;
    } else if ((c >> 4) == 0xe) {
      cp = c & 0x0f, len = 3;
    } else {
      cp = c & 0x07, len = 4;
    }
    for (size_t k = 1; k < len && i + k < s.size(); ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
    i += len;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out.push_back(static_cast<char16_t>(0xd800 + (cp >> 10)));
      out.push_back(static_cast<char16_t>(0xdc00 + (cp & 0x3ff)));
    } else {
      out.push_back(static_cast<char16_t>(cp));
    }
  }
  return out;
}

void append_string(std::string& out, std::string_view s) {
  out.push_back('"');
  size_t run = 0;  // start of the pending run of bytes copied as they are
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default: {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        out += buf;
      }
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

}  // namespace

std::string format_double(double d) {
  if (d == 0) return "0";  // -0 too
  // JSON has no NaN or Infinity, but nlohmann turns 1e400 into infinity: keep it distinct from 0.
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d < 0 ? "-Infinity" : "Infinity";
  std::string out;
  if (d < 0) {
    out.push_back('-');
    d = -d;
  }
  // Shortest round-trip digits, in the form D.DDDDe±X.
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<size_t>(res.ptr - buf));
  size_t e = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e))
    if (c != '.') digits.push_back(c);
  int exp10 = 0;
  std::from_chars(sci.data() + e + (sci[e + 1] == '+' ? 2 : 1), sci.data() + sci.size(), exp10);
  // ECMAScript: value = 0.digits * 10^n.
  int k = static_cast<int>(digits.size());
  int n = exp10 + 1;
  if (k <= n && n <= 21) {
    out += digits;
    out.append(static_cast<size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out += digits.substr(0, static_cast<size_t>(n));
    out.push_back('.');
    out += digits.substr(static_cast<size_t>(n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-n), '0');
    out += digits;
  } else {
    out.push_back(digits[0]);
    if (k > 1) {
      out.push_back('.');
      out += digits.substr(1);
    }
    out.push_back('e');
    out.push_back(n - 1 < 0 ? '-' : '+');
    out += std::to_string(std::abs(n - 1));
  }
  return out;
}

void append_canonical(std::string& out, const nlohmann::json& v) {
  using value_t = nlohmann::json::value_t;
  switch (v.type()) {
    case value_t::null:
      out += "null";
      break;
    case value_t::boolean:
      out += v.get<bool>() ? "true" : "false";
      break;
    case value_t::number_integer:
      out += std::to_string(v.get<int64_t>());
      break;
    case value_t::number_unsigned:
      out += std::to_string(v.get<uint64_t>());
      break;
    case value_t::number_float:
      out += format_double(v.get<double>());
      break;
    case value_t::string:
      append_string(out, v.get_ref<const std::string&>());
      break;
    case value_t::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& e : v) {
        if (!first) out.push_back(',');
        first = false;
        append_canonical(out, e);
      }
      out.push_back(']');
      break;
    }
    case value_t::object: {
      // nlohmann keeps members sorted by UTF-8 bytes, which differs from UTF-16 order only
      // between supplementary characters and U+E000..U+FFFF; sort only when that can matter.
      std::vector<std::pair<std::u16string, nlohmann::json::const_iterator>> members;
      bool needs_sort = false;
      for (auto it = v.begin(); it != v.end(); ++it)
        for (char c : it.key())
          if (static_cast<unsigned char>(c) >= 0xee) needs_sort = true;
      for (auto it = v.begin(); it != v.end(); ++it)
        members.emplace_back(needs_sort ? utf16_key(it.key()) : std::u16string(), it);
      if (needs_sort)
        std::stable_sort(members.begin(), members.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
      out.push_back('{');
      bool first = true;
      for (const auto& [key, it] : members) {
        if (!first) out.push_back(',');
        first = false;
        append_string(out, it.key());
        out.push_back(':');
        append_canonical(out, it.value());
      }
      out.push_back('}');
      break;
    }
    case value_t::binary:
    case value_t::discarded:
      out += "null";
      break;
  }
}

std::string canonical(const nlohmann::json& v) {
  std::string out;
  append_canonical(out, v);
  return out;
}

std::string sha256_hex(std::string_view data) { return mcpcell::sha256_hex(data); }

std::string hash_json(const nlohmann::json& v) {
  return sha256_hex(canonical(v));
}

}  // namespace mcpcell::pins
