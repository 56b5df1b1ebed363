// Copyright (c) 2026 bitnet contributors. MIT license.
// A process-wide, mutex-guarded pool of fixed-size blocks carved from one
// aligned arena. @bitnet/memory keeps its allocator in JS (per thread); this
// pool exists so the benchmark can measure the alternative design, a shared
// native pool reached through one Node-API call per allocate and per free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

namespace bitnet {
namespace memory {

class BlockPool {
 public:
  BlockPool(size_t block_size, size_t block_count, size_t alignment);
  ~BlockPool();
  BlockPool(const BlockPool&) = delete;
  BlockPool& operator=(const BlockPool&) = delete;

  // Index of a free block, or -1 when the pool is exhausted.
  int64_t allocate();
  // Throws bitnet::Error on an index that is out of range or already free.
  void free(int64_t index);
  uint8_t* data(int64_t index) const { return base_ + static_cast<size_t>(index) * block_size_; }
  size_t block_size() const { return block_size_; }
  size_t block_count() const { return block_count_; }
  size_t live() const;

 private:
  mutable std::mutex mutex_;
  uint8_t* base_;
  size_t block_size_;
  size_t block_count_;
  std::vector<int64_t> free_stack_;
  std::vector<uint8_t> is_free_;
};

}  // namespace memory
}  // namespace bitnet
