// The scanner's view of a line (scan/json_text.h): the decoded text it matches rules against, and
// the map from decoded offsets back to raw bytes that redaction edits through. On any bytes: no
// crash, and both decoders agree. On lines the classifier passes: every string literal that
// map_strings lists is, in order, exactly what nlohmann's SAX parser reports (keys included), its
// decoded span holds nlohmann's decoded string, and advance_to lands on matching raw and decoded
// positions. A wrong offset here would make a redaction cut the wrong bytes or leave the secret.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "check.h"
#include "core/jsonrpc.h"
#include "scan/json_text.h"

using mcpcell::scan::StringSpan;
using nlohmann::json;

namespace {

// Every key and string value, in document order.
struct Strings : nlohmann::json_sax<json> {
  std::vector<std::pair<bool, std::string>> seen;
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t& s) override {
    seen.emplace_back(false, s);
    return true;
  }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t& s) override {
    seen.emplace_back(true, s);
    return true;
  }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view raw(reinterpret_cast<const char*>(data), size);
  std::string decoded;
  mcpcell::scan::decode_escapes(raw, &decoded);
  FUZZ_CHECK(decoded.size() <= raw.size(), raw);
  std::string scratch(3, 'x');  // reused storage is neither cleared nor shrunk
  FUZZ_CHECK(mcpcell::scan::decode_into(raw, &scratch) == decoded, raw);

  mcpcell::MessageInfo info;
  mcpcell::scan_message(raw, info);
  if (info.kind == mcpcell::MessageKind::invalid) return 0;

  FUZZ_CHECK(mcpcell::valid_utf8(decoded), raw);
  std::vector<StringSpan> strings;
  std::vector<mcpcell::scan::ItemSpan> items;
  mcpcell::scan::map_strings(raw, &strings, &items);
  Strings sax;
  FUZZ_CHECK(json::sax_parse(raw, &sax), raw);
  FUZZ_CHECK(strings.size() == sax.seen.size(), raw);
  std::string_view text = decoded;
  for (size_t i = 0; i < strings.size(); ++i) {
    const StringSpan& s = strings[i];
    FUZZ_CHECK(s.raw_begin <= s.raw_end && s.raw_end < raw.size() && s.raw_begin > 0, raw);
    FUZZ_CHECK(raw[s.raw_begin - 1] == '"' && raw[s.raw_end] == '"', raw);
    FUZZ_CHECK(s.dec_begin <= s.dec_end && s.dec_end <= text.size(), raw);
    FUZZ_CHECK(s.key == sax.seen[i].first, raw);
    std::string_view dec = text.substr(s.dec_begin, s.dec_end - s.dec_begin);
    if (dec != sax.seen[i].second)
      mcpcell::fuzz::fail("decoded span differs from nlohmann's string", dec, sax.seen[i].second);
    if (s.dec_end > s.dec_begin)
      FUZZ_CHECK(mcpcell::scan::find_string(strings, s.dec_begin) == static_cast<long>(i), raw);

    // Walk to a few decoded positions inside the literal, as redaction does.
    size_t len = s.dec_end - s.dec_begin;
    for (size_t target : {size_t{0}, len / 3, len / 2, len > 0 ? len - 1 : 0, len}) {
      size_t r = s.raw_begin, d = s.dec_begin;
      bool ok = mcpcell::scan::advance_to(raw, &r, &d, s.dec_begin + target);
      FUZZ_CHECK(r >= s.raw_begin && r <= s.raw_end && d <= s.dec_begin + target, raw);
      std::string part;
      mcpcell::scan::decode_escapes(raw.substr(s.raw_begin, r - s.raw_begin), &part);
      FUZZ_CHECK(part == text.substr(s.dec_begin, d - s.dec_begin), raw);
      if (ok)
        FUZZ_CHECK(d == s.dec_begin + target, raw);
      else
        FUZZ_CHECK(raw[r] == '\\', raw);  // stopped at the escape whose bytes hold the target
    }
  }
  for (const auto& it : items) {
    FUZZ_CHECK(it.raw_begin < it.raw_end && it.raw_end <= raw.size(), raw);
    std::string_view item = raw.substr(it.raw_begin, it.raw_end - it.raw_begin);
    FUZZ_CHECK(!json::parse(item, nullptr, false).is_discarded(), item);
    std::string item_dec;
    mcpcell::scan::decode_escapes(item, &item_dec);
    FUZZ_CHECK(it.dec_end <= text.size() &&
                   item_dec == text.substr(it.dec_begin, it.dec_end - it.dec_begin),
               item);
  }
  return 0;
}
