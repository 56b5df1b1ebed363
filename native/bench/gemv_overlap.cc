// Copyright (c) 2026 bitnet contributors. MIT license.
// Where the batch-1 ternary GEMV loses against a plain read: the VNNI GEMV
// loop (written here with intrinsics on an accumulator array, as it was, and the
// addon's own tile_gemv_vnni from cpu/ternary/avx512_body.h) on the i2_r4 layout (6912x2560, cold:
// the next of 120 copies each call), next to the same loop with the
// arithmetic replaced by adds, with and without software prefetch, and the
// bandwidth probe's read loop, alternating call by call on one thread; then the
// read loop and the addon's kernel on two threads, as batch 1 runs here.
// Built and run by bench/gemv-overlap.mjs (needs g++ and AVX-512 VNNI).
#include <immintrin.h>
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "cpu/ternary/avx512_body.h"

namespace {

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

constexpr size_t kBlocks = 10;  // 256-weight blocks per row (k = 2560)
constexpr size_t kTileBytes = kBlocks * 256;
constexpr size_t kTiles = 6912 / 4;
constexpr size_t kBytes = kTiles * kTileBytes;
constexpr size_t kCopies = 120;
alignas(64) int8_t activations[kBlocks * 256];
alignas(64) int32_t sink_rows[kTiles * 4];

__attribute__((noinline)) float read_probe(const uint8_t* data) {
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  const float* f = reinterpret_cast<const float*>(data);
  for (size_t i = 0; i < kBytes / 4; i += 64) {
    a0 = _mm512_add_ps(a0, _mm512_loadu_ps(f + i));
    a1 = _mm512_add_ps(a1, _mm512_loadu_ps(f + i + 16));
    a2 = _mm512_add_ps(a2, _mm512_loadu_ps(f + i + 32));
    a3 = _mm512_add_ps(a3, _mm512_loadu_ps(f + i + 48));
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

// Arithmetic: true = the kernel's masks and vpdpbusd, false = one add per weight vector.
template <bool Arithmetic>
__attribute__((noinline)) int gemv(const uint8_t* codes, long near, long far) {
  const __m512i m0 = _mm512_set1_epi8(0x03), m1 = _mm512_set1_epi8(0x0c), m2 = _mm512_set1_epi8(0x30),
                m3 = _mm512_set1_epi8(static_cast<char>(0xc0));
  for (size_t t = 0; t < kTiles; ++t) {
    const uint8_t* tile = codes + t * kTileBytes;
    __m512i acc[4][4];
    for (auto& row : acc)
      for (auto& a : row) a = _mm512_setzero_si512();
    for (size_t b = 0; b < kBlocks; ++b) {
      const uint8_t* wb = tile + b * 256;
      for (int line = 0; line < 4; ++line) {
        if (near) _mm_prefetch(reinterpret_cast<const char*>(wb + near + 64 * line), _MM_HINT_T1);
        if (far) _mm_prefetch(reinterpret_cast<const char*>(wb + far + 64 * line), _MM_HINT_T2);
      }
      const int8_t* xb = activations + b * 256;
      const __m512i a0 = _mm512_load_si512(xb), a1 = _mm512_load_si512(xb + 64), a2 = _mm512_load_si512(xb + 128),
                    a3 = _mm512_load_si512(xb + 192);
      for (int r = 0; r < 4; ++r) {
        const __m512i w = _mm512_loadu_si512(wb + r * 64);
        if (Arithmetic) {
          acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], _mm512_and_si512(w, m0), a0);
          acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], _mm512_and_si512(w, m1), a1);
          acc[r][2] = _mm512_dpbusd_epi32(acc[r][2], _mm512_and_si512(w, m2), a2);
          acc[r][3] = _mm512_dpbusd_epi32(acc[r][3], _mm512_and_si512(w, m3), a3);
        } else {
          acc[r][0] = _mm512_add_epi32(acc[r][0], w);
        }
      }
    }
    for (int r = 0; r < 4; ++r)
      sink_rows[t * 4 + r] = _mm512_reduce_add_epi32(_mm512_add_epi32(
          _mm512_add_epi32(acc[r][0], _mm512_srai_epi32(acc[r][1], 2)),
          _mm512_add_epi32(_mm512_srai_epi32(acc[r][2], 4), _mm512_srai_epi32(acc[r][3], 6))));
  }
  return sink_rows[kTiles * 2];
}

// The addon's own batch-1 loop, tile by tile, as gemm_int_avx512 calls it for one token.
__attribute__((noinline)) int gemv_addon(const uint8_t* codes) {
  for (size_t t = 0; t < kTiles; ++t)
    bitnet::ternary::tile_gemv_vnni(codes + t * kTileBytes, kBlocks, activations, 0, sink_rows + t * 4);
  return sink_rows[kTiles * 2];
}

// Two threads, as the addon runs batch 1 on this machine: each streams half of the tiles
// (one contiguous run each); the helper spins on a generation counter, so no wake-up cost.
std::atomic<long> generation{0}, finished{0};
const uint8_t* job_codes = nullptr;
bool job_read = false;
volatile float read_sink = 0;

