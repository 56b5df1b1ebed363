// Copyright (c) 2026 bitnet contributors. MIT license.
// Kernels that need AVX-512 VNNI (vpdpbusd). Kept apart from cpu/x86/avx512 so
// the compiler can never emit VNNI into kernels that run on AVX-512 CPUs
// without it (Skylake-X). The dispatcher calls this filler only when cpuid
// reports avx512vnni. The integer kernels of the BitLinear work register here.
#include "cpu/kernels.h"

namespace bitnet {

void fill_avx512vnni_kernels(KernelTable& table) { (void)table; }

}  // namespace bitnet
