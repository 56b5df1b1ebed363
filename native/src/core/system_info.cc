// Copyright (c) 2026 bitnet contributors. MIT license.
#include "core/system_info.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#if defined(__APPLE__)
#include <mach/mach.h>
#include <sys/sysctl.h>
#endif
#if defined(__linux__)
#include <unistd.h>
#endif

namespace bitnet {
namespace {

bool read_line(const std::string& path, std::string* out) {
  std::ifstream file(path);
  if (!file) return false;
  std::getline(file, *out);
  return true;
}

int64_t parse_size(const std::string& text) {
  // sysfs sizes look like "32K", "1024K", "32M".
  char* end = nullptr;
  long long value = std::strtoll(text.c_str(), &end, 10);
  if (end && (*end == 'K' || *end == 'k')) value *= 1024;
  else if (end && (*end == 'M' || *end == 'm')) value *= 1024 * 1024;
  else if (end && (*end == 'G' || *end == 'g')) value *= 1024LL * 1024 * 1024;
  return value;
}

int count_cpu_list(const std::string& list) {
  // "0-3,8,10-11" → 7
  int count = 0;
  size_t pos = 0;
  while (pos < list.size()) {
    size_t comma = list.find(',', pos);
    std::string part = list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    size_t dash = part.find('-');
    if (dash == std::string::npos) count += part.empty() ? 0 : 1;
    else count += std::atoi(part.substr(dash + 1).c_str()) - std::atoi(part.substr(0, dash).c_str()) + 1;
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return count;
}

}  // namespace

std::vector<CacheInfo> cache_info() {
  std::vector<CacheInfo> caches;
#if defined(__linux__)
  for (int index = 0; index < 16; ++index) {
    std::string base = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index) + "/";
    std::string level, type, size, line, shared;
    if (!read_line(base + "level", &level)) break;
    read_line(base + "type", &type);
    read_line(base + "size", &size);
    read_line(base + "coherency_line_size", &line);
    read_line(base + "shared_cpu_list", &shared);
    CacheInfo info;
    info.level = std::atoi(level.c_str());
    info.type = type == "Data" ? "data" : type == "Instruction" ? "instruction" : "unified";
    info.size_bytes = parse_size(size);
    info.line_bytes = std::atoll(line.c_str());
    info.shared_by_cpus = count_cpu_list(shared);
    caches.push_back(info);
  }
#elif defined(__APPLE__)
  auto get = [](const char* name) -> int64_t {
    int64_t value = 0;
    size_t size = sizeof(value);
    return sysctlbyname(name, &value, &size, nullptr, 0) == 0 ? value : 0;
  };
  int64_t line = get("hw.cachelinesize");
  if (int64_t v = get("hw.l1dcachesize")) caches.push_back({1, "data", v, line, 1});
  if (int64_t v = get("hw.l1icachesize")) caches.push_back({1, "instruction", v, line, 1});
  if (int64_t v = get("hw.l2cachesize")) caches.push_back({2, "unified", v, line, 0});
  if (int64_t v = get("hw.l3cachesize")) caches.push_back({3, "unified", v, line, 0});
#endif
  return caches;
}

MemoryInfo memory_info() {
  MemoryInfo info;
#if defined(__linux__)
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  int64_t value;
  std::string unit;
  while (meminfo >> key >> value >> unit) {
    if (key == "MemTotal:") info.total_bytes = value * 1024;
    else if (key == "MemAvailable:") info.available_bytes = value * 1024;
  }
  std::string limit;
  if (read_line("/sys/fs/cgroup/memory.max", &limit) && limit != "max") info.cgroup_limit_bytes = std::atoll(limit.c_str());
  else if (read_line("/sys/fs/cgroup/memory/memory.limit_in_bytes", &limit)) {
    long long v = std::atoll(limit.c_str());
    if (v > 0 && v < (1LL << 60)) info.cgroup_limit_bytes = v;
  }
#elif defined(__APPLE__)
  int64_t total = 0;
  size_t size = sizeof(total);
  sysctlbyname("hw.memsize", &total, &size, nullptr, 0);
  info.total_bytes = total;
  vm_statistics64_data_t stats;
  mach_msg_type_number_t count = HOST_VM_INFO64_COUNT;
  if (host_statistics64(mach_host_self(), HOST_VM_INFO64, reinterpret_cast<host_info64_t>(&stats), &count) == KERN_SUCCESS) {
    int64_t page = static_cast<int64_t>(vm_page_size);
    info.available_bytes = (static_cast<int64_t>(stats.free_count) + stats.inactive_count + stats.purgeable_count) * page;
  }
#endif
  return info;
}

}  // namespace bitnet
