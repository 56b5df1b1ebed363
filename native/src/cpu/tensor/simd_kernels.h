// Copyright (c) 2026 bitnet contributors. MIT license.
// Tensor kernel bodies written once over a vector type V, included by each SIMD
// tier's .cc (compiled with only that tier's -m flags). Everything here has
// internal linkage (anonymous namespace), so the tiers' copies never merge at
// link time and a lower tier never runs a higher tier's instructions.
//
// V provides: W (lanes), T (register), M (lane mask), load/store/set1/zero,
// add/sub/mul/div/fmadd/max/min/sqrt/abs/neg, cmp_* → M, select(M, a, b),
// is_nan(a) → M, any(M), mask_bits(M), reduce_add/reduce_max/reduce_min,
// and integer helpers for exp: pow2n(n) (2^n for integral float n in range).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

#include "cpu/tensor/row_reference.h"
#include "cpu/tensor/tensor_kernels.h"

namespace bitnet {
namespace tensor {
namespace {

// ---- vector math (Cephes-style polynomials, ~1-2 ulp in float) ----

template <class V>
inline typename V::T v_exp(typename V::T x) {
  using T = typename V::T;
  const T hi = V::set1(88.72283172607421875f), lo = V::set1(-103.9721f);  // hi: the largest float with exp(hi) ≤ FLT_MAX
  T xc = V::min(V::max(x, lo), hi);
  // n = round(x / ln 2); r = x - n ln 2 in two parts for accuracy.
  T n = V::round(V::mul(xc, V::set1(1.44269504088896341f)));
  T r = V::fmadd(n, V::set1(-0.693359375f), xc);
  r = V::fmadd(n, V::set1(2.12194440e-4f), r);
  T p = V::set1(1.9875691500E-4f);
  p = V::fmadd(p, r, V::set1(1.3981999507E-3f));
  p = V::fmadd(p, r, V::set1(8.3334519073E-3f));
  p = V::fmadd(p, r, V::set1(4.1665795894E-2f));
  p = V::fmadd(p, r, V::set1(1.6666665459E-1f));
  p = V::fmadd(p, r, V::set1(5.0000001201E-1f));
  p = V::fmadd(p, V::mul(r, r), V::add(r, V::set1(1.0f)));
  // 2^n split in two factors so n down to -150 (subnormal results) still scales exactly enough.
  T n1 = V::round(V::mul(n, V::set1(0.5f)));
  T n2 = V::sub(n, n1);
  T y = V::mul(V::mul(p, V::pow2n(n1)), V::pow2n(n2));
  y = V::select(V::cmp_gt(x, hi), V::set1(std::numeric_limits<float>::infinity()), y);
  y = V::select(V::cmp_lt(x, V::set1(-103.9721f)), V::zero(), y);
  return V::select(V::is_nan(x), x, y);
}

template <class V>
inline typename V::T v_log(typename V::T x) {
  using T = typename V::T;
  // Subnormal inputs: scale into the normal range first.
  auto tiny = V::cmp_lt(x, V::set1(1.17549435e-38f));
  T xs = V::select(tiny, V::mul(x, V::set1(8388608.0f)), x);
  T e = V::exponent(xs);  // unbiased exponent as float, mantissa m in [0.5, 1)
  T m = V::mantissa_half(xs);
  e = V::select(tiny, V::sub(e, V::set1(23.0f)), e);
  auto small = V::cmp_lt(m, V::set1(0.707106781186547524f));
  m = V::select(small, V::add(m, m), m);
  e = V::select(small, V::sub(e, V::set1(1.0f)), e);
  m = V::sub(m, V::set1(1.0f));
  T z = V::mul(m, m);
  T p = V::set1(7.0376836292E-2f);
  p = V::fmadd(p, m, V::set1(-1.1514610310E-1f));
  p = V::fmadd(p, m, V::set1(1.1676998740E-1f));
  p = V::fmadd(p, m, V::set1(-1.2420140846E-1f));
  p = V::fmadd(p, m, V::set1(1.4249322787E-1f));
  p = V::fmadd(p, m, V::set1(-1.6668057665E-1f));
  p = V::fmadd(p, m, V::set1(2.0000714765E-1f));
  p = V::fmadd(p, m, V::set1(-2.4999993993E-1f));
  p = V::fmadd(p, m, V::set1(3.3333331174E-1f));
  T y = V::mul(V::mul(p, m), z);
  y = V::fmadd(e, V::set1(-2.12194440e-4f), y);
  y = V::fmadd(z, V::set1(-0.5f), y);
  T r = V::add(m, y);
  r = V::fmadd(e, V::set1(0.693359375f), r);
  const float inf = std::numeric_limits<float>::infinity();
  r = V::select(V::cmp_eq(x, V::set1(inf)), x, r);
  r = V::select(V::cmp_eq(x, V::zero()), V::set1(-inf), r);
  r = V::select(V::cmp_lt(x, V::zero()), V::set1(std::numeric_limits<float>::quiet_NaN()), r);
  return V::select(V::is_nan(x), x, r);
}

template <class V>
inline typename V::T v_tanh(typename V::T x) {
  using T = typename V::T;
  T ax = V::abs(x);
  // Small |x|: odd polynomial (no cancellation); else 1 - 2/(e^{2|x|} + 1).
  T z = V::mul(x, x);
  T p = V::set1(-5.70498872745E-3f);
  p = V::fmadd(p, z, V::set1(2.06390887954E-2f));
  p = V::fmadd(p, z, V::set1(-5.37397155531E-2f));
  p = V::fmadd(p, z, V::set1(1.33314422036E-1f));
  p = V::fmadd(p, z, V::set1(-3.33332819422E-1f));
  T small = V::fmadd(V::mul(p, z), x, x);
  T e = v_exp<V>(V::add(ax, ax));
  T large = V::sub(V::set1(1.0f), V::div(V::set1(2.0f), V::add(e, V::set1(1.0f))));
  large = V::copysign(large, x);
  T r = V::select(V::cmp_lt(ax, V::set1(0.625f)), small, large);
  return V::select(V::is_nan(x), x, r);
}

// erfc(z) for z ≥ 0 with relative error < 1.2e-7 (Numerical Recipes' Chebyshev
// fit): relative accuracy matters for GELU's tail, where 1 + erf(x) is tiny.
template <class V>
inline typename V::T v_erfc_nonnegative(typename V::T z) {
  using T = typename V::T;
  T t = V::div(V::set1(1.0f), V::fmadd(V::set1(0.5f), z, V::set1(1.0f)));
  T p = V::set1(0.17087277f);
  p = V::fmadd(p, t, V::set1(-0.82215223f));
  p = V::fmadd(p, t, V::set1(1.48851587f));
  p = V::fmadd(p, t, V::set1(-1.13520398f));
  p = V::fmadd(p, t, V::set1(0.27886807f));
  p = V::fmadd(p, t, V::set1(-0.18628806f));
  p = V::fmadd(p, t, V::set1(0.09678418f));
  p = V::fmadd(p, t, V::set1(0.37409196f));
  p = V::fmadd(p, t, V::set1(1.00002368f));
  p = V::fmadd(p, t, V::set1(-1.26551223f));
  return V::mul(t, v_exp<V>(V::sub(p, V::mul(z, z))));
}

template <class V>
inline typename V::T v_sigmoid(typename V::T x) {
  using T = typename V::T;
  T one = V::set1(1.0f);
  return V::div(one, V::add(one, v_exp<V>(V::neg(x))));
}

// ---- loops: full vectors, then the tail through a padded stack copy so the
// tail gets exactly the vector path's rounding ----

template <class V, class F>
inline void map1(const float* a, float* out, size_t n, F f) {
  size_t i = 0;
  for (; i + V::W <= n; i += V::W) V::store(out + i, f(V::load(a + i)));
  if (i < n) {
    float ta[V::W] = {}, to[V::W];
    std::memcpy(ta, a + i, (n - i) * sizeof(float));
    V::store(to, f(V::load(ta)));
    std::memcpy(out + i, to, (n - i) * sizeof(float));
  }
}

template <class V, class F>
inline void map2(BinaryMode mode, const float* a, const float* b, float* out, size_t n, F f) {
  using T = typename V::T;
  if (mode == BinaryMode::scalar_vector) {
    T va = V::set1(*a);
    map1<V>(b, out, n, [&](T vb) { return f(va, vb); });
    return;
  }
  if (mode == BinaryMode::vector_scalar) {
    T vb = V::set1(*b);
    map1<V>(a, out, n, [&](T va) { return f(va, vb); });
    return;
  }
  size_t i = 0;
  for (; i + V::W <= n; i += V::W) V::store(out + i, f(V::load(a + i), V::load(b + i)));
  if (i < n) {
    float ta[V::W] = {}, tb[V::W] = {}, to[V::W];
    std::memcpy(ta, a + i, (n - i) * sizeof(float));
    std::memcpy(tb, b + i, (n - i) * sizeof(float));
    V::store(to, f(V::load(ta), V::load(tb)));
    std::memcpy(out + i, to, (n - i) * sizeof(float));
  }
}

template <class V>
void binary_f32(BinaryOp op, BinaryMode mode, const float* a, const float* b, float* out, size_t n) {
  using T = typename V::T;
  switch (op) {
    case BinaryOp::add: return map2<V>(mode, a, b, out, n, [](T x, T y) { return V::add(x, y); });
    case BinaryOp::sub: return map2<V>(mode, a, b, out, n, [](T x, T y) { return V::sub(x, y); });
    case BinaryOp::mul: return map2<V>(mode, a, b, out, n, [](T x, T y) { return V::mul(x, y); });
    case BinaryOp::div: return map2<V>(mode, a, b, out, n, [](T x, T y) { return V::div(x, y); });
    case BinaryOp::maximum:
      // Hardware max returns the second operand when either is NaN: put x second, then catch NaN y.
      return map2<V>(mode, a, b, out, n, [](T x, T y) { return V::select(V::is_nan(y), y, V::max(y, x)); });
    case BinaryOp::minimum:
      return map2<V>(mode, a, b, out, n, [](T x, T y) { return V::select(V::is_nan(y), y, V::min(y, x)); });
    case BinaryOp::pow: {
      // Same scalar powf in every tier: exact special cases, not worth a vector body.
      size_t sa = mode == BinaryMode::scalar_vector ? 0 : 1, sb = mode == BinaryMode::vector_scalar ? 0 : 1;
      for (size_t i = 0; i < n; ++i) out[i] = std::pow(a[i * sa], b[i * sb]);
      return;
    }
    default: return;
  }
}

template <class V>
void compare_f32(CompareOp op, BinaryMode mode, const float* a, const float* b, uint8_t* out, size_t n) {
  using T = typename V::T;
  size_t sa = mode == BinaryMode::scalar_vector ? 0 : 1, sb = mode == BinaryMode::vector_scalar ? 0 : 1;
  auto run = [&](auto cmp) {
    size_t i = 0;
    for (; i + V::W <= n; i += V::W) {
      T x = sa ? V::load(a + i) : V::set1(*a);
      T y = sb ? V::load(b + i) : V::set1(*b);
      uint32_t bits = V::mask_bits(cmp(x, y));
      for (size_t l = 0; l < V::W; ++l) out[i + l] = static_cast<uint8_t>((bits >> l) & 1u);
    }
    for (; i < n; ++i) {
      T x = V::set1(a[i * sa]), y = V::set1(b[i * sb]);
      out[i] = static_cast<uint8_t>(V::mask_bits(cmp(x, y)) & 1u);
    }
  };
  switch (op) {
    case CompareOp::eq: return run([](T x, T y) { return V::cmp_eq(x, y); });
    case CompareOp::ne: return run([](T x, T y) { return V::cmp_ne(x, y); });
    case CompareOp::lt: return run([](T x, T y) { return V::cmp_lt(x, y); });
    case CompareOp::le: return run([](T x, T y) { return V::cmp_le(x, y); });
    case CompareOp::gt: return run([](T x, T y) { return V::cmp_gt(x, y); });
    case CompareOp::ge: return run([](T x, T y) { return V::cmp_ge(x, y); });
    default: return;
  }
}

template <class V>
void unary_f32(UnaryOp op, const float* a, float* out, size_t n, float p0, float p1) {
  using T = typename V::T;
  const T one = V::set1(1.0f), half = V::set1(0.5f);
  switch (op) {
    case UnaryOp::neg: return map1<V>(a, out, n, [](T x) { return V::neg(x); });
    case UnaryOp::abs: return map1<V>(a, out, n, [](T x) { return V::abs(x); });
    case UnaryOp::sqrt: return map1<V>(a, out, n, [](T x) { return V::sqrt(x); });
    case UnaryOp::rsqrt: return map1<V>(a, out, n, [&](T x) { return V::div(one, V::sqrt(x)); });
    case UnaryOp::square: return map1<V>(a, out, n, [](T x) { return V::mul(x, x); });
    case UnaryOp::exp: return map1<V>(a, out, n, [](T x) { return v_exp<V>(x); });
    case UnaryOp::log: return map1<V>(a, out, n, [](T x) { return v_log<V>(x); });
    case UnaryOp::relu: return map1<V>(a, out, n, [](T x) { return V::max(V::zero(), x); });  // NaN stays NaN
    case UnaryOp::sigmoid: return map1<V>(a, out, n, [](T x) { return v_sigmoid<V>(x); });
    case UnaryOp::silu: return map1<V>(a, out, n, [](T x) { return V::mul(x, v_sigmoid<V>(x)); });
    case UnaryOp::tanh: return map1<V>(a, out, n, [](T x) { return v_tanh<V>(x); });
    case UnaryOp::gelu:
      // 0.5·x·(1 + erf(x/√2)) = x − 0.5·x·erfc(x/√2) for x ≥ 0, 0.5·x·erfc(−x/√2) for x < 0.
      return map1<V>(a, out, n, [&](T x) {
        T e = V::mul(V::mul(half, x), v_erfc_nonnegative<V>(V::mul(V::abs(x), V::set1(0.70710678118654752f))));
        // +Inf would give Inf − Inf·0 = NaN; GELU(+Inf) is +Inf (as the generic erf form gives).
        T positive = V::select(V::cmp_eq(x, V::set1(std::numeric_limits<float>::infinity())), x, V::sub(x, e));
        return V::select(V::cmp_lt(x, V::zero()), e, positive);
      });
    case UnaryOp::gelu_tanh:
      return map1<V>(a, out, n, [&](T x) {
        // 0.5·x·(1 + tanh(z)) = x·sigmoid(2z): the sum cancels for negative x (GELU-tanh(−5) was 30% off).
        T twice = V::mul(V::set1(2 * 0.79788456080286536f), V::fmadd(V::mul(V::set1(0.044715f), x), V::mul(x, x), x));
        return V::mul(x, v_sigmoid<V>(twice));
      });
    case UnaryOp::clamp: {
      const T lo = V::set1(p0), hi = V::set1(p1);
      return map1<V>(a, out, n, [&](T x) { return V::min(hi, V::max(lo, x)); });
    }
    default: return;
  }
}

template <class V>
double sum_f32(const float* a, size_t n) {
  using T = typename V::T;
  double total = 0;
  size_t i = 0;
  // Float lanes over blocks of 4096, totals in double: error stays near one block's.
  while (i + 4 * V::W <= n) {
    const size_t start = i, end = i + 4096 < n ? i + 4096 : n;
    T s0 = V::zero(), s1 = V::zero(), s2 = V::zero(), s3 = V::zero();
    for (; i + 4 * V::W <= end; i += 4 * V::W) {
      s0 = V::add(s0, V::load(a + i));
      s1 = V::add(s1, V::load(a + i + V::W));
      s2 = V::add(s2, V::load(a + i + 2 * V::W));
      s3 = V::add(s3, V::load(a + i + 3 * V::W));
    }
    const double block = V::reduce_add(V::add(V::add(s0, s1), V::add(s2, s3)));
    // A float lane can overflow where the sum does not (3e38 + 3e38 − 3e38): such a block
    // (or one holding Inf/NaN) is summed again in double, as the generic kernel sums.
    if (std::isfinite(block)) {
      total += block;
    } else {
      for (size_t j = start; j < i; ++j) total += a[j];
    }
  }
  for (; i < n; ++i) total += a[i];
  return total;
}

template <class V, bool IsMax>
float extreme_f32(const float* a, size_t n) {
  using T = typename V::T;
  const float start = IsMax ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity();
  T m0 = V::set1(start), m1 = m0;
  auto nan = V::cmp_ne(m0, m0);
  size_t i = 0;
  for (; i + 2 * V::W <= n; i += 2 * V::W) {
    T x0 = V::load(a + i), x1 = V::load(a + i + V::W);
    nan = V::mask_or(nan, V::mask_or(V::is_nan(x0), V::is_nan(x1)));
    m0 = IsMax ? V::max(m0, x0) : V::min(m0, x0);
    m1 = IsMax ? V::max(m1, x1) : V::min(m1, x1);
  }
  if (V::any(nan)) return std::numeric_limits<float>::quiet_NaN();
  float m = IsMax ? V::reduce_max(V::max(m0, m1)) : V::reduce_min(V::min(m0, m1));
  for (; i < n; ++i) {
    if (std::isnan(a[i])) return a[i];
    m = IsMax ? (a[i] > m ? a[i] : m) : (a[i] < m ? a[i] : m);
  }
  return m;
}

template <class V>
void accumulate_f32(int op, const float* a, float* out, size_t n) {
  using T = typename V::T;
  if (op == 0) return map2<V>(BinaryMode::vector_vector, out, a, out, n, [](T x, T y) { return V::add(x, y); });
  if (op == 1)
    return map2<V>(BinaryMode::vector_vector, out, a, out, n,
                   [](T x, T y) { return V::select(V::is_nan(y), y, V::max(y, x)); });
  return map2<V>(BinaryMode::vector_vector, out, a, out, n,
                 [](T x, T y) { return V::select(V::is_nan(y), y, V::min(y, x)); });
}

template <class V>
void axpy_f32(float alpha, const float* x, float* y, size_t n) {
  using T = typename V::T;
  const T va = V::set1(alpha);
  size_t i = 0;
  for (; i + 4 * V::W <= n; i += 4 * V::W) {
    V::store(y + i, V::fmadd(va, V::load(x + i), V::load(y + i)));
    V::store(y + i + V::W, V::fmadd(va, V::load(x + i + V::W), V::load(y + i + V::W)));
    V::store(y + i + 2 * V::W, V::fmadd(va, V::load(x + i + 2 * V::W), V::load(y + i + 2 * V::W)));
    V::store(y + i + 3 * V::W, V::fmadd(va, V::load(x + i + 3 * V::W), V::load(y + i + 3 * V::W)));
  }
  for (; i + V::W <= n; i += V::W) V::store(y + i, V::fmadd(va, V::load(x + i), V::load(y + i)));
  for (; i < n; ++i) y[i] = std::fma(alpha, x[i], y[i]);
}

template <class V>
double dot_f32(const float* a, const float* b, size_t n) {
  using T = typename V::T;
  T s0 = V::zero(), s1 = V::zero(), s2 = V::zero(), s3 = V::zero();
  size_t i = 0;
  for (; i + 4 * V::W <= n; i += 4 * V::W) {
    s0 = V::fmadd(V::load(a + i), V::load(b + i), s0);
    s1 = V::fmadd(V::load(a + i + V::W), V::load(b + i + V::W), s1);
    s2 = V::fmadd(V::load(a + i + 2 * V::W), V::load(b + i + 2 * V::W), s2);
    s3 = V::fmadd(V::load(a + i + 3 * V::W), V::load(b + i + 3 * V::W), s3);
  }
  for (; i + V::W <= n; i += V::W) s0 = V::fmadd(V::load(a + i), V::load(b + i), s0);
  double total = V::reduce_add(V::add(V::add(s0, s1), V::add(s2, s3)));
  for (; i < n; ++i) total += static_cast<double>(a[i]) * b[i];
  return total;
}

template <class V>
void softmax_f32(const float* x, float* y, size_t n, bool log) {
  using T = typename V::T;
  if (n == 0) return;
  const float m = extreme_f32<V, true>(x, n);
  const T vm = V::set1(m);
  double sum = 0;
  size_t i = 0;
  // Float lanes over blocks of 4096, the sum in double (long rows keep float32 accuracy).
  while (i + V::W <= n) {
    const size_t end = i + 4096 < n ? i + 4096 : n;
    T s = V::zero();
    for (; i + V::W <= end; i += V::W) {
      T e = v_exp<V>(V::sub(V::load(x + i), vm));
      if (!log) V::store(y + i, e);
      s = V::add(s, e);
    }
    sum += V::reduce_add(s);
  }
  if (i < n) {
    float tx[V::W], te[V::W];
    for (size_t l = 0; l < V::W; ++l) tx[l] = -std::numeric_limits<float>::infinity();
    std::memcpy(tx, x + i, (n - i) * sizeof(float));
    V::store(te, v_exp<V>(V::sub(V::load(tx), vm)));
    for (size_t l = 0; l < n - i; ++l) {
      if (!log) y[i + l] = te[l];
      sum += te[l];
    }
  }
  if (log) {
    // (x − max) − log Σ: folding max into one float shift first lost |max|·2⁻²⁴ (1e8 rows gave 0).
    const T shift = V::set1(static_cast<float>(std::log(sum)));
    map1<V>(x, y, n, [&](T v) { return V::sub(V::sub(v, vm), shift); });
  } else {
    const T scale = V::set1(static_cast<float>(1.0 / sum));
    map1<V>(y, y, n, [&](T v) { return V::mul(v, scale); });
  }
}

template <class V>
void rms_norm_f32(const float* x, const float* weight, float* y, size_t n, float eps) {
  using T = typename V::T;
  if (n == 0) return;
  double squares = dot_f32<V>(x, x, n);
  // Float lanes overflow from |x| ≈ 1.8e19; the sum itself fits a double.
  if (!std::isfinite(squares)) {
    squares = 0;
    for (size_t i = 0; i < n; ++i) squares += static_cast<double>(x[i]) * x[i];
  }
  const double inverse = 1.0 / std::sqrt(squares / static_cast<double>(n) + eps);
  if (inverse < std::numeric_limits<float>::min()) {
    // A float32 factor would be subnormal (rms past ~8e37) and lose bits: the generic kernel's double arithmetic.
    return rms_norm_double(x, weight, y, n, inverse);
  }
  const T scale = V::set1(static_cast<float>(inverse));
  if (weight) {
    map2<V>(BinaryMode::vector_vector, x, weight, y, n, [&](T v, T w) { return V::mul(V::mul(v, scale), w); });
  } else {
    map1<V>(x, y, n, [&](T v) { return V::mul(v, scale); });
  }
}

template <class V>
void layer_norm_f32(const float* x, const float* weight, const float* bias, float* y, size_t n, float eps) {
  using T = typename V::T;
  if (n == 0) return;
  const float mean = static_cast<float>(sum_f32<V>(x, n) / static_cast<double>(n));
  const T vm = V::set1(mean);
  // Two passes (mean, then deviations d = x − mean): no cancellation for large
  // means. The float-lane mean is off by up to ~1e-7·Σ|x|/n, which matters when
  // |mean| ≫ σ, so the second pass also sums d and corrects by δ = Σd/n:
  // Σ(d − δ)² = Σd² − δ·Σd (the corrected two-pass algorithm).
  T s = V::zero(), s1 = V::zero();
  size_t i = 0;
  for (; i + V::W <= n; i += V::W) {
    T d = V::sub(V::load(x + i), vm);
    s1 = V::add(s1, d);
    s = V::fmadd(d, d, s);
  }
  double squares = V::reduce_add(s), shift = V::reduce_add(s1);
  for (; i < n; ++i) {
    double d = static_cast<double>(x[i]) - mean;
    shift += d;
    squares += d * d;
  }
  const double delta = shift / static_cast<double>(n);
  squares = std::max(0.0, squares - shift * delta);
  const double inverse = 1.0 / std::sqrt(squares / static_cast<double>(n) + eps);
  if (!std::isfinite(squares) || !std::isfinite(shift) || inverse < std::numeric_limits<float>::min()) {
    // Float deviations or their squares overflowed (|x − mean| past ~1.8e19), the row holds Inf/NaN, or
    // the factor would be subnormal: the row the generic kernel's way, in double.
    return layer_norm_double(x, weight, bias, y, n, eps, sum_f32<V>(x, n) / static_cast<double>(n));
  }
  const T scale = V::set1(static_cast<float>(inverse));
  const T vdelta = V::set1(static_cast<float>(delta));
  map1<V>(x, y, n, [&](T v) { return V::mul(V::sub(V::sub(v, vm), vdelta), scale); });
  if (weight && bias) {
    map2<V>(BinaryMode::vector_vector, y, weight, y, n, [](T v, T w) { return V::mul(v, w); });
    map2<V>(BinaryMode::vector_vector, y, bias, y, n, [](T v, T b) { return V::add(v, b); });
  } else if (weight) {
    map2<V>(BinaryMode::vector_vector, y, weight, y, n, [](T v, T w) { return V::mul(v, w); });
  } else if (bias) {
    map2<V>(BinaryMode::vector_vector, y, bias, y, n, [](T v, T b) { return V::add(v, b); });
  }
}

template <class V>
void fill_simd_common(TensorKernelTable& table) {
  table.binary_f32 = binary_f32<V>;
  table.compare_f32 = compare_f32<V>;
  table.unary_f32 = unary_f32<V>;
  table.sum_f32 = sum_f32<V>;
  table.max_f32 = extreme_f32<V, true>;
  table.min_f32 = extreme_f32<V, false>;
  table.accumulate_f32 = accumulate_f32<V>;
  table.axpy_f32 = axpy_f32<V>;
  table.dot_f32 = dot_f32<V>;
  table.softmax_f32 = softmax_f32<V>;
  table.rms_norm_f32 = rms_norm_f32<V>;
  table.layer_norm_f32 = layer_norm_f32<V>;
}

}  // namespace
}  // namespace tensor
}  // namespace bitnet
