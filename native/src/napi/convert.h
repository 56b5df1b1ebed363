// Copyright (c) 2026 bitnet contributors. MIT license.
// The only place N-API types meet kernel types: argument checks and mapping
// C++ errors to typed JS errors (`code` = ERR_BITNET_*, "[op] message").
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>

#include "core/error.h"

namespace bitnet {
namespace napi {

// Throws a JS error of the right class with `code` set.
[[noreturn]] void throw_js(Napi::Env env, const bitnet::Error& error);

// Runs body(); any bitnet::Error or std::exception becomes a JS exception.
template <typename Body>
Napi::Value guarded(const Napi::CallbackInfo& info, Body body) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const bitnet::Error& error) {
    throw_js(info.Env(), error);
  } catch (const std::bad_alloc&) {
    throw_js(info.Env(), out_of_memory("[native] out of memory"));
  } catch (const std::exception& error) {
    throw_js(info.Env(), bitnet::Error("ERR_BITNET_INTERNAL", std::string("[native] ") + error.what()));
  }
}

// Runs body() for a Promise-returning binding: errors reject the promise instead of throwing.
template <typename Body>
Napi::Value guarded_async(const Napi::CallbackInfo& info, Body body) {
  Napi::Env env = info.Env();
  try {
    return guarded(info, body);
  } catch (const Napi::Error& error) {
    auto deferred = Napi::Promise::Deferred::New(env);
    deferred.Reject(error.Value());
    return deferred.Promise();
  }
}

// Node-API creates external ArrayBuffers through node::Buffer, which refuses more
// than buffer.constants.MAX_LENGTH bytes (2^32 on Node 20) and then runs the
// finalizer itself: node-addon-api would free the finalizer data a second time
// (abort). Every external buffer is checked against this first. The loader sets
// it from buffer.constants.MAX_LENGTH; 2^32 until then.
uint64_t max_external_bytes();
void set_max_external_bytes(uint64_t bytes);
// Throws ERR_BITNET_OUT_OF_MEMORY when `bytes` cannot be one external ArrayBuffer.
void check_external_bytes(uint64_t bytes, const char* op);

// A double as JS prints it ("1.5", not "1.500000").
std::string format_number(double value);

struct ByteSpan {
  uint8_t* data = nullptr;
  size_t length = 0;
};

// An ArrayBuffer, a TypedArray or a DataView as raw bytes.
ByteSpan bytes_of(const Napi::Value& value, const char* op, const char* name);
// A typed array of exactly `type`, as a pointer to its first element.
template <typename T>
T* typed_data(const Napi::Value& value, napi_typedarray_type type, const char* op, const char* name, size_t* count);

double number_arg(const Napi::CallbackInfo& info, size_t index, const char* op, const char* name);
// Non-negative integer ≤ 2^53 - 1.
uint64_t size_arg(const Napi::Value& value, const char* op, const char* name);
// Reads an optional numeric property of an options object; `fallback` when absent or undefined.
double option_number(const Napi::Value& options, const char* key, double fallback, const char* op);

}  // namespace napi
}  // namespace bitnet
