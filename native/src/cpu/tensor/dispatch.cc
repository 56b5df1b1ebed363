// Copyright (c) 2026 bitnet contributors. MIT license.
// Builds the tensor kernel table of a tier: generic first, then the tier's
// own bodies over it (same model as cpu/dispatch.cc for the probe kernels).
#include <mutex>
#include <string>

#include "core/error.h"
#include "cpu/kernels.h"
#include "cpu/tensor/tensor_kernels.h"

namespace bitnet {
namespace tensor {
namespace {

TensorKernelTable build_table(IsaTier tier) {
  TensorKernelTable table{};
  fill_generic_tensor_kernels(table);
#if defined(BITNET_HAVE_X86_TIERS)
  if (tier == IsaTier::avx2) fill_avx2_tensor_kernels(table);
  if (tier == IsaTier::avx512) fill_avx512_tensor_kernels(table);
#endif
#if defined(BITNET_HAVE_NEON_TIER)
  if (tier == IsaTier::neon) fill_neon_tensor_kernels(table);
#endif
  return table;
}

}  // namespace

const TensorKernelTable& tensor_kernels() { return tensor_kernels_for(isa_selection().selected); }

const TensorKernelTable& tensor_kernels_for(IsaTier tier) {
  if (!tier_supported(tier))
    throw invalid_argument(std::string("[tensor] this CPU or build cannot run the ") + isa_tier_name(tier) + " tier");
  static TensorKernelTable tables[4];
  static std::once_flag flags[4];
  const int index = static_cast<int>(tier);
  std::call_once(flags[index], [&] { tables[index] = build_table(tier); });
  return tables[index];
}

}  // namespace tensor
}  // namespace bitnet
