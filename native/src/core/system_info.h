// Copyright (c) 2026 bitnet contributors. MIT license.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
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

// The memory limit that applies to this process's cgroup: the smallest limit on the path from the cgroup that
// `self_cgroup` (the text of /proc/self/cgroup) names up to the root of the hierarchy, v1 (memory controller)
// or v2; -1 when none. `headroom_bytes` gets the least (limit - usage) along that path (what the process can
// still allocate), -1 when no limit applies. `read` reads a file's first line; paths start with `root`.
struct CgroupMemory {
  int64_t limit_bytes = -1;
  int64_t headroom_bytes = -1;
};
CgroupMemory cgroup_memory(const std::string& self_cgroup, const std::function<bool(const std::string&, std::string*)>& read,
                           const std::string& root = "/sys/fs/cgroup");

}  // namespace bitnet
