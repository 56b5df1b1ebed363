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
  int8_t* xg;      // group-scaled weights: xp regrouped group-major ([group][token][group blocks × 256])
  int32_t* gsum;   // group-scaled weights: Σ activations per (group, token)
};

Workspace workspace(size_t batch, size_t columns, size_t padded_rows, size_t groups = 0) {
  static thread_local Scratch scratch;
  size_t blocks = blocks_for(columns);
  auto round = [](size_t bytes) { return (bytes + 63) / 64 * 64; };
  size_t q_bytes = round(batch * columns), xp_bytes = round(batch * blocks * kBlockWeights);
  size_t s_bytes = round(batch * 4), sum_bytes = round(batch * 4), dot_bytes = round(batch * padded_rows * 4);
  // One token's activations are already in group-major order: xg is xp then.
  size_t xg_bytes = groups && batch > 1 ? xp_bytes : 0, gsum_bytes = round(groups * batch * 4);
  auto* next = static_cast<uint8_t*>(
      scratch.get(q_bytes + xp_bytes + s_bytes + sum_bytes + dot_bytes + xg_bytes + gsum_bytes));
  auto carve = [&next](size_t bytes) {
    uint8_t* at = next;
    next += bytes;
    return at;
  };
  Workspace w;
  w.q = reinterpret_cast<int8_t*>(carve(q_bytes));
  w.xp = reinterpret_cast<int8_t*>(carve(xp_bytes));
  w.xscale = reinterpret_cast<float*>(carve(s_bytes));
  w.xsum = reinterpret_cast<int32_t*>(carve(sum_bytes));
  w.dots = reinterpret_cast<int32_t*>(carve(dot_bytes));
  w.xg = xg_bytes ? reinterpret_cast<int8_t*>(carve(xg_bytes)) : w.xp;
  w.gsum = reinterpret_cast<int32_t*>(carve(gsum_bytes));
  return w;
}

// Where group g of a group-scaled matrix starts: its blocks, codes and activations.
struct Group {
  size_t first_block, blocks;
  const uint8_t* codes;
  const int8_t* xg;
  const int32_t* gsum;
};

Group group_of(const PackedView& w, const Workspace& ws, size_t batch, size_t g) {
  size_t blocks = blocks_for(w.columns), per = group_blocks_of(w.group_blocks, blocks);
  Group group;
  group.first_block = g * per;
  group.blocks = std::min(per, blocks - group.first_block);
  // Every earlier group is full (per blocks), so offsets are proportional to first_block.
  group.codes = w.codes + tiles_for(w.rows) * kTileRows * group.first_block * kBlockBytes;
  group.xg = ws.xg + batch * group.first_block * kBlockWeights;
  group.gsum = ws.gsum + g * batch;
  return group;
}

