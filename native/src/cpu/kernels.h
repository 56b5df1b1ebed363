// Copyright (c) 2026 bitnet contributors. MIT license.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/cpu_features.h"

namespace bitnet {

// One function pointer per kernel. The generic tier fills every entry; each
// SIMD tier overwrites only the entries it has a faster body for (ggml's
// "generic fallback" model, resolved once at start-up instead of by macro).
// Kernels are single-threaded over the range they are given; callers split
// work over the thread pool.
struct KernelTable {
  // Memory-bandwidth probe: read-only streaming sum, and STREAM triad a = b + s·c.
  double (*stream_sum_f32)(const float* data, size_t count);
  void (*stream_triad_f32)(float* a, const float* b, const float* c, float scalar, size_t count);
  // Register-resident fused multiply-add loop: returns the flops executed.
  double (*fma_peak_f32)(size_t iterations, float* sink);
};

// Fillers, one per tier; defined in cpu/<tier>/ files.
void fill_generic_kernels(KernelTable& table);
#if defined(BITNET_HAVE_X86_TIERS)
void fill_avx2_kernels(KernelTable& table);
void fill_avx512_kernels(KernelTable& table);
void fill_avx512vnni_kernels(KernelTable& table);
#endif
#if defined(BITNET_HAVE_NEON_TIER)
void fill_neon_kernels(KernelTable& table);
#endif

// The table for the selected tier (BITNET_CPU_ISA or the best the CPU runs).
const KernelTable& kernels();
// A table for a specific tier, for tests comparing tiers in one process.
// Throws when the CPU cannot run that tier.
const KernelTable& kernels_for(IsaTier tier);

struct IsaSelection {
  IsaTier selected;
  IsaTier best;
  bool overridden;        // BITNET_CPU_ISA was set and honoured
  const char* warning;    // non-null when BITNET_CPU_ISA was ignored or lowered
};
const IsaSelection& isa_selection();

}  // namespace bitnet
