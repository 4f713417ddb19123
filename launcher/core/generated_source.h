// Helpers for the build-time tools that turn shipped data (scan rules, profiles) into C++ sources.
#pragma once

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace mcpcell::generated {

// A C++ string literal of `s`. Every byte but letters, digits and a few marks is a three-digit
// octal escape, so no data can end the literal, run into a following digit, or form a universal
// character name.
inline std::string literal(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == ' ' || c == '-' || c == '_' || c == '.' || c == ',' || c == ':' || c == '/' ||
                 c == '@' || c == '=' || c == '+' || c == '[' || c == ']' || c == '(' || c == ')';
    if (plain) {
      out += static_cast<char>(c);
    } else {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\%03o", c);
      out += esc;
    }
  }
  return out + "\"";
}

// The whole file at `path`; false when it cannot be read.
inline bool read_text(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  *out = text.str();
  return static_cast<bool>(in);
}

// `{"a", "b"}`: an initializer list of literals.
inline std::string literals(const std::vector<std::string>& v) {
  std::string out = "{";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + literal(v[i]);
  return out + "}";
}

// Writes `body` to `path` unless it already holds exactly that, so that regenerating unchanged data
// does not rebuild what depends on it. Returns false (and says why on stderr) when it cannot write.
inline bool write_if_changed(const std::string& tool, const std::string& path,
                             const std::string& body) {
  std::string prev;
  if (read_text(path, &prev) && prev == body) return true;
  // Through a temporary file and a rename: an interrupted build leaves no half-written source that
  // looks up to date.
  std::string tmp = path + ".tmp";
  std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
  out << body;
  out.close();
  if (!out || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::fprintf(stderr, "%s: cannot write %s\n", tool.c_str(), path.c_str());
    std::remove(tmp.c_str());
    return false;
  }
  return true;
}

}  // namespace mcpcell::generated
