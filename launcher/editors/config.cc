#include "editors/config.h"

#include <array>

namespace mcpcell::editors {
namespace {

struct FormatSpec {
  Format format;
  std::string_view name;
  bool yaml;
  // Paths of the server containers; "*" matches every member of an object.
  std::vector<std::vector<std::string_view>> containers;
};

const std::array<FormatSpec, 6>& specs() {
  static const std::array<FormatSpec, 6> kSpecs = {{
      {Format::kMcpServers, "mcpServers", false, {{"mcpServers"}}},
      {Format::kClaudeJson,
       "claude-json",
       false,
       {{"mcpServers"}, {"projects", "*", "mcpServers"}}},
      {Format::kVsCode, "vscode", false, {{"servers"}}},
      {Format::kVsCodeSettings, "vscode-settings", false, {{"mcp", "servers"}}},
      {Format::kZed, "zed", false, {{"context_servers"}}},
      {Format::kContinue, "continue", true, {{"mcpServers"}}},
  }};
  return kSpecs;
}

const FormatSpec& spec(Format f) {
  for (const FormatSpec& s : specs())
    if (s.format == f) return s;
  return specs()[0];
}

// Collects the containers matching `path` from `node`, with their concrete paths.
void containers_at(const Node& node, const std::vector<std::string_view>& path, size_t i,
                   std::vector<std::string>* concrete,
                   std::vector<std::pair<std::vector<std::string>, const Node*>>* out) {
  if (i == path.size()) {
    out->push_back({*concrete, &node});
    return;
  }
  if (node.kind != Node::kObject) return;
  for (size_t k = 0; k < node.keys.size(); ++k) {
    if (path[i] != "*" && node.keys[k] != path[i]) continue;
    concrete->push_back(node.keys[k]);
    containers_at(node.items[k], path, i + 1, concrete, out);
    concrete->pop_back();
    if (path[i] != "*") break;  // the first member of a name wins, as in most JSON readers
  }
}

bool remote_type(std::string_view type) {
  return type == "http" || type == "sse" || type == "streamable-http" || type == "streamableHttp" ||
         type == "streamable_http" || type == "ws" || type == "websocket";
}

ServerEntry read_entry(const Node& v, std::string_view text, std::vector<std::string> container,
                       std::string name, bool yaml) {
  ServerEntry e;
  e.container = std::move(container);
  e.name = std::move(name);
  e.span = v.span;
  e.yaml = yaml;
  e.transport = "stdio";
  if (v.kind != Node::kObject) return e;
  if (const Node* t = v.get("type"); t && t->kind == Node::kString) {
    e.transport = t->str;
    e.remote = remote_type(t->str);
  }
  for (std::string_view k : {"url", "serverUrl", "httpUrl"}) {
    if (v.get(k)) {
      e.remote = true;
      if (e.transport == "stdio") e.transport = std::string(k);
    }
  }
  // Zed's older shape nests the launch in "command": {"path", "args", "env"}.
  const Node* holder = &v;
  const char* command_key = "command";
  if (const Node* c = v.get("command"); c && c->kind == Node::kObject) {
    holder = c;
    command_key = "path";
  }
  int ci = holder->index_of(command_key);
  if (ci >= 0 && holder->items[ci].kind == Node::kString) {
    const Node& c = holder->items[ci];
    e.has_command = true;
    e.command = c.str;
    e.command_span = c.span;
    e.command_quoted = c.quoted;
    e.command_key_begin = holder->key_spans[ci].begin;
  }
  if (int ai = holder->index_of("args"); ai >= 0 && holder->items[ai].kind == Node::kArray) {
    const Node& a = holder->items[ai];
    e.has_args = true;
    e.args_span = a.span;
    e.args_block = a.block;
    e.args_colon_end = text.find(':', holder->key_spans[ai].end) + 1;
    for (const Node& item : a.items) {
      e.args.push_back(item.kind == Node::kString ? item.str : std::string(item.span.of(text)));
      e.arg_spans.push_back(item.span);
      e.arg_quoted.push_back(item.quoted);
    }
  }
  if (const Node* env = holder->get("env"); env && env->kind == Node::kObject)
    e.env_keys = env->keys;
  e.env_file = holder->get("envFile") != nullptr || v.get("envFile") != nullptr;
  return e;
}

}  // namespace

std::string_view format_name(Format f) {
  return spec(f).name;
}

std::optional<Format> format_from_name(std::string_view name) {
  for (const FormatSpec& s : specs())
    if (s.name == name) return s.format;
  return std::nullopt;
}

bool format_is_yaml(Format f) {
  return spec(f).yaml;
}

bool parse_document(std::string_view text, Format f, Node* out, std::string* error) {
  return format_is_yaml(f) ? parse_yaml(text, out, error) : parse_jsonc(text, out, error);
}

bool detect_format(std::string_view text, std::string_view file_name, Format* out,
                   std::string* error) {
  Node doc;
  std::string json_error;
  if (parse_jsonc(text, &doc, &json_error) && doc.kind == Node::kObject) {
    const Node* projects = doc.get("projects");
    bool project_servers = false;
    if (projects && projects->kind == Node::kObject)
      for (const Node& p : projects->items)
        if (p.kind == Node::kObject && p.get("mcpServers")) project_servers = true;
    const Node* mcp = doc.get("mcp");
    if (doc.get("context_servers"))
      *out = Format::kZed;
    else if (project_servers)
      *out = Format::kClaudeJson;
    else if (doc.get("mcpServers"))
      *out = Format::kMcpServers;
    else if (const Node* s = doc.get("servers"); s && s->kind == Node::kObject)
      *out = Format::kVsCode;
    else if (mcp && mcp->kind == Node::kObject && mcp->get("servers"))
      *out = Format::kVsCodeSettings;
    else {
      *error = "no MCP servers key (mcpServers, servers, mcp.servers, context_servers) in it";
      return false;
    }
    return true;
  }
  std::string yaml_error;
  if (parse_yaml(text, &doc, &yaml_error) && doc.kind == Node::kObject) {
    if (const Node* s = doc.get("mcpServers"); s && s->kind == Node::kArray) {
      *out = Format::kContinue;
      return true;
    }
    *error = "YAML without an 'mcpServers:' list";
    return false;
  }
  bool looks_yaml = file_name.ends_with(".yaml") || file_name.ends_with(".yml");
  *error = looks_yaml ? "not valid YAML: " + yaml_error : "not valid JSON: " + json_error;
  return false;
}

std::vector<ServerEntry> find_servers(const Node& doc, std::string_view text, Format f) {
  std::vector<ServerEntry> out;
  const FormatSpec& s = spec(f);
  for (const auto& path : s.containers) {
    std::vector<std::pair<std::vector<std::string>, const Node*>> found;
    std::vector<std::string> concrete;
    containers_at(doc, path, 0, &concrete, &found);
    for (const auto& [where, c] : found) {
      if (c->kind == Node::kObject) {
        for (size_t i = 0; i < c->keys.size(); ++i)
          out.push_back(read_entry(c->items[i], text, where, c->keys[i], s.yaml));
      } else if (c->kind == Node::kArray) {
        for (const Node& item : c->items) {
          const Node* n = item.get("name");
          std::string name = n && n->kind == Node::kString ? n->str : "";
          ServerEntry e = read_entry(item, text, where, name, s.yaml);
          // A YAML entry owns the rest of its last line (a trailing comment, or the place where
          // wrap adds an args line).
          if (item.block) {
            size_t nl = text.find('\n', e.span.end);
            e.span.end = nl == std::string_view::npos ? text.size() : nl;
            if (e.span.end > e.span.begin && text[e.span.end - 1] == '\r') --e.span.end;
          }
          for (const ServerEntry& prev : out)
            if (prev.container == e.container && prev.name == e.name) ++e.ordinal;
          out.push_back(std::move(e));
        }
      }
    }
  }
  return out;
}

std::string entry_label(const ServerEntry& e) {
  std::string s;
  for (size_t i = 0; i < e.container.size(); ++i) {
    bool key_like = e.container[i].find_first_of("/. []") == std::string::npos;
    if (key_like) {
      if (!s.empty()) s += '.';
      s += e.container[i];
    } else {
      s += "[" + e.container[i] + "]";
    }
  }
  return s + "." + e.name;
}

}  // namespace mcpcell::editors
