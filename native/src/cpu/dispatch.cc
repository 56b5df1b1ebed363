// Copyright (c) 2026 bitnet contributors. MIT license.
// Picks the kernel tier once: the best tier the CPU runs, or the lower one that
// BITNET_CPU_ISA asks for (so every tier can be tested on one machine).
#include <cstdlib>
#include <mutex>
#include <string>

#include "core/error.h"
#include "cpu/kernels.h"

namespace bitnet {
namespace {

KernelTable build_table(IsaTier tier) {
  KernelTable table{};
  fill_generic_kernels(table);
#if defined(BITNET_HAVE_NEON_TIER)
  if (tier == IsaTier::neon) fill_neon_kernels(table);
#endif
#if defined(BITNET_HAVE_X86_TIERS)
  if (tier == IsaTier::avx2 || tier == IsaTier::avx512) fill_avx2_kernels(table);
  if (tier == IsaTier::avx512) {
    fill_avx512_kernels(table);
    if (cpu_features().avx512vnni) fill_avx512vnni_kernels(table);
  }
#endif
  return table;
}

IsaSelection select() {
  IsaSelection selection{best_supported_tier(), best_supported_tier(), false, nullptr};
  const char* env = std::getenv("BITNET_CPU_ISA");
  if (!env || !*env) return selection;
  static std::string warning;
  IsaTier requested;
  if (!parse_isa_tier(env, &requested)) {
    warning = std::string("BITNET_CPU_ISA=\"") + env + "\" is not one of generic, neon, avx2, avx512; using " +
              isa_tier_name(selection.best);
  } else if (!tier_supported(requested)) {
    warning = std::string("BITNET_CPU_ISA=") + env + " is not supported by this CPU or build; using " +
              isa_tier_name(selection.best);
  } else {
    selection.selected = requested;
    selection.overridden = true;
    return selection;
  }
  selection.warning = warning.c_str();
  return selection;
}

}  // namespace

const IsaSelection& isa_selection() {
  static const IsaSelection selection = select();
  return selection;
}

const KernelTable& kernels() {
  static const KernelTable table = build_table(isa_selection().selected);
  return table;
}

const KernelTable& kernels_for(IsaTier tier) {
  if (!tier_supported(tier))
    throw invalid_argument(std::string("[kernelsFor] this CPU or build cannot run the ") + isa_tier_name(tier) +
                           " tier");
  static KernelTable tables[4];
  static std::once_flag flags[4];
  int index = static_cast<int>(tier);
  std::call_once(flags[index], [&] { tables[index] = build_table(tier); });
  return tables[index];
}

}  // namespace bitnet
