#include "editors/rewrite.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/identity.h"
#include "core/jsonrpc.h"

namespace mcpcell::editors {
namespace {

using json = nlohmann::json;

struct Edit {
  size_t begin, end;  // absolute span replaced
  std::string text;
};

// Applies edits (sorted, not overlapping) to text[span] and returns that part rewritten.
std::string apply_within(std::string_view text, Span span, std::vector<Edit> edits) {
  std::sort(edits.begin(), edits.end(),
            [](const Edit& a, const Edit& b) { return a.begin < b.begin; });
  std::string out;
  size_t at = span.begin;
  for (const Edit& e : edits) {
    out.append(text.substr(at, e.begin - at));
    out.append(e.text);
    at = e.end;
  }
  out.append(text.substr(at, span.end - at));
  return out;
}

std::string apply_edits(std::string_view text, std::vector<Edit> edits) {
  return apply_within(text, Span{0, text.size()}, std::move(edits));
}

size_t line_start(std::string_view text, size_t pos) {
  size_t nl = text.rfind('\n', pos == 0 ? 0 : pos - 1);
  return pos == 0 || nl == std::string_view::npos ? 0 : nl + 1;
}

size_t line_end(std::string_view text, size_t pos) {
  size_t nl = text.find('\n', pos);
  if (nl == std::string_view::npos) return text.size();
  return nl > pos && text[nl - 1] == '\r' ? nl - 1 : nl;
}

// The whitespace that starts `pos`'s line when only whitespace precedes `pos` on it.
std::optional<std::string> indent_before(std::string_view text, size_t pos) {
  size_t ls = line_start(text, pos);
  std::string_view lead = text.substr(ls, pos - ls);
  if (lead.find_first_not_of(" \t") != std::string_view::npos) return std::nullopt;
  return std::string(lead);
}

bool plain_yaml_safe(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '.' || c == '_' ||
          c == '-' || c == '+' || c == '@'))
      return false;
  return s[0] != '-' && s[0] != '@';
}

// An element or command token as it may appear inside a JSON array / YAML flow sequence.
std::string flow_token(std::string_view text, Span span, bool quoted, bool yaml,
                       const std::string& decoded) {
  if (!yaml || quoted) return std::string(span.of(text));
  return json_quote(decoded);
}

// The separator between inserted array elements: one per line when the array already has its
// first element on a line of its own, else ", ".
std::string element_separator(std::string_view text, const ServerEntry& e) {
  if (e.arg_spans.empty()) return ", ";
  auto indent = indent_before(text, e.arg_spans.front().begin);
  if (!indent) return ", ";
  size_t ls = line_start(text, e.arg_spans.front().begin);
  bool crlf = ls >= 2 && text[ls - 2] == '\r';
  return std::string(crlf ? ",\r\n" : ",\n") + *indent;
}

// Edits that make entry `e` launch `command_token` with `items` put in front of its args. The
// existing elements, and any comments between them, are not touched.
std::vector<Edit> launch_edits(std::string_view text, const ServerEntry& e,
                               const std::string& command_token,
                               const std::vector<std::string>& items) {
  std::vector<Edit> edits;
  edits.push_back({e.command_span.begin, e.command_span.end, command_token});
  auto joined = [&](const std::string& sep) {
    std::string s;
    for (size_t i = 0; i < items.size(); ++i) s += (i ? sep : "") + items[i];
    return s;
  };
  if (e.has_args && e.args_block) {
    // New "- item" lines above the first one, at its column.
    size_t dash = e.args_span.begin;
    size_t ls = line_start(text, dash);
    std::string nl = ls >= 2 && text[ls - 2] == '\r' ? "\r\n" : "\n";
    std::string ins;
    for (const std::string& item : items)
      ins += "- " + item + nl + std::string(text.substr(ls, dash - ls));
    edits.push_back({dash, dash, ins});
  } else if (e.has_args && !e.arg_spans.empty()) {
    std::string sep = element_separator(text, e);
    edits.push_back({e.arg_spans.front().begin, e.arg_spans.front().begin, joined(sep) + sep});
  } else if (e.has_args) {
    edits.push_back({e.args_span.begin, e.args_span.end, "[" + joined(", ") + "]"});
  } else if (e.yaml) {
    size_t at = line_end(text, e.command_span.end);
    std::string pad(e.command_key_begin - line_start(text, e.command_key_begin), ' ');
    edits.push_back({at, at, "\n" + pad + "args: [" + joined(", ") + "]"});
  } else {
    auto indent = indent_before(text, e.command_key_begin);
    std::string sep = indent ? "\n" + *indent : " ";
    edits.push_back(
        {e.command_span.end, e.command_span.end, "," + sep + "\"args\": [" + joined(", ") + "]"});
  }
  return edits;
}

