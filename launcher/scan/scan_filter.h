// The scan filter: finds secrets, personal data, instructions aimed at the model and hidden
// characters in every message, both ways, and blocks, redacts, strips or warns per policy
// (policy.h). On list results it does not remove poisoned items itself: it flags them in
// Message::flagged_items and the pin filter withholds them. Docs: docs/scanning.md.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/chain_config.h"
#include "core/filter.h"
#include "core/status.h"

namespace mcpcell {

// Builds the filter from config.policy["scan"]. Null and an error status on a bad policy.
std::unique_ptr<Filter> make_scan_filter(const ChainConfig& config, Status* status);

// Replaces every secret found by the default rules with [REDACTED:rule-id]. For text that is not
// a JSON-RPC message (the server's stderr). Thread-safe. When no engine can be built (the scan
// module is missing) nothing can be told apart, and the whole text is [REDACTED:unscanned].
std::string redact_text(std::string_view text);

}  // namespace mcpcell
