#include "profiles/jsonc.h"

#include <cerrno>
#include <cstdlib>

namespace mcpcell::profiles {
namespace {

constexpr int kMaxDepth = 64;

// Length of the well-formed UTF-8 sequence that `s` starts with (s[0] >= 0x80; RFC 3629: no
// overlongs, surrogates or values past U+10FFFF), or 0.
size_t utf8_sequence(std::string_view s) {
  auto at = [&](size_t i) { return i < s.size() ? static_cast<unsigned char>(s[i]) : 0u; };
  auto cont = [&](size_t i) { return (at(i) & 0xC0) == 0x80; };
  unsigned c = at(0);
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if ((c == 0xE0 && at(1) < 0xA0) || (c == 0xED && at(1) >= 0xA0)) return 0;
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if ((c == 0xF0 && at(1) < 0x90) || (c == 0xF4 && at(1) >= 0x90)) return 0;
    return 4;
  }
  return 0;
}

bool plain_key(const std::string& key) {
  if (key.empty()) return false;
  for (char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '$' || c == '@' || c == '/';
    if (!ok) return false;
  }
  return true;
}

class Parser {
 public:
  Parser(std::string_view text, JsoncDoc* doc) : s_(text), doc_(doc) {}

  bool run(std::string* error) {
    skip_space();
    if (!failed_ && at_end()) fail("expected a JSON value, found the end of the file");
    if (!failed_) parse_value("", &doc_->value, 0);
    if (!failed_) {
      skip_space();
      if (!failed_ && !at_end()) fail("expected the end of the file after the top-level value");
    }
    if (failed_)
      *error = std::to_string(err_pos_.line) + ":" + std::to_string(err_pos_.col) + ": " + err_;
    return !failed_;
  }

 private:
  bool at_end() const { return i_ >= s_.size(); }
  Pos pos() const { return Pos{line_, static_cast<int>(i_ - line_start_) + 1}; }

  void fail(std::string what) {
    if (failed_) return;
    failed_ = true;
    err_ = std::move(what);
    err_pos_ = pos();
  }

  void advance() {
    if (s_[i_] == '\n') {
      ++line_;
      line_start_ = i_ + 1;
    }
    ++i_;
  }

  // Whitespace and comments; an unterminated block comment is an error.
  void skip_space() {
    while (!at_end()) {
      char c = s_[i_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        advance();
      } else if (c == '/' && i_ + 1 < s_.size() && s_[i_ + 1] == '/') {
        while (!at_end() && s_[i_] != '\n') advance();
      } else if (c == '/' && i_ + 1 < s_.size() && s_[i_ + 1] == '*') {
        Pos start = pos();
        advance();
        advance();
        while (!at_end() && !(s_[i_] == '*' && i_ + 1 < s_.size() && s_[i_ + 1] == '/')) advance();
        if (at_end()) {
          line_ = start.line;
          fail("unterminated /* comment");
          err_pos_ = start;
          return;
        }
        advance();
        advance();
      } else {
        return;
      }
    }
  }

  std::string describe_here() const {
    if (at_end()) return "the end of the file";
    char c = s_[i_];
    if (static_cast<unsigned char>(c) < 0x20) return "a control character";
    return std::string("'") + c + "'";
  }

  void parse_value(const std::string& path, nlohmann::json* out, int depth) {
    if (depth > kMaxDepth) return fail("nesting deeper than 64 levels");
    doc_->value_pos[path] = pos();
    if (at_end()) return fail("expected a value, found the end of the file");
    char c = s_[i_];
    if (c == '{') return parse_object(path, out, depth);
    if (c == '[') return parse_array(path, out, depth);
    if (c == '"') {
      std::string str;
      if (parse_string(&str)) *out = std::move(str);
      return;
    }
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number(out);
    for (auto [word, value] : {std::pair<std::string_view, nlohmann::json>{"true", true},
                               {"false", false},
                               {"null", nullptr}}) {
      if (s_.substr(i_, word.size()) == word) {
        i_ += word.size();
        *out = value;
        return;
      }
    }
    fail("expected a value (object, array, string, number, true, false or null), found " +
         describe_here());
  }

