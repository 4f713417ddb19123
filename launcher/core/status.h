// A small success-or-error type for code on the data path and in setup steps, where exceptions are not
// used (ninja style: a bool and an error string, with a name for the step that failed).
#pragma once

#include <string>
#include <utility>

namespace mcpcell {

class Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status Error(std::string message) { return Status(std::move(message)); }

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const std::string& message() const { return message_; }

 private:
  explicit Status(std::string message) : failed_(true), message_(std::move(message)) {}
  bool failed_ = false;
  std::string message_;
};

}  // namespace mcpcell
