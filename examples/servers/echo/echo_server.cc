// mcpcell-echo: a deliberately fast stdio MCP server for benchmarks and tests.
//
// The relay benchmarks measure what mcpcell adds to a round trip, so the server at the far end must
// cost as little as possible: a Node server spends tens of microseconds per message in JSON.parse
// and would hide the relay in its noise. This server never builds a DOM. It walks only the
// top-level members of each line (skipping nested values by bracket counting, strings by memchr)
// to find "id", "method" and "params", then, for `tools/call echo`, finds "arguments"."message" the
// same way and returns the raw JSON string literal unchanged, so a 1 MiB message costs one scan.
//
// It speaks just enough MCP for real clients: initialize, ping, tools/list (one tool, "echo"),
// tools/call echo; other requests get -32601, notifications are ignored. Output is buffered and
// flushed whenever the input has no complete line left, so pipelined clients get batched writes and
// a lone request is answered at once.
//
// Test hooks (arguments): --exit-after N (exit with status 0 after N requests), --stderr TEXT
// (write TEXT to stderr at start).
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

void skip_ws(std::string_view s, size_t& i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) ++i;
}

// i at an opening quote; leaves i after the closing quote. False if unterminated.
bool skip_string(std::string_view s, size_t& i) {
  ++i;
  for (;;) {
    const void* q = memchr(s.data() + i, '"', s.size() - i);
    if (!q) return false;
    size_t end = static_cast<const char*>(q) - s.data();
    // The quote is escaped when an odd number of backslashes precede it.
    size_t bs = 0;
    while (end - bs > i && s[end - bs - 1] == '\\') ++bs;
    i = end + 1;
    if (bs % 2 == 0) return true;
  }
}

