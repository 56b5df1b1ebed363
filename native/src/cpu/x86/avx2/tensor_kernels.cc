// Copyright (c) 2026 bitnet contributors. MIT license.
// AVX2 + FMA + F16C bodies of the tensor kernels: 8-lane vector ops, the 6×16
// FMA matmul micro-kernel, and conversions.
#include <immintrin.h>

#include "cpu/tensor/matmul_kernel.h"
#include "cpu/tensor/simd_kernels.h"

namespace bitnet {
namespace tensor {
namespace {

struct V256 {
  static constexpr size_t W = 8;
  using T = __m256;
  using M = __m256;
  static T load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, T v) { _mm256_storeu_ps(p, v); }
  static T set1(float v) { return _mm256_set1_ps(v); }
  static T zero() { return _mm256_setzero_ps(); }
  static T add(T a, T b) { return _mm256_add_ps(a, b); }
  static T sub(T a, T b) { return _mm256_sub_ps(a, b); }
  static T mul(T a, T b) { return _mm256_mul_ps(a, b); }
  static T div(T a, T b) { return _mm256_div_ps(a, b); }
  static T fmadd(T a, T b, T c) { return _mm256_fmadd_ps(a, b, c); }
  static T max(T a, T b) { return _mm256_max_ps(a, b); }
  static T min(T a, T b) { return _mm256_min_ps(a, b); }
  static T sqrt(T a) { return _mm256_sqrt_ps(a); }
  static T abs(T a) { return _mm256_and_ps(a, _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff))); }
  static T neg(T a) { return _mm256_xor_ps(a, _mm256_castsi256_ps(_mm256_set1_epi32(int(0x80000000u)))); }
  static T copysign(T magnitude, T sign) {
    T s = _mm256_and_ps(sign, _mm256_castsi256_ps(_mm256_set1_epi32(int(0x80000000u))));
    return _mm256_or_ps(abs(magnitude), s);
  }
  static T round(T a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static T pow2n(T n) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23));
  }
  static T exponent(T x) {
    __m256i e = _mm256_srli_epi32(_mm256_castps_si256(x), 23);
    e = _mm256_sub_epi32(_mm256_and_si256(e, _mm256_set1_epi32(0xff)), _mm256_set1_epi32(126));
    return _mm256_cvtepi32_ps(e);
  }
  static T mantissa_half(T x) {
    __m256i m = _mm256_and_si256(_mm256_castps_si256(x), _mm256_set1_epi32(int(0x807fffffu)));
    return _mm256_castsi256_ps(_mm256_or_si256(m, _mm256_set1_epi32(0x3f000000)));
  }
  static M cmp_eq(T a, T b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
  static M cmp_ne(T a, T b) { return _mm256_cmp_ps(a, b, _CMP_NEQ_UQ); }
  static M cmp_lt(T a, T b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
  static M cmp_le(T a, T b) { return _mm256_cmp_ps(a, b, _CMP_LE_OQ); }
  static M cmp_gt(T a, T b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
  static M cmp_ge(T a, T b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
  static M is_nan(T a) { return _mm256_cmp_ps(a, a, _CMP_UNORD_Q); }
  static M mask_or(M a, M b) { return _mm256_or_ps(a, b); }
  static bool any(M m) { return _mm256_movemask_ps(m) != 0; }
  static uint32_t mask_bits(M m) { return static_cast<uint32_t>(_mm256_movemask_ps(m)); }
  static T select(M m, T a, T b) { return _mm256_blendv_ps(b, a, m); }
  static float reduce_add(T a) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static float reduce_max(T a) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static float reduce_min(T a) {
    __m128 s = _mm_min_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_min_ps(s, _mm_movehl_ps(s, s));
    s = _mm_min_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
};

// 6 rows × 16 columns: 12 ymm accumulators, 2 for B, 1 broadcast.
constexpr size_t kMr = 6, kNr = 16;

inline void tile_full(size_t kc, const float* a, const float* b, size_t ldb, float* c, size_t ldc, bool accumulate) {
  __m256 c0[kMr], c1[kMr];
#pragma GCC unroll 6
  for (size_t i = 0; i < kMr; ++i) c0[i] = c1[i] = _mm256_setzero_ps();
  for (size_t k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
    _mm_prefetch(reinterpret_cast<const char*>(b + 8 * ldb), _MM_HINT_T0);
#pragma GCC unroll 6
    for (size_t i = 0; i < kMr; ++i) {
      const __m256 ai = _mm256_broadcast_ss(a + i);
      c0[i] = _mm256_fmadd_ps(ai, b0, c0[i]);
      c1[i] = _mm256_fmadd_ps(ai, b1, c1[i]);
    }
    a += kMr;
    b += ldb;
  }
#pragma GCC unroll 6
  for (size_t i = 0; i < kMr; ++i) {
    if (accumulate) {
      c0[i] = _mm256_add_ps(c0[i], _mm256_loadu_ps(c + i * ldc));
      c1[i] = _mm256_add_ps(c1[i], _mm256_loadu_ps(c + i * ldc + 8));
    }
    _mm256_storeu_ps(c + i * ldc, c0[i]);
    _mm256_storeu_ps(c + i * ldc + 8, c1[i]);
  }
}

void micro_kernel(size_t kc, const float* a, const float* b, size_t ldb, float* c, size_t ldc, size_t rows,
                  size_t cols, bool accumulate) {
  if (rows == kMr && cols == kNr) return tile_full(kc, a, b, ldb, c, ldc, accumulate);
  alignas(32) float tile[kMr * kNr];
  tile_full(kc, a, b, ldb, tile, kNr, false);
  store_partial_tile(tile, kNr, c, ldc, rows, cols, accumulate);
}

void f32_to_f16(const float* in, uint16_t* out, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  for (; i < n; ++i) out[i] = f32_to_f16_scalar(in[i]);
}

void f16_to_f32(const uint16_t* in, float* out, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i))));
  for (; i < n; ++i) out[i] = f16_to_f32_scalar(in[i]);
}

