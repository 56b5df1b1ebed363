// Copyright (c) 2026 bitnet contributors. MIT license.
// Each area (core, memory, tensor, …) registers one Init function with
// BITNET_NAPI_AREA; module.cc calls them all in name order. Adding an area
// never edits a shared file.
#pragma once

#include <napi.h>

namespace bitnet {
namespace napi {

using AreaInit = void (*)(Napi::Env env, Napi::Object exports);

struct AreaRegistrar {
  AreaRegistrar(const char* name, AreaInit init);
};

}  // namespace napi
}  // namespace bitnet

#define BITNET_NAPI_AREA(name, init) \
  static ::bitnet::napi::AreaRegistrar bitnet_napi_area_##name(#name, init)
