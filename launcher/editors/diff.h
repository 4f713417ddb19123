// Unified diff of two texts (for `wrap --dry-run` / `unwrap --dry-run`), in the format of
// `diff -u`, so it can be read, or applied with patch(1).
#pragma once

#include <string>
#include <string_view>

namespace mcpcell::editors {

// Empty when the texts are equal. `context` lines around each change.
std::string unified_diff(std::string_view before, std::string_view after,
                         const std::string& before_label, const std::string& after_label,
                         int context = 3);

}  // namespace mcpcell::editors
