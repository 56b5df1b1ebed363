// Copyright (c) 2026 bitnet contributors. MIT license.
// Keeps allocateAligned memory alive while an async kernel uses it. The JS
// side may free an arena (freeAligned, a pool's dispose) or drop it to the GC
// while a worker thread still reads or writes it; a pinned allocation is then
// detached from JS at once but returned to the system only when the last pin
// goes, so a kernel never touches freed memory.
#pragma once

#include <napi.h>

#include <vector>

namespace bitnet {
namespace napi {

struct Allocation;

class AllocationPins {
 public:
  AllocationPins() = default;
  // Pins every allocateAligned allocation that holds one of `pointers` (others are ignored).
  AllocationPins(Napi::Env env, const std::vector<const void*>& pointers);
  AllocationPins(const AllocationPins&) = delete;
  AllocationPins& operator=(const AllocationPins&) = delete;
  AllocationPins(AllocationPins&& other) noexcept;
  AllocationPins& operator=(AllocationPins&&) = delete;
  // Unpins, and frees what was freed (or collected) while pinned.
  ~AllocationPins();

 private:
  napi_env env_ = nullptr;
  std::vector<Allocation*> pinned_;
};

}  // namespace napi
}  // namespace bitnet
