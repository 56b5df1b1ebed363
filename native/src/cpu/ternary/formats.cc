// Copyright (c) 2026 bitnet contributors. MIT license.
// Pack / unpack of the ternary formats (i2_r4, TQ2_0, TQ1_0), fp16 scales and
// int8 activation quantization. Baseline code: it defines the bit layouts that
// every kernel tier reads.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>
#include <limits>
#include <string>

#include "core/error.h"
#include "core/half.h"
#include "cpu/ternary/ternary.h"

// The activation rounding below must not be fused into an FMA (it would round
// differently from the documented float32 formula on FMA-baseline targets).
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace bitnet {
namespace ternary {
namespace {

[[noreturn]] void bad_value(const char* op, size_t row, size_t column, int value) {
  throw Error("ERR_BITNET_INVALID_ARGUMENT",
              std::string("[") + op + "] ternary values must be -1, 0 or 1; got " + std::to_string(value) + " at row " +
                  std::to_string(row) + ", column " + std::to_string(column),
              ErrorKind::range);
}

inline uint8_t code_of(const int8_t* values, size_t columns, size_t row, size_t column, const char* op) {
  if (column >= columns) return 1;  // zero-weight padding
  int v = values[row * columns + column];
  if (v < -1 || v > 1) bad_value(op, row, column, v);
  return static_cast<uint8_t>(v + 1);
}

// One 64-byte TQ2_0-style block of a row from natural-order values starting at block `b`.
void pack_block(const int8_t* values, size_t columns, size_t row, size_t b, uint8_t* out, const char* op) {
  size_t base = b * kBlockWeights;
  for (size_t half = 0; half < 2; ++half)
    for (size_t m = 0; m < 32; ++m) {
      size_t e = base + half * 128 + m;
      out[half * 32 + m] = static_cast<uint8_t>(code_of(values, columns, row, e, op) |
                                                (code_of(values, columns, row, e + 32, op) << 2) |
                                                (code_of(values, columns, row, e + 64, op) << 4) |
                                                (code_of(values, columns, row, e + 96, op) << 6));
    }
}

// Codes are 0,1,2; a 3 is corrupt data, reported rather than read as a weight.
inline int8_t value_of(uint8_t code, const char* op) {
  if (code == 3) throw Error("ERR_BITNET_FILE_FORMAT", std::string("[") + op + "] packed data holds the invalid 2-bit code 3", ErrorKind::generic);
  return static_cast<int8_t>(code) - 1;
}

void unpack_block(const uint8_t* block, size_t columns, size_t row, size_t b, int8_t* values, const char* op) {
  size_t base = b * kBlockWeights;
  for (size_t half = 0; half < 2; ++half)
    for (size_t m = 0; m < 32; ++m) {
      uint8_t byte = block[half * 32 + m];
      uint8_t codes[4] = {uint8_t(byte & 3), uint8_t((byte >> 2) & 3), uint8_t((byte >> 4) & 3), uint8_t((byte >> 6) & 3)};
      for (size_t s = 0; s < 4; ++s) {
        size_t e = base + half * 128 + s * 32 + m;
        int8_t v = value_of(codes[s], op);
        if (e < columns) values[row * columns + e] = v;
        else if (v != 0) throw Error("ERR_BITNET_FILE_FORMAT", std::string("[") + op + "] padding past the last column holds a non-zero weight", ErrorKind::generic);
      }
    }
}

void check_tq_columns(size_t columns, const char* op) {
  if (columns % kBlockWeights != 0)
    throw Error("ERR_BITNET_UNSUPPORTED",
                std::string("[") + op + "] ggml ternary formats need columns to be a multiple of 256; got " +
                    std::to_string(columns),
                ErrorKind::range);
}

std::string scale_text(float scale) {
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", static_cast<double>(scale));
  return text;
}

// A block's fp16 scale as read from bytes: NaN or infinite is a corrupt block,
// reported where the bytes are read, not later as NaN weights.
float checked_half_scale(uint16_t bits, size_t row, size_t block) {
  const float scale = half_to_float(bits);
  if (!std::isfinite(scale))
    throw Error("ERR_BITNET_FILE_FORMAT",
                "[unpackTernary] block scale at row " + std::to_string(row) + ", block " + std::to_string(block) + " is " +
                    (std::isnan(scale) ? "NaN" : "infinite"),
                ErrorKind::generic);
  return scale;
}

// A block's fp16 scale bits. A block whose weights are all zero never uses its
// scale: it gets d = 0, as ggml's quantizer writes (quantize158 gives such blocks
// 1e-5, and a row scale carried over from i2_r4 would make bytes differ from
// ggml's). Any other scale must round to fp16 within 2^-11 of itself: true for
// every normal fp16 value, for (65504, 65520) (→ 65504) and for fp16
// subnormals that hold the scale exactly (ggml writes those for blocks with
// absmax < 2^-14); not for 5e-8 (stored 14% off) or 3e-8 (stored as 0).
uint16_t block_scale_bits(float scale, const char* op, size_t row, size_t block, const int8_t* values, size_t columns) {
  if (!std::isfinite(scale))
    throw Error("ERR_BITNET_INVALID_ARGUMENT",
                std::string("[") + op + "] block scale at row " + std::to_string(row) + ", block " + std::to_string(block) +
                    " is not finite",
                ErrorKind::range);
  const int8_t* weights = values + row * columns + block * kBlockWeights;
  bool used = false;
  for (size_t e = 0; e < kBlockWeights && !used; ++e) used = weights[e] != 0;
  if (!used) return 0;
  const uint16_t d = float_to_half(scale);
  const float stored = half_to_float(d);
  if (!std::isfinite(stored))
    throw Error("ERR_BITNET_OUT_OF_RANGE",
                std::string("[") + op + "] block scale " + scale_text(scale) + " at row " + std::to_string(row) +
                    ", block " + std::to_string(block) + " does not fit fp16 (|scale| < 65520)",
                ErrorKind::range);
  if (std::fabs(static_cast<double>(stored) - scale) > std::ldexp(std::fabs(static_cast<double>(scale)), -11))
    throw Error("ERR_BITNET_OUT_OF_RANGE",
                std::string("[") + op + "] block scale " + scale_text(scale) + " at row " + std::to_string(row) +
                    ", block " + std::to_string(block) + " would be stored as " + scale_text(stored) +
                    ": below fp16's normal range (|scale| >= 6.1035e-05) it loses more than 2^-11 of its value "
                    "unless it is an exact fp16 value; use the i2_r4 layout (float32 scales)",
                ErrorKind::range);
  return d;
}

}  // namespace

uint16_t float_to_half(float value) { return bitnet::float_to_half(value); }

float half_to_float(uint16_t half) { return bitnet::half_to_float(half); }

namespace {
// Group g (blocks [b0, b0 + gb)) starts after every earlier group's tiles × blocks.
template <typename Visit>
void for_each_i2_block(size_t rows, size_t columns, size_t group_blocks, Visit visit) {
  size_t blocks = blocks_for(columns), tiles = tiles_for(rows), per = group_blocks_of(group_blocks, blocks);
  for (size_t b0 = 0; b0 < blocks; b0 += per) {
    size_t gb = std::min(per, blocks - b0), base = tiles * kTileRows * b0;
    for (size_t t = 0; t < tiles; ++t)
      for (size_t j = 0; j < gb; ++j)
        for (size_t r = 0; r < kTileRows; ++r) visit(t * kTileRows + r, b0 + j, (base + (t * gb + j) * kTileRows + r) * kBlockBytes);
  }
}
}  // namespace

void pack_i2(const int8_t* values, size_t rows, size_t columns, uint8_t* codes, size_t group_blocks) {
  for_each_i2_block(rows, columns, group_blocks, [&](size_t row, size_t b, size_t offset) {
    if (row < rows) pack_block(values, columns, row, b, codes + offset, "packTernary");
    else std::memset(codes + offset, 0x55, kBlockBytes);  // code 1 everywhere: zero weights
  });
}

void unpack_i2(const uint8_t* codes, size_t rows, size_t columns, int8_t* values, size_t group_blocks) {
  for_each_i2_block(rows, columns, group_blocks, [&](size_t row, size_t b, size_t offset) {
    if (row < rows) unpack_block(codes + offset, columns, row, b, values, "unpackTernary");
  });
}

void pack_tq2(const int8_t* values, const float* block_scales, size_t rows, size_t columns, uint8_t* out) {
  check_tq_columns(columns, "packTernary");
  size_t blocks = columns / kBlockWeights;
  for (size_t row = 0; row < rows; ++row)
    for (size_t b = 0; b < blocks; ++b) {
      uint8_t* block = out + (row * blocks + b) * kTq2BlockBytes;
      float scale = block_scales[row * blocks + b];
      const uint16_t d = block_scale_bits(scale, "packTernary", row, b, values, columns);
      pack_block(values, columns, row, b, block, "packTernary");
      block[64] = static_cast<uint8_t>(d & 0xff);
      block[65] = static_cast<uint8_t>(d >> 8);
    }
}

void unpack_tq2(const uint8_t* data, size_t rows, size_t columns, int8_t* values, float* block_scales) {
  check_tq_columns(columns, "unpackTernary");
  size_t blocks = columns / kBlockWeights;
  for (size_t row = 0; row < rows; ++row)
    for (size_t b = 0; b < blocks; ++b) {
      const uint8_t* block = data + (row * blocks + b) * kTq2BlockBytes;
      unpack_block(block, columns, row, b, values, "unpackTernary");
      block_scales[row * blocks + b] = checked_half_scale(static_cast<uint16_t>(block[64] | (block[65] << 8)), row, b);
    }
}

// TQ1_0 (ggml): qs[48] then qh[4] then fp16 d. qs[0..32) hold 5 trits each of
// elements m + 32n (n = 0..4, n = 0 the most significant trit) for block
// elements 0..159; qs[32..48) hold elements 160 + m + 16n; qh[j] holds elements
// 240 + j + 4n (n = 0..3) as the top 4 trits with a zero 5th trit. A byte is the
// base-3 number q scaled to 8-bit fixed point, ceil(q · 256 / 243), so trit n is
// read back as the top of ((byte · 3^n) mod 256) · 3 >> 8.
namespace {

uint8_t tq1_byte(const int* trits, int count) {
  unsigned q = 0;
  for (int n = 0; n < count; ++n) q = q * 3 + static_cast<unsigned>(trits[n]);
  for (int n = count; n < 5; ++n) q *= 3;
  return static_cast<uint8_t>((q * 256 + 242) / 243);
}

int tq1_trit(uint8_t byte, int n) {
  static const uint8_t pow3[5] = {1, 3, 9, 27, 81};
  uint8_t q = static_cast<uint8_t>(byte * pow3[n]);
  return (static_cast<uint16_t>(q) * 3) >> 8;
}

}  // namespace

void pack_tq1(const int8_t* values, const float* block_scales, size_t rows, size_t columns, uint8_t* out) {
  check_tq_columns(columns, "packTernary");
  size_t blocks = columns / kBlockWeights;
  for (size_t row = 0; row < rows; ++row)
    for (size_t b = 0; b < blocks; ++b) {
      uint8_t* block = out + (row * blocks + b) * kTq1BlockBytes;
      float scale = block_scales[row * blocks + b];
      const uint16_t d = block_scale_bits(scale, "packTernary", row, b, values, columns);
      size_t base = b * kBlockWeights;
      auto code = [&](size_t e) { return static_cast<int>(code_of(values, columns, row, base + e, "packTernary")); };
      int trits[5];
      for (size_t m = 0; m < 32; ++m) {
        for (int n = 0; n < 5; ++n) trits[n] = code(m + 32 * n);
        block[m] = tq1_byte(trits, 5);
      }
      for (size_t m = 0; m < 16; ++m) {
        for (int n = 0; n < 5; ++n) trits[n] = code(160 + m + 16 * n);
        block[32 + m] = tq1_byte(trits, 5);
      }
      for (size_t j = 0; j < 4; ++j) {
        for (int n = 0; n < 4; ++n) trits[n] = code(240 + j + 4 * n);
        block[48 + j] = tq1_byte(trits, 4);
      }
      block[52] = static_cast<uint8_t>(d & 0xff);
      block[53] = static_cast<uint8_t>(d >> 8);
    }
}

void unpack_tq1(const uint8_t* data, size_t rows, size_t columns, int8_t* values, float* block_scales) {
  check_tq_columns(columns, "unpackTernary");
  size_t blocks = columns / kBlockWeights;
  for (size_t row = 0; row < rows; ++row)
    for (size_t b = 0; b < blocks; ++b) {
      const uint8_t* block = data + (row * blocks + b) * kTq1BlockBytes;
      int8_t* out = values + row * columns + b * kBlockWeights;
      for (size_t m = 0; m < 32; ++m)
        for (int n = 0; n < 5; ++n) out[m + 32 * n] = static_cast<int8_t>(tq1_trit(block[m], n) - 1);
      for (size_t m = 0; m < 16; ++m)
        for (int n = 0; n < 5; ++n) out[160 + m + 16 * n] = static_cast<int8_t>(tq1_trit(block[32 + m], n) - 1);
      for (size_t j = 0; j < 4; ++j)
        for (int n = 0; n < 4; ++n) out[240 + j + 4 * n] = static_cast<int8_t>(tq1_trit(block[48 + j], n) - 1);
      block_scales[row * blocks + b] = checked_half_scale(static_cast<uint16_t>(block[52] | (block[53] << 8)), row, b);
    }
}

void quantize_activations(const float* x, size_t batch, size_t columns, int8_t* q, float* scales, const char* op,
                          size_t first_token, const Kernels* kernels) {
  if (kernels == nullptr) kernels = &kernels_for(default_variant());
  for (size_t n = 0; n < batch; ++n) {
    const float* row = x + n * columns;
    uint32_t max_bits = kernels->absmax_bits(row, columns);
    if (max_bits >= 0x7f800000u) {
      for (size_t k = 0; k < columns; ++k)
        if (!std::isfinite(row[k]))
          throw Error("ERR_BITNET_INVALID_ARGUMENT",
                      std::string("[") + op + "] activation at token " + std::to_string(first_token + n) + ", column " +
                          std::to_string(k) + " is " + (std::isnan(row[k]) ? "NaN" : "infinite"),
                      ErrorKind::range);
    }
    float absmax;
    std::memcpy(&absmax, &max_bits, 4);
    int8_t* out = q + n * columns;
    if (absmax == 0) {
      scales[n] = 0;
      std::memset(out, 0, columns);
      continue;
    }
    scales[n] = absmax / 127.0f;
    if (absmax < 127.0f / std::numeric_limits<float>::max()) {
      // 127 / absmax would overflow to infinity (and 0 · inf is NaN): scale the row
      // by 2^64 first. Exact for every float, so the codes are the formula's own.
      const float lift = 18446744073709551616.0f;
      std::vector<float> lifted(row, row + columns);
      for (float& value : lifted) value *= lift;
      kernels->quantize_row(lifted.data(), columns, 127.0f / (absmax * lift), out);
      continue;
    }
    kernels->quantize_row(row, columns, 127.0f / absmax, out);
  }
}

int32_t permute_activations(const int8_t* q, size_t columns, int8_t* xp) {
  size_t blocks = blocks_for(columns);
  std::memset(xp, 0, blocks * kBlockWeights);
  int32_t sum = 0;
  size_t c = 0;
  // Whole 32-element runs move as one memcpy: run (block, half, shift) → block·256 + shift·64 + half·32.
  for (; c + 32 <= columns; c += 32) {
    std::memcpy(xp + permuted_index(c), q + c, 32);
  }
  for (; c < columns; ++c) xp[permuted_index(c)] = q[c];
  for (size_t i = 0; i < columns; ++i) sum += q[i];
  return sum;
}

}  // namespace ternary
}  // namespace bitnet
