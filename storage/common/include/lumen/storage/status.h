// Status: an error as a value, with the reason spelled out. Used inside lumen;
// the public API turns it into typed exceptions at the boundary.
#pragma once

#include <string>
#include <utility>

namespace lumen {

enum class StatusCode {
  kOk,
  kNotFound,
  kAlreadyExists,
  kStoreFull,       // no room even after eviction and spilling
  kObjectTooLarge,  // larger than the whole store
  kInvalid,         // bad argument or corrupt data
  kTimedOut,
  kIOError,
  kDisconnected,    // the other process went away
  kPermissionDenied,  // the caller may not do this to that object
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status OK() { return {}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const { return ok() ? "OK" : message_; }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

}  // namespace lumen
