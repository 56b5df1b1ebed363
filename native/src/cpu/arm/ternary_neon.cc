// Copyright (c) 2026 bitnet contributors. MIT license.
// NEON ternary kernels (AArch64 baseline, no dotprod needed): the 2-bit codes
// of a 16-byte chunk are unpacked with shift + mask, multiplied with the int8
// activations by vmull_s8 (codes ≤ 2, so int16 never overflows) and widened
// into int32 with vpadalq_s16. Also the dense float32 baseline.
#include <arm_neon.h>

#include "cpu/ternary/ternary.h"

namespace bitnet {
namespace ternary {
namespace {

inline int32x4_t mac16(int32x4_t acc, uint8x16_t codes, int8x16_t x) {
  int8x16_t c = vreinterpretq_s8_u8(codes);
  int16x8_t p = vmull_s8(vget_low_s8(c), vget_low_s8(x));
  p = vmlal_high_s8(p, c, x);  // |sum| ≤ 2 · 2 · 128
  return vpadalq_s16(acc, p);
}

int32x4_t row_block(const uint8_t* w, const int8_t* x, int32x4_t acc) {
  const uint8x16_t mask = vdupq_n_u8(3);
  for (int q = 0; q < 4; ++q) {
    uint8x16_t p = vld1q_u8(w + 16 * q);
    acc = mac16(acc, vandq_u8(p, mask), vld1q_s8(x + 16 * q));
    acc = mac16(acc, vandq_u8(vshrq_n_u8(p, 2), mask), vld1q_s8(x + 64 + 16 * q));
    acc = mac16(acc, vandq_u8(vshrq_n_u8(p, 4), mask), vld1q_s8(x + 128 + 16 * q));
    acc = mac16(acc, vshrq_n_u8(p, 6), vld1q_s8(x + 192 + 16 * q));
  }
  return acc;
}

void gemm_int(const uint8_t* codes, size_t blocks, size_t tile_begin, size_t tile_end, const int8_t* xp,
              const int32_t* xsum, size_t batch, int32_t* out) {
  const size_t x_stride = blocks * 256;
  for (size_t t = tile_begin; t < tile_end; ++t) {
    const uint8_t* tile = codes + t * blocks * 256;
    for (size_t n = 0; n < batch; ++n) {
      int32x4_t acc[4] = {vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0)};
      const int8_t* x = xp + n * x_stride;
      for (size_t b = 0; b < blocks; ++b)
        for (int r = 0; r < 4; ++r) acc[r] = row_block(tile + (b * 4 + r) * 64, x + b * 256, acc[r]);
      for (int r = 0; r < 4; ++r) out[(t * batch + n) * 4 + r] = vaddvq_s32(acc[r]) - xsum[n];
    }
  }
}

void matmul_f32(const float* w, size_t rows, size_t columns, size_t row_begin, size_t row_end, const float* x,
                size_t batch, float* y) {
  for (size_t r = row_begin; r < row_end; ++r) {
    const float* wr = w + r * columns;
    for (size_t n = 0; n < batch; ++n) {
      const float* xn = x + n * columns;
      float32x4_t a0 = vdupq_n_f32(0), a1 = a0, a2 = a0, a3 = a0;
      size_t c = 0;
      for (; c + 16 <= columns; c += 16) {
        a0 = vfmaq_f32(a0, vld1q_f32(wr + c), vld1q_f32(xn + c));
        a1 = vfmaq_f32(a1, vld1q_f32(wr + c + 4), vld1q_f32(xn + c + 4));
        a2 = vfmaq_f32(a2, vld1q_f32(wr + c + 8), vld1q_f32(xn + c + 8));
        a3 = vfmaq_f32(a3, vld1q_f32(wr + c + 12), vld1q_f32(xn + c + 12));
      }
      float sum = vaddvq_f32(vaddq_f32(vaddq_f32(a0, a1), vaddq_f32(a2, a3)));
      for (; c < columns; ++c) sum += wr[c] * xn[c];
      y[n * rows + r] = sum;
    }
  }
}

uint32_t absmax_bits(const float* x, size_t columns) {
  const uint32x4_t magnitude = vdupq_n_u32(0x7fffffffu);
  uint32x4_t m0 = vdupq_n_u32(0), m1 = m0;
  size_t k = 0;
  for (; k + 8 <= columns; k += 8) {
    m0 = vmaxq_u32(m0, vandq_u32(vreinterpretq_u32_f32(vld1q_f32(x + k)), magnitude));
    m1 = vmaxq_u32(m1, vandq_u32(vreinterpretq_u32_f32(vld1q_f32(x + k + 4)), magnitude));
  }
  uint32_t max_bits = vmaxvq_u32(vmaxq_u32(m0, m1));
  uint32_t tail = absmax_bits_generic(x + k, columns - k);
  return tail > max_bits ? tail : max_bits;
}

// 16 activations per step: multiply, round to nearest-even int (FCVTNS), clamp, narrow.
// No add follows the multiply, so nothing can fuse into an FMA.
void quantize_row(const float* x, size_t columns, float inverse, int8_t* q) {
  const float32x4_t scale = vdupq_n_f32(inverse);
  const int32x4_t low = vdupq_n_s32(-127), high = vdupq_n_s32(127);
  size_t k = 0;
  for (; k + 16 <= columns; k += 16) {
    int16x4_t half[4];
    for (int j = 0; j < 4; ++j) {
      int32x4_t v = vcvtnq_s32_f32(vmulq_f32(vld1q_f32(x + k + 4 * j), scale));
      half[j] = vqmovn_s32(vmaxq_s32(vminq_s32(v, high), low));
    }
    int8x8_t a = vqmovn_s16(vcombine_s16(half[0], half[1]));
    int8x8_t b = vqmovn_s16(vcombine_s16(half[2], half[3]));
    vst1q_s8(q + k, vcombine_s8(a, b));
  }
  quantize_row_generic(x + k, columns - k, inverse, q + k);
}

}  // namespace

void fill_neon(Kernels& k) {
  k.gemm_int = gemm_int;
  k.matmul_f32 = matmul_f32;
  k.quantize_row = quantize_row;
  k.absmax_bits = absmax_bits;
}

}  // namespace ternary
}  // namespace bitnet