  void parse_object(const std::string& path, nlohmann::json* out, int depth) {
    *out = nlohmann::json::object();
    advance();  // {
    skip_space();
    if (!at_end() && s_[i_] == '}') {
      advance();
      return;
    }
    while (!failed_) {
      skip_space();
      if (failed_) return;
      if (at_end() || s_[i_] != '"') {
        if (!at_end() && s_[i_] == '}')
          return fail("expected a member name after ',' (trailing commas are not allowed)");
        return fail("expected a member name in double quotes, found " + describe_here());
      }
      Pos key_at = pos();
      std::string key;
      if (!parse_string(&key)) return;
      std::string child = path_member(path, key);
      if (out->contains(key)) {
        err_pos_ = key_at;
        failed_ = true;
        err_ = "duplicate key \"" + key + "\"";
        return;
      }
      doc_->key_pos[child] = key_at;
      skip_space();
      if (failed_) return;
      if (at_end() || s_[i_] != ':') return fail("expected ':' after \"" + key + "\"");
      advance();
      skip_space();
      if (failed_) return;
      nlohmann::json value;
      parse_value(child, &value, depth + 1);
      if (failed_) return;
      (*out)[key] = std::move(value);
      skip_space();
      if (failed_) return;
      if (!at_end() && s_[i_] == ',') {
        advance();
        continue;
      }
      if (!at_end() && s_[i_] == '}') {
        advance();
        return;
      }
      return fail("expected ',' or '}' after the value of \"" + key + "\", found " +
                  describe_here());
    }
  }

  void parse_array(const std::string& path, nlohmann::json* out, int depth) {
    *out = nlohmann::json::array();
    advance();  // [
    skip_space();
    if (!at_end() && s_[i_] == ']') {
      advance();
      return;
    }
    for (size_t n = 0; !failed_; ++n) {
      skip_space();
      if (failed_) return;
      if (!at_end() && s_[i_] == ']')
        return fail("expected a value after ',' (trailing commas are not allowed)");
      nlohmann::json value;
      parse_value(path_index(path, n), &value, depth + 1);
      if (failed_) return;
      out->push_back(std::move(value));
      skip_space();
      if (failed_) return;
      if (!at_end() && s_[i_] == ',') {
        advance();
        continue;
      }
      if (!at_end() && s_[i_] == ']') {
        advance();
        return;
      }
      return fail("expected ',' or ']' in the array, found " + describe_here());
    }
  }

  static void put_utf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      *out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      *out += static_cast<char>(0xC0 | (cp >> 6));
      *out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      *out += static_cast<char>(0xE0 | (cp >> 12));
      *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      *out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      *out += static_cast<char>(0xF0 | (cp >> 18));
      *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      *out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  bool hex4(uint32_t* v) {
    if (i_ + 4 > s_.size()) return false;
    *v = 0;
    for (int k = 0; k < 4; ++k) {
      char h = s_[i_ + k];
      int d = (h >= '0' && h <= '9')   ? h - '0'
              : (h >= 'a' && h <= 'f') ? h - 'a' + 10
              : (h >= 'A' && h <= 'F') ? h - 'A' + 10
                                       : -1;
      if (d < 0) return false;
      *v = *v * 16 + static_cast<uint32_t>(d);
    }
    i_ += 4;
    return true;
  }

