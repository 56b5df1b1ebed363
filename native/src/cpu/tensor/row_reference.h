// Copyright (c) 2026 bitnet contributors. MIT license.
// The row norms in double, as the generic tier computes them; the SIMD tiers
// use them for rows whose float32 lanes overflow (|x| past ~1.8e19) or whose
// factor would be subnormal. `static`: every ISA's translation unit keeps its
// own copy, so the linker never hands the generic unit one built with AVX-512.
#pragma once

#include <cmath>
#include <cstddef>

namespace bitnet {
namespace tensor {

// y = float(x · inverse) · weight, inverse = 1 / rms from the caller.
static inline void rms_norm_double(const float* x, const float* weight, float* y, size_t n, double inverse) {
  for (size_t i = 0; i < n; ++i) y[i] = static_cast<float>(x[i] * inverse) * (weight ? weight[i] : 1.0f);
}

// y = float((x − mean) / σ) · weight + bias, σ from the deviations in double.
static inline void layer_norm_double(const float* x, const float* weight, const float* bias, float* y, size_t n,
                                     float eps, double mean) {
  double squares = 0;
  for (size_t i = 0; i < n; ++i) squares += (x[i] - mean) * (x[i] - mean);
  const double scale = 1.0 / std::sqrt(squares / static_cast<double>(n) + eps);
  for (size_t i = 0; i < n; ++i) {
    float v = static_cast<float>((x[i] - mean) * scale);
    if (weight) v *= weight[i];
    if (bias) v += bias[i];
    y[i] = v;
  }
}

}  // namespace tensor
}  // namespace bitnet
