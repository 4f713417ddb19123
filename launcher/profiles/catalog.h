// Where profiles come from: the shipped ones, embedded in the binary at build time (so
// build/mcpcell and an installed mcpcell see the same set without looking for files), and the
// user's, as files under $XDG_CONFIG_HOME/mcpcell/profiles/NAME.json. A user profile shadows a
// shipped one of the same name. Runtime bases ("runtime:node") are shipped only: their file is
// runtime/node.json.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace mcpcell::profiles {

struct ProfileText {
  std::string name;    // "filesystem", "runtime:node", or a user file's stem
  std::string source;  // "builtin:filesystem" or the file's path
  std::string text;
  bool builtin = false;
};

// Every shipped profile and runtime base (not the JSON Schema).
std::vector<ProfileText> builtin_profiles();
std::optional<ProfileText> builtin_profile(const std::string& name);

// profiles/schema.json, the JSON Schema editors validate profiles with (embedded too).
std::string builtin_schema();

// A profile name usable as a file stem: [a-z0-9][a-z0-9._-]{0,63}.
bool valid_profile_name(const std::string& name);

// The user's profiles (sorted by name). Unreadable files are reported in `errors`.
std::vector<ProfileText> user_profiles(const std::filesystem::path& config_dir,
                                       std::vector<std::string>* errors);

// By name: the user's file first (unless `builtin_only`), then the shipped one.
std::optional<ProfileText> find_profile(const std::string& name,
                                        const std::filesystem::path& config_dir, bool builtin_only);

// Reads a profile given as a file path; the name is the file's stem.
bool read_profile_file(const std::filesystem::path& file, ProfileText* out, std::string* error);

}  // namespace mcpcell::profiles
