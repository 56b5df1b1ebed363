// Copyright (c) 2026 bitnet contributors. MIT license.
#pragma once

#include <cstddef>

#include "core/cpu_features.h"

namespace bitnet {

struct BandwidthOptions {
  size_t bytes = 0;       // working set; 0 = 2 × last-level cache within [256 MiB, 1 GiB], capped at 1/8 of free memory
  size_t threads = 0;     // 0 = every pool thread
  int repetitions = 5;    // best of N passes
};

struct BandwidthResult {
  double read_bytes_per_second = 0;   // read-only streaming sum
  double triad_bytes_per_second = 0;  // a = b + s·c, counted as 3 × array bytes (STREAM convention)
  size_t bytes = 0;
  size_t threads = 0;
  double checksum = 0;  // keeps the reads observable
};

// Streams a buffer much larger than the last-level cache: the physical limit
// that memory-bound kernels are compared against.
BandwidthResult measure_bandwidth(const BandwidthOptions& options);

// The read probe's kernel over caller memory, split evenly over `threads` pool
// threads (0 = all): a benchmark can time a plain read of the very bytes a
// kernel streams, interleaved with it, so both see the same neighbours.
// Returns the float sum of the bytes read as floats (keeps the reads alive).
double probe_read(const void* data, size_t bytes, size_t threads);

struct ComputeResult {
  double flops_per_second = 0;
  size_t threads = 0;
};
// Register-resident FMA throughput of the selected tier on N threads.
ComputeResult measure_compute(size_t threads, double seconds);

}  // namespace bitnet
