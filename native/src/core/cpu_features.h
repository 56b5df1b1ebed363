// Copyright (c) 2026 bitnet contributors. MIT license.
#pragma once

#include <string>

namespace bitnet {

struct CpuFeatures {
  std::string architecture;  // "x64", "arm64", or the compiler's name for others
  std::string vendor;
  std::string brand;
  // x86
  bool sse42 = false, avx = false, avx2 = false, fma = false, f16c = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false;
  bool avx512vnni = false, avx512bf16 = false, avxvnni = false;
  bool os_avx = false, os_avx512 = false;  // XSAVE state enabled by the OS
  // arm64
  bool neon = false, dotprod = false, i8mm = false, fp16 = false;
};

// Kernel tiers, lowest to highest. The dispatcher never picks a tier whose
// instructions the CPU or the OS lacks.
enum class IsaTier { generic = 0, neon = 1, avx2 = 2, avx512 = 3 };

const CpuFeatures& cpu_features();
const char* isa_tier_name(IsaTier tier);
bool parse_isa_tier(const std::string& name, IsaTier* tier);
// Highest tier this binary has kernels for and this CPU can run.
IsaTier best_supported_tier();
bool tier_supported(IsaTier tier);

}  // namespace bitnet