// Skips one value starting at i (whitespace skipped). Strings, containers and scalars.
bool skip_value(std::string_view s, size_t& i) {
  skip_ws(s, i);
  if (i >= s.size()) return false;
  if (s[i] == '"') return skip_string(s, i);
  if (s[i] == '{' || s[i] == '[') {
    int depth = 0;
    while (i < s.size()) {
      char c = s[i];
      if (c == '"') {
        if (!skip_string(s, i)) return false;
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if (c == '}' || c == ']') {
        if (--depth == 0) {
          ++i;
          return true;
        }
      }
      ++i;
    }
    return false;
  }
  while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' && s[i] != '\r')
    ++i;
  return true;
}

// Calls fn(key_without_quotes, raw_value) for each member of the object `obj`.
template <typename Fn>
bool for_each_member(std::string_view obj, Fn&& fn) {
  size_t i = 0;
  skip_ws(obj, i);
  if (i >= obj.size() || obj[i] != '{') return false;
  ++i;
  for (;;) {
    skip_ws(obj, i);
    if (i >= obj.size()) return false;
    if (obj[i] == '}') return true;
    if (obj[i] != '"') return false;
    size_t ks = i;
    if (!skip_string(obj, i)) return false;
    std::string_view key = obj.substr(ks + 1, i - ks - 2);
    skip_ws(obj, i);
    if (i >= obj.size() || obj[i] != ':') return false;
    ++i;
    skip_ws(obj, i);
    size_t vs = i;
    if (!skip_value(obj, i)) return false;
    fn(key, obj.substr(vs, i - vs));
    skip_ws(obj, i);
    if (i < obj.size() && obj[i] == ',') ++i;
  }
}

std::string_view member(std::string_view obj, std::string_view name) {
  std::string_view found;
  for_each_member(obj, [&](std::string_view k, std::string_view v) {
    if (k == name) found = v;
  });
  return found;
}

class Out {
 public:
  void add(std::string_view s) {
    buf_.append(s);
    if (buf_.size() > (4u << 20)) flush();
  }
  void flush() {
    size_t off = 0;
    while (off < buf_.size()) {
      ssize_t n = ::write(1, buf_.data() + off, buf_.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) std::exit(0);  // the client is gone
      off += static_cast<size_t>(n);
    }
    buf_.clear();
  }

 private:
  std::string buf_;
};

void respond(Out& out, std::string_view id, std::string_view result) {
  out.add("{\"jsonrpc\":\"2.0\",\"id\":");
  out.add(id);
  out.add(",\"result\":");
  out.add(result);
  out.add("}\n");
}

void respond_error(Out& out, std::string_view id, int code, std::string_view message) {
  out.add("{\"jsonrpc\":\"2.0\",\"id\":");
  out.add(id.empty() ? "null" : id);
  out.add(",\"error\":{\"code\":");
  out.add(std::to_string(code));
  out.add(",\"message\":\"");
  out.add(message);
  out.add("\"}}\n");
}

constexpr std::string_view kInitResult =
    R"({"protocolVersion":"2025-06-18","capabilities":{"tools":{}},)"
    R"("serverInfo":{"name":"mcpcell-echo","version":"1.0.0"}})";
constexpr std::string_view kToolsList =
    R"({"tools":[{"name":"echo","description":"Returns the message it is given.",)"
    R"("inputSchema":{"type":"object","properties":{"message":{"type":"string"}},)"
    R"("required":["message"]}}]})";

// Answers one line (requests only; notifications and responses need no answer).
void handle(Out& out, std::string_view line) {
  std::string_view id, method, params;
  bool ok = for_each_member(line, [&](std::string_view k, std::string_view v) {
    if (k == "id")
      id = v;
    else if (k == "method")
      method = v;
    else if (k == "params")
      params = v;
  });
  if (!ok) {
    respond_error(out, "", -32700, "Parse error");
    return;
  }
  if (id.empty() || method.size() < 2) return;  // notification or response: nothing to say
  method = method.substr(1, method.size() - 2);
  if (method == "tools/call") {
    std::string_view name = member(params, "name");
    std::string_view message = member(member(params, "arguments"), "message");
    if (name != "\"echo\"" || message.empty() || message[0] != '"') {
      respond(
          out, id,
          R"({"content":[{"type":"text","text":"unknown tool or missing message"}],"isError":true})");
      return;
    }
    out.add("{\"jsonrpc\":\"2.0\",\"id\":");
    out.add(id);
    out.add(",\"result\":{\"content\":[{\"type\":\"text\",\"text\":");
    out.add(message);
    out.add("}]}}\n");
  } else if (method == "initialize") {
    respond(out, id, kInitResult);
  } else if (method == "tools/list") {
    respond(out, id, kToolsList);
  } else if (method == "ping") {
    respond(out, id, "{}");
  } else {
    respond_error(out, id, -32601, "Method not found");
  }
}

}  // namespace

int main(int argc, char** argv) {
  long exit_after = -1;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--exit-after" && i + 1 < argc)
      exit_after = std::strtol(argv[++i], nullptr, 10);
    else if (a == "--stderr" && i + 1 < argc)
      std::fprintf(stderr, "%s\n", argv[++i]);
  }
  Out out;
  std::string buf;
  buf.reserve(1 << 20);
  size_t start = 0;  // first byte of the unfinished line in buf
  long handled = 0;
  char chunk[1 << 16];
  for (;;) {
    ssize_t n = ::read(0, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    size_t scan_from = buf.size();
    buf.append(chunk, static_cast<size_t>(n));
    for (;;) {
      const void* nl = memchr(buf.data() + scan_from, '\n', buf.size() - scan_from);
      if (!nl) break;
      size_t end = static_cast<const char*>(nl) - buf.data();
      std::string_view line(buf.data() + start, end - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (!line.empty()) {
        handle(out, line);
        ++handled;
      }
      start = scan_from = end + 1;
      if (exit_after >= 0 && handled >= exit_after) {
        out.flush();
        return 0;
      }
    }
    buf.erase(0, start);
    start = 0;
    out.flush();
  }
  out.flush();
  return 0;
}
