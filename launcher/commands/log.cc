// `mcpcell log`: reads the audit trail back, filtered, as readable lines or as the JSON records.
// A damaged line (a torn write, a hand edit) is reported on stderr and skipped; it never stops the
// reader.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <functional>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "commands/commands.h"
#include "io/audit.h"
#include "io/audit_file.h"
#include "core/review.h"
#include "io/paths.h"
#include "io/export.h"

namespace mcpcell {
namespace {

struct LogOptions {
  std::string server, event_prefix, since;
  bool follow = false, json = false, blocked = false;
  ExportFormat format = ExportFormat::none;
};

void log_usage() {
  std::printf(
      "Usage: mcpcell log [--server NAME] [--event PREFIX] [--since TIME] [--follow] [--json]\n\n"
      "Shows the audit trail ($XDG_STATE_HOME/mcpcell/audit.jsonl).\n"
      "  --server NAME    only records of this server identity\n"
      "  --event PREFIX   only events starting with PREFIX (e.g. policy., pin., sandbox.denied)\n"
      "  --since TIME     only records at or after TIME: RFC 3339 (2026-11-22T10:00:00Z, or a date)\n"
      "                   or an age such as 30s, 15m, 2h, 7d\n"
      "  --follow         keep printing records as they are written\n"
      "  --json           print the records themselves, one JSON object per line\n"
      "  --blocked        summary of everything refused, grouped, with the next step to take\n"
      "  --format FMT     print records for a collector: rfc5424 (syslog with structured data)\n"
      "                   or otel (OpenTelemetry log data model, one JSON object per line)\n\n"
      "       mcpcell log verify\n"
      "Checks the trail's hash chain and checkpoint; exits 1 at the first broken or missing link.\n");
}

// Turns --since into an RFC 3339 string that compares lexically with the records' "ts".
bool parse_since(const std::string& s, std::string* out) {
  if (s.empty()) return false;
  char unit = s.back();
  bool relative = (unit == 's' || unit == 'm' || unit == 'h' || unit == 'd') &&
                  s.find_first_not_of("0123456789", 0) == s.size() - 1 && s.size() > 1;
  if (relative) {
    long long n = std::stoll(s.substr(0, s.size() - 1));
    long long secs = n * (unit == 's' ? 1 : unit == 'm' ? 60 : unit == 'h' ? 3600 : 86400);
    time_t t = ::time(nullptr) - static_cast<time_t>(secs);
    tm g;
    ::gmtime_r(&t, &g);
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &g);
    *out = buf;
    return true;
  }
  // Absolute: YYYY-MM-DD[THH:MM[:SS[.ffffff]]][Z]
  int y, mo, d;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d", &y, &mo, &d) != 3 || s.size() < 10) return false;
  std::string t = s;
  if (!t.empty() && (t.back() == 'Z' || t.back() == 'z')) t.pop_back();
  if (t.size() > 10 && t[10] == ' ') t[10] = 'T';
  *out = t;
  return true;
}

std::string human(const nlohmann::json& r) {
  std::string ts = r.value("ts", "");
  if (ts.size() >= 23) ts = ts.substr(0, 10) + " " + ts.substr(11, 12);
  std::string session = r.value("session", "");
  std::string line = ts + "  " + r.value("server", "?") + "  " + session.substr(0, 8) + "  " +
                     r.value("event", "?");
  for (auto it = r.begin(); it != r.end(); ++it) {
    const std::string& k = it.key();
    if (k == "ts" || k == "server" || k == "session" || k == "event" || k == "prev") continue;
    std::string v = it->is_string() ? it->get<std::string>() : it->dump();
    if (v.size() > 160) v = v.substr(0, 157) + "...";
    line += "  " + k + "=" + v;
  }
  return line;
}

class Reader {
 public:
  explicit Reader(const LogOptions& o) : o_(o) {}
  // When set, matching records go here instead of being printed.
  std::function<void(const nlohmann::json&)> collect;

  // Prints every complete record in `data` past `*offset`; advances the offset past them.
  void consume(const std::string& data, size_t* offset) {
    size_t pos = *offset;
    for (;;) {
      size_t nl = data.find('\n', pos);
      if (nl == std::string::npos) break;
      ++line_no_;
      emit(std::string_view(data).substr(pos, nl - pos));
      pos = nl + 1;
    }
    *offset = pos;
  }
  void finish_partial(const std::string& data, size_t offset) {
    if (offset < data.size())
      std::fprintf(stderr, "mcpcell: the last record of the audit log is incomplete (%zu bytes; "
                           "a write was cut short)\n", data.size() - offset);
  }

 private:
  void emit(std::string_view line) {
    if (line.empty()) return;
    nlohmann::json r = nlohmann::json::parse(line, nullptr, false);
    if (r.is_discarded() || !r.is_object()) {
      std::fprintf(stderr, "mcpcell: audit log line %zu is not a valid record; skipped\n", line_no_);
      return;
    }
    if (!o_.server.empty() && r.value("server", "") != o_.server) return;
    if (!o_.event_prefix.empty() && !r.value("event", "").starts_with(o_.event_prefix)) return;
    if (!o_.since.empty() && r.value("ts", "") < o_.since) return;
    if (collect) {
      collect(r);
    } else if (o_.format != ExportFormat::none) {
      std::puts(export_record(r, o_.format).c_str());
    } else if (o_.json) {
      std::fwrite(line.data(), 1, line.size(), stdout);
      std::fputc('\n', stdout);
    } else {
      std::puts(human(r).c_str());
    }
  }

