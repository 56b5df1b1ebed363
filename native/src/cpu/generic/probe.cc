// Copyright (c) 2026 bitnet contributors. MIT license.
// Portable bodies of the probe kernels. Plain C++ the compiler may vectorise
// with the baseline ISA only; the oracle every tier is checked against.
#include "cpu/kernels.h"

namespace bitnet {
namespace {

double stream_sum_f32(const float* data, size_t count) {
  // Eight independent accumulators keep the loop bound by loads, not by the add latency.
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t i = 0;
  for (; i + 8 <= count; i += 8)
    for (int j = 0; j < 8; ++j) acc[j] += data[i + j];
  double total = 0;
  for (int j = 0; j < 8; ++j) total += acc[j];
  for (; i < count; ++i) total += data[i];
  return total;
}

void stream_triad_f32(float* a, const float* b, const float* c, float scalar, size_t count) {
  for (size_t i = 0; i < count; ++i) a[i] = b[i] + scalar * c[i];
}

double fma_peak_f32(size_t iterations, float* sink) {
  float acc[16];
  for (int j = 0; j < 16; ++j) acc[j] = 1.0f + 0.001f * j;
  const float m = 0.999999f, a = 1e-7f;
  for (size_t i = 0; i < iterations; ++i)
    for (int j = 0; j < 16; ++j) acc[j] = acc[j] * m + a;
  float total = 0;
  for (int j = 0; j < 16; ++j) total += acc[j];
  *sink = total;
  return 2.0 * 16.0 * static_cast<double>(iterations);
}

}  // namespace

void fill_generic_kernels(KernelTable& table) {
  table.stream_sum_f32 = stream_sum_f32;
  table.stream_triad_f32 = stream_triad_f32;
  table.fma_peak_f32 = fma_peak_f32;
}

}  // namespace bitnet
