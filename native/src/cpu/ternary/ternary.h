// Copyright (c) 2026 bitnet contributors. MIT license.
// Ternary (1.58-bit) weights × int8 activations: packed formats, activation
// quantization and the per-ISA matmul kernels behind BitLinear.
//
// Our kernel layout, "i2_r4" (2-bit codes, rows interleaved by 4):
//   - k (columns) is padded to a multiple of 256 with zero weights; a row is
//     `blocks = ceil(k / 256)` blocks of 64 bytes. Inside a block the bytes are
//     exactly ggml's TQ2_0 `qs`: byte m of each 32-byte half c holds the codes
//     (value + 1 ∈ {0,1,2}) of elements 128c + m (bits 0-1), +32 (bits 2-3),
//     +64 (bits 4-5), +96 (bits 6-7). So TQ2_0 ↔ i2_r4 is a byte copy.
//   - rows are padded to a multiple of 4 (padding rows are zero weights) and
//     grouped into tiles of 4; tile t, block b, row r of the tile lives at byte
//     ((t * blocks + b) * 4 + r) * 64. One tile is one contiguous stream, and
//     one block step feeds 4 rows from one activation load.
//   - scales: one float32 per row, outside the code buffer (w = value · scale).
//   - group-scaled variant (ggml TQ2_0/TQ1_0 blocks whose scales differ inside
//     a row, or quantize158's 'group' granularity): the columns are cut into
//     groups of `group_blocks` blocks, each group stored as its own i2_r4
//     matrix (tiles × its blocks) one after the other, with one float32 scale
//     per (row, group). The existing kernels run once per group; the driver
//     adds the group dots in float. group_blocks = 0 (or ≥ blocks) is the plain
//     layout, byte for byte, and the total size is the same either way.
// Activations are int8 with one float32 scale per token (row of x), permuted
// per 256-block into the same element order as the codes (see
// permute_activations), so every SIMD width reads them contiguously.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/cpu_features.h"

