// A YAML reader for the subset MCP configs are written in (Continue's config.yaml and block files),
// building the same span-carrying tree as the JSONC reader (tree.h) so one rewriter serves both.
//
// Block structure is found line by line from indentation; flow collections ([..] and {..}) and
// quoted scalars are read character by character and may span lines. Everything a config file may
// hold around the MCP entries (block scalars for rules and prompts, flow maps, comments) is read
// well enough to be skipped; what is not supported (anchors, aliases, tags, several documents) is
// an error, so mcpcell never edits a file it misunderstood.
#include <cstdint>

#include "editors/tree.h"

namespace mcpcell::editors {
namespace {

constexpr int kMaxDepth = 100;

bool is_space(char c) {
  return c == ' ' || c == '\t';
}

class YamlParser {
 public:
  explicit YamlParser(std::string_view t) : t_(t) {
    size_t b = 0;
    while (b <= t_.size()) {
      size_t e = t_.find('\n', b);
      if (e == std::string_view::npos) e = t_.size();
      size_t ce = e;
      if (ce > b && t_[ce - 1] == '\r') --ce;
      lines_.push_back({b, ce});
      if (e == t_.size()) break;
      b = e + 1;
    }
  }

  bool parse(Node* out, std::string* error) {
    size_t li = next_content(0);
    if (li < lines_.size() && rest_is(li, 0, "---")) li = next_content(li + 1);
    if (li >= lines_.size()) {
      out->kind = Node::kNull;
      return true;
    }
    if (indent(li) != 0) fail_at(lines_[li].begin, "the document must start at column 1");
    if (ok_) li = node(li, 0, -1, out, 0);
    if (ok_) {
      size_t rest = next_content(li);
      if (rest < lines_.size()) {
        fail_at(lines_[rest].begin + indent(rest),
                rest_is(rest, 0, "---") || rest_is(rest, 0, "...")
                    ? "several YAML documents in one file are not supported"
                    : "unexpected text (wrong indentation?)");
      }
    }
    if (!ok_) *error = position_of(t_, err_pos_) + ": " + err_;
    return ok_;
  }

 private:
  struct Line {
    size_t begin, end;
  };

  bool fail_at(size_t pos, const std::string& what) {
    if (ok_) {
      ok_ = false;
      err_ = what;
      err_pos_ = pos;
    }
    return false;
  }

  char at(size_t pos) const { return pos < t_.size() ? t_[pos] : '\0'; }
  size_t indent(size_t li) const {
    size_t i = lines_[li].begin;
    while (i < lines_[li].end && t_[i] == ' ') ++i;
    return i - lines_[li].begin;
  }
  // True when the line holds nothing but spaces and maybe a comment.
  bool blank(size_t li) const { return rest_blank(lines_[li].begin, li); }
  bool rest_blank(size_t pos, size_t li) const {
    while (pos < lines_[li].end && is_space(t_[pos])) ++pos;
    return pos >= lines_[li].end || t_[pos] == '#';
  }
  bool rest_is(size_t li, size_t col, std::string_view word) const {
    size_t p = lines_[li].begin + col;
    if (t_.substr(p, word.size()) != word) return false;
    return rest_blank(p + word.size(), li);
  }
  size_t next_content(size_t li) const {
    while (li < lines_.size() && blank(li)) ++li;
    return li;
  }
  size_t line_of(size_t pos) const {  // the line holding byte `pos`
    size_t lo = 0, hi = lines_.size();
    while (hi - lo > 1) {
      size_t mid = (lo + hi) / 2;
      if (lines_[mid].begin <= pos)
        lo = mid;
      else
        hi = mid;
    }
    return lo;
  }
  bool dash_at(size_t pos, size_t li) const {
    return at(pos) == '-' && (pos + 1 >= lines_[li].end || is_space(at(pos + 1)));
  }

  // A mapping key starting at `pos`: its decoded text, span, and the position after the colon.
  bool key_at(size_t pos, size_t li, std::string* key, Span* ks, size_t* after) {
    size_t end = lines_[li].end;
    char c = at(pos);
    if (c == '"' || c == '\'') {
      size_t save_pos = pos;
      std::string k;
      size_t p = pos;
      bool ok_before = ok_;
      if (!quoted(&p, &k) || line_of(p) != li) {
        if (ok_before && !ok_) ok_ = true;  // not a key after all; let the value path report
        return false;
      }
      size_t q = p;
      while (q < end && is_space(t_[q])) ++q;
      if (at(q) != ':' || (q + 1 < end && !is_space(at(q + 1)))) return false;
      *key = std::move(k);
      *ks = {save_pos, p};
      *after = q + 1;
      return true;
    }
    if (c == '-' || c == '[' || c == '{' || c == '#' || c == '|' || c == '>' || c == '&' ||
        c == '*' || c == '!' || c == '%' || c == '@' || c == '`')
      return false;
    for (size_t p = pos; p < end; ++p) {
      if (t_[p] == '#' && p > pos && is_space(t_[p - 1])) return false;
      if (t_[p] == ':' && (p + 1 >= end || is_space(t_[p + 1]))) {
        size_t e = p;
        while (e > pos && is_space(t_[e - 1])) --e;
        if (e == pos) return false;
        *key = std::string(t_.substr(pos, e - pos));
        *ks = {pos, e};
        *after = p + 1;
        return true;
      }
    }
    return false;
  }

