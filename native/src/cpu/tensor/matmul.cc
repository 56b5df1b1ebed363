// Copyright (c) 2026 bitnet contributors. MIT license.
// F32 matmul driver (BLIS-style): B packed into kc×nc blocks of nr-wide
// panels, A into mc×kc blocks of mr-tall panels, the tier's register-tile
// micro-kernel over them. Threads split the columns (or the rows when C is
// tall and narrow); each thread packs its own panels, so no barrier is needed.
// One or two rows of A take a matrix-vector path that streams B once.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "core/error.h"
#include "core/thread_pool.h"
#include "cpu/tensor/ops.h"

namespace bitnet {
namespace tensor {
namespace {

// Per-thread scratch for packed panels, 64-byte aligned, grown on demand and
// kept for the thread's life (packing buffers are reused by every call).
class Scratch {
 public:
  ~Scratch() { std::free(data_); }
  float* get(size_t count) {
    if (count > capacity_) {
      std::free(data_);
      data_ = nullptr;
      capacity_ = 0;
      size_t bytes = ((count * sizeof(float)) + 63) / 64 * 64;
      void* p = std::aligned_alloc(64, bytes);
      if (!p) throw out_of_memory("[matmul] cannot allocate " + std::to_string(bytes) + " bytes of packing scratch");
      data_ = static_cast<float*>(p);
      capacity_ = count;
    }
    return data_;
  }

