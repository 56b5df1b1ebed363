// Copyright (c) 2026 bitnet contributors. MIT license.
// Kernel table of the tensor area: contiguous, single-threaded bodies per ISA
// tier. The strided drivers (strided.cc, matmul.cc) split work over the
// thread pool and feed these kernels contiguous runs.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/cpu_features.h"

namespace bitnet {
namespace tensor {

enum class BinaryOp : int { add = 0, sub, mul, div, pow, maximum, minimum, count };
enum class CompareOp : int { eq = 0, ne, lt, le, gt, ge, count };
enum class UnaryOp : int {
  neg = 0, abs, sqrt, rsqrt, exp, log, relu, gelu, gelu_tanh, silu, sigmoid, tanh, clamp, square, count
};

// How the two inputs of a binary run are laid out: both vectors, or one a
// single broadcast value (stride 0 along the run).
enum class BinaryMode : int { vector_vector = 0, scalar_vector = 1, vector_scalar = 2 };

// Matmul micro-kernel: C[mr×nr] (+)= A_panel · B_panel over kc.
//   a: packed, a[k*MR + i] for row i (rows past `rows` are zero);
//   b: b[k*ldb + j], NR columns readable at every k (packed or in place);
//   c: c[i*ldc + j]; only `rows` × `cols` are written; accumulate adds to C.
using MatmulMicroKernel = void (*)(size_t kc, const float* a, const float* b, size_t ldb, float* c, size_t ldc,
                                   size_t rows, size_t cols, bool accumulate);

struct MatmulConfig {
  MatmulMicroKernel kernel;
  size_t mr, nr;   // register tile
  size_t kc;       // depth of one packed block (B micro-panel kc×nr stays in L1)
  size_t mc;       // rows of A packed at once (A block in L2)
  size_t nc;       // columns of B packed at once (B block in L2/L3)
};

struct TensorKernelTable {
  void (*binary_f32)(BinaryOp op, BinaryMode mode, const float* a, const float* b, float* out, size_t n);
  void (*compare_f32)(CompareOp op, BinaryMode mode, const float* a, const float* b, uint8_t* out, size_t n);
  void (*unary_f32)(UnaryOp op, const float* a, float* out, size_t n, float p0, float p1);
  // Row reductions: sum in float lanes with a double total; max/min ignore nothing (NaN propagates).
  double (*sum_f32)(const float* a, size_t n);
  float (*max_f32)(const float* a, size_t n);
  float (*min_f32)(const float* a, size_t n);
  // out[j] op= a[j], for column-wise (outer-axis) reductions. op: 0 add, 1 max, 2 min.
  void (*accumulate_f32)(int op, const float* a, float* out, size_t n);
  // y += alpha·x and a·b, the two shapes of matrix-vector products.
  void (*axpy_f32)(float alpha, const float* x, float* y, size_t n);
  double (*dot_f32)(const float* a, const float* b, size_t n);
  void (*softmax_f32)(const float* x, float* y, size_t n, bool log);
  void (*rms_norm_f32)(const float* x, const float* weight, float* y, size_t n, float eps);
  void (*layer_norm_f32)(const float* x, const float* weight, const float* bias, float* y, size_t n, float eps);
  void (*f32_to_f16)(const float* in, uint16_t* out, size_t n);
  void (*f16_to_f32)(const uint16_t* in, float* out, size_t n);
  void (*f32_to_bf16)(const float* in, uint16_t* out, size_t n);
  void (*bf16_to_f32)(const uint16_t* in, float* out, size_t n);
  MatmulConfig matmul;
};

void fill_generic_tensor_kernels(TensorKernelTable& table);
#if defined(BITNET_HAVE_X86_TIERS)
void fill_avx2_tensor_kernels(TensorKernelTable& table);
void fill_avx512_tensor_kernels(TensorKernelTable& table);
#endif
#if defined(BITNET_HAVE_NEON_TIER)
void fill_neon_tensor_kernels(TensorKernelTable& table);
#endif

// The table for the selected tier (BITNET_CPU_ISA or the best the CPU runs).
const TensorKernelTable& tensor_kernels();
// The table of one tier, for tests; throws when this CPU cannot run it.
const TensorKernelTable& tensor_kernels_for(IsaTier tier);

// Scalar reference conversions shared by every tier (tails, generic tier, tests).
uint16_t f32_to_f16_scalar(float value);
float f16_to_f32_scalar(uint16_t value);
uint16_t f32_to_bf16_scalar(float value);
float bf16_to_f32_scalar(uint16_t value);

}  // namespace tensor
}  // namespace bitnet
