// What every harness uses to report a broken invariant: a message with the offending bytes, then
// abort(), which libFuzzer records as a crash and saves the input for.
#pragma once

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace mcpcell::fuzz {

// Bytes as C escapes past printable ASCII, cut at 2000, so a report is readable and complete.
inline void show(std::string_view s) {
  std::fputs("  [", stderr);
  for (size_t i = 0; i < s.size() && i < 2000; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\')
      std::fputc(c, stderr);
    else
      std::fprintf(stderr, "\\x%02x", c);
  }
  std::fputs(s.size() > 2000 ? "...]\n" : "]\n", stderr);
}

[[noreturn]] inline void fail(const char* what, std::string_view a = {}, std::string_view b = {}) {
  std::fprintf(stderr, "\nINVARIANT VIOLATED: %s\n", what);
  if (!a.empty()) show(a);
  if (!b.empty()) show(b);
  std::abort();
}

}  // namespace mcpcell::fuzz

#define FUZZ_CHECK(cond, ...)                                             \
  do {                                                                    \
    if (!(cond)) ::mcpcell::fuzz::fail(#cond __VA_OPT__(, ) __VA_ARGS__); \
  } while (0)
