// Copyright (c) 2026 bitnet contributors. MIT license.
// AVX-512 (F/BW/VL/DQ) bodies of the tensor kernels: 16-lane vector ops, the
// 12×32 FMA matmul micro-kernel, and F16C/integer conversions.
#include <immintrin.h>

#include "cpu/tensor/matmul_kernel.h"
#include "cpu/tensor/simd_kernels.h"

namespace bitnet {
namespace tensor {
namespace {

struct V512 {
  static constexpr size_t W = 16;
  using T = __m512;
  using M = __mmask16;
  static T load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, T v) { _mm512_storeu_ps(p, v); }
  static T set1(float v) { return _mm512_set1_ps(v); }
  static T zero() { return _mm512_setzero_ps(); }
  static T add(T a, T b) { return _mm512_add_ps(a, b); }
  static T sub(T a, T b) { return _mm512_sub_ps(a, b); }
  static T mul(T a, T b) { return _mm512_mul_ps(a, b); }
  static T div(T a, T b) { return _mm512_div_ps(a, b); }
  static T fmadd(T a, T b, T c) { return _mm512_fmadd_ps(a, b, c); }
  static T max(T a, T b) { return _mm512_max_ps(a, b); }
  static T min(T a, T b) { return _mm512_min_ps(a, b); }
  static T sqrt(T a) { return _mm512_sqrt_ps(a); }
  static T abs(T a) { return _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(a), _mm512_set1_epi32(0x7fffffff))); }
  static T neg(T a) { return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(a), _mm512_set1_epi32(int(0x80000000u)))); }
  static T copysign(T magnitude, T sign) {
    __m512i s = _mm512_and_si512(_mm512_castps_si512(sign), _mm512_set1_epi32(int(0x80000000u)));
    return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(abs(magnitude)), s));
  }
  static T round(T a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static T pow2n(T n) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23));
  }
  static T exponent(T x) {
    __m512i e = _mm512_srli_epi32(_mm512_castps_si512(x), 23);
    e = _mm512_sub_epi32(_mm512_and_si512(e, _mm512_set1_epi32(0xff)), _mm512_set1_epi32(126));
    return _mm512_cvtepi32_ps(e);
  }
  static T mantissa_half(T x) {
    __m512i m = _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(int(0x807fffffu)));
    return _mm512_castsi512_ps(_mm512_or_si512(m, _mm512_set1_epi32(0x3f000000)));
  }
  static M cmp_eq(T a, T b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
  static M cmp_ne(T a, T b) { return _mm512_cmp_ps_mask(a, b, _CMP_NEQ_UQ); }
  static M cmp_lt(T a, T b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
  static M cmp_le(T a, T b) { return _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ); }
  static M cmp_gt(T a, T b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
  static M cmp_ge(T a, T b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
  static M is_nan(T a) { return _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q); }
  static M mask_or(M a, M b) { return static_cast<M>(a | b); }
  static bool any(M m) { return m != 0; }
  static uint32_t mask_bits(M m) { return m; }
  static T select(M m, T a, T b) { return _mm512_mask_blend_ps(m, b, a); }
  static float reduce_add(T a) { return _mm512_reduce_add_ps(a); }
  static float reduce_max(T a) { return _mm512_reduce_max_ps(a); }
  static float reduce_min(T a) { return _mm512_reduce_min_ps(a); }
};

// 12 rows × 32 columns: 24 zmm accumulators, 2 for B, broadcasts folded into the FMAs.
constexpr size_t kMr = 12, kNr = 32;
constexpr size_t kPrefetchRows = 8;  // B rows ahead: ~100 cycles, enough for L2 → L1

inline void tile_full(size_t kc, const float* a, const float* b, size_t ldb, float* c, size_t ldc, bool accumulate) {
  __m512 c0[kMr], c1[kMr];
#pragma GCC unroll 12
  for (size_t i = 0; i < kMr; ++i) c0[i] = c1[i] = _mm512_setzero_ps();
  for (size_t k = 0; k < kc; ++k) {
    const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
    _mm_prefetch(reinterpret_cast<const char*>(b + kPrefetchRows * ldb), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(b + kPrefetchRows * ldb + 16), _MM_HINT_T0);
#pragma GCC unroll 12
    for (size_t i = 0; i < kMr; ++i) {
      const __m512 ai = _mm512_set1_ps(a[i]);
      c0[i] = _mm512_fmadd_ps(ai, b0, c0[i]);
      c1[i] = _mm512_fmadd_ps(ai, b1, c1[i]);
    }
    a += kMr;
    b += ldb;
  }
  if (accumulate) {
#pragma GCC unroll 12
    for (size_t i = 0; i < kMr; ++i) {
      _mm512_storeu_ps(c + i * ldc, _mm512_add_ps(c0[i], _mm512_loadu_ps(c + i * ldc)));
      _mm512_storeu_ps(c + i * ldc + 16, _mm512_add_ps(c1[i], _mm512_loadu_ps(c + i * ldc + 16)));
    }
  } else {
#pragma GCC unroll 12
    for (size_t i = 0; i < kMr; ++i) {
      _mm512_storeu_ps(c + i * ldc, c0[i]);
      _mm512_storeu_ps(c + i * ldc + 16, c1[i]);
    }
  }
}

void micro_kernel(size_t kc, const float* a, const float* b, size_t ldb, float* c, size_t ldc, size_t rows,
                  size_t cols, bool accumulate) {
  if (rows == kMr && cols == kNr) return tile_full(kc, a, b, ldb, c, ldc, accumulate);
  alignas(64) float tile[kMr * kNr];
  tile_full(kc, a, b, ldb, tile, kNr, false);
  store_partial_tile(tile, kNr, c, ldc, rows, cols, accumulate);
}

void f32_to_f16(const float* in, uint16_t* out, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i),
                        _mm512_cvtps_ph(_mm512_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  for (; i < n; ++i) out[i] = f32_to_f16_scalar(in[i]);
}

void f16_to_f32(const uint16_t* in, float* out, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(out + i, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i))));
  for (; i < n; ++i) out[i] = f16_to_f32_scalar(in[i]);
}