  const LogOptions& o_;
  size_t line_no_ = 0;
};

int verify(const Args& args) {
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    log_usage();
    return 0;
  }
  if (!args.empty()) return fail(125, "'mcpcell log verify' takes no arguments");
  std::filesystem::path dir = state_dir();
  VerifyReport rep = verify_audit_trail(dir);
  for (const std::string& n : rep.notes) std::printf("note: %s\n", n.c_str());
  for (const std::string& p : rep.problems) std::printf("BROKEN: %s\n", p.c_str());
  std::printf("%s: %llu records in %llu files%s\n", rep.ok ? "ok" : "FAILED",
              static_cast<unsigned long long>(rep.records),
              static_cast<unsigned long long>(rep.files),
              rep.torn ? (", " + std::to_string(rep.torn) + " incomplete (crash)").c_str() : "");
  return rep.ok ? 0 : 1;
}

int blocked_summary(Reader& reader, const LogOptions& o) {
  Review review;
  reader.collect = [&](const nlohmann::json& r) { review.add(r); };
  for (const auto& file : audit_trail_files(state_dir())) {
    std::string data;
    size_t offset = 0;
    if (read_file(file, &data)) reader.consume(data, &offset);
  }
  std::vector<RefusalGroup> groups = review.refusals();
  if (o.json) {
    for (const RefusalGroup& g : groups) {
      nlohmann::json j = {{"server", g.server}, {"kind", g.kind},   {"what", g.what},
                          {"count", g.count},   {"first", g.first}, {"last", g.last},
                          {"next", g.next}};
      std::puts(j.dump().c_str());
    }
    return 0;
  }
  if (groups.empty()) {
    std::puts("nothing was refused");
    return 0;
  }
  bool tty = ::isatty(1);
  const char* bold = tty ? "\033[1m" : "";
  const char* red = tty ? "\033[31m" : "";
  const char* dim = tty ? "\033[2m" : "";
  const char* off = tty ? "\033[0m" : "";
  std::string server;
  for (const RefusalGroup& g : groups) {
    if (g.server != server) {
      server = g.server;
      std::printf("%s%s%s\n", bold, server.c_str(), off);
    }
    std::printf("  %s%-9s%s %5llux  %s\n", red, g.kind.c_str(), off,
                static_cast<unsigned long long>(g.count), g.what.c_str());
    std::printf("  %s          first %s, last %s%s\n", dim, g.first.c_str(), g.last.c_str(), off);
    std::printf("  %s          next: %s%s\n", dim, g.next.c_str(), off);
  }
  return 0;
}

}  // namespace

int cmd_log(const Args& args) {
  if (!args.empty() && args[0] == "verify") return verify(Args(args.begin() + 1, args.end()));
  LogOptions o;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string* dst) {
      if (i + 1 >= args.size() || args[i + 1].empty()) return false;
      *dst = args[++i];
      return true;
    };
    if (a == "--help" || a == "-h") {
      log_usage();
      return 0;
    } else if (a == "--server") {
      if (!value(&o.server)) return fail(125, "--server needs a NAME");
    } else if (a == "--event") {
      if (!value(&o.event_prefix)) return fail(125, "--event needs a PREFIX");
    } else if (a == "--since") {
      std::string s;
      if (!value(&s) || !parse_since(s, &o.since))
        return fail(125, "--since needs a time like 2026-11-22T10:00:00Z, 2026-11-22, 15m, 2h or 7d");
    } else if (a == "--follow" || a == "-f") {
      o.follow = true;
    } else if (a == "--json") {
      o.json = true;
    } else if (a == "--blocked") {
      o.blocked = true;
    } else if (a == "--format") {
      std::string f;
      if (!value(&f) || !parse_export_format(f, &o.format))
        return fail(125, "--format wants rfc5424 or otel");
    } else {
      return fail(125, "unknown option '" + a + "' for 'mcpcell log'", "see 'mcpcell log --help'");
    }
  }
  std::filesystem::path path = state_dir() / "audit.jsonl";
  Reader reader(o);
  if (o.blocked) return blocked_summary(reader, o);
  // Rotated files first, oldest first; the current file last (it is the one --follow watches).
  std::string data;
  size_t offset = 0;
  for (const auto& file : audit_trail_files(state_dir())) {
    if (file == path) break;
    std::string old;
    size_t off = 0;
    if (read_file(file, &old)) reader.consume(old, &off);
  }
  if (!read_file(path, &data) && !o.follow) {
    std::fprintf(stderr, "mcpcell: no audit log yet at %s\n", path.c_str());
    return 0;
  }
  reader.consume(data, &offset);
  if (!o.follow) {
    reader.finish_partial(data, offset);
    return 0;
  }
  std::fflush(stdout);
  // Follow by polling the size from where we stopped: simple, and costs nothing noticeable at a
  // 200 ms period. A file that shrank was replaced: start over.
  std::string pending = data.substr(offset);
  size_t file_pos = data.size();
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) continue;
    std::fseek(f, 0, SEEK_END);
    long size = std::ftell(f);
    if (size >= 0 && static_cast<size_t>(size) < file_pos) {
      file_pos = 0;
      pending.clear();
    }
    if (size >= 0 && static_cast<size_t>(size) > file_pos) {
      std::fseek(f, static_cast<long>(file_pos), SEEK_SET);
      std::string chunk(static_cast<size_t>(size) - file_pos, '\0');
      size_t got = std::fread(chunk.data(), 1, chunk.size(), f);
      chunk.resize(got);
      file_pos += got;
      pending += chunk;
      size_t off = 0;
      reader.consume(pending, &off);
      pending.erase(0, off);
      std::fflush(stdout);
    }
    std::fclose(f);
  }
}

}  // namespace mcpcell
