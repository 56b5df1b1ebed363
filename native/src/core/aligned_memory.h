// Copyright (c) 2026 bitnet contributors. MIT license.
#pragma once

#include <cstddef>
#include <cstdint>

namespace bitnet {

// Aligned allocation from the C heap. `alignment` is a power of two; sizes of
// zero still return a unique pointer. Throws bitnet::Error on bad arguments or
// when the system is out of memory.
void* aligned_allocate(size_t size, size_t alignment, const char* op = "allocateAligned");
void aligned_free(void* pointer);

// Live native bytes handed out by aligned_allocate, for leak tests.
int64_t aligned_live_bytes();
int64_t aligned_live_blocks();
void note_aligned_free(size_t size);

}  // namespace bitnet
