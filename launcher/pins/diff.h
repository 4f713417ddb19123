// What changed between a pinned item and what the server advertises now, in terms a reviewer can
// act on: which fields (description, inputSchema.properties.path.type, annotations.readOnlyHint),
// and for text, where the words differ.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mcpcell::pins {

struct Change {
  std::string path;  // dotted, e.g. "inputSchema.properties.mode.enum"; "" for the whole value
  std::string what;  // "added", "removed" or "changed"
  nlohmann::json from, to;
};

// Field-level differences, at most `max` of them. Objects are compared member by member; arrays
// of scalars (enum, required) and arrays of different length are reported as one change.
std::vector<Change> diff_json(const nlohmann::json& from, const nlohmann::json& to,
                              size_t max = 64);

// The annotation hints clients act on (some auto-approve read-only tools).
bool is_safety_hint(const std::string& path);

// For audit records: {"changed":[paths...], "flips":{"readOnlyHint":{"from":false,"to":true}}}.
nlohmann::json summarize(const std::vector<Change>& changes);

// Short list of top-level fields that changed, e.g. "description, annotations.readOnlyHint".
std::string describe(const std::vector<Change>& changes, size_t max_items = 4);

// A one-line view of how `to` differs from `from`: common context, [-removed-]{+added+}.
std::string inline_diff(const std::string& from, const std::string& to, size_t context = 40);

// Multi-line readable diff of two values (for `mcpcell pins diff`).
std::string render_changes(const std::vector<Change>& changes);

}  // namespace mcpcell::pins
