#include "scan/spans.h"

#include <algorithm>

namespace mcpcell::scan {

void drop_shadowed(const std::vector<Rule>& rules, std::vector<Span>* spans) {
  std::sort(spans->begin(), spans->end(), [](const Span& a, const Span& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end > b.end;
  });
  std::vector<Span> kept;
  for (const Span& s : *spans) {
    if (!rules[s.rule].fallback) {
      kept.push_back(s);
      continue;
    }
    bool shadowed = false;
    for (const Span& o : *spans)
      shadowed |= !rules[o.rule].fallback && o.begin < s.end && s.begin < o.end;
    if (!shadowed) kept.push_back(s);
  }
  *spans = std::move(kept);
}

}  // namespace mcpcell::scan
