// The editors' configuration readers (editors/jsonc.cc, yaml.cc) and wrap/unwrap, which read
// files that a malicious repository may ship (.mcp.json, .vscode/mcp.json, .continue/*.yaml). No
// crash on any bytes; every span lies in the text; and a wrap that changed the file is undone by
// unwrap byte for byte (docs/editors.md promises exactly that).
//
// Input: one byte choosing the format, then the file.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "check.h"
#include "editors/config.h"
#include "editors/rewrite.h"

using namespace mcpcell::editors;

namespace {

void check_span(const Span& s, std::string_view text) {
  FUZZ_CHECK(s.begin <= s.end && s.end <= text.size(), text);
}

void check_tree(const Node& n, std::string_view text, int depth = 0) {
  FUZZ_CHECK(depth < 10000);
  check_span(n.span, text);
  FUZZ_CHECK(n.kind != Node::kObject || n.keys.size() == n.items.size(), text);
  FUZZ_CHECK(n.keys.size() == n.key_spans.size(), text);
  for (const Span& s : n.key_spans) check_span(s, text);
  for (const Node& c : n.items) check_tree(c, text, depth + 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Format kFormats[] = {Format::kMcpServers, Format::kClaudeJson,
                                    Format::kVsCode,     Format::kVsCodeSettings,
                                    Format::kZed,        Format::kContinue};
  if (size < 1) return 0;
  Format f = kFormats[data[0] % (sizeof kFormats / sizeof kFormats[0])];
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

  Format detected;
  std::string why;
  (void)detect_format(text, format_is_yaml(f) ? "config.yaml" : "mcp.json", &detected, &why);

  Node doc;
  std::string error;
  if (!parse_document(text, f, &doc, &error)) {
    FUZZ_CHECK(!error.empty(), text);
    return 0;
  }
  check_tree(doc, text);
  for (const ServerEntry& e : find_servers(doc, text, f)) {
    check_span(e.span, text);
    check_span(e.command_span, text);
    check_span(e.args_span, text);
    for (const Span& s : e.arg_spans) check_span(s, text);
    FUZZ_CHECK(e.arg_spans.size() == e.arg_quoted.size(), text);
    (void)entry_label(e);
    (void)read_wrapped(e);
  }

  WrapSettings settings;
  settings.choose_profile = [](const std::vector<std::string>&, std::string*) {
    return std::string("default");
  };
  Plan wrapped;
  if (!plan_wrap(text, f, settings, {}, &wrapped, &error) || !wrapped.changed) return 0;
  Node again;
  if (!parse_document(wrapped.text, f, &again, &error))
    mcpcell::fuzz::fail("wrap wrote a file that does not parse", wrapped.text, error);
  Plan back;
  if (!plan_unwrap(wrapped.text, f, wrapped.records, &back, &error))
    mcpcell::fuzz::fail("unwrap refused what wrap wrote", wrapped.text, error);
  if (back.text != text) mcpcell::fuzz::fail("unwrap did not restore the file", text, back.text);
  return 0;
}
