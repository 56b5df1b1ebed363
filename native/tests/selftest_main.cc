// Copyright (c) 2026 bitnet contributors. MIT license.
#include <cstdio>
#include <map>
#include <string>

#include "core/cpu_features.h"
#include "tests/selftest.h"

namespace bitnet {
namespace selftest {

static std::map<std::string, Check>& checks() {
  static std::map<std::string, Check> registered;
  return registered;
}

Registrar::Registrar(const char* name, Check check) { checks()[name] = check; }

}  // namespace selftest
}  // namespace bitnet

int main() {
  using namespace bitnet;
  int failures = 0, passes = 0;
  const CpuFeatures& f = cpu_features();
  std::printf("selftest on %s (%s), best tier %s\n", f.architecture.c_str(), f.brand.c_str(), isa_tier_name(best_supported_tier()));
  for (IsaTier tier : {IsaTier::generic, IsaTier::neon, IsaTier::avx2, IsaTier::avx512}) {
    if (!tier_supported(tier)) continue;
    for (const auto& [name, check] : selftest::checks()) {
      std::string problem;
      try {
        problem = check(tier);
      } catch (const std::exception& error) {
        problem = std::string("threw: ") + error.what();
      }
      if (problem.empty()) {
        ++passes;
        std::printf("ok   %-8s %s\n", isa_tier_name(tier), name.c_str());
      } else {
        ++failures;
        std::printf("FAIL %-8s %s: %s\n", isa_tier_name(tier), name.c_str(), problem.c_str());
      }
    }
  }
  std::printf("%d passed, %d failed\n", passes, failures);
  return failures == 0 ? 0 : 1;
}
