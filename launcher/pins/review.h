// The review side of pins, apart from any I/O: approving pending items and rendering what
// `mcpcell pins list|show|diff` print.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "pins/pin_store.h"

namespace mcpcell::pins {

// Moves pending items into the pins. `selectors` empty approves everything pending; otherwise each
// is "kind:item" or a bare item (any kind). Returns the approved pins by key; selectors that
// match nothing pending go to `unknown`. An approved scanner finding is remembered as an accepted
// flag of that exact value; an approved package replaces the previous package pin.
std::map<std::string, Pin> approve_pending(ServerPins& s, const std::vector<std::string>& selectors,
                                           const std::string& now,
                                           std::vector<std::string>* unknown);

// `pins` overlaid with the lock file's pins (which take precedence).
std::map<std::string, Pin> effective_pins(const ServerPins& s,
                                          const std::map<std::string, Pin>& lock_pins);

std::string render_summary(const ServerPins& s, bool in_lock);
std::string render_show(const ServerPins& s, const std::map<std::string, Pin>& lock_pins,
                        bool in_lock);
std::string render_diff(const ServerPins& s, const std::map<std::string, Pin>& lock_pins);

}  // namespace mcpcell::pins
