// Offline checks that turn a pattern match into a finding. None of them ever contacts a service.
//   entropy:N       Shannon entropy of the secret is at least N bits per character
//   github_crc32    GitHub/npm token: last 6 chars are the base62 CRC32 of the 30 random ones
//   luhn            payment card number (separators ignored, 13 to 19 digits)
//   iban            IBAN mod-97 check
//   jwt             header and payload are base64url JSON objects, the header names an "alg"
//   basic_auth      base64 that decodes to printable "user:password"
//   not_placeholder not a template variable, a masked value, or a word like "password"
//   generic_secret  not_placeholder, 12+ chars with letters and digits, entropy >= 3, not a UUID
#pragma once

#include <string>
#include <string_view>

namespace mcpcell::scan {

bool known_validator(std::string_view name);
bool validate(std::string_view name, std::string_view secret);

double shannon_entropy(std::string_view s);
bool luhn_ok(std::string_view digits_and_separators);
bool iban_ok(std::string_view iban);
bool github_crc32_ok(std::string_view token);
bool jwt_ok(std::string_view token);
bool base64_decode(std::string_view in, bool url, std::string* out);

}  // namespace mcpcell::scan
