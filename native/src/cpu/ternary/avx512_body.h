// Copyright (c) 2026 bitnet contributors. MIT license.
// AVX-512 ternary kernel body, included by cpu/x86/avx512/ternary_avx512.cc
// (vpmaddubsw + vpmaddwd) and cpu/x86/avx512vnni/ternary_avx512vnni.cc
// (vpdpbusd). Everything here has internal linkage so the two ISA builds never
// share a symbol.
//
// One 64-byte load is one row's 256-weight block; shifting it by 0/2/4/6 and
// masking with 3 gives the unsigned codes (value + 1) of 64 weights whose
// activations sit contiguously in the permuted activation block at 64·s. The
// +1 is removed once per dot product by subtracting Σ activations.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "cpu/ternary/ternary.h"

namespace bitnet {
namespace ternary {
namespace {

// Weights stream once: prefetch this far ahead into L2 (T1). Measured on the
// 2-core Xeon: no prefetch reaches ~60% of the read probe, 4-32 KiB ahead into
// L2 ~90%, into L1 (T0) ~80%.
constexpr size_t kPrefetchBytes = 8192;

template <bool Vnni>
inline __m512i dot_u8s8(__m512i acc, __m512i codes, __m512i x) {
#if defined(__AVX512VNNI__)
  if constexpr (Vnni) return _mm512_dpbusd_epi32(acc, codes, x);
#endif
  // codes ≤ 2 and |x| ≤ 128: a vpmaddubsw pair sum is at most 512, no saturation.
  return _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_maddubs_epi16(codes, x), _mm512_set1_epi16(1)));
}

// Sums 16 lanes of each of 4 accumulators into one 128-bit vector [a0, a1, a2, a3].
inline __m128i reduce4(__m512i a0, __m512i a1, __m512i a2, __m512i a3) {
  auto half = [](__m512i v) {
    __m256i h = _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
    return _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
  };
  __m128i h01 = _mm_hadd_epi32(half(a0), half(a1));
  __m128i h23 = _mm_hadd_epi32(half(a2), half(a3));
  return _mm_hadd_epi32(h01, h23);
}

// 4 rows × NB tokens, every block of k. Split accumulators (even/odd shift)
// when NB is small so the vpdpbusd latency chain does not bound the loop.
template <bool Vnni, int NB>
inline void tile_group(const uint8_t* tile, size_t blocks, const int8_t* x, size_t x_stride, const int32_t* xsum,
                       int32_t* out) {
  constexpr int Split = NB == 1 ? 2 : 1;
  __m512i acc[4][NB][Split];
  for (int r = 0; r < 4; ++r)
    for (int n = 0; n < NB; ++n)
      for (int s = 0; s < Split; ++s) acc[r][n][s] = _mm512_setzero_si512();
  const __m512i mask = _mm512_set1_epi8(3);
  for (size_t b = 0; b < blocks; ++b) {
    const uint8_t* wb = tile + b * 256;
    for (int line = 0; line < 4; ++line)
      _mm_prefetch(reinterpret_cast<const char*>(wb + kPrefetchBytes + 64 * line), _MM_HINT_T1);
    __m512i w[4];
    for (int r = 0; r < 4; ++r) w[r] = _mm512_loadu_si512(wb + r * 64);
    const int8_t* xb = x + b * 256;
#define BITNET_TERNARY_SHIFT(S)                                                                  \
  {                                                                                              \
    __m512i v[4];                                                                                \
    for (int r = 0; r < 4; ++r) v[r] = _mm512_and_si512(_mm512_srli_epi16(w[r], 2 * (S)), mask); \
    for (int n = 0; n < NB; ++n) {                                                               \
      __m512i a = _mm512_loadu_si512(xb + n * x_stride + 64 * (S));                              \
      for (int r = 0; r < 4; ++r) acc[r][n][(S) % Split] = dot_u8s8<Vnni>(acc[r][n][(S) % Split], v[r], a); \
    }                                                                                            \
  }
    BITNET_TERNARY_SHIFT(0)
    BITNET_TERNARY_SHIFT(1)
    BITNET_TERNARY_SHIFT(2)
    BITNET_TERNARY_SHIFT(3)
#undef BITNET_TERNARY_SHIFT
  }
  for (int n = 0; n < NB; ++n) {
    __m512i s[4];
    for (int r = 0; r < 4; ++r) {
      s[r] = acc[r][n][0];
      if constexpr (Split == 2) s[r] = _mm512_add_epi32(s[r], acc[r][n][Split - 1]);
    }
    __m128i sums = _mm_sub_epi32(reduce4(s[0], s[1], s[2], s[3]), _mm_set1_epi32(xsum[n]));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + n * 4), sums);
  }
}