// Edits that undo launch_edits from the entry alone: the command after "--" becomes the command
// again and the elements before it are removed.
std::vector<Edit> unlaunch_edits(std::string_view text, const ServerEntry& e, size_t first) {
  std::vector<Edit> edits;
  std::string command_token(e.arg_spans[first].of(text));
  if (e.yaml && !e.arg_quoted[first]) command_token = e.args[first];
  edits.push_back({e.command_span.begin, e.command_span.end, command_token});
  if (first + 1 < e.arg_spans.size()) {
    edits.push_back({e.arg_spans.front().begin, e.arg_spans[first + 1].begin, ""});
  } else if (e.args_block) {
    edits.push_back({e.args_colon_end, e.args_span.end, " []"});
  } else {
    edits.push_back({e.arg_spans.front().begin, e.args_span.end - 1, ""});
  }
  return edits;
}

std::string sanitize_name(std::string_view in) {
  std::string s;
  for (char c : in) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '@' || c == '/' || c == '.' ||
              c == '_' || c == '+' || c == '-';
    if (!ok) c = '-';
    if (c == '-' && !s.empty() && s.back() == '-') continue;
    s.push_back(c);
  }
  while (!s.empty() && (s.front() == '-' || s.front() == '.')) s.erase(s.begin());
  while (!s.empty() && s.back() == '-') s.pop_back();
  return s;
}

bool same_place(const ServerEntry& e, const Record& r) {
  return e.container == r.container && e.name == r.name && e.ordinal == r.ordinal;
}

const ServerEntry* find_entry(const std::vector<ServerEntry>& entries,
                              const std::vector<std::string>& container, const std::string& name,
                              int ordinal) {
  for (const ServerEntry& e : entries)
    if (e.container == container && e.name == name && e.ordinal == ordinal) return &e;
  return nullptr;
}

std::vector<std::string> launch_of(const ServerEntry& e) {
  std::vector<std::string> v{e.command};
  v.insert(v.end(), e.args.begin(), e.args.end());
  return v;
}

}  // namespace

