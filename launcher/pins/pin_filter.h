// The pin filter: trust on first use (or strict approval) for everything a server advertises.
//
// It sits nearest the server in the chain. On the way to the client it checks every item of every
// list page (tools, prompts, resources, resource templates) and the initialize result against the
// pins, removes what changed (or what the scanner flagged, via Message::flagged_items), and keeps
// it withheld for the rest of the session; on the way to the server it answers calls to withheld
// items with an mcpcell error that says how to review them. When the server announces that a list
// changed, the filter holds the notification, fetches the whole list itself with private request
// ids, and releases the notification only once the new items are judged, so the client never
// acts on an unchecked list.
#pragma once

#include <memory>

#include "core/chain_config.h"
#include "core/filter.h"
#include "core/status.h"

namespace mcpcell {

// Policy: policy["pins"]["mode"] = "tofu" (default) | "strict" | "off";
//         policy["pins"]["package"] = "warn" (default) | "block".
// Returns null and sets `status` when the policy is invalid or the pin store cannot be read.
std::unique_ptr<Filter> make_pin_filter(const ChainConfig& config, Status* status);

}  // namespace mcpcell
