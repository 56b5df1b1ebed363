// Copyright (c) 2026 bitnet contributors. MIT license.
#pragma once

#include <stdexcept>
#include <string>

namespace bitnet {

// Which JS error class the napi layer should throw for this error.
enum class ErrorKind { generic, type, range };

// Every native failure is one of these; the napi layer maps it to a JS error
// with `code` = code_ and the message unchanged ("[op] what is wrong, values").
class Error : public std::runtime_error {
 public:
  Error(std::string code, const std::string& message, ErrorKind kind = ErrorKind::generic)
      : std::runtime_error(message), code_(std::move(code)), kind_(kind) {}
  const std::string& code() const { return code_; }
  ErrorKind kind() const { return kind_; }

 private:
  std::string code_;
  ErrorKind kind_;
};

inline Error invalid_argument(const std::string& message) {
  return Error("ERR_BITNET_INVALID_ARGUMENT", message, ErrorKind::type);
}
inline Error out_of_range(const std::string& message) {
  return Error("ERR_BITNET_OUT_OF_RANGE", message, ErrorKind::range);
}
inline Error out_of_memory(const std::string& message) {
  return Error("ERR_BITNET_OUT_OF_MEMORY", message, ErrorKind::range);
}

}  // namespace bitnet