namespace bitnet {
namespace ternary {

constexpr size_t kBlockWeights = 256;
constexpr size_t kBlockBytes = 64;
constexpr size_t kTileRows = 4;
constexpr size_t kTq2BlockBytes = 66;
constexpr size_t kTq1BlockBytes = 54;

inline size_t blocks_for(size_t columns) { return (columns + kBlockWeights - 1) / kBlockWeights; }
inline size_t tiles_for(size_t rows) { return (rows + kTileRows - 1) / kTileRows; }
inline size_t i2_bytes(size_t rows, size_t columns) { return tiles_for(rows) * blocks_for(columns) * kTileRows * kBlockBytes; }
// Blocks per group, 0 meaning one group of every block.
inline size_t group_blocks_of(size_t group_blocks, size_t blocks) { return group_blocks == 0 || group_blocks > blocks ? blocks : group_blocks; }
inline size_t groups_for(size_t columns, size_t group_blocks) {
  size_t blocks = blocks_for(columns), per = group_blocks_of(group_blocks, blocks);
  return per == 0 ? 0 : (blocks + per - 1) / per;
}

// Kernel variants. avx512vnni is its own variant (not a separate IsaTier) so
// tests can run AVX-512 with and without VNNI on one machine.
enum class Variant { generic = 0, avx2 = 1, avx512 = 2, avx512vnni = 3, neon = 4 };
constexpr int kVariantCount = 5;

// Integer core of the matmul over row tiles [tile_begin, tile_end), tile-major
// so each tile's results are one contiguous run (no strided scatter per token):
//   out[(t * batch + n) * 4 + r] = Σ_k value[4t + r][k] · xq[n][k]   (exact, int32)
// codes: i2_r4 buffer; xp: permuted activations, token n at xp + n * blocks * 256;
// xsum[n] = Σ_k xq[n][k] (removes the +1 of the codes).
using GemmIntFn = void (*)(const uint8_t* codes, size_t blocks, size_t tile_begin, size_t tile_end, const int8_t* xp,
                           const int32_t* xsum, size_t batch, int32_t* out);
// One token's int8 activations: q[k] = clamp(round_half_even(x[k] · inverse), -127, 127), the
// product rounded to float32 first and the rounding in the current (nearest-even) mode, so every
// variant gives the same bytes (SIMD: one multiply and one float → int conversion per lane).
using QuantizeRowFn = void (*)(const float* x, size_t columns, float inverse, int8_t* q);
// max over k of (bits of x[k]) & 0x7fffffff: |x| orders like these integers, and NaN/Inf are exactly
// the values ≥ 0x7f800000, so one integer max finds the absmax and any non-finite value.
using AbsmaxBitsFn = uint32_t (*)(const float* x, size_t columns);
// Dense float32 reference matmul used as the F32 baseline: y[n][r] = Σ_k w[r][k] · x[n][k]
// over rows [row_begin, row_end).
using MatmulF32Fn = void (*)(const float* w, size_t rows, size_t columns, size_t row_begin, size_t row_end,
                             const float* x, size_t batch, float* y);

struct Kernels {
  Variant variant;
  GemmIntFn gemm_int;
  MatmulF32Fn matmul_f32;
  QuantizeRowFn quantize_row;
  AbsmaxBitsFn absmax_bits;
};

// Fillers, one per variant, each defined in its own ISA library.
void fill_generic(Kernels& k);
// The generic variant's quantize_row and absmax_bits, also the tails of the SIMD ones.
void quantize_row_generic(const float* x, size_t columns, float inverse, int8_t* q);
uint32_t absmax_bits_generic(const float* x, size_t columns);
void fill_avx2(Kernels& k);
void fill_avx512(Kernels& k);
void fill_avx512vnni(Kernels& k);
void fill_neon(Kernels& k);

const char* variant_name(Variant v);
bool parse_variant(const char* name, Variant* v);
bool variant_supported(Variant v);
// The variant BITNET_CPU_ISA selects (avx512 becomes avx512vnni where the CPU has VNNI).
Variant default_variant();
const Kernels& kernels_for(Variant v);  // throws when unsupported

// ---- formats (formats.cc) ----
// values: rows × columns int8 in {-1, 0, 1} (row-major). Throws on other values.
// group_blocks: see the group-scaled variant above (0 = one group).
void pack_i2(const int8_t* values, size_t rows, size_t columns, uint8_t* codes, size_t group_blocks = 0);
void unpack_i2(const uint8_t* codes, size_t rows, size_t columns, int8_t* values, size_t group_blocks = 0);
// TQ2_0 / TQ1_0: row-major, columns % 256 == 0, one fp16 scale per block
// (block_scales: rows × columns/256 floats, rounded to fp16 on pack).
void pack_tq2(const int8_t* values, const float* block_scales, size_t rows, size_t columns, uint8_t* out);
void unpack_tq2(const uint8_t* data, size_t rows, size_t columns, int8_t* values, float* block_scales);
void pack_tq1(const int8_t* values, const float* block_scales, size_t rows, size_t columns, uint8_t* out);
void unpack_tq1(const uint8_t* data, size_t rows, size_t columns, int8_t* values, float* block_scales);

uint16_t float_to_half(float value);
float half_to_float(uint16_t half);

// ---- activations ----
// Int8 absmax per token: scale = absmax / 127, q = clamp(round_half_even(x · (127 / absmax)), -127, 127),
// all float32 arithmetic. A zero row gets scale 0 and q = 0. Throws on NaN/Inf (names token and column).
// first_token only numbers tokens in error messages when x is a slice of a larger batch.
// The loops are the variant's absmax_bits and quantize_row (default: the variant BITNET_CPU_ISA selects).
void quantize_activations(const float* x, size_t batch, size_t columns, int8_t* q, float* scales, const char* op,
                          size_t first_token = 0, const Kernels* kernels = nullptr);
// Writes token n's int8 row into the permuted, zero-padded layout and returns its sum.
int32_t permute_activations(const int8_t* q, size_t columns, int8_t* xp);
// The element of natural column `column` lands at this permuted index (within the padded row).
inline size_t permuted_index(size_t column) {
  size_t block = column / 256, e = column % 256;
  size_t half = e / 128, shift = (e % 128) / 32, m = e % 32;
  return block * 256 + shift * 64 + half * 32 + m;
}

// ---- drivers (driver.cc): threads over the global pool ----
struct PackedView {
  const uint8_t* codes;  // i2_r4
  const float* scales;   // rows, or rows × groups (row-major) when group_blocks != 0
  size_t rows, columns;
  size_t group_blocks = 0;  // 0: one scale per row
};
// y[n][r] = float(dot) · (scale[r] · xscale[n]) + bias[r]; identical float math for every variant.
// Group-scaled: y[n][r] = (Σ_g float(dot_g) · scale[r][g], in group order) · xscale[n] + bias[r].
void matmul(const PackedView& w, const float* x, size_t batch, const float* bias, float* y, size_t threads,
            Variant variant);
// Integer path only: out[n][r] = Σ value · xq (exact; group scales are not applied).
void matmul_int(const PackedView& w, const int8_t* xq, size_t batch, int32_t* out, size_t threads, Variant variant);
void matmul_f32(const float* w, size_t rows, size_t columns, const float* x, size_t batch, float* y, size_t threads,
                Variant variant);

}  // namespace ternary
}  // namespace bitnet
