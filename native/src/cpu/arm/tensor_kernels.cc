// Copyright (c) 2026 bitnet contributors. MIT license.
// NEON (AArch64 Advanced SIMD) bodies of the tensor kernels: the shared
// simd_kernels.h bodies over 4-lane float32x4_t, the 8×12 FMA matmul
// micro-kernel, and F16/BF16 conversions.
#include <arm_neon.h>

#include "cpu/tensor/matmul_kernel.h"
#include "cpu/tensor/simd_kernels.h"

namespace bitnet {
namespace tensor {
namespace {

struct V128 {
  static constexpr size_t W = 4;
  using T = float32x4_t;
  using M = uint32x4_t;
  static T load(const float* p) { return vld1q_f32(p); }
  static void store(float* p, T v) { vst1q_f32(p, v); }
  static T set1(float v) { return vdupq_n_f32(v); }
  static T zero() { return vdupq_n_f32(0.0f); }
  static T add(T a, T b) { return vaddq_f32(a, b); }
  static T sub(T a, T b) { return vsubq_f32(a, b); }
  static T mul(T a, T b) { return vmulq_f32(a, b); }
  static T div(T a, T b) { return vdivq_f32(a, b); }
  static T fmadd(T a, T b, T c) { return vfmaq_f32(c, a, b); }
  // x86 semantics, which the shared bodies rely on: a > b ? a : b, so the second
  // operand comes back when either is NaN or both are equal (±0). FMAX would
  // differ on those (NaN always, +0 over −0).
  static T max(T a, T b) { return vbslq_f32(vcgtq_f32(a, b), a, b); }
  static T min(T a, T b) { return vbslq_f32(vcltq_f32(a, b), a, b); }
  static T sqrt(T a) { return vsqrtq_f32(a); }
  static T abs(T a) { return vabsq_f32(a); }
  static T neg(T a) { return vnegq_f32(a); }
  static T copysign(T magnitude, T sign) { return vbslq_f32(vdupq_n_u32(0x80000000u), sign, magnitude); }
  static T round(T a) { return vrndnq_f32(a); }  // to nearest, ties to even
  static T pow2n(T n) {
    return vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(vcvtnq_s32_f32(n), vdupq_n_s32(127)), 23));
  }
  static T exponent(T x) {
    uint32x4_t e = vandq_u32(vshrq_n_u32(vreinterpretq_u32_f32(x), 23), vdupq_n_u32(0xff));
    return vcvtq_f32_s32(vsubq_s32(vreinterpretq_s32_u32(e), vdupq_n_s32(126)));
  }
  static T mantissa_half(T x) {
    uint32x4_t m = vandq_u32(vreinterpretq_u32_f32(x), vdupq_n_u32(0x807fffffu));
    return vreinterpretq_f32_u32(vorrq_u32(m, vdupq_n_u32(0x3f000000u)));
  }
  static M cmp_eq(T a, T b) { return vceqq_f32(a, b); }
  static M cmp_ne(T a, T b) { return vmvnq_u32(vceqq_f32(a, b)); }  // unordered counts as not equal
  static M cmp_lt(T a, T b) { return vcltq_f32(a, b); }
  static M cmp_le(T a, T b) { return vcleq_f32(a, b); }
  static M cmp_gt(T a, T b) { return vcgtq_f32(a, b); }
  static M cmp_ge(T a, T b) { return vcgeq_f32(a, b); }
  static M is_nan(T a) { return vmvnq_u32(vceqq_f32(a, a)); }
  static M mask_or(M a, M b) { return vorrq_u32(a, b); }
  static bool any(M m) { return vmaxvq_u32(m) != 0; }
  static uint32_t mask_bits(M m) {
    static const uint32_t kBits[4] = {1, 2, 4, 8};
    return vaddvq_u32(vandq_u32(m, vld1q_u32(kBits)));
  }
  static T select(M m, T a, T b) { return vbslq_f32(m, a, b); }
  static float reduce_add(T a) { return vaddvq_f32(a); }
  static float reduce_max(T a) { return vmaxvq_f32(a); }  // callers have ruled NaN out
  static float reduce_min(T a) { return vminvq_f32(a); }
};

// 8 rows × 12 columns: 24 q-register accumulators, 3 for B, 2 for the A column
// (its lanes feed the FMAs by index, so A needs no broadcasts): 29 of 32.
constexpr size_t kMr = 8, kNr = 12;

inline void tile_full(size_t kc, const float* a, const float* b, size_t ldb, float* c, size_t ldc, bool accumulate) {
  float32x4_t c00 = vdupq_n_f32(0), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00, c20 = c00, c21 = c00,
              c22 = c00, c30 = c00, c31 = c00, c32 = c00, c40 = c00, c41 = c00, c42 = c00, c50 = c00, c51 = c00,
              c52 = c00, c60 = c00, c61 = c00, c62 = c00, c70 = c00, c71 = c00, c72 = c00;
  for (size_t k = 0; k < kc; ++k) {
    const float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4), b2 = vld1q_f32(b + 8);
    const float32x4_t a0 = vld1q_f32(a), a1 = vld1q_f32(a + 4);
    __builtin_prefetch(b + 8 * ldb);
#define BITNET_ROW(i, av, lane)                  \
  c##i##0 = vfmaq_laneq_f32(c##i##0, b0, av, lane); \
  c##i##1 = vfmaq_laneq_f32(c##i##1, b1, av, lane); \
  c##i##2 = vfmaq_laneq_f32(c##i##2, b2, av, lane);
    BITNET_ROW(0, a0, 0)
    BITNET_ROW(1, a0, 1)
    BITNET_ROW(2, a0, 2)
    BITNET_ROW(3, a0, 3)
    BITNET_ROW(4, a1, 0)
    BITNET_ROW(5, a1, 1)
    BITNET_ROW(6, a1, 2)
    BITNET_ROW(7, a1, 3)
#undef BITNET_ROW
    a += kMr;
    b += ldb;
  }
#define BITNET_STORE(i)                                                     \
  {                                                                         \
    float* row = c + i * ldc;                                               \
    if (accumulate) {                                                       \
      c##i##0 = vaddq_f32(c##i##0, vld1q_f32(row));                         \
      c##i##1 = vaddq_f32(c##i##1, vld1q_f32(row + 4));                     \
      c##i##2 = vaddq_f32(c##i##2, vld1q_f32(row + 8));                     \
    }                                                                       \
    vst1q_f32(row, c##i##0);                                                \
    vst1q_f32(row + 4, c##i##1);                                            \
    vst1q_f32(row + 8, c##i##2);                                            \
  }
  BITNET_STORE(0)
  BITNET_STORE(1)
  BITNET_STORE(2)
  BITNET_STORE(3)
  BITNET_STORE(4)
  BITNET_STORE(5)
  BITNET_STORE(6)
  BITNET_STORE(7)
#undef BITNET_STORE
}

void micro_kernel(size_t kc, const float* a, const float* b, size_t ldb, float* c, size_t ldc, size_t rows,
                  size_t cols, bool accumulate) {
  if (rows == kMr && cols == kNr) return tile_full(kc, a, b, ldb, c, ldc, accumulate);
  alignas(16) float tile[kMr * kNr];
  tile_full(kc, a, b, ldb, tile, kNr, false);
  store_partial_tile(tile, kNr, c, ldc, rows, cols, accumulate);
}

// FCVT rounds to nearest even (the FPCR default), keeps subnormals (FZ is off
// for float16 conversions) and quiets NaNs keeping their top payload bits,
// exactly like F16C and the scalar reference.
void f32_to_f16(const float* in, uint16_t* out, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    float16x8_t h = vcvt_high_f16_f32(vcvt_f16_f32(vld1q_f32(in + i)), vld1q_f32(in + i + 4));
    vst1q_u16(out + i, vreinterpretq_u16_f16(h));
  }
  for (; i < n; ++i) out[i] = f32_to_f16_scalar(in[i]);
}

void f16_to_f32(const uint16_t* in, float* out, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    float16x8_t h = vreinterpretq_f16_u16(vld1q_u16(in + i));
    vst1q_f32(out + i, vcvt_f32_f16(vget_low_f16(h)));
    vst1q_f32(out + i + 4, vcvt_high_f32_f16(h));
  }
  for (; i < n; ++i) out[i] = f16_to_f32_scalar(in[i]);
}

// Integer rounding (BFCVT is not baseline AArch64): add 0x7fff plus the lowest
// kept bit, keep the top 16 bits; NaN keeps its top bits with the quiet bit set.
inline uint16x4_t bf16_round(float32x4_t v) {
  const uint32x4_t bits = vreinterpretq_u32_f32(v);
  uint32x4_t rounded = vaddq_u32(bits, vaddq_u32(vdupq_n_u32(0x7fff), vandq_u32(vshrq_n_u32(bits, 16), vdupq_n_u32(1))));
  uint32x4_t nan = vorrq_u32(bits, vdupq_n_u32(0x400000));
  rounded = vbslq_u32(vmvnq_u32(vceqq_f32(v, v)), nan, rounded);
  return vshrn_n_u32(rounded, 16);
}

void f32_to_bf16(const float* in, uint16_t* out, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    vst1q_u16(out + i, vcombine_u16(bf16_round(vld1q_f32(in + i)), bf16_round(vld1q_f32(in + i + 4))));
  for (; i < n; ++i) out[i] = f32_to_bf16_scalar(in[i]);
}

void bf16_to_f32(const uint16_t* in, float* out, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint16x8_t v = vld1q_u16(in + i);
    vst1q_f32(out + i, vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(v), 16)));
    vst1q_f32(out + i + 4, vreinterpretq_f32_u32(vshll_high_n_u16(v, 16)));
  }
  for (; i < n; ++i) out[i] = bf16_to_f32_scalar(in[i]);
}

}  // namespace

void fill_neon_tensor_kernels(TensorKernelTable& table) {
  fill_simd_common<V128>(table);
  table.f32_to_f16 = f32_to_f16;
  table.f16_to_f32 = f16_to_f32;
  table.f32_to_bf16 = f32_to_bf16;
  table.bf16_to_f32 = bf16_to_f32;
  // kc×nr B micro-panel (12 KiB) in L1, mc×kc A block (128 KiB) in L2, kc×nc B block (1 MiB) in L2/L3.
  table.matmul = MatmulConfig{micro_kernel, kMr, kNr, 256, 128, 1020};
}

}  // namespace tensor
}  // namespace bitnet
