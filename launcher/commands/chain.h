#pragma once

#include <memory>

#include "core/chain_config.h"
#include "core/filter.h"
#include "core/status.h"

namespace mcpcell {

// Builds the session's filter chain from policy. On error returns null and sets `status`.
std::unique_ptr<FilterChain> build_chain(const ChainConfig& config, Status* status);

}  // namespace mcpcell
