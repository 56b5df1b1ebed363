// Copyright (c) 2026 bitnet contributors. MIT license.
// AVX2 ternary kernels: vpmaddubsw on 32-byte halves of each row block, summed
// in int16 over the block (at most 8 · 512, no overflow), widened once per
// block with vpmaddwd. Also the dense float32 baseline with FMA.
#include <immintrin.h>

#include "cpu/ternary/ternary.h"

namespace bitnet {
namespace ternary {
namespace {

constexpr size_t kPrefetchBytes = 8192;  // into L2, as the AVX-512 bodies (avx512_body.h)

inline int32_t hsum_epi32(__m256i v) {
  __m128i h = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4e));
  h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xb1));
  return _mm_cvtsi128_si32(h);
}

// Dot of one row block (64 bytes of codes) with NB tokens' permuted activation blocks.
template <int NB>
inline void row_block(const uint8_t* w, const int8_t* x, size_t x_stride, __m256i* acc) {
  const __m256i mask = _mm256_set1_epi8(3);
  __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w));
  __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 32));
  __m256i v[8];
  v[0] = _mm256_and_si256(lo, mask);
  v[1] = _mm256_and_si256(hi, mask);
  v[2] = _mm256_and_si256(_mm256_srli_epi16(lo, 2), mask);
  v[3] = _mm256_and_si256(_mm256_srli_epi16(hi, 2), mask);
  v[4] = _mm256_and_si256(_mm256_srli_epi16(lo, 4), mask);
  v[5] = _mm256_and_si256(_mm256_srli_epi16(hi, 4), mask);
  v[6] = _mm256_and_si256(_mm256_srli_epi16(lo, 6), mask);
  v[7] = _mm256_and_si256(_mm256_srli_epi16(hi, 6), mask);
  for (int n = 0; n < NB; ++n) {
    const int8_t* xn = x + n * x_stride;
    // v[2s + c] pairs with permuted activations at 64·s + 32·c = 32·(2s + c).
    __m256i t = _mm256_maddubs_epi16(v[0], _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xn)));
    for (int i = 1; i < 8; ++i)
      t = _mm256_add_epi16(t, _mm256_maddubs_epi16(v[i], _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xn + 32 * i))));
    acc[n] = _mm256_add_epi32(acc[n], _mm256_madd_epi16(t, _mm256_set1_epi16(1)));
  }
}

template <int NB>
void tile_group(const uint8_t* tile, size_t blocks, const int8_t* x, size_t x_stride, const int32_t* xsum,
                int32_t* out) {
  __m256i acc[4][NB];
  for (int r = 0; r < 4; ++r)
    for (int n = 0; n < NB; ++n) acc[r][n] = _mm256_setzero_si256();
  for (size_t b = 0; b < blocks; ++b) {
    const uint8_t* wb = tile + b * 256;
    for (int line = 0; line < 4; ++line)
      _mm_prefetch(reinterpret_cast<const char*>(wb + kPrefetchBytes + 64 * line), _MM_HINT_T1);
    for (int r = 0; r < 4; ++r) row_block<NB>(wb + r * 64, x + b * 256, x_stride, acc[r]);
  }
  for (int n = 0; n < NB; ++n)
    for (int r = 0; r < 4; ++r) out[n * 4 + r] = hsum_epi32(acc[r][n]) - xsum[n];
}

void gemm_int(const uint8_t* codes, size_t blocks, size_t tile_begin, size_t tile_end, const int8_t* xp,
              const int32_t* xsum, size_t batch, int32_t* out) {
  const size_t x_stride = blocks * 256;
  for (size_t t = tile_begin; t < tile_end; ++t) {
    const uint8_t* tile = codes + t * blocks * 256;
    int32_t* o = out + t * batch * 4;
    size_t n = 0;
    for (; n + 2 <= batch; n += 2)
      tile_group<2>(tile, blocks, xp + n * x_stride, x_stride, xsum + n, o + n * 4);
    for (; n < batch; ++n)
      tile_group<1>(tile, blocks, xp + n * x_stride, x_stride, xsum + n, o + n * 4);
  }
}

