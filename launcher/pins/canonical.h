// Canonical JSON and hashing for pins.
//
// A pin must not change when a server merely re-serialises the same definition (different key
// order, `1.0` instead of `1`, `\u00e9` instead of `é`), and must change when anything the client
// sees changes. We follow RFC 8785 (JCS): object members sorted by their UTF-16 code units, no
// whitespace, strings with only the mandatory escapes, numbers in ECMAScript's shortest form. One
// deliberate difference: integers that nlohmann parsed as 64-bit integers are written exactly,
// where JCS would round them through a double; a schema's `maximum: 9007199254740993` must not
// collide with `...992`.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace mcpcell::pins {

// Appends the canonical form of `v` to `out`.
void append_canonical(std::string& out, const nlohmann::json& v);
std::string canonical(const nlohmann::json& v);

// ECMAScript Number.prototype.toString of a finite double (RFC 8785 section 3.2.2.3).
std::string format_double(double d);

// Lower-case hex SHA-256.
std::string sha256_hex(std::string_view data);

// sha256_hex(canonical(v)).
std::string hash_json(const nlohmann::json& v);

}  // namespace mcpcell::pins
