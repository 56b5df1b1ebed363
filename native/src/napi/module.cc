// Copyright (c) 2026 bitnet contributors. MIT license.
#include <napi.h>

#include <map>
#include <string>

#include "napi/registry.h"

namespace bitnet {
namespace napi {
namespace {

std::map<std::string, AreaInit>& areas() {
  static std::map<std::string, AreaInit> registered;
  return registered;
}

}  // namespace

Napi::Object init(Napi::Env env, Napi::Object exports) {
  for (const auto& [name, area_init] : areas()) area_init(env, exports);
  return exports;
}

AreaRegistrar::AreaRegistrar(const char* name, AreaInit init) { areas()[name] = init; }

}  // namespace napi
}  // namespace bitnet

static Napi::Object InitBitnet(Napi::Env env, Napi::Object exports) { return bitnet::napi::init(env, exports); }

NODE_API_MODULE(bitnet, InitBitnet)