// Without VNNI: vpmaddubsw pair sums (≤ 2 · 2 · 128 = 512 per lane) are added
// in int16 over 4 shifts × 8 blocks (≤ 16384 < 32767) and widened to int32 only
// then, instead of a vpmaddwd per product vector.
template <int NB>
inline void tile_group_i16(const uint8_t* tile, size_t blocks, const int8_t* x, size_t x_stride, const int32_t* xsum,
                           int32_t* out) {
  constexpr size_t kBlocksPerFlush = 8;
  __m512i acc32[4][NB], acc16[4][NB];
  for (int r = 0; r < 4; ++r)
    for (int n = 0; n < NB; ++n) acc32[r][n] = acc16[r][n] = _mm512_setzero_si512();
  const __m512i mask = _mm512_set1_epi8(3), ones = _mm512_set1_epi16(1);
  for (size_t b = 0; b < blocks; ++b) {
    if (b % kBlocksPerFlush == 0 && b) {
      for (int r = 0; r < 4; ++r)
        for (int n = 0; n < NB; ++n) {
          acc32[r][n] = _mm512_add_epi32(acc32[r][n], _mm512_madd_epi16(acc16[r][n], ones));
          acc16[r][n] = _mm512_setzero_si512();
        }
    }
    const uint8_t* wb = tile + b * 256;
    for (int line = 0; line < 4; ++line)
      _mm_prefetch(reinterpret_cast<const char*>(wb + kPrefetchBytes + 64 * line), _MM_HINT_T1);
    __m512i w[4];
    for (int r = 0; r < 4; ++r) w[r] = _mm512_loadu_si512(wb + r * 64);
    const int8_t* xb = x + b * 256;
#define BITNET_TERNARY_SHIFT16(S)                                                                \
  {                                                                                              \
    __m512i v[4];                                                                                \
    for (int r = 0; r < 4; ++r) v[r] = _mm512_and_si512(_mm512_srli_epi16(w[r], 2 * (S)), mask); \
    for (int n = 0; n < NB; ++n) {                                                               \
      __m512i a = _mm512_loadu_si512(xb + n * x_stride + 64 * (S));                              \
      for (int r = 0; r < 4; ++r) acc16[r][n] = _mm512_add_epi16(acc16[r][n], _mm512_maddubs_epi16(v[r], a)); \
    }                                                                                            \
  }
    BITNET_TERNARY_SHIFT16(0)
    BITNET_TERNARY_SHIFT16(1)
    BITNET_TERNARY_SHIFT16(2)
    BITNET_TERNARY_SHIFT16(3)
#undef BITNET_TERNARY_SHIFT16
  }
  for (int n = 0; n < NB; ++n) {
    __m512i s[4];
    for (int r = 0; r < 4; ++r) s[r] = _mm512_add_epi32(acc32[r][n], _mm512_madd_epi16(acc16[r][n], ones));
    __m128i sums = _mm_sub_epi32(reduce4(s[0], s[1], s[2], s[3]), _mm_set1_epi32(xsum[n]));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + n * 4), sums);
  }
}

#if defined(__AVX512VNNI__)
// Batch-1 VNNI body. The shifts of tile_group compete with vpdpbusd for port 0,
// so here each 2-bit field is only masked in place (0x03, 0x0C, 0x30, 0xC0):
// the products are then 4^s · code · x, kept in one accumulator per shift and
// divided back exactly by an arithmetic shift at the end (every lane is a sum
// of multiples of 4^s). 16 accumulators: 4 independent chains per row.
//
// The stream is prefetched at two distances: paired with a plain read of the
// same bytes (6912x2560, cold), 1-2% faster than one T1 prefetch 8 KiB ahead.
constexpr size_t kGemvNearPrefetch = 4096;
constexpr size_t kGemvFarPrefetch = 16384;

// vpdpbusd accumulating in place, into 16 named accumulators. With the
// intrinsic on an acc[4][4] array GCC 12 copied accumulators between registers
// and the stack every block (87 instructions per 256 bytes instead of 59):
// warm 6912x2560 on 1 thread 256 -> 219 us, cold 1-2.5% faster in paired runs.
#if defined(__GNUC__)
#define BITNET_DP(acc, u8, s8) __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(u8), "v"(s8))
#else
#define BITNET_DP(acc, u8, s8) ((acc) = _mm512_dpbusd_epi32((acc), (u8), (s8)))
#endif
// One row's 64 code bytes of block `wb` (masks m0-m3) against the 4 activation vectors.
#define BITNET_ROW(r0, r1, r2, r3, offset)               \
  {                                                      \
    const __m512i w = _mm512_loadu_si512(wb + (offset)); \
    BITNET_DP(r0, _mm512_and_si512(w, m0), x0);          \
    BITNET_DP(r1, _mm512_and_si512(w, m1), x1);          \
    BITNET_DP(r2, _mm512_and_si512(w, m2), x2);          \
    BITNET_DP(r3, _mm512_and_si512(w, m3), x3);          \
  }
