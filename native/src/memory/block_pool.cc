// Copyright (c) 2026 bitnet contributors. MIT license.
#include "memory/block_pool.h"

#include <string>

#include "core/aligned_memory.h"
#include "core/error.h"

namespace bitnet {
namespace memory {

BlockPool::BlockPool(size_t block_size, size_t block_count, size_t alignment)
    : base_(nullptr), block_size_(block_size), block_count_(block_count) {
  if (block_size == 0 || block_count == 0)
    throw out_of_range("[BlockPool] block size and count must be positive");
  if (block_size % alignment != 0)
    throw invalid_argument("[BlockPool] block size " + std::to_string(block_size) + " is not a multiple of alignment " +
                           std::to_string(alignment));
  base_ = static_cast<uint8_t*>(aligned_allocate(block_size * block_count, alignment, "BlockPool"));
  free_stack_.reserve(block_count);
  for (size_t i = block_count; i-- > 0;) free_stack_.push_back(static_cast<int64_t>(i));
  is_free_.assign(block_count, 1);
}

BlockPool::~BlockPool() {
  aligned_free(base_);
  note_aligned_free(block_size_ * block_count_);
}

int64_t BlockPool::allocate() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (free_stack_.empty()) return -1;
  int64_t index = free_stack_.back();
  free_stack_.pop_back();
  is_free_[static_cast<size_t>(index)] = 0;
  return index;
}

void BlockPool::free(int64_t index) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (index < 0 || static_cast<size_t>(index) >= block_count_)
    throw out_of_range("[BlockPool.free] block index " + std::to_string(index) + " is outside [0, " +
                       std::to_string(block_count_) + ")");
  if (is_free_[static_cast<size_t>(index)])
    throw Error("ERR_BITNET_DOUBLE_FREE", "[BlockPool.free] block " + std::to_string(index) + " is already free");
  is_free_[static_cast<size_t>(index)] = 1;
  free_stack_.push_back(index);
}

size_t BlockPool::live() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return block_count_ - free_stack_.size();
}

}  // namespace memory
}  // namespace bitnet
