// Copyright (c) 2026 bitnet contributors. MIT license.
// Portable ternary kernels: the oracle every SIMD variant must match bit for bit.
#include <cstring>

#include "cpu/ternary/ternary.h"

// The activation rounding must not be fused into an FMA (aarch64 would otherwise
// round x · inverse + 1.5·2^23 once instead of twice).
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace bitnet {
namespace ternary {
namespace {

// Byte j of a row block holds, at shift 2s, the element whose activation sits at
// permuted offset 64·s + j (see permuted_index), so the loop needs no index math.
int32_t block_dot(const uint8_t* w, const int8_t* x) {
  int32_t sum = 0;
  for (size_t j = 0; j < kBlockBytes; ++j) {
    uint32_t p = w[j];
    sum += static_cast<int32_t>(p & 3) * x[j] + static_cast<int32_t>((p >> 2) & 3) * x[64 + j] +
           static_cast<int32_t>((p >> 4) & 3) * x[128 + j] + static_cast<int32_t>(p >> 6) * x[192 + j];
  }
  return sum;
}

void gemm_int(const uint8_t* codes, size_t blocks, size_t tile_begin, size_t tile_end, const int8_t* xp,
              const int32_t* xsum, size_t batch, int32_t* out) {
  for (size_t t = tile_begin; t < tile_end; ++t) {
    const uint8_t* tile = codes + t * blocks * kTileRows * kBlockBytes;
    for (size_t n = 0; n < batch; ++n) {
      const int8_t* x = xp + n * blocks * kBlockWeights;
      int32_t acc[kTileRows] = {0, 0, 0, 0};
      for (size_t b = 0; b < blocks; ++b)
        for (size_t r = 0; r < kTileRows; ++r)
          acc[r] += block_dot(tile + (b * kTileRows + r) * kBlockBytes, x + b * kBlockWeights);
      for (size_t r = 0; r < kTileRows; ++r) out[(t * batch + n) * kTileRows + r] = acc[r] - xsum[n];
    }
  }
}

void matmul_f32(const float* w, size_t rows, size_t columns, size_t row_begin, size_t row_end, const float* x,
                size_t batch, float* y) {
  for (size_t r = row_begin; r < row_end; ++r) {
    const float* wr = w + r * columns;
    for (size_t n = 0; n < batch; ++n) {
      const float* xn = x + n * columns;
      float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      size_t c = 0;
      for (; c + 8 <= columns; c += 8)
        for (size_t j = 0; j < 8; ++j) acc[j] += wr[c + j] * xn[c + j];
      float sum = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
      for (; c < columns; ++c) sum += wr[c] * xn[c];
      y[n * rows + r] = sum;
    }
  }
}

}  // namespace

void fill_generic(Kernels& k) {
  k.variant = Variant::generic;
  k.gemm_int = gemm_int;
  k.matmul_f32 = matmul_f32;
  k.quantize_row = quantize_row_generic;
  k.absmax_bits = absmax_bits_generic;
}

uint32_t absmax_bits_generic(const float* x, size_t columns) {
  uint32_t max_bits = 0;
  for (size_t k = 0; k < columns; ++k) {
    uint32_t bits;
    std::memcpy(&bits, x + k, 4);
    bits &= 0x7fffffffu;
    max_bits = bits > max_bits ? bits : max_bits;
  }
  return max_bits;
}

void quantize_row_generic(const float* x, size_t columns, float inverse, int8_t* q) {
  for (size_t k = 0; k < columns; ++k) {
    // Round half to even with float32 arithmetic: adding and subtracting 1.5·2^23
    // rounds in the current (nearest-even) mode, |v| <= 127.
    float v = x[k] * inverse;
    float r = (v + 12582912.0f) - 12582912.0f;
    int i = static_cast<int>(r);
    q[k] = static_cast<int8_t>(i > 127 ? 127 : (i < -127 ? -127 : i));
  }
}

}  // namespace ternary
}  // namespace bitnet