inline void tile_gemv_vnni(const uint8_t* tile, size_t blocks, const int8_t* x, int32_t xsum, int32_t* out) {
  __m512i a00 = _mm512_setzero_si512(), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
  __m512i a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
  const __m512i m0 = _mm512_set1_epi8(0x03), m1 = _mm512_set1_epi8(0x0c), m2 = _mm512_set1_epi8(0x30),
                m3 = _mm512_set1_epi8(static_cast<char>(0xc0));
  for (size_t b = 0; b < blocks; ++b) {
    const uint8_t* wb = tile + b * 256;
    for (int line = 0; line < 4; ++line) {
      _mm_prefetch(reinterpret_cast<const char*>(wb + kGemvNearPrefetch + 64 * line), _MM_HINT_T1);
      _mm_prefetch(reinterpret_cast<const char*>(wb + kGemvFarPrefetch + 64 * line), _MM_HINT_T2);
    }
    const int8_t* xb = x + b * 256;
    const __m512i x0 = _mm512_loadu_si512(xb), x1 = _mm512_loadu_si512(xb + 64), x2 = _mm512_loadu_si512(xb + 128),
                  x3 = _mm512_loadu_si512(xb + 192);
    BITNET_ROW(a00, a01, a02, a03, 0)
    BITNET_ROW(a10, a11, a12, a13, 64)
    BITNET_ROW(a20, a21, a22, a23, 128)
    BITNET_ROW(a30, a31, a32, a33, 192)
  }
  auto combine = [](__m512i f0, __m512i f1, __m512i f2, __m512i f3) {
    return _mm512_add_epi32(_mm512_add_epi32(f0, _mm512_srai_epi32(f1, 2)),
                            _mm512_add_epi32(_mm512_srai_epi32(f2, 4), _mm512_srai_epi32(f3, 6)));
  };
  const __m128i sums = reduce4(combine(a00, a01, a02, a03), combine(a10, a11, a12, a13), combine(a20, a21, a22, a23),
                               combine(a30, a31, a32, a33));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm_sub_epi32(sums, _mm_set1_epi32(xsum)));
}
#undef BITNET_ROW
#undef BITNET_DP
#endif

// Large batches are blocked: 64 tiles of weights (≤ 64 · blocks · 256 bytes,
// L2-resident) meet 16 tokens of activations at a time (L1/L2-resident), so
// neither stream is re-read from memory.
template <bool Vnni>
void gemm_int_avx512(const uint8_t* codes, size_t blocks, size_t tile_begin, size_t tile_end, const int8_t* xp,
                     const int32_t* xsum, size_t batch, int32_t* out) {
  const size_t x_stride = blocks * 256;
  constexpr size_t kTileBlock = 64, kTokenBlock = 16;
  for (size_t tb = tile_begin; tb < tile_end; tb += kTileBlock) {
    const size_t te = tile_end - tb < kTileBlock ? tile_end : tb + kTileBlock;
    for (size_t n0 = 0; n0 < batch; n0 += kTokenBlock) {
      const size_t n1 = batch - n0 < kTokenBlock ? batch : n0 + kTokenBlock;
      for (size_t t = tb; t < te; ++t) {
        const uint8_t* tile = codes + t * blocks * 256;
        int32_t* o = out + t * batch * 4;
        size_t n = n0;
        if constexpr (!Vnni) {
          for (; n + 2 <= n1; n += 2)
            tile_group_i16<2>(tile, blocks, xp + n * x_stride, x_stride, xsum + n, o + n * 4);
          if (n < n1) tile_group_i16<1>(tile, blocks, xp + n * x_stride, x_stride, xsum + n, o + n * 4);
          continue;
        }
        for (; n + 4 <= n1; n += 4)
          tile_group<Vnni, 4>(tile, blocks, xp + n * x_stride, x_stride, xsum + n, o + n * 4);
        for (; n + 2 <= n1; n += 2)
          tile_group<Vnni, 2>(tile, blocks, xp + n * x_stride, x_stride, xsum + n, o + n * 4);
        for (; n < n1; ++n) {
#if defined(__AVX512VNNI__)
          if constexpr (Vnni) {
            tile_gemv_vnni(tile, blocks, xp + n * x_stride, xsum[n], o + n * 4);
            continue;
          }
#endif
          tile_group<Vnni, 1>(tile, blocks, xp + n * x_stride, x_stride, xsum + n, o + n * 4);
        }
      }
    }
  }
}

}  // namespace
}  // namespace ternary
}  // namespace bitnet
