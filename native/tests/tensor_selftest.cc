// Copyright (c) 2026 bitnet contributors. MIT license.
// Tensor kernels of one tier against the generic table, kernel by kernel, on
// random inputs with odd sizes (every vector tail), signed zeros, NaN, ±Inf and
// subnormals. Tolerances, relative to the generic result `want`:
//   - exact (bit for bit, NaN for NaN): add/sub/mul/div/pow/maximum/minimum,
//     compares, neg/abs/sqrt/rsqrt/square/relu/clamp, max/min, accumulate,
//     every F16/BF16 conversion; except that maximum/minimum (binary and
//     accumulate) of a +0/−0 tie may return either zero;
//   - exp/log/sigmoid/silu/tanh/gelu/gelu_tanh: |got − want| ≤ 4e-6·|want| + 1e-6
//     (Cephes-style polynomials vs libm; GELU's generic 1 + erf cancels for x ≪ 0,
//     hence the absolute part), same Inf/NaN class;
//   - sum/dot: |got − want| ≤ 1e-5·Σ|terms| (float lanes vs a double loop);
//   - axpy: ≤ 2e-7·(|αx| + |y|) + 1e-30 (FMA vs separate rounding);
//   - softmax/log-softmax/RMSNorm/LayerNorm: ≤ 1e-5·|want| + 1e-6 (float vs double),
//     LayerNorm also on rows with |mean|/σ ≈ 10^4;
//   - F32 matmul (through the blocked driver, one thread): |got − want| ≤ 1e-5·Σ_k|a||b|;
//     the micro-kernel alone against a double sum: ≤ 4e-6·(|c| + Σ_k|a||b|).
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "cpu/tensor/ops.h"
#include "cpu/tensor/tensor_kernels.h"
#include "tests/selftest.h"

namespace bitnet {
namespace tensor {
namespace {

class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed * 0x9e3779b97f4a7c15ull + 1) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  float uniform(float lo, float hi) { return lo + (hi - lo) * static_cast<float>((next() >> 40) * 0x1p-24); }
  size_t below(size_t n) { return static_cast<size_t>(next() % n); }

