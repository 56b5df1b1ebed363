// Copyright (c) 2026 bitnet contributors. MIT license.
#pragma once

#include <cstdint>
#include <vector>

namespace bitnet {

struct CacheInfo {
  int level = 0;
  const char* type = "unified";  // "data", "instruction", "unified"
  int64_t size_bytes = 0;
  int64_t line_bytes = 0;
  int shared_by_cpus = 0;
};

struct MemoryInfo {
  int64_t total_bytes = 0;
  int64_t available_bytes = 0;  // what the OS says new allocations can get without swapping
  int64_t cgroup_limit_bytes = -1;  // -1 when no container limit applies
};

std::vector<CacheInfo> cache_info();
MemoryInfo memory_info();

}  // namespace bitnet
