// Copyright (c) 2026 bitnet contributors. MIT license.
#include "core/system_info.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
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

namespace {

// A limit file's value: bytes, or -1 for none ("max", the v1 "unlimited" near 2^63, unreadable, garbage).
int64_t limit_value(const std::string& text) {
  if (text.empty() || text == "max") return -1;
  char* end = nullptr;
  long long value = std::strtoll(text.c_str(), &end, 10);
  if (end == text.c_str() || value <= 0 || value >= (1LL << 60)) return -1;
  return value;
}

int64_t usage_value(const std::string& text) {
  char* end = nullptr;
  long long value = std::strtoll(text.c_str(), &end, 10);
  return end == text.c_str() || value < 0 ? -1 : value;
}

}  // namespace

CgroupMemory cgroup_memory(const std::string& self_cgroup, const std::function<bool(const std::string&, std::string*)>& read,
                           const std::string& root) {
  // Lines are "id:controllers:path": v1 lists "memory" among the controllers, v2 is "0::path".
  std::string v1_path, v2_path;
  bool has_v1 = false, has_v2 = false;
  size_t start = 0;
  while (start < self_cgroup.size()) {
    size_t end = self_cgroup.find('\n', start);
    if (end == std::string::npos) end = self_cgroup.size();
    const std::string line = self_cgroup.substr(start, end - start);
    start = end + 1;
    const size_t first = line.find(':');
    const size_t second = first == std::string::npos ? std::string::npos : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    const std::string id = line.substr(0, first), controllers = line.substr(first + 1, second - first - 1), path = line.substr(second + 1);
    if (id == "0" && controllers.empty()) {
      has_v2 = true;
      v2_path = path;
    }
    for (size_t from = 0; from <= controllers.size();) {
      size_t comma = controllers.find(',', from);
      if (comma == std::string::npos) comma = controllers.size();
      if (controllers.compare(from, comma - from, "memory") == 0) {
        has_v1 = true;
        v1_path = path;
      }
      from = comma + 1;
    }
  }
  CgroupMemory result;
  if (!has_v1 && !has_v2) return result;
  // v1 when the memory controller is mounted there, else v2.
  const std::string base = has_v1 ? root + "/memory" : root;
  const char* limit_file = has_v1 ? "/memory.limit_in_bytes" : "/memory.max";
  const char* usage_file = has_v1 ? "/memory.usage_in_bytes" : "/memory.current";
  std::string path = has_v1 ? v1_path : v2_path;
  if (path.empty() || path[0] != '/') path = "/" + path;
  for (;;) {
    // "/" is the hierarchy's root directory itself.
    const std::string dir = base + (path == "/" ? "" : path);
    std::string text;
    if (read(dir + limit_file, &text)) {
      const int64_t limit = limit_value(text);
      if (limit >= 0) {
        if (result.limit_bytes < 0 || limit < result.limit_bytes) result.limit_bytes = limit;
        std::string used;
        const int64_t usage = read(dir + usage_file, &used) ? usage_value(used) : -1;
        const int64_t headroom = usage < 0 ? limit : (usage >= limit ? 0 : limit - usage);
        if (result.headroom_bytes < 0 || headroom < result.headroom_bytes) result.headroom_bytes = headroom;
      }
    }
    if (path == "/") break;
    const size_t slash = path.find_last_of('/');
    path = slash == 0 ? "/" : path.substr(0, slash);
  }
  return result;
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
  // The process's own cgroup, not only the hierarchy's root: without a cgroup namespace (systemd services,
  // some CI runners) the limit sits on a sub-group the root files do not show.
  std::ifstream self("/proc/self/cgroup");
  std::string self_cgroup((std::istreambuf_iterator<char>(self)), std::istreambuf_iterator<char>());
  CgroupMemory cgroup = cgroup_memory(self_cgroup, read_line);
  if (cgroup.limit_bytes >= 0) {
    info.cgroup_limit_bytes = cgroup.limit_bytes;
    if (cgroup.headroom_bytes >= 0 && cgroup.headroom_bytes < info.available_bytes) info.available_bytes = cgroup.headroom_bytes;
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