std::string json_quote(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

std::string_view action_word(Outcome::Action a) {
  switch (a) {
    case Outcome::kWrapped:
      return "wrapped";
    case Outcome::kAlreadyWrapped:
      return "already wrapped, skipped";
    case Outcome::kRemote:
      return "remote server, skipped";
    case Outcome::kNoCommand:
      return "no command, skipped";
    case Outcome::kRestored:
      return "restored";
    case Outcome::kRestoredFromArgs:
      return "restored from its arguments";
    case Outcome::kNotWrapped:
      return "not wrapped";
    case Outcome::kUnrestorable:
      return "cannot restore";
  }
  return "?";
}

bool is_mcpcell_command(std::string_view command) {
  size_t slash = command.find_last_of("/\\");
  std::string_view base = slash == std::string_view::npos ? command : command.substr(slash + 1);
  return base == "mcpcell";
}

std::optional<Wrapped> read_wrapped(const ServerEntry& e) {
  if (!e.has_command || !is_mcpcell_command(e.command)) return std::nullopt;
  Wrapped w;
  for (size_t i = 0; i < e.args.size(); ++i) {
    const std::string& a = e.args[i];
    if (a == "--") {
      w.separator = i;
      w.inner.assign(e.args.begin() + static_cast<long>(i) + 1, e.args.end());
      return w;
    }
    bool has_value = i + 1 < e.args.size();
    if (a == "--name" && has_value)
      w.name = e.args[++i];
    else if (a == "--profile" && has_value)
      w.profile = e.args[++i];
    else if (a == "--allow-env" && has_value)
      w.allow_env.push_back(e.args[++i]);
    else if (a.starts_with("--name="))
      w.name = a.substr(7);
    else if (a.starts_with("--profile="))
      w.profile = a.substr(10);
  }
  w.separator = e.args.size();
  return w;  // no "--": launches mcpcell, but not in the form wrap writes
}

std::string identity_for(const std::string& config_name, const std::vector<std::string>& argv) {
  if (valid_server_name(config_name)) return config_name;
  std::string s = sanitize_name(config_name);
  if (valid_server_name(s)) return s;
  return derive_server_name(argv);
}

std::string records_to_text(const std::string& config_path, const std::vector<Record>& records) {
  json entries = json::array();
  for (const Record& r : records)
    entries.push_back({{"container", r.container},
                       {"name", r.name},
                       {"ordinal", r.ordinal},
                       {"original", r.original},
                       {"wrapped", r.wrapped}});
  json doc = {{"mcpcell_wrap", 1}, {"file", config_path}, {"entries", entries}};
  return doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

bool records_from_text(std::string_view text, std::vector<Record>* out, std::string* error) {
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || doc.value("mcpcell_wrap", 0) != 1 ||
      !doc.contains("entries") || !doc["entries"].is_array()) {
    *error = "not an mcpcell wrap record";
    return false;
  }
  for (const json& e : doc["entries"]) {
    if (!e.is_object() || !e.contains("container") || !e["container"].is_array() ||
        !e.value("name", json()).is_string() || !e.value("original", json()).is_string() ||
        !e.value("wrapped", json()).is_string()) {
      *error = "a damaged entry in the wrap record";
      return false;
    }
    Record r;
    for (const json& c : e["container"]) {
      if (!c.is_string()) {
        *error = "a damaged entry in the wrap record";
        return false;
      }
      r.container.push_back(c.get<std::string>());
    }
    r.name = e["name"].get<std::string>();
    r.ordinal = e.value("ordinal", 0);
    r.original = e["original"].get<std::string>();
    r.wrapped = e["wrapped"].get<std::string>();
    out->push_back(std::move(r));
  }
  return true;
}

bool plan_wrap(std::string_view text, Format f, const WrapSettings& settings,
               const std::vector<Record>& existing, Plan* out, std::string* error) {
  Node doc;
  if (!parse_document(text, f, &doc, error)) return false;
  std::vector<ServerEntry> entries = find_servers(doc, text, f);
  std::vector<Edit> edits;
  std::vector<Record> fresh;
  out->records = existing;
  for (const ServerEntry& e : entries) {
    Outcome o{entry_label(e), e.name, Outcome::kWrapped, "", {}};
    if (e.remote) {
      o.action = Outcome::kRemote;
      o.notes.push_back("transport " + e.transport + ": mcpcell wraps only local (stdio) servers");
    } else if (!e.has_command) {
      o.action = Outcome::kNoCommand;
    } else if (auto w = read_wrapped(e)) {
      o.action = Outcome::kAlreadyWrapped;
      o.profile = w->profile;
    } else {
      std::vector<std::string> argv = launch_of(e);
      std::string why;
      o.profile = settings.choose_profile ? settings.choose_profile(argv, &why) : "default";
      if (o.profile.empty()) o.profile = "default";
      if (o.profile == "default")
        o.notes.push_back(
            "no shipped profile matches '" + e.command +
            "': it gets the 'default' profile (its runtime only: no files, no network, no "
            "secrets). "
            "If it needs more, change --profile in its args or add --allow-* options");
      std::string identity = identity_for(e.name, argv);
      if (identity != e.name) o.notes.push_back("identity for pins and logs: " + identity);
      std::vector<std::string> items;
      for (const std::string& s :
           {std::string("--name"), identity, std::string("--profile"), o.profile})
        items.push_back(json_quote(s));
      for (const std::string& k : e.env_keys) {
        items.push_back(json_quote("--allow-env"));
        items.push_back(json_quote(k));
      }
      items.push_back(json_quote("--"));
      items.push_back(flow_token(text, e.command_span, e.command_quoted, e.yaml, e.command));
      if (e.env_file)
        o.notes.push_back(
            "envFile: its variables reach mcpcell but not the server; add \"--allow-env\", "
            "\"NAME\" before \"--\" for each one the server needs");
      std::string command_token = e.yaml && plain_yaml_safe(settings.mcpcell)
                                      ? settings.mcpcell
                                      : json_quote(settings.mcpcell);
      std::vector<Edit> local = launch_edits(text, e, command_token, items);
      std::string wrapped = apply_within(text, e.span, local);
      edits.push_back({e.span.begin, e.span.end, wrapped});
      std::erase_if(out->records, [&](const Record& r) { return same_place(e, r); });
      fresh.push_back({e.container, e.name, e.ordinal, std::string(e.span.of(text)), wrapped});
    }
    out->outcomes.push_back(std::move(o));
  }
  out->text = apply_edits(text, edits);
  out->changed = !edits.empty();
  out->records.insert(out->records.end(), fresh.begin(), fresh.end());
  if (!out->changed) return true;

  // Read the result back: every wrapped entry must launch mcpcell with the original command.
  Node check;
  std::string why;
  if (!parse_document(out->text, f, &check, &why)) {
    *error = "the rewritten file would not parse (" + why + "); left unchanged";
    return false;
  }
  std::vector<ServerEntry> after = find_servers(check, out->text, f);
  for (const ServerEntry& e : entries) {
    const Record* rec = nullptr;
    for (const Record& r : fresh)
      if (same_place(e, r)) rec = &r;
    if (!rec) continue;
    const ServerEntry* a = find_entry(after, e.container, e.name, e.ordinal);
    auto w = a ? read_wrapped(*a) : std::nullopt;
    if (!w || w->inner != launch_of(e) || a->span.of(out->text) != rec->wrapped) {
      *error =
          "the rewrite of " + entry_label(e) + " did not read back as intended; left unchanged";
      return false;
    }
  }
  return true;
}

bool plan_unwrap(std::string_view text, Format f, const std::vector<Record>& records, Plan* out,
                 std::string* error) {
  Node doc;
  if (!parse_document(text, f, &doc, error)) return false;
  std::vector<ServerEntry> entries = find_servers(doc, text, f);
  std::vector<Edit> edits;
  std::vector<std::pair<const ServerEntry*, std::vector<std::string>>> expect;
  for (const ServerEntry& e : entries) {
    Outcome o{entry_label(e), e.name, Outcome::kNotWrapped, "", {}};
    auto w = read_wrapped(e);
    if (!w) {
      out->outcomes.push_back(std::move(o));
      continue;
    }
    o.profile = w->profile;
    const Record* rec = nullptr;
    for (const Record& r : records)
      if (same_place(e, r) && r.wrapped == e.span.of(text)) rec = &r;
    if (rec) {
      o.action = Outcome::kRestored;
      edits.push_back({e.span.begin, e.span.end, rec->original});
    } else if (w->inner.empty()) {
      o.action = Outcome::kUnrestorable;
      o.notes.push_back(
          "it launches mcpcell without a server command after \"--\"; edit it by hand");
    } else {
      o.action = Outcome::kRestoredFromArgs;
      o.notes.push_back(
          "it changed after wrap (or its record is gone): command and args rebuilt from the "
          "arguments after \"--\"; other edits to it are kept");
      std::vector<Edit> local = unlaunch_edits(text, e, w->separator + 1);
      edits.push_back({e.span.begin, e.span.end, apply_within(text, e.span, local)});
      expect.push_back({&e, w->inner});
    }
    out->outcomes.push_back(std::move(o));
  }
  // Every wrapped entry is restored now, so no record is needed any more.
  out->records.clear();
  out->text = apply_edits(text, edits);
  out->changed = !edits.empty();
  if (!out->changed) return true;
  Node check;
  std::string why;
  if (!parse_document(out->text, f, &check, &why)) {
    *error = "the restored file would not parse (" + why + "); left unchanged";
    return false;
  }
  std::vector<ServerEntry> after = find_servers(check, out->text, f);
  for (const auto& [e, inner] : expect) {
    const ServerEntry* a = find_entry(after, e->container, e->name, e->ordinal);
    if (!a || read_wrapped(*a) || launch_of(*a) != inner) {
      *error =
          "the restore of " + entry_label(*e) + " did not read back as intended; left unchanged";
      return false;
    }
  }
  return true;
}

}  // namespace mcpcell::editors
