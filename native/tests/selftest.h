// Copyright (c) 2026 bitnet contributors. MIT license.
// Kernel self-test without Node: every SIMD tier against the generic kernels,
// in a plain executable that also cross-compiles for aarch64 and runs under
// qemu-aarch64, the only way to execute the NEON kernels on an x86 machine.
#pragma once

#include <string>

#include "core/cpu_features.h"

namespace bitnet {
namespace selftest {

// Returns an empty string on success, else what went wrong.
using Check = std::string (*)(IsaTier tier);

struct Registrar {
  Registrar(const char* name, Check check);
};

}  // namespace selftest
}  // namespace bitnet

#define BITNET_SELFTEST(name, check) static ::bitnet::selftest::Registrar bitnet_selftest_##name(#name, check)
