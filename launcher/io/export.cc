#include "io/export.h"

#include <unistd.h>

#include <cstdio>
#include <ctime>

namespace mcpcell {
namespace {

std::string hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "-";
  return buf;
}

// RFC 5424 PARAM-VALUE escaping: '"', '\' and ']' get a backslash.
std::string sd_escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '"' || c == '\\' || c == ']') out += '\\';
    out += c;
  }
  return out;
}

// SD-NAME: printable US-ASCII except '=', ' ', ']', '"'; at most 32 characters.
std::string sd_name(const std::string& k) {
  std::string out;
  for (char c : k) {
    bool ok = c > 32 && c < 127 && c != '=' && c != ']' && c != '"';
    out += ok ? c : '_';
  }
  return out.substr(0, 32);
}

std::string value_text(const nlohmann::json& v) {
  return v.is_string() ? v.get<std::string>()
                       : v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// "2026-11-22T03:35:19.123456Z" -> nanoseconds since the epoch, as a decimal string.
std::string unix_nanos(const std::string& ts) {
  tm t{};
  int usec = 0;
  if (std::sscanf(ts.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%6dZ", &t.tm_year, &t.tm_mon, &t.tm_mday,
                  &t.tm_hour, &t.tm_min, &t.tm_sec, &usec) < 6)
    return "0";
  t.tm_year -= 1900;
  t.tm_mon -= 1;
  long long secs = static_cast<long long>(::timegm(&t));
  return std::to_string(secs * 1000000000LL + static_cast<long long>(usec) * 1000LL);
}

}  // namespace

bool parse_export_format(const std::string& name, ExportFormat* out) {
  if (name == "rfc5424" || name == "syslog")
    *out = ExportFormat::rfc5424;
  else if (name == "otel" || name == "opentelemetry")
    *out = ExportFormat::otel;
  else
    return false;
  return true;
}

int event_severity(const std::string& ev) {
  if (ev == "policy.block" || ev == "sandbox.denied" || ev == "net.deny" ||
      ev == "pin.quarantined" || ev == "pin.changed")
    return 4;  // warning
  if (ev == "policy.redact" || ev == "policy.warn" || ev == "message.invalid" ||
      ev == "message.oversize")
    return 5;                                              // notice
  if (ev == "message" || ev == "server.stderr") return 7;  // debug
  return 6;                                                // informational
}

std::string export_record(const nlohmann::json& r, ExportFormat format) {
  std::string event = r.value("event", "");
  int sev = event_severity(event);
  if (format == ExportFormat::rfc5424) {
    // <PRI>VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] MSG; facility user (1).
    std::string line = "<" + std::to_string(8 + sev) + ">1 " + r.value("ts", "-") + " " +
                       hostname() + " mcpcell - " + (event.empty() ? "-" : sd_name(event)) +
                       " [mcpcell@32473";
    for (auto it = r.begin(); it != r.end(); ++it) {
      if (it.key() == "ts" || it.key() == "prev") continue;
      line += " " + sd_name(it.key()) + "=\"" + sd_escape(value_text(*it)) + "\"";
    }
    line += "] " + r.value("server", "-") + " " + event;
    return line;
  }
  // OpenTelemetry log data model (Timestamp, SeverityText/Number, Body, Resource, Attributes).
  static const char* kSevText[] = {"FATAL", "FATAL", "ERROR", "ERROR",
                                   "WARN",  "INFO2", "INFO",  "DEBUG"};
  static const int kSevNumber[] = {21, 21, 17, 17, 13, 10, 9, 5};
  nlohmann::json attrs = nlohmann::json::object();
  for (auto it = r.begin(); it != r.end(); ++it) {
    if (it.key() == "ts") continue;
    attrs["mcpcell." + it.key()] = *it;
  }
  nlohmann::json out = {{"Timestamp", unix_nanos(r.value("ts", ""))},
                        {"SeverityText", kSevText[sev]},
                        {"SeverityNumber", kSevNumber[sev]},
                        {"Body", event},
                        {"Resource", {{"service.name", "mcpcell"}, {"host.name", hostname()}}},
                        {"Attributes", attrs}};
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace mcpcell
