// Copyright (c) 2026 bitnet contributors. MIT license.
// Built where Metal is not: the `metal` area reports it unavailable with the
// reason, so @bitnet/device can list it as absent instead of failing to load.
#include "napi/convert.h"
#include "napi/registry.h"

#if defined(__linux__)
#define BITNET_PLATFORM_NAME "Linux"
#elif defined(_WIN32)
#define BITNET_PLATFORM_NAME "Windows"
#else
#define BITNET_PLATFORM_NAME "an unsupported platform"
#endif

namespace bitnet {
namespace napi {
namespace {

Napi::Value metal_status(const Napi::CallbackInfo& info) {
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("available", false);
#if defined(__APPLE__)
  out.Set("reason", "this build of @bitnet/native was compiled without the Metal host code");
#else
  out.Set("reason", "Metal needs macOS on Apple hardware; this is " BITNET_PLATFORM_NAME);
#endif
  return out;
}

void init_metal(Napi::Env env, Napi::Object exports) {
  exports.Set("metalStatus", Napi::Function::New(env, metal_status, "metalStatus"));
}

}  // namespace
}  // namespace napi
}  // namespace bitnet

BITNET_NAPI_AREA(metal, bitnet::napi::init_metal);