  // A node whose first character is the first content of line `li`, at column `col`.
  size_t node(size_t li, size_t col, int parent, Node* out, int depth) {
    if (depth > kMaxDepth) {
      fail_at(lines_[li].begin, "nesting too deep");
      return lines_.size();
    }
    size_t pos = lines_[li].begin + col;
    if (dash_at(pos, li)) return block_seq(li, col, out, depth);
    std::string k;
    Span ks;
    size_t after;
    if (key_at(pos, li, &k, &ks, &after)) return block_map(li, col, out, depth);
    return inline_value(li, pos, parent, out, depth);
  }

  size_t block_map(size_t li, size_t col, Node* out, int depth) {
    out->kind = Node::kObject;
    out->block = true;
    out->span.begin = lines_[li].begin + col;
    for (;;) {
      size_t pos = lines_[li].begin + col;
      std::string key;
      Span ks;
      size_t after;
      if (!key_at(pos, li, &key, &ks, &after)) {
        fail_at(pos, "expected 'key: value'");
        return lines_.size();
      }
      Node value;
      size_t next;
      if (rest_blank(after, li)) {
        size_t nl = next_content(li + 1);
        if (nl < lines_.size() && indent(nl) > col) {
          next = node(nl, indent(nl), static_cast<int>(col), &value, depth + 1);
        } else if (nl < lines_.size() && indent(nl) == col && dash_at(lines_[nl].begin + col, nl)) {
          next = block_seq(nl, col, &value, depth + 1);
        } else {
          value.kind = Node::kNull;
          value.span = {after, after};
          next = li + 1;
        }
      } else {
        size_t p = after;
        while (is_space(at(p))) ++p;
        next = inline_value(li, p, static_cast<int>(col), &value, depth + 1);
      }
      if (!ok_) return lines_.size();
      out->span.end = value.span.end;
      out->keys.push_back(std::move(key));
      out->key_spans.push_back(ks);
      out->items.push_back(std::move(value));
      size_t nl = next_content(next);
      if (nl >= lines_.size() || indent(nl) != col || dash_at(lines_[nl].begin + col, nl))
        return nl < lines_.size() && indent(nl) > col
                   ? (fail_at(lines_[nl].begin + indent(nl), "unexpected indentation"), nl)
                   : next;
      li = nl;
    }
  }

  size_t block_seq(size_t li, size_t col, Node* out, int depth) {
    out->kind = Node::kArray;
    out->block = true;
    out->span.begin = lines_[li].begin + col;
    for (;;) {
      size_t pos = lines_[li].begin + col;
      Node item;
      size_t next;
      if (rest_blank(pos + 1, li)) {
        size_t nl = next_content(li + 1);
        if (nl < lines_.size() && indent(nl) > col) {
          next = node(nl, indent(nl), static_cast<int>(col), &item, depth + 1);
        } else {
          item.kind = Node::kNull;
          item.span = {pos + 1, pos + 1};
          next = li + 1;
        }
      } else {
        size_t p = pos + 1;
        while (is_space(at(p))) ++p;
        next = node(li, p - lines_[li].begin, static_cast<int>(col), &item, depth + 1);
      }
      if (!ok_) return lines_.size();
      out->span.end = item.span.end;
      out->items.push_back(std::move(item));
      size_t nl = next_content(next);
      if (nl >= lines_.size() || indent(nl) != col || !dash_at(lines_[nl].begin + col, nl)) {
        if (nl < lines_.size() && indent(nl) > col)
          fail_at(lines_[nl].begin + indent(nl), "unexpected indentation");
        return next;
      }
      li = nl;
    }
  }

