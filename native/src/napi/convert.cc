// Copyright (c) 2026 bitnet contributors. MIT license.
#include "napi/convert.h"

#include <atomic>
#include <cmath>
#include <sstream>

namespace bitnet {
namespace napi {

void throw_js(Napi::Env env, const bitnet::Error& error) {
  Napi::Error js;
  switch (error.kind()) {
    case ErrorKind::type: js = Napi::TypeError::New(env, error.what()); break;
    case ErrorKind::range: js = Napi::RangeError::New(env, error.what()); break;
    default: js = Napi::Error::New(env, error.what()); break;
  }
  js.Set("code", Napi::String::New(env, error.code()));
  throw js;
}

std::string format_number(double value) {
  std::ostringstream out;
  out.precision(17);
  out << value;
  std::string text = out.str();
  // Shortest form that round-trips, as JS does for typical values.
  for (int precision = 1; precision <= 17; ++precision) {
    std::ostringstream shorter;
    shorter.precision(precision);
    shorter << value;
    if (std::stod(shorter.str()) == value) return shorter.str();
  }
  return text;
}

ByteSpan bytes_of(const Napi::Value& value, const char* op, const char* name) {
  ByteSpan span;
  if (value.IsArrayBuffer()) {
    auto buffer = value.As<Napi::ArrayBuffer>();
    span.data = static_cast<uint8_t*>(buffer.Data());
    span.length = buffer.ByteLength();
  } else if (value.IsTypedArray()) {
    auto array = value.As<Napi::TypedArray>();
    span.data = static_cast<uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
    span.length = array.ByteLength();
  } else if (value.IsDataView()) {
    auto view = value.As<Napi::DataView>();
    span.data = static_cast<uint8_t*>(view.ArrayBuffer().Data()) + view.ByteOffset();
    span.length = view.ByteLength();
  } else {
    throw invalid_argument(std::string("[") + op + "] " + name + " must be an ArrayBuffer, TypedArray or DataView");
  }
  return span;
}

template <typename T>
T* typed_data(const Napi::Value& value, napi_typedarray_type type, const char* op, const char* name, size_t* count) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != type)
    throw invalid_argument(std::string("[") + op + "] " + name + " has the wrong array type");
  auto array = value.As<Napi::TypedArray>();
  *count = array.ElementLength();
  return reinterpret_cast<T*>(static_cast<uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset());
}

template float* typed_data<float>(const Napi::Value&, napi_typedarray_type, const char*, const char*, size_t*);
template double* typed_data<double>(const Napi::Value&, napi_typedarray_type, const char*, const char*, size_t*);
template int8_t* typed_data<int8_t>(const Napi::Value&, napi_typedarray_type, const char*, const char*, size_t*);
template uint8_t* typed_data<uint8_t>(const Napi::Value&, napi_typedarray_type, const char*, const char*, size_t*);
template int32_t* typed_data<int32_t>(const Napi::Value&, napi_typedarray_type, const char*, const char*, size_t*);
template uint16_t* typed_data<uint16_t>(const Napi::Value&, napi_typedarray_type, const char*, const char*, size_t*);

double number_arg(const Napi::CallbackInfo& info, size_t index, const char* op, const char* name) {
  if (index >= info.Length() || !info[index].IsNumber())
    throw invalid_argument(std::string("[") + op + "] " + name + " must be a number");
  return info[index].As<Napi::Number>().DoubleValue();
}

uint64_t size_arg(const Napi::Value& value, const char* op, const char* name) {
  if (!value.IsNumber()) throw invalid_argument(std::string("[") + op + "] " + name + " must be a number");
  double number = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(number) || number < 0 || std::floor(number) != number || number > 9007199254740991.0)
    throw out_of_range(std::string("[") + op + "] " + name + " must be a non-negative integer, got " +
                       value.ToString().Utf8Value());
  return static_cast<uint64_t>(number);
}

namespace {
std::atomic<uint64_t> external_limit{uint64_t(1) << 32};
}

uint64_t max_external_bytes() { return external_limit.load(std::memory_order_relaxed); }
void set_max_external_bytes(uint64_t bytes) { external_limit.store(bytes, std::memory_order_relaxed); }

void check_external_bytes(uint64_t bytes, const char* op) {
  if (bytes > max_external_bytes())
    throw out_of_memory(std::string("[") + op + "] " + std::to_string(bytes) +
                        " bytes is more than one ArrayBuffer can hold in this Node.js (buffer.constants.MAX_LENGTH = " +
                        std::to_string(max_external_bytes()) + ")");
}

double option_number(const Napi::Value& options, const char* key, double fallback, const char* op) {
  if (options.IsUndefined() || options.IsNull()) return fallback;
  if (!options.IsObject()) throw invalid_argument(std::string("[") + op + "] options must be an object");
  Napi::Value value = options.As<Napi::Object>().Get(key);
  if (value.IsUndefined()) return fallback;
  if (!value.IsNumber()) throw invalid_argument(std::string("[") + op + "] options." + key + " must be a number");
  return value.As<Napi::Number>().DoubleValue();
}

}  // namespace napi
}  // namespace bitnet