// Copies tokens [begin, end) of the token-major permuted activations into the
// group-major order the per-group kernel calls read, with per-group sums.
void regroup_activations(const PackedView& w, const Workspace& ws, size_t batch, size_t begin, size_t end) {
  size_t blocks = blocks_for(w.columns), groups = groups_for(w.columns, w.group_blocks);
  for (size_t g = 0; g < groups; ++g) {
    Group group = group_of(w, ws, batch, g);
    size_t bytes = group.blocks * kBlockWeights;
    for (size_t n = begin; n < end; ++n) {
      const int8_t* from = ws.xp + (n * blocks + group.first_block) * kBlockWeights;
      int8_t* to = ws.xg + batch * group.first_block * kBlockWeights + n * bytes;
      if (to != from) std::memcpy(to, from, bytes);  // equal for one token (see workspace)
      int32_t sum = 0;
      for (size_t i = 0; i < bytes; ++i) sum += from[i];
      ws.gsum[g * batch + n] = sum;
    }
  }
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

// Runs `range(tile_begin, tile_end)` over the pool (the integer kernel and its
// epilogue, on the same thread). Threads claim contiguous chunks of tiles from
// a shared counter: each chunk is one sequential weight stream
// (prefetch-friendly), and a thread that starts late (a busy core) simply
// claims fewer. Every tile's result is independent of the thread that computed it.
template <typename Range>
void run_tiles(const PackedView& w, size_t threads, Range range) {
  size_t tiles = tiles_for(w.rows), blocks = blocks_for(w.columns);
  size_t used = std::min(pool_threads(threads), std::max<size_t>(1, tiles));
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

// Calls `visit(n, row, tile_dots_index)` for every real row of tiles [begin, end).
template <typename Visit>
void for_each_result(size_t rows, size_t batch, size_t tile_begin, size_t tile_end, Visit visit) {
  for (size_t n = 0; n < batch; ++n)
    for (size_t t = tile_begin; t < tile_end; ++t) {
      size_t row0 = t * kTileRows, here = std::min(kTileRows, rows - row0);
      for (size_t r = 0; r < here; ++r) visit(n, row0 + r, (t * batch + n) * kTileRows + r);
    }
}

// out[r] = dots[r] · (scales[r] · xs) (+ add[r]) for r < count: one loop per case
// that the compiler vectorises; every caller gets the same float operations per row.
inline void scale_dots(float* __restrict out, const int32_t* __restrict dots, const float* __restrict scales, float xs,
                       const float* __restrict add, size_t count) {
  if (add) {
    for (size_t r = 0; r < count; ++r) out[r] = static_cast<float>(dots[r]) * (scales[r] * xs) + add[r];
  } else {
    for (size_t r = 0; r < count; ++r) out[r] = static_cast<float>(dots[r]) * (scales[r] * xs);
  }
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
  const size_t groups = w.group_blocks ? groups_for(w.columns, w.group_blocks) : 0;
  if (w.group_blocks && groups == 0) {  // no columns, so no group scales: every dot is 0
    for (size_t n = 0; n < batch; ++n)
      for (size_t r = 0; r < w.rows; ++r) y[n * w.rows + r] = bias ? 0.0f + bias[r] : 0.0f;
    return;
  }
  Workspace ws = workspace(batch, w.columns, stride, groups);
  const size_t columns = w.columns;
  auto prepare = [&](size_t begin, size_t end) {
    quantize_activations(x + begin * columns, end - begin, columns, ws.q + begin * columns, ws.xscale + begin,
                         "ternaryMatmul", begin, &k);
    for (size_t n = begin; n < end; ++n)
      ws.xsum[n] = permute_activations(ws.q + n * columns, columns, ws.xp + n * blocks * kBlockWeights);
    if (groups) regroup_activations(w, ws, batch, begin, end);
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
  if (groups == 0) {
    run_tiles(w, threads, [&](size_t begin, size_t end) {
      k.gemm_int(w.codes, blocks, begin, end, ws.xp, ws.xsum, batch, ws.dots);
      if (batch == 1) {  // one token: the dots are in row order, one flat loop
        const size_t first = begin * kTileRows, last = std::min(rows, end * kTileRows);
        scale_dots(y + first, ws.dots + first, w.scales + first, ws.xscale[0], bias ? bias + first : nullptr,
                   last - first);
        return;
      }
      // Tile by tile, token by token: 4 contiguous rows each (a constant count, unrolled), the last tile may be partial.
      for (size_t t = begin; t < end; ++t) {
        const size_t row0 = t * kTileRows, here = std::min(kTileRows, rows - row0);
        const float* add = bias ? bias + row0 : nullptr;
        for (size_t n = 0; n < batch; ++n) {
          const int32_t* d = ws.dots + (t * batch + n) * kTileRows;
          float* out = y + n * rows + row0;
          if (here == kTileRows) scale_dots(out, d, w.scales + row0, ws.xscale[n], add, kTileRows);
          else scale_dots(out, d, w.scales + row0, ws.xscale[n], add, here);
        }
      }
    });
    return;
  }
  // Group-scaled: one kernel call per group over the same tiles, the group
  // dots scaled and added in float (in y) in group order.
  run_tiles(w, threads, [&](size_t begin, size_t end) {
    const size_t first = begin * kTileRows, last = std::min(rows, end * kTileRows);
    for (size_t g = 0; g < groups; ++g) {
      Group group = group_of(w, ws, batch, g);
      k.gemm_int(group.codes, group.blocks, begin, end, group.xg, group.gsum, batch, ws.dots);
      if (batch == 1) {  // dots in row order: flat loops, as in the per-row case
        float* __restrict out = y;
        const float* __restrict scales = w.scales;
        const int32_t* __restrict dots = ws.dots;
        if (g == 0) {
          for (size_t row = first; row < last; ++row) out[row] = static_cast<float>(dots[row]) * scales[row * groups];
        } else {
          for (size_t row = first; row < last; ++row) out[row] = out[row] + static_cast<float>(dots[row]) * scales[row * groups + g];
        }
        continue;
      }
      for (size_t t = begin; t < end; ++t) {
        const size_t row0 = t * kTileRows, here = std::min(kTileRows, rows - row0);
        float scales[kTileRows] = {0, 0, 0, 0};
        for (size_t r = 0; r < here; ++r) scales[r] = w.scales[(row0 + r) * groups + g];
        for (size_t n = 0; n < batch; ++n) {
          const int32_t* d = ws.dots + (t * batch + n) * kTileRows;
          float* out = y + n * rows + row0;
          for (size_t r = 0; r < here; ++r) {
            float value = static_cast<float>(d[r]) * scales[r];
            out[r] = g ? out[r] + value : value;
          }
        }
      }
    }
    for (size_t n = 0; n < batch; ++n) {
      float* out = y + n * rows;
      const float xs = ws.xscale[n];
      for (size_t row = first; row < last; ++row) out[row] = bias ? out[row] * xs + bias[row] : out[row] * xs;
    }
  });
}

void matmul_int(const PackedView& w, const int8_t* xq, size_t batch, int32_t* out, size_t threads, Variant variant) {
  const Kernels& k = kernels_for(variant);
  check_k(w.columns, "ternaryMatmulInt8");
  if (batch == 0 || w.rows == 0) return;
  size_t tiles = tiles_for(w.rows), blocks = blocks_for(w.columns), stride = tiles * kTileRows;
  const size_t groups = w.group_blocks ? groups_for(w.columns, w.group_blocks) : 0;
  if (w.group_blocks && groups == 0) {
    std::memset(out, 0, batch * w.rows * sizeof(int32_t));
    return;
  }
  Workspace ws = workspace(batch, w.columns, stride, groups);
  for (size_t n = 0; n < batch; ++n)
    ws.xsum[n] = permute_activations(xq + n * w.columns, w.columns, ws.xp + n * blocks * kBlockWeights);
  if (groups) regroup_activations(w, ws, batch, 0, batch);
  const size_t rows = w.rows;
  run_tiles(w, threads, [&](size_t begin, size_t end) {
    if (groups == 0) {
      k.gemm_int(w.codes, blocks, begin, end, ws.xp, ws.xsum, batch, ws.dots);
      for_each_result(rows, batch, begin, end, [&](size_t n, size_t row, size_t at) { out[n * rows + row] = ws.dots[at]; });
      return;
    }
    // Exact in int32: the whole sum is bounded by check_k, so every partial sum is too.
    for (size_t g = 0; g < groups; ++g) {
      Group group = group_of(w, ws, batch, g);
      k.gemm_int(group.codes, group.blocks, begin, end, group.xg, group.gsum, batch, ws.dots);
      for_each_result(rows, batch, begin, end, [&](size_t n, size_t row, size_t at) {
        out[n * rows + row] = g ? out[n * rows + row] + ws.dots[at] : ws.dots[at];
      });
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
