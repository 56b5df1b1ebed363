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

}  // namespace

void fill_avx512(Kernels& k) {
  k.gemm_int = gemm_int_avx512<false>;
  k.matmul_f32 = matmul_f32;
}

}  // namespace ternary
}  // namespace bitnet
