// What the engine finds, and the one rule for overlapping findings. Apart from the engine so that
// both sides of the scan module (mcpcell and the module itself) have it without linking the other.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "scan/rules.h"

namespace mcpcell::scan {

struct Span {
  uint32_t rule;  // index into Engine::rules()
  size_t begin, end;
};

// Sorts spans by position and drops those of fallback rules that overlap a specific rule's span.
void drop_shadowed(const std::vector<Rule>& rules, std::vector<Span>* spans);

}  // namespace mcpcell::scan
