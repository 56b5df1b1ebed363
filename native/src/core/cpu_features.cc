// Copyright (c) 2026 bitnet contributors. MIT license.
#include "core/cpu_features.h"

#include <cstring>

#if defined(__x86_64__) || defined(_M_X64)
#define BITNET_X86 1
#if defined(_MSC_VER)
#include <intrin.h>
#else
#include <cpuid.h>
#endif
#endif

#if defined(__aarch64__)
#if defined(__linux__)
#include <sys/auxv.h>
#elif defined(__APPLE__)
#include <sys/sysctl.h>
#endif
#endif

namespace bitnet {
namespace {

#if defined(BITNET_X86)
void cpuid(unsigned leaf, unsigned subleaf, unsigned regs[4]) {
#if defined(_MSC_VER)
  int r[4];
  __cpuidex(r, static_cast<int>(leaf), static_cast<int>(subleaf));
  for (int i = 0; i < 4; ++i) regs[i] = static_cast<unsigned>(r[i]);
#else
  __cpuid_count(leaf, subleaf, regs[0], regs[1], regs[2], regs[3]);
#endif
}

unsigned long long xgetbv0() {
#if defined(_MSC_VER)
  return _xgetbv(0);
#else
  unsigned eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<unsigned long long>(edx) << 32) | eax;
#endif
}

void detect_x86(CpuFeatures& f) {
  f.architecture = "x64";
  unsigned r[4];
  cpuid(0, 0, r);
  unsigned max_leaf = r[0];
  char vendor[13] = {0};
  std::memcpy(vendor + 0, &r[1], 4);
  std::memcpy(vendor + 4, &r[3], 4);
  std::memcpy(vendor + 8, &r[2], 4);
  f.vendor = vendor;

  cpuid(0x80000000u, 0, r);
  if (r[0] >= 0x80000004u) {
    char brand[49] = {0};
    for (unsigned i = 0; i < 3; ++i) {
      cpuid(0x80000002u + i, 0, r);
      std::memcpy(brand + 16 * i, r, 16);
    }
    f.brand = brand;
    size_t start = f.brand.find_first_not_of(' ');
    f.brand = start == std::string::npos ? "" : f.brand.substr(start);
    while (!f.brand.empty() && f.brand.back() == ' ') f.brand.pop_back();
  }

  cpuid(1, 0, r);
  f.sse42 = r[2] & (1u << 20);
  f.fma = r[2] & (1u << 12);
  f.f16c = r[2] & (1u << 29);
  bool osxsave = r[2] & (1u << 27);
  f.avx = r[2] & (1u << 28);
  if (osxsave) {
    unsigned long long xcr0 = xgetbv0();
    f.os_avx = (xcr0 & 0x6) == 0x6;             // XMM and YMM state
    f.os_avx512 = (xcr0 & 0xe6) == 0xe6;        // plus opmask, ZMM_Hi256, Hi16_ZMM
  }
  if (max_leaf >= 7) {
    cpuid(7, 0, r);
    f.avx2 = r[1] & (1u << 5);
    f.avx512f = r[1] & (1u << 16);
    f.avx512dq = r[1] & (1u << 17);
    f.avx512bw = r[1] & (1u << 30);
    f.avx512vl = r[1] & (1u << 31);
    f.avx512vnni = r[2] & (1u << 11);
    cpuid(7, 1, r);
    f.avxvnni = r[0] & (1u << 4);
    f.avx512bf16 = r[0] & (1u << 5);
  }
  // A feature the OS does not save across context switches is unusable.
  if (!f.os_avx) f.avx = f.avx2 = f.fma = f.f16c = f.avxvnni = false;
  if (!f.os_avx512) f.avx512f = f.avx512bw = f.avx512vl = f.avx512dq = f.avx512vnni = f.avx512bf16 = false;
}
#endif

#if defined(__aarch64__)
void detect_arm(CpuFeatures& f) {
  f.architecture = "arm64";
  f.neon = true;  // Advanced SIMD is mandatory on AArch64.
#if defined(__linux__)
  unsigned long hwcap = getauxval(AT_HWCAP);
  unsigned long hwcap2 = getauxval(AT_HWCAP2);
  f.fp16 = (hwcap & (1ul << 9)) && (hwcap & (1ul << 10));  // FPHP and ASIMDHP
  f.dotprod = hwcap & (1ul << 20);                          // ASIMDDP
  f.i8mm = hwcap2 & (1ul << 13);                            // I8MM
#elif defined(__APPLE__)
  auto flag = [](const char* name) {
    int value = 0;
    size_t size = sizeof(value);
    return sysctlbyname(name, &value, &size, nullptr, 0) == 0 && value != 0;
  };
  f.fp16 = flag("hw.optional.arm.FEAT_FP16");
  f.dotprod = flag("hw.optional.arm.FEAT_DotProd");
  f.i8mm = flag("hw.optional.arm.FEAT_I8MM");
  char brand[128] = {0};
  size_t size = sizeof(brand);
  if (sysctlbyname("machdep.cpu.brand_string", brand, &size, nullptr, 0) == 0) f.brand = brand;
  f.vendor = "Apple";
#endif
}
#endif

CpuFeatures detect() {
  CpuFeatures f;
#if defined(BITNET_X86)
  detect_x86(f);
#elif defined(__aarch64__)
  detect_arm(f);
#else
  f.architecture = "unknown";
#endif
  return f;
}

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

const char* isa_tier_name(IsaTier tier) {
  switch (tier) {
    case IsaTier::generic: return "generic";
    case IsaTier::neon: return "neon";
    case IsaTier::avx2: return "avx2";
    case IsaTier::avx512: return "avx512";
  }
  return "generic";
}

bool parse_isa_tier(const std::string& name, IsaTier* tier) {
  static const IsaTier all[] = {IsaTier::generic, IsaTier::neon, IsaTier::avx2, IsaTier::avx512};
  for (IsaTier candidate : all) {
    if (name == isa_tier_name(candidate)) {
      *tier = candidate;
      return true;
    }
  }
  return false;
}

bool tier_supported(IsaTier tier) {
  const CpuFeatures& f = cpu_features();
  switch (tier) {
    case IsaTier::generic: return true;
#if defined(BITNET_HAVE_NEON_TIER)
    case IsaTier::neon: return f.neon;
#else
    case IsaTier::neon: return false;
#endif
#if defined(BITNET_HAVE_X86_TIERS)
    case IsaTier::avx2: return f.avx2 && f.fma && f.f16c;
    case IsaTier::avx512: return f.avx2 && f.fma && f.f16c && f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq;
#else
    case IsaTier::avx2: return false;
    case IsaTier::avx512: return false;
#endif
  }
  return false;
}

IsaTier best_supported_tier() {
  static const IsaTier order[] = {IsaTier::avx512, IsaTier::avx2, IsaTier::neon};
  for (IsaTier tier : order)
    if (tier_supported(tier)) return tier;
  return IsaTier::generic;
}

}  // namespace bitnet
