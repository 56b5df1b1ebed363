// Copyright (c) 2026 bitnet contributors. MIT license.
// Variant selection and the threaded drivers around the ternary kernels.
// The float epilogue lives here (baseline code) so every variant produces the
// same floats from the same exact int32 dot products.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <string>

#include "core/aligned_memory.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "cpu/kernels.h"
#include "cpu/ternary/ternary.h"

#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace bitnet {
namespace ternary {
namespace {

const char* const kVariantNames[kVariantCount] = {"generic", "avx2", "avx512", "avx512vnni", "neon"};

Kernels build(Variant v) {
  Kernels k{};
  fill_generic(k);
#if defined(BITNET_HAVE_X86_TIERS)
  if (v == Variant::avx2) fill_avx2(k);
  if (v == Variant::avx512) fill_avx512(k);
  if (v == Variant::avx512vnni) fill_avx512vnni(k);
#endif
#if defined(BITNET_HAVE_NEON_TIER)
  if (v == Variant::neon) fill_neon(k);
#endif
  k.variant = v;
  return k;
}

// Scratch that grows and is reused per thread: activation buffers are rebuilt
// on every call and must not cost an allocation (or page faults) each time.
struct Scratch {
  void* data = nullptr;
  size_t size = 0;
  ~Scratch() {
    if (data) {
      aligned_free(data);
      note_aligned_free(size);
    }
  }
  void* get(size_t bytes) {
    if (bytes > size) {
      if (data) {
        aligned_free(data);
        note_aligned_free(size);
        data = nullptr;
        size = 0;
      }
      size_t grown = std::max(bytes, size_t(4096));
      data = aligned_allocate(grown, 64, "ternaryMatmul");
      size = grown;
    }
    return data;
  }
};

struct Workspace {
  int8_t* q;       // natural-order int8 activations
  int8_t* xp;      // permuted, padded
  float* xscale;
  int32_t* xsum;
  int32_t* dots;   // batch × padded rows
};

Workspace workspace(size_t batch, size_t columns, size_t padded_rows) {
  static thread_local Scratch scratch;
  size_t blocks = blocks_for(columns);
  auto round = [](size_t bytes) { return (bytes + 63) / 64 * 64; };
  size_t q_bytes = round(batch * columns), xp_bytes = round(batch * blocks * kBlockWeights);
  size_t s_bytes = round(batch * 4), sum_bytes = round(batch * 4), dot_bytes = round(batch * padded_rows * 4);
  auto* base = static_cast<uint8_t*>(scratch.get(q_bytes + xp_bytes + s_bytes + sum_bytes + dot_bytes));
  Workspace w;
  w.q = reinterpret_cast<int8_t*>(base);
  w.xp = reinterpret_cast<int8_t*>(base + q_bytes);
  w.xscale = reinterpret_cast<float*>(base + q_bytes + xp_bytes);
  w.xsum = reinterpret_cast<int32_t*>(base + q_bytes + xp_bytes + s_bytes);
  w.dots = reinterpret_cast<int32_t*>(base + q_bytes + xp_bytes + s_bytes + sum_bytes);
  return w;
}

size_t pool_threads(size_t requested) {
  size_t size = global_thread_pool().size();
  return requested == 0 ? size : std::min(requested, size);
}

void check_k(size_t columns, const char* op) {
  // Σ (code) · a with code ≤ 2 and |a| ≤ 128 must stay inside int32.
  if (columns > (size_t(1) << 22))
    throw out_of_range(std::string("[") + op + "] columns " + std::to_string(columns) +
                       " exceed the int32 accumulation limit of 4194304");
}

// Runs the integer kernel over the pool, then `finish(tile_begin, tile_end)` on
// the same thread. Threads claim contiguous chunks of tiles from a shared
// counter: each chunk is one sequential weight stream (prefetch-friendly), and
// a thread that starts late (a busy core) simply claims fewer. Every tile's
// result is independent of the thread that computed it.
template <typename Finish>
void run_tiles(const Kernels& k, const PackedView& w, const Workspace& ws, size_t batch, size_t threads,
               Finish finish) {
  size_t tiles = tiles_for(w.rows), blocks = blocks_for(w.columns);
  size_t used = std::min(pool_threads(threads), std::max<size_t>(1, tiles));
  auto range = [&](size_t begin, size_t end) {
    k.gemm_int(w.codes, blocks, begin, end, ws.xp, ws.xsum, batch, ws.dots);
    finish(begin, end);
  };
  if (used == 1) {
    range(0, tiles);
    return;
  }
  const size_t tile_bytes = blocks * kTileRows * kBlockBytes;
  // Guided chunks: each claim takes half of the remaining tiles' fair share, at
  // least 64 KiB. Early chunks are long (every chunk restarts the prefetch
  // stream), late ones short, so neither thread idles long at the end: cold
  // 6912x2560 GEMV on 2 threads, ~8% faster than fixed chunks of 1/8.
  const size_t min_tiles = std::max<size_t>(1, (65536 + tile_bytes - 1) / tile_bytes);
  std::atomic<size_t> next{0};
  global_thread_pool().run(
      [&](size_t, size_t) {
        size_t begin = next.load(std::memory_order_relaxed), end;
        for (;;) {
          do {
            if (begin >= tiles) return;
            end = std::min(tiles, begin + std::max(min_tiles, (tiles - begin) / (2 * used)));
          } while (!next.compare_exchange_weak(begin, end, std::memory_order_relaxed));
          range(begin, end);
          begin = next.load(std::memory_order_relaxed);
        }
      },
      used);
}

}  // namespace

const char* variant_name(Variant v) { return kVariantNames[static_cast<int>(v)]; }

bool parse_variant(const char* name, Variant* v) {
  for (int i = 0; i < kVariantCount; ++i)
    if (std::strcmp(name, kVariantNames[i]) == 0) {
      *v = static_cast<Variant>(i);
      return true;
    }
  return false;
}

bool variant_supported(Variant v) {
  switch (v) {
    case Variant::generic: return true;
    case Variant::avx2: return tier_supported(IsaTier::avx2);
    case Variant::avx512: return tier_supported(IsaTier::avx512);
    case Variant::avx512vnni: return tier_supported(IsaTier::avx512) && cpu_features().avx512vnni;
    case Variant::neon: return tier_supported(IsaTier::neon);
  }
  return false;
}

Variant default_variant() {
  switch (isa_selection().selected) {
    case IsaTier::avx512: return cpu_features().avx512vnni ? Variant::avx512vnni : Variant::avx512;
    case IsaTier::avx2: return Variant::avx2;
    case IsaTier::neon: return Variant::neon;
    default: return Variant::generic;
  }
}

const Kernels& kernels_for(Variant v) {
  if (!variant_supported(v))
    throw Error("ERR_BITNET_UNSUPPORTED",
                std::string("[ternary] this CPU or build cannot run the ") + variant_name(v) + " kernels",
                ErrorKind::range);
  static Kernels tables[kVariantCount];
  static std::once_flag flags[kVariantCount];
  int index = static_cast<int>(v);
  std::call_once(flags[index], [&] { tables[index] = build(v); });
  return tables[index];
}

void matmul(const PackedView& w, const float* x, size_t batch, const float* bias, float* y, size_t threads,
            Variant variant) {
  const Kernels& k = kernels_for(variant);
  check_k(w.columns, "ternaryMatmul");
  if (batch == 0 || w.rows == 0) return;
  size_t tiles = tiles_for(w.rows), blocks = blocks_for(w.columns), stride = tiles * kTileRows;
  Workspace ws = workspace(batch, w.columns, stride);
  const size_t columns = w.columns;
  auto prepare = [&](size_t begin, size_t end) {
    quantize_activations(x + begin * columns, end - begin, columns, ws.q + begin * columns, ws.xscale + begin,
                         "ternaryMatmul", begin);
    for (size_t n = begin; n < end; ++n)
      ws.xsum[n] = permute_activations(ws.q + n * columns, columns, ws.xp + n * blocks * kBlockWeights);
  };
  // Large batches quantize on every thread (a pass over batch × k floats); a
  // NaN found by any thread is rethrown here by the pool.
  size_t prep_threads = std::min(pool_threads(threads), batch * columns >= 65536 ? batch : size_t(1));
  if (prep_threads <= 1) {
    prepare(0, batch);
  } else {
    global_thread_pool().run([&](size_t t, size_t n) { prepare(batch * t / n, batch * (t + 1) / n); }, prep_threads);
  }
  const size_t rows = w.rows;
  run_tiles(k, w, ws, batch, threads, [&](size_t tile_begin, size_t tile_end) {
    for (size_t n = 0; n < batch; ++n) {
      float* out = y + n * rows;
      const float xs = ws.xscale[n];
      for (size_t t = tile_begin; t < tile_end; ++t) {
        const int32_t* dots = ws.dots + (t * batch + n) * kTileRows;
        size_t row0 = t * kTileRows, here = std::min(kTileRows, rows - row0);
        for (size_t r = 0; r < here; ++r) {
          float value = static_cast<float>(dots[r]) * (w.scales[row0 + r] * xs);
          out[row0 + r] = bias ? value + bias[row0 + r] : value;
        }
      }
    }
  });
}

void matmul_int(const PackedView& w, const int8_t* xq, size_t batch, int32_t* out, size_t threads, Variant variant) {
  const Kernels& k = kernels_for(variant);
  check_k(w.columns, "ternaryMatmulInt8");
  if (batch == 0 || w.rows == 0) return;
  size_t tiles = tiles_for(w.rows), blocks = blocks_for(w.columns), stride = tiles * kTileRows;
  Workspace ws = workspace(batch, w.columns, stride);
  for (size_t n = 0; n < batch; ++n)
    ws.xsum[n] = permute_activations(xq + n * w.columns, w.columns, ws.xp + n * blocks * kBlockWeights);
  const size_t rows = w.rows;
  run_tiles(k, w, ws, batch, threads, [&](size_t tile_begin, size_t tile_end) {
    for (size_t n = 0; n < batch; ++n)
      for (size_t t = tile_begin; t < tile_end; ++t) {
        size_t row0 = t * kTileRows, here = std::min(kTileRows, rows - row0);
        std::memcpy(out + n * rows + row0, ws.dots + (t * batch + n) * kTileRows, here * 4);
      }
  });
}

void matmul_f32(const float* w, size_t rows, size_t columns, const float* x, size_t batch, float* y, size_t threads,
                Variant variant) {
  const Kernels& k = kernels_for(variant);
  if (batch == 0 || rows == 0) return;
  size_t used = std::min(pool_threads(threads), rows);
  auto body = [&](size_t t, size_t n) {
    // Split on multiples of 4 rows so the SIMD bodies keep their row blocking.
    size_t quads = (rows + 3) / 4;
    size_t begin = std::min(rows, quads * t / n * 4), end = std::min(rows, quads * (t + 1) / n * 4);
    if (begin < end) k.matmul_f32(w, rows, columns, begin, end, x, batch, y);
  };
  if (used <= 1) body(0, 1);
  else global_thread_pool().run(body, used);
}

}  // namespace ternary
}  // namespace bitnet
