// Copyright (c) 2026 bitnet contributors. MIT license.
// AVX-512 (F/BW/VL/DQ) bodies of the probe kernels.
#include <immintrin.h>

#include "cpu/kernels.h"

namespace bitnet {
namespace {

double stream_sum_f32(const float* data, size_t count) {
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  size_t i = 0;
  for (; i + 64 <= count; i += 64) {
    a0 = _mm512_add_ps(a0, _mm512_loadu_ps(data + i));
    a1 = _mm512_add_ps(a1, _mm512_loadu_ps(data + i + 16));
    a2 = _mm512_add_ps(a2, _mm512_loadu_ps(data + i + 32));
    a3 = _mm512_add_ps(a3, _mm512_loadu_ps(data + i + 48));
  }
  double total = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
  for (; i < count; ++i) total += data[i];
  return total;
}

void stream_triad_f32(float* a, const float* b, const float* c, float scalar, size_t count) {
  const __m512 s = _mm512_set1_ps(scalar);
  size_t i = 0;
  for (; i + 16 <= count; i += 16)
    _mm512_storeu_ps(a + i, _mm512_fmadd_ps(s, _mm512_loadu_ps(c + i), _mm512_loadu_ps(b + i)));
  if (i < count) {
    __mmask16 mask = static_cast<__mmask16>((1u << (count - i)) - 1);
    _mm512_mask_storeu_ps(a + i, mask,
                          _mm512_fmadd_ps(s, _mm512_maskz_loadu_ps(mask, c + i), _mm512_maskz_loadu_ps(mask, b + i)));
  }
}

double fma_peak_f32(size_t iterations, float* sink) {
  __m512 acc[12];
  for (int j = 0; j < 12; ++j) acc[j] = _mm512_set1_ps(1.0f + 0.001f * j);
  const __m512 m = _mm512_set1_ps(0.999999f), a = _mm512_set1_ps(1e-7f);
  for (size_t i = 0; i < iterations; ++i)
    for (int j = 0; j < 12; ++j) acc[j] = _mm512_fmadd_ps(acc[j], m, a);
  __m512 total = acc[0];
  for (int j = 1; j < 12; ++j) total = _mm512_add_ps(total, acc[j]);
  *sink = _mm512_reduce_add_ps(total);
  return 2.0 * 16.0 * 12.0 * static_cast<double>(iterations);
}

}  // namespace

void fill_avx512_kernels(KernelTable& table) {
  table.stream_sum_f32 = stream_sum_f32;
  table.stream_triad_f32 = stream_triad_f32;
  table.fma_peak_f32 = fma_peak_f32;
}

}  // namespace bitnet