void f32_to_bf16(const float* in, uint16_t* out, size_t n) {
  size_t i = 0;
  const __m256i one = _mm256_set1_epi32(1), bias = _mm256_set1_epi32(0x7fff), quiet = _mm256_set1_epi32(0x40);
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_loadu_ps(in + i);
    __m256i bits = _mm256_castps_si256(v);
    __m256i rounded = _mm256_srli_epi32(
        _mm256_add_epi32(bits, _mm256_add_epi32(bias, _mm256_and_si256(_mm256_srli_epi32(bits, 16), one))), 16);
    __m256i nan = _mm256_or_si256(_mm256_srli_epi32(bits, 16), quiet);
    rounded = _mm256_castps_si256(
        _mm256_blendv_ps(_mm256_castsi256_ps(rounded), _mm256_castsi256_ps(nan), _mm256_cmp_ps(v, v, _CMP_UNORD_Q)));
    // Values fit 16 bits, so an unsigned-saturating pack is exact; fix the lane order after.
    __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(rounded, rounded), 0x08);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm256_castsi256_si128(packed));
  }
  for (; i < n; ++i) out[i] = f32_to_bf16_scalar(in[i]);
}

void bf16_to_f32(const uint16_t* in, float* out, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i)));
    _mm256_storeu_ps(out + i, _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16)));
  }
  for (; i < n; ++i) out[i] = bf16_to_f32_scalar(in[i]);
}

}  // namespace

void fill_avx2_tensor_kernels(TensorKernelTable& table) {
  fill_simd_common<V256>(table);
  table.f32_to_f16 = f32_to_f16;
  table.f16_to_f32 = f16_to_f32;
  table.f32_to_bf16 = f32_to_bf16;
  table.bf16_to_f32 = bf16_to_f32;
  table.matmul = MatmulConfig{micro_kernel, kMr, kNr, 256, 120, 1024};
}

}  // namespace tensor
}  // namespace bitnet