  bool parse_string(std::string* out) {
    advance();  // opening quote
    while (true) {
      if (at_end()) {
        fail("unterminated string");
        return false;
      }
      char c = s_[i_];
      if (c == '"') {
        ++i_;
        break;
      }
      if (static_cast<unsigned char>(c) < 0x20) {
        fail(c == '\n' ? "unterminated string (a newline inside a string must be written \\n)"
                       : "control character inside a string");
        return false;
      }
      if (static_cast<unsigned char>(c) >= 0x80) {
        // Names and values end up in nlohmann::json, whose dump() (error messages, `profile
        // show`) throws on invalid UTF-8: a profile with one bad byte in a key aborted mcpcell.
        size_t n = utf8_sequence(s_.substr(i_));
        if (n == 0) {
          fail("invalid UTF-8 in a string");
          return false;
        }
        out->append(s_.substr(i_, n));
        i_ += n;
        continue;
      }
      if (c != '\\') {
        *out += c;
        ++i_;
        continue;
      }
      ++i_;
      if (at_end()) {
        fail("unterminated string");
        return false;
      }
      char e = s_[i_++];
      switch (e) {
        case '"':
          *out += '"';
          break;
        case '\\':
          *out += '\\';
          break;
        case '/':
          *out += '/';
          break;
        case 'b':
          *out += '\b';
          break;
        case 'f':
          *out += '\f';
          break;
        case 'n':
          *out += '\n';
          break;
        case 'r':
          *out += '\r';
          break;
        case 't':
          *out += '\t';
          break;
        case 'u': {
          uint32_t cp;
          if (!hex4(&cp)) {
            fail("\\u must be followed by four hex digits");
            return false;
          }
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t lo;
            if (s_.substr(i_, 2) != "\\u" || (i_ += 2, !hex4(&lo)) || lo < 0xDC00 || lo > 0xDFFF) {
              fail("unpaired UTF-16 surrogate in \\u escape");
              return false;
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            fail("unpaired UTF-16 surrogate in \\u escape");
            return false;
          }
          put_utf8(cp, out);
          break;
        }
        default:
          --i_;
          fail(std::string("unknown escape \\") + e);
          return false;
      }
    }
    return true;
  }

  void parse_number(nlohmann::json* out) {
    size_t start = i_;
    auto digits = [&] {
      size_t n = 0;
      while (!at_end() && s_[i_] >= '0' && s_[i_] <= '9') ++i_, ++n;
      return n;
    };
    bool is_float = false;
    if (s_[i_] == '-') ++i_;
    if (!at_end() && s_[i_] == '0') {
      ++i_;
    } else if (digits() == 0) {
      return fail("invalid number");
    }
    if (!at_end() && s_[i_] == '.') {
      ++i_;
      is_float = true;
      if (digits() == 0) return fail("invalid number: digits expected after '.'");
    }
    if (!at_end() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      is_float = true;
      if (!at_end() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (digits() == 0) return fail("invalid number: digits expected in the exponent");
    }
    std::string text(s_.substr(start, i_ - start));
    errno = 0;
    if (!is_float) {
      if (text[0] == '-') {
        long long v = std::strtoll(text.c_str(), nullptr, 10);
        if (errno == 0) return void(*out = v);
      } else {
        unsigned long long v = std::strtoull(text.c_str(), nullptr, 10);
        if (errno == 0) return void(*out = v);
      }
      errno = 0;
    }
    *out = std::strtod(text.c_str(), nullptr);
  }

  std::string_view s_;
  JsoncDoc* doc_;
  size_t i_ = 0;
  int line_ = 1;
  size_t line_start_ = 0;
  bool failed_ = false;
  std::string err_;
  Pos err_pos_;
};

}  // namespace

std::string path_member(const std::string& parent, const std::string& key) {
  std::string k = plain_key(key) ? key : nlohmann::json(key).dump();
  if (!plain_key(key)) return parent + "[" + k + "]";
  return parent.empty() ? k : parent + "." + k;
}

std::string path_index(const std::string& parent, size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

Pos JsoncDoc::where(const std::string& path) const {
  if (auto k = key_pos.find(path); k != key_pos.end()) return k->second;
  if (auto v = value_pos.find(path); v != value_pos.end()) return v->second;
  return Pos{};
}

bool parse_jsonc(std::string_view text, JsoncDoc* out, std::string* error) {
  *out = JsoncDoc{};
  // A UTF-8 byte-order mark is what some editors write first; it is not content.
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  Parser p(text, out);
  return p.run(error);
}

}  // namespace mcpcell::profiles