  // A value that starts mid-line at `pos` (after "key: " or "- "): flow collection, quoted or
  // plain scalar, or block scalar. Returns the line after the value.
  size_t inline_value(size_t li, size_t pos, int parent, Node* out, int depth) {
    char c = at(pos);
    if (c == '&' || c == '*' || c == '!') {
      fail_at(pos, "YAML anchors, aliases and tags are not supported");
      return lines_.size();
    }
    if (c == '|' || c == '>') return block_scalar(li, pos, parent, out);
    if (c == '[' || c == '{' || c == '"' || c == '\'') {
      size_t p = pos;
      if (c == '[' || c == '{') {
        flow(&p, out, depth);
      } else {
        out->kind = Node::kString;
        out->quoted = true;
        out->span.begin = p;
        quoted(&p, &out->str);
        out->span.end = p;
      }
      if (!ok_) return lines_.size();
      size_t end_line = line_of(p > 0 ? p - 1 : 0);
      if (!rest_blank(p, end_line)) {
        fail_at(p, "unexpected text after the value");
        return lines_.size();
      }
      return end_line + 1;
    }
    // Plain scalar, possibly continued on more-indented lines.
    out->kind = Node::kString;
    out->span.begin = pos;
    size_t e = plain_end(pos, lines_[li].end);
    out->str = std::string(t_.substr(pos, e - pos));
    out->span.end = e;
    size_t next = li + 1;
    while (next < lines_.size() && !blank(next) && static_cast<int>(indent(next)) > parent) {
      size_t b = lines_[next].begin + indent(next);
      std::string k;
      Span ks;
      size_t after;
      if (dash_at(b, next) || key_at(b, next, &k, &ks, &after)) break;
      size_t ce = plain_end(b, lines_[next].end);
      out->str += ' ';
      out->str += t_.substr(b, ce - b);
      out->span.end = ce;
      ++next;
    }
    return next;
  }

  // End of a plain scalar in block context: the line's end or a " #" comment, trailing space cut.
  size_t plain_end(size_t pos, size_t end) const {
    size_t e = pos;
    while (e < end && !(t_[e] == '#' && e > pos && is_space(t_[e - 1]))) ++e;
    while (e > pos && is_space(t_[e - 1])) --e;
    return e;
  }

  size_t block_scalar(size_t li, size_t pos, int parent, Node* out) {
    out->kind = Node::kString;
    out->span.begin = pos;
    out->span.end = plain_end(pos, lines_[li].end);
    size_t next = li + 1;
    size_t content_indent = 0;
    while (next < lines_.size()) {
      bool empty = lines_[next].begin + indent(next) >= lines_[next].end;
      if (!empty && static_cast<int>(indent(next)) <= parent) break;
      if (!empty && content_indent == 0) content_indent = indent(next);
      if (!empty) {
        size_t b = lines_[next].begin + std::min(indent(next), content_indent);
        out->str += t_.substr(b, lines_[next].end - b);
        out->span.end = lines_[next].end;
      }
      out->str += '\n';
      ++next;
    }
    return next;
  }

  void skip_flow_space(size_t* p) {
    while (*p < t_.size()) {
      char c = t_[*p];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++*p;
      } else if (c == '#' && (*p == 0 || std::string_view(" \t\n").find(t_[*p - 1]) !=
                                             std::string_view::npos)) {
        while (*p < t_.size() && t_[*p] != '\n') ++*p;
      } else {
        return;
      }
    }
  }

  bool flow(size_t* p, Node* out, int depth) {
    if (depth > kMaxDepth) return fail_at(*p, "nesting too deep");
    out->span.begin = *p;
    char c = at(*p);
    if (c == '[' || c == '{') {
      bool map = c == '{';
      char close = map ? '}' : ']';
      out->kind = map ? Node::kObject : Node::kArray;
      ++*p;
      for (;;) {
        skip_flow_space(p);
        if (*p >= t_.size()) return fail_at(out->span.begin, "unterminated flow collection");
        if (t_[*p] == close) {
          ++*p;
          break;
        }
        if (map) {
          Node key;
          if (!flow_scalar(p, &key, true)) return false;
          skip_flow_space(p);
          Node value;
          if (at(*p) == ':') {
            ++*p;
            skip_flow_space(p);
            if (at(*p) == ',' || at(*p) == '}') {
              value.span = {*p, *p};
            } else if (!flow(p, &value, depth + 1)) {
              return false;
            }
          } else {
            value.span = {*p, *p};
          }
          out->keys.push_back(key.str);
          out->key_spans.push_back(key.span);
          out->items.push_back(std::move(value));
        } else {
          Node item;
          if (!flow(p, &item, depth + 1)) return false;
          out->items.push_back(std::move(item));
        }
        skip_flow_space(p);
        if (at(*p) == ',') {
          ++*p;
        } else if (at(*p) != close) {
          return fail_at(*p, std::string("expected ',' or '") + close + "'");
        }
      }
      out->span.end = *p;
      return true;
    }
    return flow_scalar(p, out, false);
  }

