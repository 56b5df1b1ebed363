// Copyright (c) 2026 bitnet contributors. MIT license.
// The cgroup memory limit read from the process's own cgroup, on fake cgroup trees (v1 and v2, with and without
// a namespace), against limits written by hand. Tier-independent: it runs once per tier like every check.
#include <map>
#include <string>

#include "core/system_info.h"
#include "tests/selftest.h"

namespace bitnet {
namespace {

using Files = std::map<std::string, std::string>;

std::string expect(const char* what, const std::string& self, const Files& files, int64_t limit, int64_t headroom) {
  auto read = [&files](const std::string& path, std::string* line) {
    auto found = files.find(path);
    if (found == files.end()) return false;
    *line = found->second;
    return true;
  };
  CgroupMemory got = cgroup_memory(self, read, "/cg");
  if (got.limit_bytes != limit || got.headroom_bytes != headroom)
    return std::string(what) + ": limit " + std::to_string(got.limit_bytes) + " headroom " + std::to_string(got.headroom_bytes) +
           ", expected " + std::to_string(limit) + " and " + std::to_string(headroom);
  return "";
}

std::string check_cgroup_memory(IsaTier) {
  const std::string v1 = "12:pids:/\n4:cpuacct,memory:/system.slice/app.service\n0::/\n";
  const std::string v2 = "0::/system.slice/app.service\n";
  const std::string unlimited = "9223372036854771712";
  std::string problem;
  // v1, limit on the process's own group only (the root shows none): the case the root-only reader missed.
  if (!(problem = expect("v1 own group", v1,
                         {{"/cg/memory/memory.limit_in_bytes", unlimited},
                          {"/cg/memory/system.slice/memory.limit_in_bytes", unlimited},
                          {"/cg/memory/system.slice/app.service/memory.limit_in_bytes", "536870912"},
                          {"/cg/memory/system.slice/app.service/memory.usage_in_bytes", "100000000"}},
                         536870912, 436870912))
           .empty())
    return problem;
  // v1, a tighter limit on an ancestor, nearly used up there.
  if (!(problem = expect("v1 ancestor", v1,
                         {{"/cg/memory/system.slice/memory.limit_in_bytes", "268435456"},
                          {"/cg/memory/system.slice/memory.usage_in_bytes", "268435456"},
                          {"/cg/memory/system.slice/app.service/memory.limit_in_bytes", "536870912"}},
                         268435456, 0))
           .empty())
    return problem;
  // v2 with "max" on the way and a limit in the middle.
  if (!(problem = expect("v2", v2,
                         {{"/cg/system.slice/app.service/memory.max", "max"},
                          {"/cg/system.slice/memory.max", "1073741824"},
                          {"/cg/system.slice/memory.current", "73741824"}},
                         1073741824, 1000000000))
           .empty())
    return problem;
  // A namespaced container: its cgroup reads "/", the limit is on the root it sees.
  if (!(problem = expect("v2 namespaced", "0::/\n", {{"/cg/memory.max", "2147483648"}}, 2147483648LL, 2147483648LL)).empty()) return problem;
  // No limit anywhere, garbage, and an empty /proc/self/cgroup.
  if (!(problem = expect("v1 unlimited", v1, {{"/cg/memory/memory.limit_in_bytes", unlimited}}, -1, -1)).empty()) return problem;
  if (!(problem = expect("v2 garbage", v2, {{"/cg/system.slice/memory.max", "lots"}}, -1, -1)).empty()) return problem;
  if (!(problem = expect("none", "", {}, -1, -1)).empty()) return problem;
  // "memory" must be a whole controller name, not a part of one.
  if (!(problem = expect("v1 name", "4:memoryless:/x\n", {{"/cg/memory/x/memory.limit_in_bytes", "4096"}}, -1, -1)).empty()) return problem;
  return "";
}

}  // namespace

BITNET_SELFTEST(cgroup_memory, check_cgroup_memory);

}  // namespace bitnet
