// Copyright (c) 2026 bitnet contributors. MIT license.
// AVX2 + FMA bodies of the probe kernels. Compiled with -mavx2 -mfma only.
#include <immintrin.h>

#include "cpu/kernels.h"

namespace bitnet {
namespace {

double stream_sum_f32(const float* data, size_t count) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  size_t i = 0;
  for (; i + 32 <= count; i += 32) {
    a0 = _mm256_add_ps(a0, _mm256_loadu_ps(data + i));
    a1 = _mm256_add_ps(a1, _mm256_loadu_ps(data + i + 8));
    a2 = _mm256_add_ps(a2, _mm256_loadu_ps(data + i + 16));
    a3 = _mm256_add_ps(a3, _mm256_loadu_ps(data + i + 24));
  }
  __m256 sum = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, sum);
  double total = 0;
  for (float lane : lanes) total += lane;
  for (; i < count; ++i) total += data[i];
  return total;
}

void stream_triad_f32(float* a, const float* b, const float* c, float scalar, size_t count) {
  const __m256 s = _mm256_set1_ps(scalar);
  size_t i = 0;
  for (; i + 8 <= count; i += 8)
    _mm256_storeu_ps(a + i, _mm256_fmadd_ps(s, _mm256_loadu_ps(c + i), _mm256_loadu_ps(b + i)));
  for (; i < count; ++i) a[i] = b[i] + scalar * c[i];
}

double fma_peak_f32(size_t iterations, float* sink) {
  __m256 acc[10];
  for (int j = 0; j < 10; ++j) acc[j] = _mm256_set1_ps(1.0f + 0.001f * j);
  const __m256 m = _mm256_set1_ps(0.999999f), a = _mm256_set1_ps(1e-7f);
  for (size_t i = 0; i < iterations; ++i)
    for (int j = 0; j < 10; ++j) acc[j] = _mm256_fmadd_ps(acc[j], m, a);
  __m256 total = acc[0];
  for (int j = 1; j < 10; ++j) total = _mm256_add_ps(total, acc[j]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, total);
  *sink = lanes[0];
  return 2.0 * 8.0 * 10.0 * static_cast<double>(iterations);
}

}  // namespace

void fill_avx2_kernels(KernelTable& table) {
  table.stream_sum_f32 = stream_sum_f32;
  table.stream_triad_f32 = stream_triad_f32;
  table.fma_peak_f32 = fma_peak_f32;
}

}  // namespace bitnet
