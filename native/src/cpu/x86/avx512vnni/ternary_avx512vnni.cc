// Copyright (c) 2026 bitnet contributors. MIT license.
// AVX-512 VNNI ternary kernels: one vpdpbusd per 64 weights × 1 token. Built
// with -mavx512vnni and only called when cpuid reports it. The float32
// baseline is the plain AVX-512 one.
#include "cpu/ternary/avx512_body.h"
#include "cpu/ternary/ternary.h"

namespace bitnet {
namespace ternary {

void fill_avx512vnni(Kernels& k) {
  fill_avx512(k);
  k.gemm_int = gemm_int_avx512<true>;
}

}  // namespace ternary
}  // namespace bitnet