 private:
  uint64_t state_;
};

const float kInf = std::numeric_limits<float>::infinity();
const float kNaN = std::numeric_limits<float>::quiet_NaN();

const size_t kSizes[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 63, 64, 65, 100, 127, 129, 255, 1000, 1027, 4099, 9001};

// Random values in [lo, hi], with specials sprinkled in when asked.
std::vector<float> values(Random& rng, size_t n, float lo, float hi, bool specials) {
  std::vector<float> v(n);
  for (auto& x : v) x = rng.uniform(lo, hi);
  if (specials && n > 0) {
    const float extra[] = {0.0f, -0.0f, kInf, -kInf, kNaN, 1e-40f, -1e-40f, 1.0f, -1.0f, hi, lo};
    for (float e : extra) v[rng.below(n)] = e;
  }
  return v;
}

bool same_bits(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  uint32_t x, y;
  std::memcpy(&x, &a, 4);
  std::memcpy(&y, &b, 4);
  return x == y;
}

// maximum/minimum of +0 and −0 may return either zero (IEEE maxNum leaves it
// open; x86 max returns its second operand, the generic loop its first).
bool same_value(float a, float b) { return (a == 0 && b == 0) || same_bits(a, b); }

// Same class (NaN, ±Inf) and within atol + rtol·|want| otherwise.
bool close(float got, float want, double rtol, double atol) {
  if (std::isnan(want) || std::isnan(got)) return std::isnan(want) && std::isnan(got);
  if (std::isinf(want) || std::isinf(got)) return got == want;
  return std::fabs(static_cast<double>(got) - want) <= atol + rtol * std::fabs(static_cast<double>(want));
}

std::string where(const char* what, size_t n, size_t i, double got, double want) {
  char text[256];
  std::snprintf(text, sizeof text, "%s n=%zu at %zu: %.9g vs generic %.9g", what, n, i, got, want);
  return text;
}

const char* const kBinaryNames[] = {"add", "sub", "mul", "div", "pow", "maximum", "minimum"};
const char* const kCompareNames[] = {"eq", "ne", "lt", "le", "gt", "ge"};
const char* const kUnaryNames[] = {"neg",  "abs",     "sqrt", "rsqrt", "exp",  "log",   "relu",
                                   "gelu", "gelu_tanh", "silu", "sigmoid", "tanh", "clamp", "square"};

std::string check_elementwise(const TensorKernelTable& ref, const TensorKernelTable& k, Random& rng) {
  for (size_t n : kSizes) {
    std::vector<float> a = values(rng, n, -8, 8, true), b = values(rng, n, -8, 8, true);
    // Repeat some values so the compares see equality.
    for (size_t i = 0; i < n; i += 5) b[i] = a[i];
    std::vector<float> want(n + 1), got(n + 1);
    std::vector<uint8_t> want8(n + 1), got8(n + 1);
    for (int op = 0; op < static_cast<int>(BinaryOp::count); ++op)
      for (int mode = 0; mode < 3; ++mode) {
        if (n == 0 && mode != 0) continue;  // scalar modes read one element
        // A sentinel past the end catches writes beyond n.
        want[n] = got[n] = 12345.0f;
        ref.binary_f32(BinaryOp(op), BinaryMode(mode), a.data(), b.data(), want.data(), n);
        k.binary_f32(BinaryOp(op), BinaryMode(mode), a.data(), b.data(), got.data(), n);
        const bool zero_sign_free = BinaryOp(op) == BinaryOp::maximum || BinaryOp(op) == BinaryOp::minimum;
        for (size_t i = 0; i <= n; ++i)
          if (zero_sign_free ? !same_value(got[i], want[i]) : !same_bits(got[i], want[i]))
            return where((std::string("binary ") + kBinaryNames[op] + " mode " + std::to_string(mode)).c_str(), n, i,
                         got[i], want[i]);
      }
    for (int op = 0; op < static_cast<int>(CompareOp::count); ++op)
      for (int mode = 0; mode < 3; ++mode) {
        if (n == 0 && mode != 0) continue;
        want8[n] = got8[n] = 77;
        ref.compare_f32(CompareOp(op), BinaryMode(mode), a.data(), b.data(), want8.data(), n);
        k.compare_f32(CompareOp(op), BinaryMode(mode), a.data(), b.data(), got8.data(), n);
        for (size_t i = 0; i <= n; ++i)
          if (got8[i] != want8[i])
            return where((std::string("compare ") + kCompareNames[op] + " mode " + std::to_string(mode)).c_str(), n, i,
                         got8[i], want8[i]);
      }
    for (int op = 0; op < static_cast<int>(UnaryOp::count); ++op) {
      const UnaryOp u = UnaryOp(op);
      std::vector<float> x;
      if (u == UnaryOp::exp) x = values(rng, n, -110, 95, true);
      else if (u == UnaryOp::log || u == UnaryOp::sqrt || u == UnaryOp::rsqrt) x = values(rng, n, 0, 1e6f, true);
      else if (u == UnaryOp::sigmoid || u == UnaryOp::silu || u == UnaryOp::tanh) x = values(rng, n, -40, 40, true);
      else x = values(rng, n, -12, 12, true);
      if (u == UnaryOp::log && n > 8) {
        x[1] = 3e-39f;  // subnormal
        x[2] = 0.70710677f;
        x[3] = 1.0f;
      }
      const bool approximate = u == UnaryOp::exp || u == UnaryOp::log || u == UnaryOp::sigmoid ||
                               u == UnaryOp::silu || u == UnaryOp::tanh || u == UnaryOp::gelu ||
                               u == UnaryOp::gelu_tanh;
      want[n] = got[n] = 12345.0f;
      ref.unary_f32(u, x.data(), want.data(), n, -0.5f, 2.5f);
      k.unary_f32(u, x.data(), got.data(), n, -0.5f, 2.5f);
      for (size_t i = 0; i <= n; ++i) {
        const bool ok = approximate ? close(got[i], want[i], 4e-6, 1e-6) : same_bits(got[i], want[i]);
        if (!ok) return where((std::string("unary ") + kUnaryNames[op] + " x=" + std::to_string(x[i < n ? i : 0])).c_str(), n, i, got[i], want[i]);
      }
    }
  }
  return "";
}

std::string check_reductions(const TensorKernelTable& ref, const TensorKernelTable& k, Random& rng) {
  for (size_t n : kSizes) {
    std::vector<float> a = values(rng, n, -100, 100, false), b = values(rng, n, -3, 3, false);
    double magnitude = 0, product = 0;
    for (size_t i = 0; i < n; ++i) {
      magnitude += std::fabs(a[i]);
      product += std::fabs(static_cast<double>(a[i]) * b[i]);
    }
    double want = ref.sum_f32(a.data(), n), got = k.sum_f32(a.data(), n);
    if (std::fabs(got - want) > 1e-5 * magnitude) return where("sum_f32", n, 0, got, want);
    want = ref.dot_f32(a.data(), b.data(), n);
    got = k.dot_f32(a.data(), b.data(), n);
    if (std::fabs(got - want) > 1e-5 * product) return where("dot_f32", n, 0, got, want);
    // max/min: plain data, then a NaN at every kind of position (vector body and tail).
    for (int pass = 0; pass < 3; ++pass) {
      std::vector<float> c = a;
      if (pass == 1 && n > 0) c[rng.below(n)] = kNaN;
      if (pass == 2 && n > 0) c[n - 1] = kNaN;
      if (pass > 0 && n > 2) c[rng.below(n)] = kInf;
      if (!same_bits(k.max_f32(c.data(), n), ref.max_f32(c.data(), n)))
        return where("max_f32", n, pass, k.max_f32(c.data(), n), ref.max_f32(c.data(), n));
      if (!same_bits(k.min_f32(c.data(), n), ref.min_f32(c.data(), n)))
        return where("min_f32", n, pass, k.min_f32(c.data(), n), ref.min_f32(c.data(), n));
    }
    std::vector<float> x = values(rng, n, -4, 4, true);
    for (int op = 0; op < 3; ++op) {
      std::vector<float> w = values(rng, n, -4, 4, true), g = w;
      ref.accumulate_f32(op, x.data(), w.data(), n);
      k.accumulate_f32(op, x.data(), g.data(), n);
      for (size_t i = 0; i < n; ++i)
        if (op == 0 ? !same_bits(g[i], w[i]) : !same_value(g[i], w[i])) return where(("accumulate op " + std::to_string(op)).c_str(), n, i, g[i], w[i]);
    }
    std::vector<float> y = values(rng, n, -4, 4, false), yw = y, yg = y;
    const float alpha = rng.uniform(-2, 2);
    ref.axpy_f32(alpha, b.data(), yw.data(), n);
    k.axpy_f32(alpha, b.data(), yg.data(), n);
    for (size_t i = 0; i < n; ++i)
      if (std::fabs(static_cast<double>(yg[i]) - yw[i]) > 2e-7 * (std::fabs(alpha * b[i]) + std::fabs(y[i])) + 1e-30)
        return where("axpy_f32", n, i, yg[i], yw[i]);
  }
  return "";
}

std::string check_rows(const TensorKernelTable& ref, const TensorKernelTable& k, Random& rng) {
  for (size_t n : kSizes) {
    std::vector<float> x = values(rng, n, -20, 20, false), weight = values(rng, n, -2, 2, false),
                       bias = values(rng, n, -1, 1, false);
    // A large common offset (|mean|/σ ≈ 10^4) tests LayerNorm's corrected two-pass variance.
    std::vector<float> shifted(x);
    for (auto& v : shifted) v = v * 0.01f + 1000.0f;
    std::vector<float> want(n + 1), got(n + 1);
    auto compare = [&](const char* what) -> std::string {
      for (size_t i = 0; i <= n; ++i)
        if (!close(got[i], want[i], 1e-5, 1e-6)) return where(what, n, i, got[i], want[i]);
      return "";
    };
    std::string problem;
    for (int log = 0; log < 2; ++log) {
      want[n] = got[n] = 12345.0f;
      ref.softmax_f32(x.data(), want.data(), n, log != 0);
      k.softmax_f32(x.data(), got.data(), n, log != 0);
      if (!(problem = compare(log ? "log_softmax_f32" : "softmax_f32")).empty()) return problem;
    }
    for (const float* w : {static_cast<const float*>(nullptr), static_cast<const float*>(weight.data())}) {
      ref.rms_norm_f32(x.data(), w, want.data(), n, 1e-6f);
      k.rms_norm_f32(x.data(), w, got.data(), n, 1e-6f);
      if (!(problem = compare(w ? "rms_norm_f32 weight" : "rms_norm_f32")).empty()) return problem;
      for (const float* bs : {static_cast<const float*>(nullptr), static_cast<const float*>(bias.data())})
        for (const std::vector<float>* input : {&x, &shifted}) {
          ref.layer_norm_f32(input->data(), w, bs, want.data(), n, 1e-5f);
          k.layer_norm_f32(input->data(), w, bs, got.data(), n, 1e-5f);
          if (!(problem = compare(input == &x ? "layer_norm_f32" : "layer_norm_f32 offset")).empty()) return problem;
        }
    }
  }
  return "";
}

std::string check_conversions(const TensorKernelTable& ref, const TensorKernelTable& k, Random& rng) {
  // Every 16-bit pattern, at an odd count and offset so both vector bodies and tails run.
  std::vector<uint16_t> all(65536 + 5);
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<uint16_t>(i * 40503u);
  const size_t count = all.size() - 2;
  std::vector<float> want(count), got(count);
  ref.f16_to_f32(all.data() + 1, want.data(), count);
  k.f16_to_f32(all.data() + 1, got.data(), count);
  for (size_t i = 0; i < count; ++i)
    if (std::memcmp(&want[i], &got[i], 4) != 0) return where("f16_to_f32", count, i, got[i], want[i]);
  ref.bf16_to_f32(all.data() + 1, want.data(), count);
  k.bf16_to_f32(all.data() + 1, got.data(), count);
  for (size_t i = 0; i < count; ++i)
    if (std::memcmp(&want[i], &got[i], 4) != 0) return where("bf16_to_f32", count, i, got[i], want[i]);
  // F32 → 16 bits: random bit patterns (NaN payloads, subnormals, overflow) plus
  // exact halfway cases of both formats.
  for (size_t n : kSizes) {
    std::vector<float> in(n);
    for (size_t i = 0; i < n; ++i) {
      uint32_t bits = static_cast<uint32_t>(rng.next());
      switch (i % 4) {
        case 0: break;                                                        // any pattern
        case 1: bits = (bits & 0x80001fffu) | ((100u + bits % 50u) << 23); break;  // f16 range incl. subnormals
        case 2: bits = (bits & 0xffffe000u) | 0x1000u; break;                 // f16 halfway
        case 3: bits = (bits & 0xffff0000u) | 0x8000u; break;                 // bf16 halfway
      }
      std::memcpy(&in[i], &bits, 4);
    }
    std::vector<uint16_t> w16(n + 1), g16(n + 1);
    w16[n] = g16[n] = 0xabcd;
    ref.f32_to_f16(in.data(), w16.data(), n);
    k.f32_to_f16(in.data(), g16.data(), n);
    for (size_t i = 0; i <= n; ++i)
      if (w16[i] != g16[i]) return where("f32_to_f16", n, i, g16[i], w16[i]);
    ref.f32_to_bf16(in.data(), w16.data(), n);
    k.f32_to_bf16(in.data(), g16.data(), n);
    for (size_t i = 0; i <= n; ++i)
      if (w16[i] != g16[i]) return where("f32_to_bf16", n, i, g16[i], w16[i]);
  }
  return "";
}

std::string check_matmul(const TensorKernelTable& ref, const TensorKernelTable& k, Random& rng) {
  struct Shape3 { size_t m, n, k; };
  const Shape3 shapes[] = {{1, 1, 1},   {1, 37, 19},   {2, 50, 300},  {3, 5, 7},     {7, 13, 64},
                           {8, 12, 33}, {9, 25, 257},  {13, 17, 1},   {16, 48, 100}, {25, 33, 513},
                           {31, 70, 45}, {65, 129, 77}, {200, 31, 260}};
  for (const Shape3& s : shapes)
    for (int layout = 0; layout < 3; ++layout) {
      // 0: both row-major; 1: B transposed (column-major view); 2: A transposed, B strided by 2.
      std::vector<float> a = values(rng, s.m * s.k, -1, 1, false), b = values(rng, s.k * s.n * 2, -1, 1, false);
      MatmulOperand ao{a.data(), static_cast<int64_t>(s.k), 1}, bo{b.data(), static_cast<int64_t>(s.n), 1};
      if (layout == 1) bo = {b.data(), 1, static_cast<int64_t>(s.k)};
      if (layout == 2) {
        ao = {a.data(), 1, static_cast<int64_t>(s.m)};
        bo = {b.data(), static_cast<int64_t>(2 * s.n), 2};
      }
      std::vector<float> want(s.m * s.n), got(s.m * s.n);
      matmul(ref, s.m, s.n, s.k, ao, bo, want.data(), s.n, 1);
      matmul(k, s.m, s.n, s.k, ao, bo, got.data(), s.n, 1);
      for (size_t i = 0; i < s.m; ++i)
        for (size_t j = 0; j < s.n; ++j) {
          double magnitude = 0;
          for (size_t p = 0; p < s.k; ++p)
            magnitude += std::fabs(ao.data[i * ao.row_stride + p * ao.col_stride] * bo.data[p * bo.row_stride + j * bo.col_stride]);
          const float g = got[i * s.n + j], w = want[i * s.n + j];
          if (!(std::fabs(static_cast<double>(g) - w) <= 1e-5 * magnitude)) {
            char text[200];
            std::snprintf(text, sizeof text, "matmul %zux%zux%zu layout %d at (%zu,%zu): %.9g vs generic %.9g", s.m,
                          s.n, s.k, layout, i, j, g, w);
            return text;
          }
        }
    }
  // The micro-kernel alone, with accumulate and every partial tile size.
  const MatmulConfig& c = k.matmul;
  const size_t kc = 37, ldc = c.nr + 3;
  std::vector<float> a = values(rng, kc * c.mr, -1, 1, false), b = values(rng, kc * c.nr, -1, 1, false);
  for (size_t rows = 1; rows <= c.mr; ++rows)
    for (size_t cols = 1; cols <= c.nr; cols += (cols < 4 ? 1 : 3)) {
      std::vector<float> base = values(rng, (c.mr + 1) * ldc, -1, 1, false);
      std::vector<float> got = base;
      c.kernel(kc, a.data(), b.data(), c.nr, got.data(), ldc, rows, cols, true);
      for (size_t i = 0; i <= c.mr; ++i)
        for (size_t j = 0; j < ldc; ++j) {
          double want = base[i * ldc + j], magnitude = std::fabs(want);
          if (i < rows && j < cols)
            for (size_t p = 0; p < kc; ++p) {
              want += static_cast<double>(a[p * c.mr + i]) * b[p * c.nr + j];
              magnitude += std::fabs(static_cast<double>(a[p * c.mr + i]) * b[p * c.nr + j]);
            }
          if (!(std::fabs(got[i * ldc + j] - want) <= 4e-6 * magnitude)) {
            char text[200];
            std::snprintf(text, sizeof text, "matmul micro-kernel %zux%zu (tile %zux%zu) at (%zu,%zu): %.9g vs %.9g",
                          rows, cols, c.mr, c.nr, i, j, got[i * ldc + j], want);
            return text;
          }
        }
    }
  return "";
}

std::string check_tensor(IsaTier tier) {
  const TensorKernelTable& ref = tensor_kernels_for(IsaTier::generic);
  const TensorKernelTable& k = tensor_kernels_for(tier);
  Random rng(static_cast<uint64_t>(tier) + 7);
  std::string problem;
  if (!(problem = check_elementwise(ref, k, rng)).empty()) return problem;
  if (!(problem = check_reductions(ref, k, rng)).empty()) return problem;
  if (!(problem = check_rows(ref, k, rng)).empty()) return problem;
  if (!(problem = check_conversions(ref, k, rng)).empty()) return problem;
  return check_matmul(ref, k, rng);
}

}  // namespace
}  // namespace tensor
}  // namespace bitnet

BITNET_SELFTEST(tensor_kernels, bitnet::tensor::check_tensor);