  bool flow_scalar(size_t* p, Node* out, bool is_key) {
    out->kind = Node::kString;
    out->span.begin = *p;
    char c = at(*p);
    if (c == '"' || c == '\'') {
      out->quoted = true;
      if (!quoted(p, &out->str)) return false;
      out->span.end = *p;
      return true;
    }
    if (c == '&' || c == '*' || c == '!')
      return fail_at(*p, "YAML anchors, aliases and tags are not supported");
    size_t e = *p;
    while (e < t_.size()) {
      char d = t_[e];
      if (d == '$' && t_.substr(e, 3) == "${{") {  // Continue's ${{ secrets.X }} stays one scalar
        size_t close = t_.find("}}", e + 3);
        if (close == std::string_view::npos) break;
        e = close + 2;
        continue;
      }
      if (d == ',' || d == ']' || d == '}' || d == '\n' || d == '\r') break;
      if (d == '#' && e > *p && is_space(t_[e - 1])) break;
      if (d == ':' && (e + 1 >= t_.size() ||
                       std::string_view(" \t\n,]}").find(t_[e + 1]) != std::string_view::npos))
        break;
      if (d == ':' && is_key && e + 1 < t_.size() && is_space(t_[e + 1])) break;
      ++e;
    }
    size_t b = *p;
    while (e > b && is_space(t_[e - 1])) --e;
    if (e == b) return fail_at(b, "expected a value");
    out->str = std::string(t_.substr(b, e - b));
    out->span.end = e;
    *p = e;
    return true;
  }

  // A quoted scalar at *p (either quote style); line breaks fold to spaces as YAML says.
  bool quoted(size_t* p, std::string* out) {
    char q = t_[*p];
    size_t start = *p;
    ++*p;
    while (*p < t_.size()) {
      char c = t_[(*p)++];
      if (c == q) {
        if (q == '\'' && at(*p) == '\'') {
          out->push_back('\'');
          ++*p;
          continue;
        }
        return true;
      }
      if (c == '\n' || c == '\r') {
        if (c == '\r' && at(*p) == '\n') ++*p;
        while (!out->empty() && is_space(out->back())) out->pop_back();
        size_t breaks = 0;
        for (;;) {
          while (is_space(at(*p))) ++*p;
          if (at(*p) == '\n') {
            ++breaks;
            ++*p;
          } else if (at(*p) == '\r' && at(*p + 1) == '\n') {
            ++breaks;
            *p += 2;
          } else {
            break;
          }
        }
        out->append(breaks ? breaks : 1, breaks ? '\n' : ' ');
        continue;
      }
      if (c == '\\' && q == '"') {
        if (!escape(p, out)) return false;
        continue;
      }
      out->push_back(c);
    }
    return fail_at(start, "unterminated quoted string");
  }

  bool escape(size_t* p, std::string* out) {
    char e = at((*p)++);
    auto hex = [&](int n) -> bool {
      uint32_t v = 0;
      for (int i = 0; i < n; ++i) {
        char c = at((*p)++);
        v <<= 4;
        if (c >= '0' && c <= '9')
          v |= static_cast<uint32_t>(c - '0');
        else if (c >= 'a' && c <= 'f')
          v |= static_cast<uint32_t>(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
          v |= static_cast<uint32_t>(c - 'A' + 10);
        else
          return fail_at(*p - 1, "bad escape in a double-quoted string");
      }
      append_utf8(v, out);
      return true;
    };
    switch (e) {
      case '0':
        out->push_back('\0');
        return true;
      case 'a':
        out->push_back('\a');
        return true;
      case 'b':
        out->push_back('\b');
        return true;
      case 't':
      case '\t':
        out->push_back('\t');
        return true;
      case 'n':
        out->push_back('\n');
        return true;
      case 'v':
        out->push_back('\v');
        return true;
      case 'f':
        out->push_back('\f');
        return true;
      case 'r':
        out->push_back('\r');
        return true;
      case 'e':
        out->push_back('\x1b');
        return true;
      case ' ':
      case '"':
      case '/':
      case '\\':
        out->push_back(e);
        return true;
      case 'N':
        append_utf8(0x85, out);
        return true;
      case '_':
        append_utf8(0xA0, out);
        return true;
      case 'L':
        append_utf8(0x2028, out);
        return true;
      case 'P':
        append_utf8(0x2029, out);
        return true;
      case 'x':
        return hex(2);
      case 'u':
        return hex(4);
      case 'U':
        return hex(8);
      case '\n':  // escaped line break: joins lines without a space
        while (is_space(at(*p))) ++*p;
        return true;
      default:
        return fail_at(*p - 1, "bad escape in a double-quoted string");
    }
  }

  std::string_view t_;
  std::vector<Line> lines_;
  bool ok_ = true;
  std::string err_;
  size_t err_pos_ = 0;
};

}  // namespace

bool parse_yaml(std::string_view text, Node* out, std::string* error) {
  *out = Node{};
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\t' && (i == 0 || text[i - 1] == '\n')) {
      *error = position_of(text, i) + ": tab used for indentation (YAML allows only spaces)";
      return false;
    }
  }
  return YamlParser(text).parse(out, error);
}

}  // namespace mcpcell::editors
