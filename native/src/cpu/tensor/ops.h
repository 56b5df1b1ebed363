// Copyright (c) 2026 bitnet contributors. MIT license.
// Strided, multithreaded tensor operations over the tier kernel tables. Shapes
// and strides are in elements; every pointer is the element at index 0 of its
// view. No N-API types here: napi/tensor.cc validates and calls these.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "cpu/tensor/tensor_kernels.h"

namespace bitnet {
namespace tensor {

using Shape = std::vector<int64_t>;
using Strides = std::vector<int64_t>;

// out = a op b; a and b strides already broadcast to out's shape (0 on broadcast axes).
void binary(const TensorKernelTable& t, BinaryOp op, const Shape& shape, float* out, const Strides& out_strides,
            const float* a, const Strides& a_strides, const float* b, const Strides& b_strides);
void compare(const TensorKernelTable& t, CompareOp op, const Shape& shape, uint8_t* out, const Strides& out_strides,
             const float* a, const Strides& a_strides, const float* b, const Strides& b_strides);
void unary(const TensorKernelTable& t, UnaryOp op, const Shape& shape, float* out, const Strides& out_strides,
           const float* a, const Strides& a_strides, float p0, float p1);
// out = cond ? a : b (cond as bytes, nonzero = true).
void where(const Shape& shape, float* out, const Strides& out_strides, const uint8_t* cond, const Strides& cond_strides,
           const float* a, const Strides& a_strides, const float* b, const Strides& b_strides);
// Copies any strided view of elements of `element_size` bytes into another layout.
void copy(size_t element_size, const Shape& shape, uint8_t* out, const Strides& out_strides, const uint8_t* in,
          const Strides& in_strides);

enum class ReduceOp : int { sum = 0, mean, max, min, argmax, argmin, var, count };
// Reduces `axes` (sorted, unique) of the input; the output is contiguous over
// the kept axes in order. argmax/argmin write int32 indices into out_index
// (flat index within the reduced axes); the rest write floats into out.
// `correction` is var's divisor offset (0 population, 1 sample).
void reduce(const TensorKernelTable& t, ReduceOp op, const Shape& shape, const float* in, const Strides& strides,
            const std::vector<int>& axes, float* out, int32_t* out_index, double correction);

// Row-wise over contiguous rows of length n: softmax / log-softmax, RMSNorm, LayerNorm.
void softmax_rows(const TensorKernelTable& t, const float* x, float* y, size_t rows, size_t n, bool log);
void rms_norm_rows(const TensorKernelTable& t, const float* x, const float* weight, float* y, size_t rows, size_t n,
                   float eps);
void layer_norm_rows(const TensorKernelTable& t, const float* x, const float* weight, const float* bias, float* y,
                     size_t rows, size_t n, float eps);

// Contiguous dtype conversion, split over the pool for large counts.
enum class ConvertKind : int { f32_to_f16 = 0, f16_to_f32, f32_to_bf16, bf16_to_f32 };
void convert(const TensorKernelTable& t, ConvertKind kind, const void* in, void* out, size_t count);

struct MatmulOperand {
  const float* data;
  int64_t row_stride, col_stride;
};
// C[m×n] (contiguous rows, ldc) = A[m×k] · B[k×n] for any strides of A and B.
void matmul(const TensorKernelTable& t, size_t m, size_t n, size_t k, MatmulOperand a, MatmulOperand b, float* c,
            size_t ldc, size_t threads);
// Batched: batch_shape with per-operand batch strides (0 where broadcast); C is
// contiguous [batch..., m, n].
void batched_matmul(const TensorKernelTable& t, const Shape& batch_shape, const Strides& a_batch_strides,
                    const Strides& b_batch_strides, size_t m, size_t n, size_t k, MatmulOperand a, MatmulOperand b,
                    float* c, size_t threads);

}  // namespace tensor
}  // namespace bitnet
