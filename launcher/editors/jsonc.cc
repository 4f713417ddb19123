// JSONC reader with byte spans (see tree.h). Strict JSON plus what VS Code and Zed accept: line and
// block comments and trailing commas. Nesting is bounded so a hostile file cannot exhaust the
// stack.
#include <cstdint>

#include "editors/tree.h"

namespace mcpcell::editors {

void append_utf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string position_of(std::string_view text, size_t offset) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

namespace {

constexpr int kMaxDepth = 200;

class JsoncParser {
 public:
  explicit JsoncParser(std::string_view t) : t_(t) {}

  bool parse(Node* out, std::string* error) {
    skip();
    if (ok_ && !value(out, 0)) return report(error);
    skip();
    if (ok_ && pos_ != t_.size()) fail("unexpected text after the document");
    return report(error);
  }

 private:
  bool report(std::string* error) {
    if (ok_) return true;
    *error = position_of(t_, err_pos_) + ": " + err_;
    return false;
  }
  bool fail(const std::string& what) {
    if (ok_) {
      ok_ = false;
      err_ = what;
      err_pos_ = pos_;
    }
    return false;
  }

  void skip() {
    while (pos_ < t_.size()) {
      char c = t_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++pos_;
      } else if (c == '/' && pos_ + 1 < t_.size() && t_[pos_ + 1] == '/') {
        while (pos_ < t_.size() && t_[pos_] != '\n') ++pos_;
      } else if (c == '/' && pos_ + 1 < t_.size() && t_[pos_ + 1] == '*') {
        size_t end = t_.find("*/", pos_ + 2);
        if (end == std::string_view::npos) {
          fail("unterminated /* comment");
          pos_ = t_.size();
          return;
        }
        pos_ = end + 2;
      } else if (static_cast<unsigned char>(c) == 0xEF && t_.substr(pos_, 3) == "\xEF\xBB\xBF" &&
                 pos_ == 0) {
        pos_ += 3;  // byte order mark
      } else {
        return;
      }
    }
  }

  bool value(Node* n, int depth) {
    if (depth > kMaxDepth) return fail("nesting too deep");
    if (pos_ >= t_.size()) return fail("unexpected end of file");
    n->span.begin = pos_;
    char c = t_[pos_];
    bool ok;
    if (c == '{') {
      ok = object(n, depth);
    } else if (c == '[') {
      ok = array(n, depth);
    } else if (c == '"') {
      n->kind = Node::kString;
      n->quoted = true;
      ok = string(&n->str);
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      n->kind = Node::kNumber;
      while (pos_ < t_.size() &&
             std::string_view("+-0123456789.eE").find(t_[pos_]) != std::string_view::npos)
        ++pos_;
      n->str = std::string(t_.substr(n->span.begin, pos_ - n->span.begin));
      ok = true;
    } else {
      ok = literal(n);
    }
    n->span.end = pos_;
    return ok;
  }

  bool literal(Node* n) {
    for (auto [word, kind] : {std::pair<std::string_view, Node::Kind>{"true", Node::kBool},
                              {"false", Node::kBool},
                              {"null", Node::kNull}}) {
      if (t_.substr(pos_, word.size()) == word) {
        n->kind = kind;
        n->str = std::string(word);
        pos_ += word.size();
        return true;
      }
    }
    return fail("expected a value");
  }

  bool object(Node* n, int depth) {
    n->kind = Node::kObject;
    ++pos_;
    for (;;) {
      skip();
      if (!ok_) return false;
      if (pos_ >= t_.size()) return fail("unterminated object");
      if (t_[pos_] == '}') {
        ++pos_;
        return true;
      }
      if (t_[pos_] != '"') return fail("expected a member name in double quotes");
      Span ks{pos_, 0};
      std::string key;
      if (!string(&key)) return false;
      ks.end = pos_;
      skip();
      if (pos_ >= t_.size() || t_[pos_] != ':') return fail("expected ':' after the member name");
      ++pos_;
      skip();
      Node child;
      if (!value(&child, depth + 1)) return false;
      n->keys.push_back(std::move(key));
      n->key_spans.push_back(ks);
      n->items.push_back(std::move(child));
      skip();
      if (pos_ < t_.size() && t_[pos_] == ',') {
        ++pos_;
      } else if (pos_ < t_.size() && t_[pos_] != '}') {
        return fail("expected ',' or '}'");
      }
    }
  }

  bool array(Node* n, int depth) {
    n->kind = Node::kArray;
    ++pos_;
    for (;;) {
      skip();
      if (!ok_) return false;
      if (pos_ >= t_.size()) return fail("unterminated array");
      if (t_[pos_] == ']') {
        ++pos_;
        return true;
      }
      Node child;
      if (!value(&child, depth + 1)) return false;
      n->items.push_back(std::move(child));
      skip();
      if (pos_ < t_.size() && t_[pos_] == ',') {
        ++pos_;
      } else if (pos_ < t_.size() && t_[pos_] != ']') {
        return fail("expected ',' or ']'");
      }
    }
  }

  bool hex4(uint32_t* cp) {
    if (pos_ + 4 > t_.size()) return fail("short \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = t_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f')
        v |= static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        v |= static_cast<uint32_t>(c - 'A' + 10);
      else
        return fail("bad \\u escape");
    }
    *cp = v;
    return true;
  }

  bool string(std::string* out) {
    ++pos_;  // opening quote
    while (pos_ < t_.size()) {
      char c = t_[pos_++];
      if (c == '"') return true;
      if (c == '\n') return fail("newline inside a string");
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (pos_ >= t_.size()) break;
      char e = t_[pos_++];
      switch (e) {
        case '"':
          out->push_back('"');
          break;
        case '\\':
          out->push_back('\\');
          break;
        case '/':
          out->push_back('/');
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u': {
          uint32_t cp;
          if (!hex4(&cp)) return false;
          if (cp >= 0xD800 && cp < 0xDC00 && t_.substr(pos_, 2) == "\\u") {
            size_t save = pos_;
            pos_ += 2;
            uint32_t lo;
            if (!hex4(&lo)) return false;
            if (lo >= 0xDC00 && lo < 0xE000) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else {
              pos_ = save;
            }
          }
          append_utf8(cp, out);
          break;
        }
        default:
          --pos_;
          return fail("bad escape in a string");
      }
    }
    return fail("unterminated string");
  }

  std::string_view t_;
  size_t pos_ = 0;
  bool ok_ = true;
  std::string err_;
  size_t err_pos_ = 0;
};

}  // namespace

bool parse_jsonc(std::string_view text, Node* out, std::string* error) {
  *out = Node{};
  return JsoncParser(text).parse(out, error);
}

}  // namespace mcpcell::editors
