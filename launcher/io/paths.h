// mcpcell's own directories (SPEC "Files"): $XDG_STATE_HOME/mcpcell and $XDG_CONFIG_HOME/mcpcell,
// created 0700 with files 0600, and small file helpers that keep those modes.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "core/status.h"
#include "io/digest.h"  // sha256_hex and hex_encode, which used to live here

namespace mcpcell {

std::filesystem::path home_dir();
std::filesystem::path state_dir();   // $XDG_STATE_HOME/mcpcell or ~/.local/state/mcpcell
std::filesystem::path config_dir();  // $XDG_CONFIG_HOME/mcpcell or ~/.config/mcpcell

// Creates `dir` and missing parents; the final directory gets mode 0700 (tightened if it exists).
Status ensure_private_dir(const std::filesystem::path& dir);

// Writes `data` to `path` atomically (temp file, fsync, rename) with mode 0600. Without `durable`
// the fsync is skipped: the replacement stays atomic, and the file reaches the disk when the
// filesystem commits, in order with the writes made before it.
Status write_file_atomic(const std::filesystem::path& path, std::string_view data,
                         bool durable = true);

// Reads a whole file; returns false when it cannot be read.
bool read_file(const std::filesystem::path& path, std::string* out);

// `n` random bytes from getrandom(2), hex-encoded.
std::string random_hex(size_t n);

// Writes all of `data` (retrying short writes and EINTR); false on error (errno set).
bool write_all(int fd, std::string_view data);

// The current UTC time formatted with strftime-style `fmt` plus microseconds where `fmt` holds
// "%f" (e.g. "%Y-%m-%dT%H:%M:%S.%fZ").
std::string utc_now(const char* fmt);

}  // namespace mcpcell
