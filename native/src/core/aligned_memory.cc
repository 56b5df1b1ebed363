// Copyright (c) 2026 bitnet contributors. MIT license.
#include "core/aligned_memory.h"

#include <atomic>
#include <cstdlib>
#include <string>

#include "core/error.h"

namespace bitnet {
namespace {
std::atomic<int64_t> live_bytes{0};
std::atomic<int64_t> live_blocks{0};
}  // namespace

void* aligned_allocate(size_t size, size_t alignment, const char* op) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0)
    throw invalid_argument(std::string("[") + op + "] alignment must be a power of two, got " + std::to_string(alignment));
  if (alignment > (size_t(1) << 21))
    throw out_of_range(std::string("[") + op + "] alignment must be at most 2097152, got " + std::to_string(alignment));
  if (alignment < sizeof(void*)) alignment = sizeof(void*);
  size_t rounded = size == 0 ? alignment : (size + alignment - 1) / alignment * alignment;
  if (rounded < size)
    throw out_of_memory(std::string("[") + op + "] size " + std::to_string(size) + " overflows when aligned");
  void* pointer = nullptr;
#if defined(_WIN32)
  pointer = _aligned_malloc(rounded, alignment);
#else
  if (posix_memalign(&pointer, alignment, rounded) != 0) pointer = nullptr;
#endif
  if (!pointer)
    throw out_of_memory(std::string("[") + op + "] the system could not provide " + std::to_string(size) +
                        " bytes aligned to " + std::to_string(alignment));
  live_bytes.fetch_add(static_cast<int64_t>(size));
  live_blocks.fetch_add(1);
  return pointer;
}

void aligned_free(void* pointer) {
  if (!pointer) return;
#if defined(_WIN32)
  _aligned_free(pointer);
#else
  std::free(pointer);
#endif
}

void note_aligned_free(size_t size) {
  live_bytes.fetch_sub(static_cast<int64_t>(size));
  live_blocks.fetch_sub(1);
}

int64_t aligned_live_bytes() { return live_bytes.load(); }
int64_t aligned_live_blocks() { return live_blocks.load(); }

}  // namespace bitnet
