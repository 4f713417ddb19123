// What a filter factory gets to build its filter for one session.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "core/filter.h"

namespace mcpcell {

struct ChainConfig {
  SessionInfo session;
  std::filesystem::path state_dir;   // $XDG_STATE_HOME/mcpcell (0700)
  std::filesystem::path config_dir;  // $XDG_CONFIG_HOME/mcpcell (0700)
  std::string project_dir;           // the working directory mcpcell was started in
  std::vector<std::string> argv;     // the server command as given
  // The policy sections of the profile in force ("pins", "scan", ...), as JSON; absent keys mean
  // the built-in defaults.
  nlohmann::json policy = nlohmann::json::object();
};

}  // namespace mcpcell
