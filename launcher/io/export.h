// Audit records in the shapes log collectors take: RFC 5424 syslog lines with the record as
// structured data (SD-ID mcpcell@32473, the documentation enterprise number of RFC 5612), and the
// OpenTelemetry log data model as one JSON object per line. Pure formatting.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace mcpcell {

enum class ExportFormat { none, rfc5424, otel };

bool parse_export_format(const std::string& name, ExportFormat* out);
std::string export_record(const nlohmann::json& record, ExportFormat format);

// syslog severity (RFC 5424 numeric) for an audit event name.
int event_severity(const std::string& event);

}  // namespace mcpcell
