// The rule files under launcher/scan/rules/, compiled in by CMake (embed_rules.cmake) so the binary
// needs no installed data.
#pragma once

#include <cstddef>

namespace mcpcell::scan {

struct EmbeddedFile {
  const char* name;
  const char* text;
};
extern const EmbeddedFile kEmbeddedRuleFiles[];
extern const size_t kEmbeddedRuleFileCount;

}  // namespace mcpcell::scan
