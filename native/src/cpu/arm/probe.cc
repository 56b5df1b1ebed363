// Copyright (c) 2026 bitnet contributors. MIT license.
// NEON bodies of the probe kernels (AArch64, where NEON is baseline).
#include <arm_neon.h>

#include "cpu/kernels.h"

namespace bitnet {
namespace {

double stream_sum_f32(const float* data, size_t count) {
  float32x4_t a0 = vdupq_n_f32(0), a1 = a0, a2 = a0, a3 = a0;
  size_t i = 0;
  for (; i + 16 <= count; i += 16) {
    a0 = vaddq_f32(a0, vld1q_f32(data + i));
    a1 = vaddq_f32(a1, vld1q_f32(data + i + 4));
    a2 = vaddq_f32(a2, vld1q_f32(data + i + 8));
    a3 = vaddq_f32(a3, vld1q_f32(data + i + 12));
  }
  double total = vaddvq_f32(vaddq_f32(vaddq_f32(a0, a1), vaddq_f32(a2, a3)));
  for (; i < count; ++i) total += data[i];
  return total;
}

void stream_triad_f32(float* a, const float* b, const float* c, float scalar, size_t count) {
  size_t i = 0;
  for (; i + 4 <= count; i += 4) vst1q_f32(a + i, vfmaq_n_f32(vld1q_f32(b + i), vld1q_f32(c + i), scalar));
  for (; i < count; ++i) a[i] = b[i] + scalar * c[i];
}

double fma_peak_f32(size_t iterations, float* sink) {
  float32x4_t acc[16];
  for (int j = 0; j < 16; ++j) acc[j] = vdupq_n_f32(1.0f + 0.001f * j);
  const float32x4_t m = vdupq_n_f32(0.999999f), a = vdupq_n_f32(1e-7f);
  for (size_t i = 0; i < iterations; ++i)
    for (int j = 0; j < 16; ++j) acc[j] = vfmaq_f32(a, acc[j], m);
  float32x4_t total = acc[0];
  for (int j = 1; j < 16; ++j) total = vaddq_f32(total, acc[j]);
  *sink = vaddvq_f32(total);
  return 2.0 * 4.0 * 16.0 * static_cast<double>(iterations);
}

}  // namespace

void fill_neon_kernels(KernelTable& table) {
  table.stream_sum_f32 = stream_sum_f32;
  table.stream_triad_f32 = stream_triad_f32;
  table.fma_peak_f32 = fma_peak_f32;
}

}  // namespace bitnet
