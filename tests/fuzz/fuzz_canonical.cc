// The pins' canonical form (pins/canonical.h) on hostile JSON: whatever nlohmann parses, the
// canonical text is valid JSON and UTF-8, parses back to a value whose canonical text is the same
// (idempotent: a pin never changes because mcpcell re-read its own output), and does not depend
// on how the value was serialised (nlohmann's own dump of it hashes the same).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "check.h"
#include "core/jsonrpc.h"
#include "pins/canonical.h"

using nlohmann::json;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  json v = json::parse(text, nullptr, false);
  if (v.is_discarded()) return 0;
  std::string c1 = mcpcell::pins::canonical(v);
  FUZZ_CHECK(mcpcell::valid_utf8(c1), c1);
  json back = json::parse(c1, nullptr, false);
  if (back.is_discarded()) mcpcell::fuzz::fail("canonical form does not parse", text, c1);
  std::string c2 = mcpcell::pins::canonical(back);
  if (c1 != c2) mcpcell::fuzz::fail("canonical form is not idempotent", c1, c2);
  std::string c3 = mcpcell::pins::canonical(json::parse(v.dump()));
  if (c1 != c3) mcpcell::fuzz::fail("canonical form depends on the serialisation", c1, c3);
  FUZZ_CHECK(mcpcell::pins::hash_json(v) == mcpcell::pins::sha256_hex(c1));
  return 0;
}
