// Copyright (c) 2026 bitnet contributors. MIT license.
// Helper shared by the matmul micro-kernels of every tier (internal linkage).
#pragma once

#include <cstddef>

namespace bitnet {
namespace tensor {
namespace {

// Copies (or adds) the valid rows × cols of a computed tile into C.
inline void store_partial_tile(const float* tile, size_t ld_tile, float* c, size_t ldc, size_t rows, size_t cols,
                               bool accumulate) {
  for (size_t i = 0; i < rows; ++i) {
    const float* src = tile + i * ld_tile;
    float* dst = c + i * ldc;
    if (accumulate) {
      for (size_t j = 0; j < cols; ++j) dst[j] += src[j];
    } else {
      for (size_t j = 0; j < cols; ++j) dst[j] = src[j];
    }
  }
}

}  // namespace
}  // namespace tensor
}  // namespace bitnet