void half_job(int half) {
  const size_t t0 = half ? kTiles / 2 : 0, t1 = half ? kTiles : kTiles / 2;
  if (job_read) {
    // The probe's loop over this half (tile runs are 2560 bytes, a multiple of 256).
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    const float* f = reinterpret_cast<const float*>(job_codes);
    for (size_t i = t0 * kTileBytes / 4; i < t1 * kTileBytes / 4; i += 64) {
      a0 = _mm512_add_ps(a0, _mm512_loadu_ps(f + i));
      a1 = _mm512_add_ps(a1, _mm512_loadu_ps(f + i + 16));
      a2 = _mm512_add_ps(a2, _mm512_loadu_ps(f + i + 32));
      a3 = _mm512_add_ps(a3, _mm512_loadu_ps(f + i + 48));
    }
    read_sink = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
  } else {
    for (size_t t = t0; t < t1; ++t)
      bitnet::ternary::tile_gemv_vnni(job_codes + t * kTileBytes, kBlocks, activations, 0, sink_rows + t * 4);
  }
}

double run_two_threads(const uint8_t* codes, bool read) {
  job_codes = codes;
  job_read = read;
  const long done = finished.load();
  const double start = now();
  generation.fetch_add(1, std::memory_order_release);
  half_job(0);
  while (finished.load(std::memory_order_acquire) == done) _mm_pause();
  return now() - start;
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 300;
  const size_t stride = (kBytes + (size_t(2) << 20) - 1) / (size_t(2) << 20) * (size_t(2) << 20);
  auto* base = static_cast<uint8_t*>(std::aligned_alloc(size_t(2) << 20, stride * kCopies));
  if (!base) return 1;
  madvise(base, stride * kCopies, MADV_HUGEPAGE);
  for (size_t i = 0; i < stride * kCopies; ++i) base[i] = static_cast<uint8_t>((i * 2654435761u) >> 13) & 0x55;
  for (size_t i = 0; i < sizeof activations; ++i) activations[i] = static_cast<int8_t>(i % 7 - 3);
  struct Variant {
    const char* name;
    int (*run)(const uint8_t*);
  };
  static const Variant variants[] = {
      {"read probe loop", [](const uint8_t* d) { return static_cast<int>(read_probe(d)); }},
      {"kernel, T1 8 KiB", [](const uint8_t* d) { return gemv<true>(d, 8192, 0); }},
      {"kernel, T1 4 KiB + T2 16 KiB", [](const uint8_t* d) { return gemv<true>(d, 4096, 16384); }},
      {"addon's tile_gemv_vnni (in place)", [](const uint8_t* d) { return gemv_addon(d); }},
      {"kernel, no prefetch", [](const uint8_t* d) { return gemv<true>(d, 0, 0); }},
      {"adds instead of arithmetic, T1 8 KiB", [](const uint8_t* d) { return gemv<false>(d, 8192, 0); }},
      {"adds instead of arithmetic, no prefetch", [](const uint8_t* d) { return gemv<false>(d, 0, 0); }},
  };
  constexpr size_t kVariants = sizeof variants / sizeof variants[0];
  std::vector<double> times[kVariants];
  volatile int sink = 0;
  size_t next = 0;
  for (int round = 0; round < rounds; ++round)
    for (size_t v = 0; v < kVariants; ++v) {
      const uint8_t* copy = base + (next++ % kCopies) * stride;
      double start = now();
      sink = sink + variants[v].run(copy);
      times[v].push_back(now() - start);
    }
  double read = 0;
  std::printf("6912x2560 i2_r4 (%.2f MB per call), cold, 1 thread, %d alternating rounds (medians)\n", kBytes / 1e6, rounds);
  for (size_t v = 0; v < kVariants; ++v) {
    std::sort(times[v].begin(), times[v].end());
    double median = times[v][times[v].size() / 2];
    if (v == 0) read = median;
    std::printf("  %-50s %7.1f us %6.2f GB/s %4.0f%% of the read loop\n", variants[v].name, median * 1e6, kBytes / median / 1e9,
                100 * read / median);
  }
  // The same comparison on two threads: the probe's read loop against the addon's kernel.
  std::thread helper([] {
    long seen = 0;
    for (;;) {
      long g;
      while ((g = generation.load(std::memory_order_acquire)) == seen) _mm_pause();
      if (g < 0) return;
      seen = g;
      half_job(1);
      finished.fetch_add(1, std::memory_order_release);
    }
  });
  std::vector<double> two[2];
  for (int round = 0; round < rounds; ++round)
    for (int v = 0; v < 2; ++v) two[v].push_back(run_two_threads(base + (next++ % kCopies) * stride, v == 0));
  generation.store(-1, std::memory_order_release);
  helper.join();
  double read2 = 0;
  std::printf("same, 2 threads (each streams half of the tiles; the helper spins between calls)\n");
  const char* names2[] = {"read probe loop", "addon's tile_gemv_vnni (in place)"};
  for (int v = 0; v < 2; ++v) {
    std::sort(two[v].begin(), two[v].end());
    double median = two[v][two[v].size() / 2];
    if (v == 0) read2 = median;
    std::printf("  %-50s %7.1f us %6.2f GB/s %4.0f%% of the read loop\n", names2[v], median * 1e6, kBytes / median / 1e9,
                100 * read2 / median);
  }
  std::free(base);
  return sink == 42 ? 2 : 0;
}
