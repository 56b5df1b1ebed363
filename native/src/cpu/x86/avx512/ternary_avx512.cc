// Copyright (c) 2026 bitnet contributors. MIT license.
// AVX-512 (F/BW) ternary kernels without VNNI: vpmaddubsw + vpmaddwd, for
// AVX-512 CPUs that lack vpdpbusd (Skylake-X). Also the dense float32 baseline.
#include <immintrin.h>

#include "cpu/ternary/avx512_body.h"
#include "cpu/ternary/ternary.h"

namespace bitnet {
namespace ternary {
namespace {

inline float hsum(__m512 v) { return _mm512_reduce_add_ps(v); }

// 4 rows × up to 4 tokens per pass; the 4 weight rows stay in L1/L2 while
// every token group reuses them, so weights stream from memory once.
template <int NB>
void f32_group(const float* w, size_t columns, size_t row, size_t rows_here, const float* x, float* y, size_t rows) {
  __m512 acc[4][NB];
  for (int r = 0; r < 4; ++r)
    for (int n = 0; n < NB; ++n) acc[r][n] = _mm512_setzero_ps();
  const float* wr[4];
  for (size_t r = 0; r < 4; ++r) wr[r] = w + (row + (r < rows_here ? r : 0)) * columns;
  size_t c = 0;
  for (; c + 16 <= columns; c += 16) {
    __m512 wv[4];
    for (int r = 0; r < 4; ++r) wv[r] = _mm512_loadu_ps(wr[r] + c);
    for (int n = 0; n < NB; ++n) {
      __m512 xv = _mm512_loadu_ps(x + n * columns + c);
      for (int r = 0; r < 4; ++r) acc[r][n] = _mm512_fmadd_ps(wv[r], xv, acc[r][n]);
    }
  }
  if (c < columns) {
    __mmask16 m = static_cast<__mmask16>((1u << (columns - c)) - 1);
    __m512 wv[4];
    for (int r = 0; r < 4; ++r) wv[r] = _mm512_maskz_loadu_ps(m, wr[r] + c);
    for (int n = 0; n < NB; ++n) {
      __m512 xv = _mm512_maskz_loadu_ps(m, x + n * columns + c);
      for (int r = 0; r < 4; ++r) acc[r][n] = _mm512_fmadd_ps(wv[r], xv, acc[r][n]);
    }
  }
  for (int n = 0; n < NB; ++n)
    for (size_t r = 0; r < rows_here; ++r) y[n * rows + row + r] = hsum(acc[r][n]);
}

void matmul_f32(const float* w, size_t rows, size_t columns, size_t row_begin, size_t row_end, const float* x,
                size_t batch, float* y) {
  for (size_t row = row_begin; row < row_end; row += 4) {
    size_t here = row_end - row < 4 ? row_end - row : 4;
    size_t n = 0;
    for (; n + 4 <= batch; n += 4) f32_group<4>(w, columns, row, here, x + n * columns, y + n * rows, rows);
    for (; n < batch; ++n) f32_group<1>(w, columns, row, here, x + n * columns, y + n * rows, rows);
  }
}

uint32_t absmax_bits(const float* x, size_t columns) {
  const __m512i magnitude = _mm512_set1_epi32(0x7fffffff);
  __m512i m0 = _mm512_setzero_si512(), m1 = m0;
  size_t k = 0;
  for (; k + 32 <= columns; k += 32) {
    m0 = _mm512_max_epu32(m0, _mm512_and_si512(_mm512_loadu_si512(x + k), magnitude));
    m1 = _mm512_max_epu32(m1, _mm512_and_si512(_mm512_loadu_si512(x + k + 16), magnitude));
  }
  uint32_t max_bits = _mm512_reduce_max_epu32(_mm512_max_epu32(m0, m1));
  uint32_t tail = absmax_bits_generic(x + k, columns - k);
  return tail > max_bits ? tail : max_bits;
}

// 16 activations per step: multiply, round to int (current mode, nearest-even), clamp, narrow
// (vpmovdb; the values already fit). No add follows the multiply, so nothing can fuse into an FMA.
void quantize_row(const float* x, size_t columns, float inverse, int8_t* q) {
  const __m512 scale = _mm512_set1_ps(inverse);
  const __m512i low = _mm512_set1_epi32(-127), high = _mm512_set1_epi32(127);
  size_t k = 0;
  for (; k + 16 <= columns; k += 16) {
    __m512i v = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x + k), scale));
    v = _mm512_max_epi32(_mm512_min_epi32(v, high), low);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + k), _mm512_cvtepi32_epi8(v));
  }
  quantize_row_generic(x + k, columns - k, inverse, q + k);
}

}  // namespace

void fill_avx512(Kernels& k) {
  k.gemm_int = gemm_int_avx512<false>;
  k.matmul_f32 = matmul_f32;
  k.quantize_row = quantize_row;
  k.absmax_bits = absmax_bits;
}

}  // namespace ternary
}  // namespace bitnet
