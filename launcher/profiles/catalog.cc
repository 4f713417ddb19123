#include "profiles/catalog.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

namespace mcpcell::profiles {

// Generated at build time from profiles/**/*.json (embed_profiles.cmake).
struct EmbeddedFile {
  const char* path;  // relative, without ".json": "filesystem", "runtime/node"
  const unsigned char* data;
  size_t size;
};
extern const EmbeddedFile kEmbeddedProfiles[];
extern const size_t kEmbeddedProfileCount;

namespace {

namespace fs = std::filesystem;

std::string name_of_embedded(std::string path) {
  if (path.starts_with("runtime/")) return "runtime:" + path.substr(8);
  return path;
}

}  // namespace

std::vector<ProfileText> builtin_profiles() {
  std::vector<ProfileText> out;
  for (size_t i = 0; i < kEmbeddedProfileCount; ++i) {
    const EmbeddedFile& f = kEmbeddedProfiles[i];
    if (std::strcmp(f.path, "schema") == 0) continue;
    ProfileText t;
    t.name = name_of_embedded(f.path);
    t.source = "builtin:" + std::string(f.path) + ".json";
    t.text.assign(reinterpret_cast<const char*>(f.data), f.size);
    t.builtin = true;
    out.push_back(std::move(t));
  }
  std::sort(out.begin(), out.end(),
            [](const ProfileText& a, const ProfileText& b) { return a.name < b.name; });
  return out;
}

std::optional<ProfileText> builtin_profile(const std::string& name) {
  for (ProfileText& t : builtin_profiles())
    if (t.name == name) return std::move(t);
  return std::nullopt;
}

std::string builtin_schema() {
  for (size_t i = 0; i < kEmbeddedProfileCount; ++i)
    if (std::strcmp(kEmbeddedProfiles[i].path, "schema") == 0)
      return std::string(reinterpret_cast<const char*>(kEmbeddedProfiles[i].data),
                         kEmbeddedProfiles[i].size);
  return "";
}

bool valid_profile_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= '0' && name[0] <= '9'))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  });
}

bool read_profile_file(const fs::path& file, ProfileText* out, std::string* error) {
  std::error_code ec;
  if (fs::is_directory(file, ec)) {
    *error = file.string() + ": is a directory, expected a profile file";
    return false;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    *error = file.string() + ": cannot read: " + std::strerror(errno);
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (ss.str().size() > (1u << 20)) {
    *error = file.string() + ": larger than 1 MiB, not a profile";
    return false;
  }
  out->name = file.stem().string();
  out->source = file.string();
  out->text = ss.str();
  out->builtin = false;
  return true;
}

std::vector<ProfileText> user_profiles(const fs::path& config_dir,
                                       std::vector<std::string>* errors) {
  std::vector<ProfileText> out;
  std::error_code ec;
  fs::path dir = config_dir / "profiles";
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    if (p.extension() != ".json" && p.extension() != ".jsonc") continue;
    if (!valid_profile_name(p.stem().string())) {
      errors->push_back(p.string() +
                        ": ignored: a profile's file name must be lowercase letters, "
                        "digits, '.', '_' or '-'");
      continue;
    }
    ProfileText t;
    std::string err;
    if (read_profile_file(p, &t, &err))
      out.push_back(std::move(t));
    else
      errors->push_back(err);
  }
  std::sort(out.begin(), out.end(),
            [](const ProfileText& a, const ProfileText& b) { return a.name < b.name; });
  return out;
}

std::optional<ProfileText> find_profile(const std::string& name, const fs::path& config_dir,
                                        bool builtin_only) {
  if (!builtin_only && valid_profile_name(name)) {
    for (const char* ext : {".json", ".jsonc"}) {
      fs::path p = config_dir / "profiles" / (name + ext);
      std::error_code ec;
      if (!fs::exists(p, ec)) continue;
      ProfileText t;
      std::string err;
      if (read_profile_file(p, &t, &err)) return t;
    }
  }
  return builtin_profile(name);
}

}  // namespace mcpcell::profiles