void f32_to_bf16(const float* in, uint16_t* out, size_t n) {
  size_t i = 0;
  const __m512i one = _mm512_set1_epi32(1), bias = _mm512_set1_epi32(0x7fff), quiet = _mm512_set1_epi32(0x40);
  for (; i + 16 <= n; i += 16) {
    __m512 v = _mm512_loadu_ps(in + i);
    __m512i bits = _mm512_castps_si512(v);
    // Round to nearest even: add 0x7fff plus the lowest kept bit, then drop 16 bits.
    __m512i rounded = _mm512_srli_epi32(
        _mm512_add_epi32(bits, _mm512_add_epi32(bias, _mm512_and_si512(_mm512_srli_epi32(bits, 16), one))), 16);
    __m512i nan = _mm512_or_si512(_mm512_srli_epi32(bits, 16), quiet);
    rounded = _mm512_mask_blend_epi32(_mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), rounded, nan);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), _mm512_cvtepi32_epi16(rounded));
  }
  for (; i < n; ++i) out[i] = f32_to_bf16_scalar(in[i]);
}

void bf16_to_f32(const uint16_t* in, float* out, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512i wide = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i)));
    _mm512_storeu_ps(out + i, _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16)));
  }
  for (; i < n; ++i) out[i] = bf16_to_f32_scalar(in[i]);
}

}  // namespace

void fill_avx512_tensor_kernels(TensorKernelTable& table) {
  fill_simd_common<V512>(table);
  table.f32_to_f16 = f32_to_f16;
  table.f16_to_f32 = f16_to_f32;
  table.f32_to_bf16 = f32_to_bf16;
  table.bf16_to_f32 = bf16_to_f32;
  table.matmul = MatmulConfig{micro_kernel, kMr, kNr, 256, 192, 1024};
}

}  // namespace tensor
}  // namespace bitnet
