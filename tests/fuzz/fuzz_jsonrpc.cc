// Differential fuzzing of the relay's classifier (core/jsonrpc.h) against nlohmann::json, which the
// filters use to look inside messages. A line that the classifier passes but nlohmann rejects is
// forwarded while every filter that parses it gives up (pins, the scan filter's tool names): a
// policy bypass. A method or id that differs between the two is a message routed as one thing and
// executed as another. nlohmann, like JSON.parse, keeps the last of duplicate keys.
//
// Deliberate differences, each where the classifier is the stricter one:
//   - only an object or an array is a JSON-RPC message;
//   - nesting deeper than 512 is refused (nlohmann has no limit);
//   - a second top-level "id", "method", "params", "result" or "error" is refused (parsers that
//     keep the first duplicate exist: the receiver could act on another method than the filters);
//   - a UTF-8 byte order mark before the value is refused (nlohmann skips one; JSON.parse does
//   not);
//   - bytes after a NUL that follows the value are trailing data (nlohmann stops reading at a NUL).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "check.h"
#include "core/jsonrpc.h"

using mcpcell::MessageInfo;
using mcpcell::MessageKind;
using nlohmann::json;

namespace {

bool within(std::string_view part, std::string_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

bool deliberately_stricter(const MessageInfo& info, std::string_view line) {
  const std::string& e = info.error_text;
  return e == "a JSON-RPC message must be an object or an array" ||
         e.rfind("nesting too deep", 0) == 0 || e.rfind("duplicate member", 0) == 0 ||
         line.substr(0, 3) == "\xEF\xBB\xBF" || line.find('\0') != std::string_view::npos;
}

// The raw token `raw` (a view the classifier returned) must denote the same value nlohmann holds.
void same_value(std::string_view raw, const json& expected, const char* what) {
  json got = json::parse(raw, nullptr, false);
  if (got.is_discarded() || got != expected) mcpcell::fuzz::fail(what, raw, expected.dump());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  MessageInfo info;
  mcpcell::scan_message(line, info);
  json j = json::parse(line, nullptr, false);
  bool ours = info.kind != MessageKind::invalid;
  bool theirs = !j.is_discarded();

  if (!ours) {
    FUZZ_CHECK(!info.error_text.empty(), line);
    FUZZ_CHECK(info.id.empty() && info.method.empty() && info.params.empty(), line);
    if (theirs && !deliberately_stricter(info, line))
      mcpcell::fuzz::fail("classifier rejects what nlohmann parses", line, info.error_text);
    return 0;
  }
  if (!theirs) mcpcell::fuzz::fail("classifier passes what nlohmann rejects", line);
  FUZZ_CHECK(mcpcell::valid_utf8(line), line);
  for (std::string_view v : {info.id, info.params, info.result, info.error})
    FUZZ_CHECK(within(v, line), line);

  if (j.is_array()) {
    FUZZ_CHECK(info.kind == MessageKind::batch, line);
    return 0;
  }
  FUZZ_CHECK(j.is_object(), line);

  auto m = j.find("method");
  bool has_method = m != j.end() && m->is_string();
  if (has_method) {
    if (info.method != m->get_ref<const std::string&>())
      mcpcell::fuzz::fail("method differs from nlohmann's", info.method, m->dump());
  } else {
    FUZZ_CHECK(info.method.empty(), line);
  }
  auto id = j.find("id");
  if (id != j.end())
    same_value(info.id, *id, "id differs from nlohmann's");
  else
    FUZZ_CHECK(info.id.empty(), line);
  for (auto [key, view] : {std::pair{"params", info.params}, std::pair{"result", info.result},
                           std::pair{"error", info.error}}) {
    auto it = j.find(key);
    if (it != j.end())
      same_value(view, *it, key);
    else
      FUZZ_CHECK(view.empty(), line);
  }

  MessageKind want = MessageKind::other_object;
  if (has_method)
    want = id != j.end() ? MessageKind::request : MessageKind::notification;
  else if (m == j.end() && id != j.end() && j.contains("error"))
    want = MessageKind::error;
  else if (m == j.end() && id != j.end() && j.contains("result"))
    want = MessageKind::response;
  if (info.kind != want) mcpcell::fuzz::fail("kind differs", line, mcpcell::to_string(info.kind));

  // The error mcpcell answers with must itself be a valid error for the same id.
  std::string reply = mcpcell::make_error_response(
      info.id, mcpcell::rpc_code::blocked, std::string("mcpcell: ") + std::string(info.method));
  MessageInfo r;
  mcpcell::scan_message(reply, r);
  FUZZ_CHECK(r.kind == MessageKind::error, reply);
  json rj = json::parse(reply, nullptr, false);
  FUZZ_CHECK(!rj.is_discarded() && rj["error"]["message"] == "mcpcell: " + std::string(info.method),
             reply);
  if (id != j.end()) FUZZ_CHECK(rj["id"] == *id, reply);

  // The oversize path digs the id out of a prefix. On a whole line without escapes it must find
  // the id the classifier found, when that is a number or a string (other ids are not looked for).
  std::string_view found = mcpcell::find_id_in_prefix(line);
  FUZZ_CHECK(within(found, line), line);
  if (!info.has_escapes && id != j.end() && (id->is_number() || id->is_string()) &&
      found != info.id)
    mcpcell::fuzz::fail("find_id_in_prefix differs from the classifier", line, found);
  for (size_t cut : {size / 2, size / 3, size > 0 ? size - 1 : 0})
    FUZZ_CHECK(within(mcpcell::find_id_in_prefix(line.substr(0, cut)), line), line);
  return 0;
}
