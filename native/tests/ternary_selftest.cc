// Copyright (c) 2026 bitnet contributors. MIT license.
// Ternary kernels of one tier: pack/unpack exact against the documented byte
// layout, and the ternary × int8 matmul bit-exact on the int32 path against a
// plain natural-order dot product and against the generic variant, for GEMV
// and GEMM shapes (k not a multiple of 256, m = 1, padding rows, batch 1/3/17/33),
// through the threaded driver and through the kernel entry on tile sub-ranges.
// The float path (per-variant activation quantization, shared epilogue) must be
// bit-exact with generic too, per-row and group-scaled; the activation loops
// (absmax, rounding with ties) on their own as well; the dense F32 baseline
// within 1e-5·Σ|w·x| of generic.
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "cpu/ternary/ternary.h"
#include "tests/selftest.h"

namespace bitnet {
namespace ternary {
namespace {

class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed * 0x9e3779b97f4a7c15ull + 3) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  size_t below(size_t n) { return static_cast<size_t>(next() % n); }
  float uniform(float lo, float hi) { return lo + (hi - lo) * static_cast<float>((next() >> 40) * 0x1p-24); }

 private:
  uint64_t state_;
};

std::vector<int8_t> ternary_values(Random& rng, size_t count) {
  std::vector<int8_t> v(count);
  for (auto& x : v) x = static_cast<int8_t>(static_cast<int>(rng.below(3)) - 1);
  return v;
}

template <typename... Args>
std::string text(const std::string& format, Args... args) {
  char buffer[256];
  std::snprintf(buffer, sizeof buffer, format.c_str(), args...);
  return buffer;
}

std::string check_formats(Random& rng) {
  const size_t shapes[][2] = {{1, 1}, {1, 255}, {3, 256}, {4, 257}, {5, 100}, {9, 512}, {6, 700}, {2, 1024}};
  for (const auto& s : shapes) {
    const size_t rows = s[0], columns = s[1], blocks = blocks_for(columns);
    std::vector<int8_t> values = ternary_values(rng, rows * columns);
    std::vector<uint8_t> codes(i2_bytes(rows, columns), 0xee);
    pack_i2(values.data(), rows, columns, codes.data());
    // Independent read of the documented layout: tile t, block b, row r at ((t·blocks + b)·4 + r)·64;
    // element e of the block at byte 32·(e / 128) + e % 32, bits 2·((e % 128) / 32). Padding is code 1.
    for (size_t row = 0; row < tiles_for(rows) * kTileRows; ++row)
      for (size_t column = 0; column < blocks * kBlockWeights; ++column) {
        const size_t t = row / 4, r = row % 4, b = column / 256, e = column % 256;
        const uint8_t byte = codes[((t * blocks + b) * 4 + r) * 64 + 32 * (e / 128) + e % 32];
        const int code = (byte >> (2 * ((e % 128) / 32))) & 3;
        const int want = row < rows && column < columns ? values[row * columns + column] + 1 : 1;
        if (code != want) return text("pack_i2 %zux%zu code at (%zu,%zu): %d vs %d", rows, columns, row, column, code, want);
      }
    std::vector<int8_t> back(rows * columns, 9);
    unpack_i2(codes.data(), rows, columns, back.data());
    if (back != values) return text("unpack_i2 %zux%zu round trip differs", rows, columns);
    if (columns % 256 != 0) continue;
    std::vector<float> scales(rows * blocks);
    for (auto& x : scales) x = rng.uniform(1e-3f, 2.0f);
    std::vector<uint8_t> tq2(rows * blocks * kTq2BlockBytes), tq1(rows * blocks * kTq1BlockBytes);
    pack_tq2(values.data(), scales.data(), rows, columns, tq2.data());
    pack_tq1(values.data(), scales.data(), rows, columns, tq1.data());
    for (size_t row = 0; row < rows; ++row)
      for (size_t b = 0; b < blocks; ++b) {
        // TQ2_0's qs is byte for byte the i2_r4 block; its fp16 scale follows.
        const uint8_t* q2 = tq2.data() + (row * blocks + b) * kTq2BlockBytes;
        if (std::memcmp(q2, codes.data() + (((row / 4) * blocks + b) * 4 + row % 4) * 64, 64) != 0)
          return text("tq2 qs of row %zu block %zu differs from i2_r4", row, b);
        if ((q2[64] | (q2[65] << 8)) != float_to_half(scales[row * blocks + b]))
          return text("tq2 scale of row %zu block %zu: %d vs %d", row, b, q2[64] | (q2[65] << 8),
                      int(float_to_half(scales[row * blocks + b])));
      }
    std::vector<int8_t> back2(rows * columns, 9), back1(rows * columns, 9);
    std::vector<float> scales2(rows * blocks), scales1(rows * blocks);
    unpack_tq2(tq2.data(), rows, columns, back2.data(), scales2.data());
    unpack_tq1(tq1.data(), rows, columns, back1.data(), scales1.data());
    if (back2 != values || back1 != values) return text("tq2/tq1 %zux%zu round trip differs (tq2 %d, tq1 %d)", rows, columns, int(back2 != values), int(back1 != values));
    for (size_t i = 0; i < scales.size(); ++i) {
      const float rounded = half_to_float(float_to_half(scales[i]));
      if (scales2[i] != rounded || scales1[i] != rounded || std::fabs(rounded - scales[i]) > scales[i] * 0x1p-11f)
        return text("tq scale %zu of %zux%zu: fp16 rounding differs", i, rows, columns);
    }
  }
  return "";
}

// Int8 activations with stretches of the extremes (127 and −128), which would
// saturate an int16 accumulation that is not widened early enough.
std::vector<int8_t> activations(Random& rng, size_t batch, size_t columns) {
  std::vector<int8_t> x(batch * columns);
  for (size_t n = 0; n < batch; ++n) {
    const int mode = static_cast<int>(n % 4);
    for (size_t k = 0; k < columns; ++k) {
      int v = static_cast<int>(rng.below(256)) - 128;
      if (mode == 1) v = 127;
      if (mode == 2) v = -128;
      if (mode == 3 && k % 7 == 0) v = (k & 8) ? 127 : -128;
      x[n * columns + k] = static_cast<int8_t>(v);
    }
  }
  return x;
}

std::vector<Variant> variants_of(IsaTier tier) {
  switch (tier) {
    case IsaTier::generic: return {Variant::generic};
    case IsaTier::avx2: return {Variant::avx2};
    case IsaTier::avx512:
      if (variant_supported(Variant::avx512vnni)) return {Variant::avx512, Variant::avx512vnni};
      return {Variant::avx512};
    case IsaTier::neon: return {Variant::neon};
  }
  return {};
}

std::string check_matmul(Random& rng, Variant v) {
  const std::string name = variant_name(v);
  // rows × columns (GEMV/GEMM shapes: partial tiles, k below/at/past 256 and not a multiple of it).
  const size_t shapes[][2] = {{1, 1}, {1, 300}, {3, 255}, {4, 256}, {5, 257}, {8, 100}, {17, 511}, {13, 512},
                              {67, 777}, {32, 1024 + 37}, {9, 2560}};
  for (const auto& s : shapes)
    for (size_t batch : {1, 3, 17, 33}) {
      const size_t rows = s[0], columns = s[1], blocks = blocks_for(columns), tiles = tiles_for(rows);
      if (rows * columns * batch > 4000000) continue;
      std::vector<int8_t> w = ternary_values(rng, rows * columns);
      std::vector<uint8_t> codes(i2_bytes(rows, columns));
      pack_i2(w.data(), rows, columns, codes.data());
      std::vector<float> scales(rows);
      for (auto& x : scales) x = rng.uniform(0.01f, 1.0f);
      const PackedView view{codes.data(), scales.data(), rows, columns};
      std::vector<int8_t> x = activations(rng, batch, columns);
      std::vector<int32_t> want(batch * rows);
      for (size_t n = 0; n < batch; ++n)
        for (size_t r = 0; r < rows; ++r) {
          int32_t dot = 0;
          for (size_t k = 0; k < columns; ++k) dot += int32_t(w[r * columns + k]) * x[n * columns + k];
          want[n * rows + r] = dot;
        }
      for (size_t threads : {1, 2}) {
        std::vector<int32_t> got(batch * rows, 0x5a5a5a5a);
        matmul_int(view, x.data(), batch, got.data(), threads, v);
        for (size_t i = 0; i < got.size(); ++i)
          if (got[i] != want[i])
            return text(name + " matmul_int %zux%zu batch %zu threads %zu at %zu: %d vs %d", rows, columns, batch, threads,
                        i, got[i], want[i]);
      }
      // The kernel entry on a tile sub-range, against the generic kernel: nothing outside it is written.
      std::vector<int8_t> xp(batch * blocks * kBlockWeights);
      std::vector<int32_t> xsum(batch);
      for (size_t n = 0; n < batch; ++n)
        xsum[n] = permute_activations(x.data() + n * columns, columns, xp.data() + n * blocks * kBlockWeights);
      const size_t begin = tiles > 2 ? 1 : 0, end = tiles > 2 ? tiles - 1 : tiles;
      std::vector<int32_t> kw(tiles * batch * 4, -7), kg(tiles * batch * 4, -7);
      kernels_for(Variant::generic).gemm_int(codes.data(), blocks, begin, end, xp.data(), xsum.data(), batch, kw.data());
      kernels_for(v).gemm_int(codes.data(), blocks, begin, end, xp.data(), xsum.data(), batch, kg.data());
      for (size_t i = 0; i < kw.size(); ++i)
        if (kw[i] != kg[i])
          return text(name + " gemm_int %zux%zu batch %zu tiles [%zu, %zu) at %zu: %d vs generic %d", rows, columns,
                      batch, begin, end, i, kg[i], kw[i]);
      // Float path: the variant's quantization loops and the shared epilogue must match generic's bits.
      std::vector<float> xf(batch * columns), bias(rows);
      for (auto& f : xf) f = rng.uniform(-3, 3);
      for (auto& f : bias) f = rng.uniform(-1, 1);
      std::vector<float> yw(batch * rows), yg(batch * rows);
      matmul(view, xf.data(), batch, bias.data(), yw.data(), 1, Variant::generic);
      matmul(view, xf.data(), batch, bias.data(), yg.data(), 2, v);
      if (std::memcmp(yw.data(), yg.data(), yw.size() * 4) != 0)
        return text(name + " matmul (float) %zux%zu batch %zu differs from generic", rows, columns, batch);
      // Group-scaled (one scale per row and group of 1 or 2 blocks): same bits as generic, and the
      // integer path still the plain dot product.
      for (size_t group_blocks : {size_t(1), size_t(2)}) {
        if (blocks < 2) break;
        std::vector<uint8_t> grouped(i2_bytes(rows, columns));
        pack_i2(w.data(), rows, columns, grouped.data(), group_blocks);
        std::vector<float> group_scales(rows * groups_for(columns, group_blocks));
        for (auto& f : group_scales) f = rng.uniform(0.01f, 1.0f);
        PackedView gview{grouped.data(), group_scales.data(), rows, columns, group_blocks};
        matmul(gview, xf.data(), batch, bias.data(), yw.data(), 1, Variant::generic);
        matmul(gview, xf.data(), batch, bias.data(), yg.data(), 2, v);
        if (std::memcmp(yw.data(), yg.data(), yw.size() * 4) != 0)
          return text(name + " group-scaled matmul %zux%zu (groups of %zu blocks) batch %zu differs from generic", rows,
                      columns, group_blocks, batch);
        std::vector<int32_t> got(batch * rows, 0x5a5a5a5a);
        matmul_int(gview, x.data(), batch, got.data(), 2, v);
        if (got != want)
          return text(name + " group-scaled matmul_int %zux%zu (groups of %zu blocks) batch %zu differs", rows, columns,
                      group_blocks, batch);
      }
      // Dense F32 baseline.
      std::vector<float> wf(rows * columns);
      for (auto& f : wf) f = rng.uniform(-1, 1);
      matmul_f32(wf.data(), rows, columns, xf.data(), batch, yw.data(), 1, Variant::generic);
      matmul_f32(wf.data(), rows, columns, xf.data(), batch, yg.data(), 2, v);
      for (size_t n = 0; n < batch; ++n)
        for (size_t r = 0; r < rows; ++r) {
          double magnitude = 0;
          for (size_t k = 0; k < columns; ++k) magnitude += std::fabs(wf[r * columns + k] * xf[n * columns + k]);
          if (!(std::fabs(yg[n * rows + r] - yw[n * rows + r]) <= 1e-5 * magnitude))
            return text(name + " matmul_f32 %zux%zu batch %zu row %zu: %.9g vs generic %.9g", rows, columns, batch, r,
                        yg[n * rows + r], yw[n * rows + r]);
        }
    }
  return "";
}

// absmax_bits and quantize_row against generic: every length around the SIMD widths, signed
// zeros, NaN/Inf bits, and exact ties (multiplier 1, x = k + 0.5) that must round to even.
std::string check_activation_loops(Random& rng, Variant v) {
  const std::string name = variant_name(v);
  const Kernels& mine = kernels_for(v);
  const Kernels& generic = kernels_for(Variant::generic);
  for (size_t columns : {size_t(0), size_t(1), size_t(7), size_t(15), size_t(16), size_t(17), size_t(31), size_t(32),
                         size_t(33), size_t(63), size_t(100), size_t(2560)}) {
    std::vector<float> x(columns);
    for (size_t k = 0; k < columns; ++k)
      x[k] = k % 3 == 0 ? static_cast<float>(static_cast<int>(rng.below(255)) - 127) + 0.5f : rng.uniform(-127, 127);
    if (columns > 2) x[1] = -0.0f;
    std::vector<int8_t> qm(columns + 1, 99), qg(columns + 1, 99);
    mine.quantize_row(x.data(), columns, 1.0f, qm.data());
    generic.quantize_row(x.data(), columns, 1.0f, qg.data());
    if (qm != qg) return text(name + " quantize_row (ties) of %zu columns differs from generic", columns);
    const float inverse = 127.0f / 3.1f;
    for (auto& f : x) f = rng.uniform(-3.1f, 3.1f);
    mine.quantize_row(x.data(), columns, inverse, qm.data());
    generic.quantize_row(x.data(), columns, inverse, qg.data());
    if (qm != qg) return text(name + " quantize_row of %zu columns differs from generic", columns);
    if (mine.absmax_bits(x.data(), columns) != generic.absmax_bits(x.data(), columns))
      return text(name + " absmax_bits of %zu columns differs from generic", columns);
    for (float special : {INFINITY, -INFINITY, NAN, -7.5f}) {
      if (columns == 0) break;
      std::vector<float> y = x;
      y[rng.below(columns)] = special;
      if (mine.absmax_bits(y.data(), columns) != generic.absmax_bits(y.data(), columns))
        return text(name + " absmax_bits of %zu columns with %g differs from generic", columns, special);
    }
  }
  return "";
}

std::string check_ternary(IsaTier tier) {
  Random rng(static_cast<uint64_t>(tier) + 11);
  std::string problem = check_formats(rng);
  if (!problem.empty()) return problem;
  for (Variant v : variants_of(tier)) {
    if (!(problem = check_activation_loops(rng, v)).empty()) return problem;
    if (!(problem = check_matmul(rng, v)).empty()) return problem;
  }
  return "";
}

}  // namespace
}  // namespace ternary
}  // namespace bitnet

BITNET_SELFTEST(ternary_kernels, bitnet::ternary::check_ternary);