inline float hsum_ps(__m256 v) {
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_movehdup_ps(h));
  return _mm_cvtss_f32(h);
}

template <int NB>
void f32_group(const float* w, size_t columns, size_t row, size_t rows_here, const float* x, float* y, size_t rows) {
  __m256 acc[4][NB];
  for (int r = 0; r < 4; ++r)
    for (int n = 0; n < NB; ++n) acc[r][n] = _mm256_setzero_ps();
  const float* wr[4];
  for (size_t r = 0; r < 4; ++r) wr[r] = w + (row + (r < rows_here ? r : 0)) * columns;
  size_t c = 0;
  for (; c + 8 <= columns; c += 8) {
    __m256 wv[4];
    for (int r = 0; r < 4; ++r) wv[r] = _mm256_loadu_ps(wr[r] + c);
    for (int n = 0; n < NB; ++n) {
      __m256 xv = _mm256_loadu_ps(x + n * columns + c);
      for (int r = 0; r < 4; ++r) acc[r][n] = _mm256_fmadd_ps(wv[r], xv, acc[r][n]);
    }
  }
  for (int n = 0; n < NB; ++n)
    for (size_t r = 0; r < rows_here; ++r) {
      float sum = hsum_ps(acc[r][n]);
      for (size_t cc = c; cc < columns; ++cc) sum += wr[r][cc] * x[n * columns + cc];
      y[n * rows + row + r] = sum;
    }
}

void matmul_f32(const float* w, size_t rows, size_t columns, size_t row_begin, size_t row_end, const float* x,
                size_t batch, float* y) {
  for (size_t row = row_begin; row < row_end; row += 4) {
    size_t here = row_end - row < 4 ? row_end - row : 4;
    size_t n = 0;
    for (; n + 2 <= batch; n += 2) f32_group<2>(w, columns, row, here, x + n * columns, y + n * rows, rows);
    for (; n < batch; ++n) f32_group<1>(w, columns, row, here, x + n * columns, y + n * rows, rows);
  }
}

uint32_t absmax_bits(const float* x, size_t columns) {
  const __m256i magnitude = _mm256_set1_epi32(0x7fffffff);
  __m256i m0 = _mm256_setzero_si256(), m1 = m0;
  size_t k = 0;
  for (; k + 16 <= columns; k += 16) {
    m0 = _mm256_max_epu32(m0, _mm256_and_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + k)), magnitude));
    m1 = _mm256_max_epu32(m1, _mm256_and_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + k + 8)), magnitude));
  }
  alignas(32) uint32_t lanes[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), _mm256_max_epu32(m0, m1));
  uint32_t max_bits = absmax_bits_generic(x + k, columns - k);
  for (uint32_t lane : lanes) max_bits = lane > max_bits ? lane : max_bits;
  return max_bits;
}

// 32 activations per step: multiply, round to int (current mode, nearest-even), clamp, narrow.
// No add follows the multiply, so nothing can fuse into an FMA.
void quantize_row(const float* x, size_t columns, float inverse, int8_t* q) {
  const __m256 scale = _mm256_set1_ps(inverse);
  const __m256i low = _mm256_set1_epi32(-127), high = _mm256_set1_epi32(127);
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);  // undo the per-lane interleave of the packs
  size_t k = 0;
  for (; k + 32 <= columns; k += 32) {
    __m256i v[4];
    for (int j = 0; j < 4; ++j)
      v[j] = _mm256_max_epi32(_mm256_min_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + k + 8 * j), scale)), high), low);
    __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(v[0], v[1]), _mm256_packs_epi32(v[2], v[3]));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + k), _mm256_permutevar8x32_epi32(bytes, order));
  }
  quantize_row_generic(x + k, columns - k, inverse, q + k);
}

}  // namespace

void fill_avx2(Kernels& k) {
  k.gemm_int = gemm_int;
  k.matmul_f32 = matmul_f32;
  k.quantize_row = quantize_row;
  k.absmax_bits = absmax_bits;
}

}  // namespace ternary
}  // namespace bitnet