 private:
  float* data_ = nullptr;
  size_t capacity_ = 0;
};

Scratch& scratch_a() {
  thread_local Scratch scratch;
  return scratch;
}
Scratch& scratch_b() {
  thread_local Scratch scratch;
  return scratch;
}
Scratch& scratch_row() {
  thread_local Scratch scratch;
  return scratch;
}

// Packs rows [i0, i0+mc) × depth [p0, p0+kc) of A into mr-row panels:
// panel r holds a[k*mr + i]; rows past the end are zero.
void pack_a(const MatmulOperand& a, size_t i0, size_t mc, size_t p0, size_t kc, size_t mr, float* out) {
  for (size_t ir = 0; ir < mc; ir += mr) {
    const size_t rows = std::min(mr, mc - ir);
    float* panel = out + ir * kc;
    if (rows < mr) std::memset(panel, 0, kc * mr * sizeof(float));
    for (size_t i = 0; i < rows; ++i) {
      const float* src = a.data + static_cast<int64_t>(i0 + ir + i) * a.row_stride + static_cast<int64_t>(p0) * a.col_stride;
      if (a.col_stride == 1) {
        for (size_t k = 0; k < kc; ++k) panel[k * mr + i] = src[k];
      } else {
        for (size_t k = 0; k < kc; ++k) panel[k * mr + i] = src[static_cast<int64_t>(k) * a.col_stride];
      }
    }
  }
}

// Packs depth [p0, p0+kc) × columns [j0, j0+nc) of B into nr-column panels:
// panel holds b[k*nr + j]; columns past the end are zero.
void pack_b(const MatmulOperand& b, size_t p0, size_t kc, size_t j0, size_t nc, size_t nr, float* out) {
  if (b.col_stride == 1) {
    // Row-major B: read each row's nc columns in order (one sequential stream
    // per row, friendly to the prefetchers) and scatter them to the panels.
    const size_t full = nc / nr * nr;
    for (size_t k = 0; k < kc; ++k) {
      const float* row = b.data + static_cast<int64_t>(p0 + k) * b.row_stride + static_cast<int64_t>(j0);
      for (size_t jr = 0; jr < full; jr += nr) std::memcpy(out + jr * kc + k * nr, row + jr, nr * sizeof(float));
    }
  }
  for (size_t jr = 0; jr < nc; jr += nr) {
    const size_t cols = std::min(nr, nc - jr);
    float* panel = out + jr * kc;
    const float* base = b.data + static_cast<int64_t>(p0) * b.row_stride + static_cast<int64_t>(j0 + jr) * b.col_stride;
    if (b.col_stride == 1 && cols == nr) {
      // Full row-major panels are packed below, row by row.
      continue;
    } else if (b.row_stride == 1) {
      // Column-major B (a transposed view): walk each column contiguously.
      if (cols < nr) std::memset(panel, 0, kc * nr * sizeof(float));
      for (size_t j = 0; j < cols; ++j) {
        const float* column = base + static_cast<int64_t>(j) * b.col_stride;
        for (size_t k = 0; k < kc; ++k) panel[k * nr + j] = column[k];
      }
    } else {
      for (size_t k = 0; k < kc; ++k) {
        const float* row = base + static_cast<int64_t>(k) * b.row_stride;
        float* dst = panel + k * nr;
        for (size_t j = 0; j < cols; ++j) dst[j] = row[static_cast<int64_t>(j) * b.col_stride];
        for (size_t j = cols; j < nr; ++j) dst[j] = 0;
      }
    }
  }
}

void gemm_block(const TensorKernelTable& t, size_t m0, size_t m1, size_t n0, size_t n1, size_t k,
                const MatmulOperand& a, const MatmulOperand& b, float* c, size_t ldc) {
  const MatmulConfig& cfg = t.matmul;
  const size_t mr = cfg.mr, nr = cfg.nr;
  const size_t kc_max = cfg.kc, mc_max = cfg.mc / mr * mr, nc_max = cfg.nc / nr * nr;
  float* bp = scratch_b().get(kc_max * nc_max);
  float* ap = scratch_a().get(kc_max * mc_max);
  for (size_t jc = n0; jc < n1; jc += nc_max) {
    const size_t nc = std::min(nc_max, n1 - jc);
    for (size_t pc = 0; pc < k; pc += kc_max) {
      const size_t kc = std::min(kc_max, k - pc);
      pack_b(b, pc, kc, jc, nc, nr, bp);
      for (size_t ic = m0; ic < m1; ic += mc_max) {
        const size_t mc = std::min(mc_max, m1 - ic);
        pack_a(a, ic, mc, pc, kc, mr, ap);
        for (size_t jr = 0; jr < nc; jr += nr) {
          const size_t cols = std::min(nr, nc - jr);
          for (size_t ir = 0; ir < mc; ir += mr) {
            const size_t rows = std::min(mr, mc - ir);
            cfg.kernel(kc, ap + ir * kc, bp + jr * kc, nr, c + (ic + ir) * ldc + jc + jr, ldc, rows, cols, pc > 0);
          }
        }
      }
    }
  }
}

// Few rows of A: each thread owns a column range and streams B once for all rows.
void gemv_rows(const TensorKernelTable& t, size_t m, size_t n0, size_t n1, size_t k, const MatmulOperand& a,
               const MatmulOperand& b, float* c, size_t ldc) {
  if (b.col_stride == 1) {
    constexpr size_t kChunk = 2048;
    // Depth is summed in blocks of kc into a scratch row and each block added to C,
    // as the packed path sums: one running float32 sum over all of k would stall
    // (2^24 + 1 == 2^24) and make a row's result depend on how many rows came with it.
    const size_t kc = std::max<size_t>(1, t.matmul.kc);
    float* partial = scratch_row().get(m * kChunk);
    for (size_t j0 = n0; j0 < n1; j0 += kChunk) {
      const size_t width = std::min(kChunk, n1 - j0);
      for (size_t i = 0; i < m; ++i) std::memset(c + i * ldc + j0, 0, width * sizeof(float));
      for (size_t p0 = 0; p0 < k; p0 += kc) {
        const size_t p1 = std::min(k, p0 + kc);
        std::memset(partial, 0, m * width * sizeof(float));
        for (size_t p = p0; p < p1; ++p) {
          const float* row = b.data + static_cast<int64_t>(p) * b.row_stride + static_cast<int64_t>(j0);
          for (size_t i = 0; i < m; ++i) {
            const float alpha = a.data[static_cast<int64_t>(i) * a.row_stride + static_cast<int64_t>(p) * a.col_stride];
            t.axpy_f32(alpha, row, partial + i * width, width);
          }
        }
        for (size_t i = 0; i < m; ++i) t.axpy_f32(1.0f, partial + i * width, c + i * ldc + j0, width);
      }
    }
    return;
  }
  // Columns of B contiguous (B is a transposed view): dot products with rows of A.
  float* rows = scratch_row().get(m * k + 1);
  for (size_t i = 0; i < m; ++i)
    for (size_t p = 0; p < k; ++p)
      rows[i * k + p] = a.data[static_cast<int64_t>(i) * a.row_stride + static_cast<int64_t>(p) * a.col_stride];
  for (size_t j = n0; j < n1; ++j) {
    const float* column = b.data + static_cast<int64_t>(j) * b.col_stride;
    for (size_t i = 0; i < m; ++i) c[i * ldc + j] = static_cast<float>(t.dot_f32(rows + i * k, column, k));
  }
}

}  // namespace

void matmul(const TensorKernelTable& t, size_t m, size_t n, size_t k, MatmulOperand a, MatmulOperand b, float* c,
            size_t ldc, size_t threads) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    for (size_t i = 0; i < m; ++i) std::memset(c + i * ldc, 0, n * sizeof(float));
    return;
  }
  ThreadPool& pool = global_thread_pool();
  size_t available = threads == 0 ? pool.size() : std::min(threads, pool.size());
  const double flops = 2.0 * double(m) * double(n) * double(k);
  // Below ~1 MFLOP the wake-up of the workers costs more than it saves.
  if (flops < 1e6) available = 1;
  const bool vector_path = m <= 2 && (b.col_stride == 1 || b.row_stride == 1);
  const size_t nr = t.matmul.nr, mr = t.matmul.mr;
  if (vector_path) {
    const size_t used = std::max<size_t>(1, std::min(available, n / 64));
    pool.run(
        [&](size_t index, size_t count) {
          size_t n0 = n * index / count / 16 * 16, n1 = index + 1 == count ? n : n * (index + 1) / count / 16 * 16;
          if (n0 < n1) gemv_rows(t, m, n0, n1, k, a, b, c, ldc);
        },
        used);
    return;
  }
  // Split columns in whole panels when there are enough, else rows.
  const size_t panels_n = (n + nr - 1) / nr, panels_m = (m + mr - 1) / mr;
  const bool split_columns = panels_n >= available * 2 || panels_n >= panels_m;
  const size_t units = split_columns ? panels_n : panels_m;
  const size_t used = std::max<size_t>(1, std::min(available, units));
  pool.run(
      [&](size_t index, size_t count) {
        const size_t u0 = units * index / count, u1 = units * (index + 1) / count;
        if (u0 == u1) return;
        if (split_columns) {
          gemm_block(t, 0, m, u0 * nr, std::min(n, u1 * nr), k, a, b, c, ldc);
        } else {
          gemm_block(t, u0 * mr, std::min(m, u1 * mr), 0, n, k, a, b, c, ldc);
        }
      },
      used);
}

