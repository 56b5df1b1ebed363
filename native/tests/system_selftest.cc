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

struct Case {
  const char* what;
  std::string self;
  Files files;
  int64_t limit, headroom;
};

std::string check_cgroup_memory(IsaTier) {
  const std::string v1 = "12:pids:/\n4:cpuacct,memory:/system.slice/app.service\n0::/\n";
  const std::string v2 = "0::/system.slice/app.service\n";
  const std::string unlimited = "9223372036854771712";
  const Case cases[] = {
      // v1, limit on the process's own group only (the root shows none): the case the root-only reader missed.
      {"v1 own group", v1,
       {{"/cg/memory/memory.limit_in_bytes", unlimited},
        {"/cg/memory/system.slice/memory.limit_in_bytes", unlimited},
        {"/cg/memory/system.slice/app.service/memory.limit_in_bytes", "536870912"},
        {"/cg/memory/system.slice/app.service/memory.usage_in_bytes", "100000000"}},
       536870912, 436870912},
      // v1, a tighter limit on an ancestor, used up there.
      {"v1 ancestor", v1,
       {{"/cg/memory/system.slice/memory.limit_in_bytes", "268435456"},
        {"/cg/memory/system.slice/memory.usage_in_bytes", "268435456"},
        {"/cg/memory/system.slice/app.service/memory.limit_in_bytes", "536870912"}},
       268435456, 0},
      // v2 with "max" on the way and a limit in the middle.
      {"v2", v2,
       {{"/cg/system.slice/app.service/memory.max", "max"}, {"/cg/system.slice/memory.max", "1073741824"}, {"/cg/system.slice/memory.current", "73741824"}},
       1073741824, 1000000000},
      // A namespaced container: its cgroup reads "/", the limit is on the root it sees.
      {"v2 namespaced", "0::/\n", {{"/cg/memory.max", "2147483648"}}, 2147483648LL, 2147483648LL},
      // No limit anywhere, garbage, an empty /proc/self/cgroup, and "memory" only as a part of a controller name.
      {"v1 unlimited", v1, {{"/cg/memory/memory.limit_in_bytes", unlimited}}, -1, -1},
      {"v2 garbage", v2, {{"/cg/system.slice/memory.max", "lots"}}, -1, -1},
      {"none", "", {}, -1, -1},
      {"v1 name", "4:memoryless:/x\n", {{"/cg/memory/x/memory.limit_in_bytes", "4096"}}, -1, -1},
  };
  for (const Case& c : cases) {
    std::string problem = expect(c.what, c.self, c.files, c.limit, c.headroom);
    if (!problem.empty()) return problem;
  }
  return "";
}

}  // namespace

BITNET_SELFTEST(cgroup_memory, check_cgroup_memory);

}  // namespace bitnet
