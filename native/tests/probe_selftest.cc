// Copyright (c) 2026 bitnet contributors. MIT license.
#include <cmath>
#include <string>
#include <vector>

#include "cpu/kernels.h"
#include "tests/selftest.h"

namespace bitnet {
namespace {

std::string check_probe(IsaTier tier) {
  const KernelTable& reference = kernels_for(IsaTier::generic);
  const KernelTable& k = kernels_for(tier);
  for (size_t n : {0, 1, 3, 16, 63, 64, 65, 1000, 4099}) {
    std::vector<float> b(n), c(n), a(n), expected(n);
    for (size_t i = 0; i < n; ++i) {
      b[i] = static_cast<float>((i * 7919) % 1000) / 1000.0f - 0.5f;
      c[i] = static_cast<float>((i * 104729) % 997) / 997.0f;
    }
    double want = reference.stream_sum_f32(b.data(), n);
    double got = k.stream_sum_f32(b.data(), n);
    if (std::fabs(want - got) > 1e-3 * (1 + std::fabs(want)))
      return "stream_sum_f32 n=" + std::to_string(n) + ": " + std::to_string(got) + " vs generic " + std::to_string(want);
    reference.stream_triad_f32(expected.data(), b.data(), c.data(), 0.5f, n);
    k.stream_triad_f32(a.data(), b.data(), c.data(), 0.5f, n);
    for (size_t i = 0; i < n; ++i)
      if (std::fabs(a[i] - expected[i]) > 1e-6f * (1 + std::fabs(expected[i])))
        return "stream_triad_f32 n=" + std::to_string(n) + " at " + std::to_string(i);
  }
  float sink = 0;
  if (!(k.fma_peak_f32(1000, &sink) > 0) || !std::isfinite(sink)) return "fma_peak_f32 returned no work";
  return "";
}

}  // namespace
}  // namespace bitnet

BITNET_SELFTEST(probe_kernels, bitnet::check_probe);
