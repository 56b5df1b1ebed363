// Copyright (c) 2026 bitnet contributors. MIT license.
// Generic (plain C++) bodies of the tensor kernels: the oracle every SIMD tier
// is tested against, and the kernels of CPUs without a SIMD tier.
#include <cmath>
#include <cstring>
#include <limits>

#include "core/half.h"
#include "cpu/tensor/matmul_kernel.h"
#include "cpu/tensor/row_reference.h"
#include "cpu/tensor/tensor_kernels.h"

namespace bitnet {
namespace tensor {

// ---- conversions (bit-level, so they do not depend on the FPU's rounding mode) ----

uint16_t f32_to_f16_scalar(float value) { return float_to_half(value); }

float f16_to_f32_scalar(uint16_t value) { return half_to_float(value); }

uint16_t f32_to_bf16_scalar(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40u);  // quiet NaN
  return static_cast<uint16_t>((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}

float bf16_to_f32_scalar(uint16_t value) {
  const uint32_t bits = static_cast<uint32_t>(value) << 16;
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

namespace {

inline float nan_max(float x, float y) { return std::isnan(x) || std::isnan(y) ? (std::isnan(x) ? x : y) : (x > y ? x : y); }
inline float nan_min(float x, float y) { return std::isnan(x) || std::isnan(y) ? (std::isnan(x) ? x : y) : (x < y ? x : y); }

float apply_binary(BinaryOp op, float x, float y) {
  switch (op) {
    case BinaryOp::add: return x + y;
    case BinaryOp::sub: return x - y;
    case BinaryOp::mul: return x * y;
    case BinaryOp::div: return x / y;
    case BinaryOp::pow: return std::pow(x, y);
    case BinaryOp::maximum: return nan_max(x, y);
    case BinaryOp::minimum: return nan_min(x, y);
    default: return 0;
  }
}

void binary_f32(BinaryOp op, BinaryMode mode, const float* a, const float* b, float* out, size_t n) {
  const size_t sa = mode == BinaryMode::scalar_vector ? 0 : 1, sb = mode == BinaryMode::vector_scalar ? 0 : 1;
  switch (op) {
    // The common ops get their own loops so the compiler vectorises them at baseline.
    case BinaryOp::add: for (size_t i = 0; i < n; ++i) out[i] = a[i * sa] + b[i * sb]; return;
    case BinaryOp::sub: for (size_t i = 0; i < n; ++i) out[i] = a[i * sa] - b[i * sb]; return;
    case BinaryOp::mul: for (size_t i = 0; i < n; ++i) out[i] = a[i * sa] * b[i * sb]; return;
    case BinaryOp::div: for (size_t i = 0; i < n; ++i) out[i] = a[i * sa] / b[i * sb]; return;
    default: for (size_t i = 0; i < n; ++i) out[i] = apply_binary(op, a[i * sa], b[i * sb]); return;
  }
}

void compare_f32(CompareOp op, BinaryMode mode, const float* a, const float* b, uint8_t* out, size_t n) {
  const size_t sa = mode == BinaryMode::scalar_vector ? 0 : 1, sb = mode == BinaryMode::vector_scalar ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    const float x = a[i * sa], y = b[i * sb];
    bool r = false;
    switch (op) {
      case CompareOp::eq: r = x == y; break;
      case CompareOp::ne: r = x != y; break;
      case CompareOp::lt: r = x < y; break;
      case CompareOp::le: r = x <= y; break;
      case CompareOp::gt: r = x > y; break;
      case CompareOp::ge: r = x >= y; break;
      default: break;
    }
    out[i] = r ? 1 : 0;
  }
}

float apply_unary(UnaryOp op, float x, float p0, float p1) {
  switch (op) {
    case UnaryOp::neg: return -x;
    case UnaryOp::abs: return std::fabs(x);
    case UnaryOp::sqrt: return std::sqrt(x);
    case UnaryOp::rsqrt: return 1.0f / std::sqrt(x);
    case UnaryOp::square: return x * x;
    case UnaryOp::exp: return std::exp(x);
    case UnaryOp::log: return std::log(x);
    case UnaryOp::relu: return x < 0 ? 0.0f : x;
    case UnaryOp::sigmoid: return 1.0f / (1.0f + std::exp(-x));
    case UnaryOp::silu: return x / (1.0f + std::exp(-x));
    case UnaryOp::tanh: return std::tanh(x);
    // In double, and without 1 + erf(…) or 1 + tanh(…), which cancel for negative x (GELU(−5) came out
    // 4% off and GELU(−10) as 0): 1 + erf(t) = erfc(−t), and 1 + tanh(z) = 2·sigmoid(2z).
    case UnaryOp::gelu: return static_cast<float>(0.5 * x * std::erfc(-static_cast<double>(x) * 0.70710678118654752));
    case UnaryOp::gelu_tanh: {
      const double inner = 0.79788456080286536 * (x + 0.044715 * x * x * static_cast<double>(x));
      return static_cast<float>(x / (1.0 + std::exp(-2.0 * inner)));
    }
    case UnaryOp::clamp: return std::isnan(x) ? x : (x < p0 ? p0 : (x > p1 ? p1 : x));
    default: return 0;
  }
}

void unary_f32(UnaryOp op, const float* a, float* out, size_t n, float p0, float p1) {
  for (size_t i = 0; i < n; ++i) out[i] = apply_unary(op, a[i], p0, p1);
}

double sum_f32(const float* a, size_t n) {
  double total = 0;
  for (size_t i = 0; i < n; ++i) total += a[i];
  return total;
}

float max_f32(const float* a, size_t n) {
  float m = -std::numeric_limits<float>::infinity();
  for (size_t i = 0; i < n; ++i) {
    if (std::isnan(a[i])) return a[i];
    if (a[i] > m) m = a[i];
  }
  return m;
}

float min_f32(const float* a, size_t n) {
  float m = std::numeric_limits<float>::infinity();
  for (size_t i = 0; i < n; ++i) {
    if (std::isnan(a[i])) return a[i];
    if (a[i] < m) m = a[i];
  }
  return m;
}

void accumulate_f32(int op, const float* a, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = op == 0 ? out[i] + a[i] : op == 1 ? nan_max(out[i], a[i]) : nan_min(out[i], a[i]);
}

void axpy_f32(float alpha, const float* x, float* y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

double dot_f32(const float* a, const float* b, size_t n) {
  double total = 0;
  for (size_t i = 0; i < n; ++i) total += static_cast<double>(a[i]) * b[i];
  return total;
}

void softmax_f32(const float* x, float* y, size_t n, bool log) {
  if (n == 0) return;
  const float m = max_f32(x, n);
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(x[i]) - m);
  if (log) {
    // (x − max) − log Σ: max + log Σ as one number loses log Σ once |max| passes 2⁵³ (a −3e37 row gave 0).
    const double shift = std::log(sum);
    for (size_t i = 0; i < n; ++i) y[i] = static_cast<float>((static_cast<double>(x[i]) - m) - shift);
  } else {
    for (size_t i = 0; i < n; ++i) y[i] = static_cast<float>(std::exp(static_cast<double>(x[i]) - m) / sum);
  }
}

void rms_norm_f32(const float* x, const float* weight, float* y, size_t n, float eps) {
  if (n == 0) return;
  rms_norm_double(x, weight, y, n, 1.0 / std::sqrt(dot_f32(x, x, n) / static_cast<double>(n) + eps));
}

void layer_norm_f32(const float* x, const float* weight, const float* bias, float* y, size_t n, float eps) {
  if (n == 0) return;
  layer_norm_double(x, weight, bias, y, n, eps, sum_f32(x, n) / static_cast<double>(n));
}

void f32_to_f16(const float* in, uint16_t* out, size_t n) { for (size_t i = 0; i < n; ++i) out[i] = f32_to_f16_scalar(in[i]); }
void f16_to_f32(const uint16_t* in, float* out, size_t n) { for (size_t i = 0; i < n; ++i) out[i] = f16_to_f32_scalar(in[i]); }
void f32_to_bf16(const float* in, uint16_t* out, size_t n) { for (size_t i = 0; i < n; ++i) out[i] = f32_to_bf16_scalar(in[i]); }
void bf16_to_f32(const uint16_t* in, float* out, size_t n) { for (size_t i = 0; i < n; ++i) out[i] = bf16_to_f32_scalar(in[i]); }

constexpr size_t kMr = 4, kNr = 16;

void micro_kernel(size_t kc, const float* a, const float* b, size_t ldb, float* c, size_t ldc, size_t rows,
                  size_t cols, bool accumulate) {
  float tile[kMr * kNr] = {};
  for (size_t k = 0; k < kc; ++k) {
    for (size_t i = 0; i < kMr; ++i) {
      const float ai = a[k * kMr + i];
      for (size_t j = 0; j < kNr; ++j) tile[i * kNr + j] += ai * b[k * ldb + j];
    }
  }
  store_partial_tile(tile, kNr, c, ldc, rows, cols, accumulate);
}

}  // namespace

void fill_generic_tensor_kernels(TensorKernelTable& table) {
  table.binary_f32 = binary_f32;
  table.compare_f32 = compare_f32;
  table.unary_f32 = unary_f32;
  table.sum_f32 = sum_f32;
  table.max_f32 = max_f32;
  table.min_f32 = min_f32;
  table.accumulate_f32 = accumulate_f32;
  table.axpy_f32 = axpy_f32;
  table.dot_f32 = dot_f32;
  table.softmax_f32 = softmax_f32;
  table.rms_norm_f32 = rms_norm_f32;
  table.layer_norm_f32 = layer_norm_f32;
  table.f32_to_f16 = f32_to_f16;
  table.f16_to_f32 = f16_to_f32;
  table.f32_to_bf16 = f32_to_bf16;
  table.bf16_to_f32 = bf16_to_f32;
  table.matmul = MatmulConfig{micro_kernel, kMr, kNr, 256, 64, 512};
}

}  // namespace tensor
}  // namespace bitnet
