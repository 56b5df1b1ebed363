// Copyright (c) 2026 bitnet contributors. MIT license.
#include "cpu/probe.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <vector>

#include "core/aligned_memory.h"
#include "core/system_info.h"
#include "core/thread_pool.h"
#include "cpu/kernels.h"

namespace bitnet {
namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct AlignedBuffer {
  explicit AlignedBuffer(size_t bytes) : size(bytes), data(static_cast<float*>(aligned_allocate(bytes, 4096, "measureBandwidth"))) {}
  ~AlignedBuffer() {
    aligned_free(data);
    note_aligned_free(size);
  }
  size_t size;
  float* data;
};

size_t default_probe_bytes() {
  int64_t llc = 0;
  for (const CacheInfo& cache : cache_info()) llc = std::max(llc, cache.size_bytes);
  // Twice the last-level cache defeats it; 256 MiB floor, 1 GiB ceiling keep the probe under a second.
  size_t bytes = std::min<size_t>(std::max<size_t>(static_cast<size_t>(llc) * 2, size_t(256) << 20), size_t(1) << 30);
  MemoryInfo memory = memory_info();
  if (memory.available_bytes > 0) bytes = std::min(bytes, static_cast<size_t>(memory.available_bytes / 8));
  return std::max<size_t>(bytes, size_t(16) << 20);
}

}  // namespace

BandwidthResult measure_bandwidth(const BandwidthOptions& options) {
  ThreadPool& pool = global_thread_pool();
  const KernelTable& k = kernels();
  size_t threads = options.threads == 0 ? pool.size() : std::min(options.threads, pool.size());
  size_t bytes = options.bytes == 0 ? default_probe_bytes() : options.bytes;
  bytes = std::max<size_t>(bytes / (64 * 3) * (64 * 3), 64 * 3 * 1024);
  int repetitions = std::max(1, options.repetitions);
  BandwidthResult result;
  result.bytes = bytes;
  result.threads = threads;

  // One buffer for the read probe; the triad splits the same memory into three arrays.
  AlignedBuffer buffer(bytes);
  size_t count = bytes / sizeof(float);
  // First touch on the threads that will stream it, so pages are mapped before timing.
  pool.run(
      [&](size_t t, size_t n) {
        size_t begin = count * t / n, end = count * (t + 1) / n;
        for (size_t i = begin; i < end; ++i) buffer.data[i] = static_cast<float>(i & 1023) * 0.001f;
      },
      threads);

  double best = 1e30;
  for (int r = 0; r < repetitions; ++r) {
    double start = now_seconds();
    result.checksum += probe_read(buffer.data, count * sizeof(float), threads);
    best = std::min(best, now_seconds() - start);
  }
  result.read_bytes_per_second = static_cast<double>(count * sizeof(float)) / best;

  size_t third = count / 3 / 16 * 16;
  float* a = buffer.data;
  float* b = buffer.data + third;
  float* c = buffer.data + 2 * third;
  best = 1e30;
  for (int r = 0; r < repetitions; ++r) {
    double start = now_seconds();
    pool.run(
        [&](size_t t, size_t n) {
          size_t begin = third * t / n / 16 * 16, end = t + 1 == n ? third : third * (t + 1) / n / 16 * 16;
          k.stream_triad_f32(a + begin, b + begin, c + begin, 0.5f, end - begin);
        },
        threads);
    best = std::min(best, now_seconds() - start);
  }
  result.triad_bytes_per_second = 3.0 * static_cast<double>(third * sizeof(float)) / best;
  result.checksum += a[third / 2];
  return result;
}

double probe_read(const void* data, size_t bytes, size_t threads) {
  ThreadPool& pool = global_thread_pool();
  const KernelTable& k = kernels();
  threads = threads == 0 ? pool.size() : std::min(threads, pool.size());
  // Whole 64-byte lines only; the caller's buffer need not be float-aligned beyond 4 bytes.
  const float* floats = static_cast<const float*>(data);
  size_t count = bytes / 64 * 16;
  std::vector<double> partial(threads);
  pool.run(
      [&](size_t t, size_t n) {
        size_t begin = count * t / n / 16 * 16, end = t + 1 == n ? count : count * (t + 1) / n / 16 * 16;
        partial[t] = k.stream_sum_f32(floats + begin, end - begin);
      },
      threads);
  double total = 0;
  for (double p : partial) total += p;
  return total;
}

ComputeResult measure_compute(size_t threads, double seconds) {
  ThreadPool& pool = global_thread_pool();
  const KernelTable& k = kernels();
  threads = threads == 0 ? pool.size() : std::min(threads, pool.size());
  // Calibrate the iteration count on one thread, then run it on all of them.
  size_t iterations = 1 << 16;
  float sink = 0;
  for (;;) {
    double start = now_seconds();
    k.fma_peak_f32(iterations, &sink);
    double elapsed = now_seconds() - start;
    if (elapsed > seconds / 4 || iterations > (size_t(1) << 34)) break;
    iterations *= 2;
  }
  std::vector<double> flops(threads);
  std::vector<float> sinks(threads);
  double start = now_seconds();
  pool.run([&](size_t t, size_t) { flops[t] = k.fma_peak_f32(iterations, &sinks[t]); }, threads);
  double elapsed = now_seconds() - start;
  double total = 0;
  for (double f : flops) total += f;
  return ComputeResult{total / elapsed, threads};
}

}  // namespace bitnet
