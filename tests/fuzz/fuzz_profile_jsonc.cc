// The profile reader (profiles/jsonc.h), which parses files a user or a cloned repository may
// supply. No crash on any bytes; a document it accepts that is plain JSON means what nlohmann
// says it means (comments aside, the two must not disagree about a value); positions it records
// lie within the text.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "check.h"
#include "profiles/jsonc.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  mcpcell::profiles::JsoncDoc doc;
  std::string error;
  bool ok = mcpcell::profiles::parse_jsonc(text, &doc, &error);
  if (!ok) {
    FUZZ_CHECK(!error.empty(), text);
    return 0;
  }
  (void)doc.value.dump();  // throws, and so aborts, if a string holds invalid UTF-8
  int lines = 1;
  for (char c : text) lines += c == '\n';
  for (const auto* positions : {&doc.value_pos, &doc.key_pos})
    for (const auto& [path, pos] : *positions) {
      FUZZ_CHECK(pos.line >= 1 && pos.line <= lines && pos.col >= 1, path);
      (void)doc.where(path);
    }
  // Without a comment or a duplicate key, plain JSON must mean the same to nlohmann.
  if (text.find('/') == std::string_view::npos) {
    nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_discarded() && j != doc.value)
      mcpcell::fuzz::fail("jsonc value differs from nlohmann's", doc.value.dump(), j.dump());
  }
  return 0;
}