void batched_matmul(const TensorKernelTable& t, const Shape& batch_shape, const Strides& a_batch_strides,
                    const Strides& b_batch_strides, size_t m, size_t n, size_t k, MatmulOperand a, MatmulOperand b,
                    float* c, size_t threads) {
  size_t batch = 1;
  for (int64_t d : batch_shape) batch *= static_cast<size_t>(d);
  if (batch == 0 || m == 0 || n == 0) return;
  const size_t dims = batch_shape.size();
  auto offsets = [&](size_t index, int64_t* a_offset, int64_t* b_offset) {
    *a_offset = 0;
    *b_offset = 0;
    for (size_t d = dims; d-- > 0;) {
      const int64_t extent = batch_shape[d];
      const int64_t i = static_cast<int64_t>(index % static_cast<size_t>(extent));
      index /= static_cast<size_t>(extent);
      *a_offset += i * a_batch_strides[d];
      *b_offset += i * b_batch_strides[d];
    }
  };
  ThreadPool& pool = global_thread_pool();
  const double flops = 2.0 * double(m) * double(n) * double(k);
  // Small matrices: one matrix per thread; large ones: every thread on each matrix.
  if (batch > 1 && flops < 4e6) {
    const size_t used = threads == 0 ? pool.size() : std::min(threads, pool.size());
    pool.run(
        [&](size_t index, size_t count) {
          for (size_t item = batch * index / count; item < batch * (index + 1) / count; ++item) {
            int64_t ao, bo;
            offsets(item, &ao, &bo);
            matmul(t, m, n, k, {a.data + ao, a.row_stride, a.col_stride}, {b.data + bo, b.row_stride, b.col_stride},
                   c + item * m * n, n, 1);
          }
        },
        std::min(used, batch));
    return;
  }
  for (size_t item = 0; item < batch; ++item) {
    int64_t ao, bo;
    offsets(item, &ao, &bo);
    matmul(t, m, n, k, {a.data + ao, a.row_stride, a.col_stride}, {b.data + bo, b.row_stride, b.col_stride},
           c + item * m * n, n, threads);
  }
}

}  // namespace tensor
}  // namespace bitnet
