// Copyright (c) 2026 bitnet contributors. MIT license.
// Strided drivers: collapse dimensions that are contiguous for every operand,
// cut the iteration space into runs along the innermost axis, and hand each
// run to a contiguous tier kernel: operands with stride 1 are passed in place,
// stride 0 (broadcast) as a scalar, any other stride through a gather buffer.
// Runs are spread over the thread pool.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/error.h"
#include "core/thread_pool.h"
#include "cpu/tensor/ops.h"

namespace bitnet {
namespace tensor {
namespace {

constexpr size_t kRun = 8192;           // elements per run (fits the gather buffers in L2)
constexpr size_t kParallelMin = 32768;  // below this many elements, one thread

template <size_t N>
struct Layout {
  Shape shape;
  std::array<Strides, N> strides;
};

// Drops size-1 axes and merges neighbours that are contiguous for all operands.
template <size_t N>
Layout<N> coalesce(const Shape& shape, const std::array<const Strides*, N>& strides) {
  Layout<N> out;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    if (!out.shape.empty()) {
      bool merge = true;
      for (size_t o = 0; o < N; ++o)
        if (out.strides[o].back() != (*strides[o])[d] * shape[d]) merge = false;
      if (merge) {
        out.shape.back() *= shape[d];
        for (size_t o = 0; o < N; ++o) out.strides[o].back() = (*strides[o])[d];
        continue;
      }
    }
    out.shape.push_back(shape[d]);
    for (size_t o = 0; o < N; ++o) out.strides[o].push_back((*strides[o])[d]);
  }
  if (out.shape.empty()) {
    out.shape.push_back(1);
    for (size_t o = 0; o < N; ++o) out.strides[o].push_back(0);
  }
  return out;
}

int64_t element_count(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

// Calls fn(offsets, length, inner_strides) for every run of the iteration
// space, in parallel when it is large. Offsets are in elements.
template <size_t N, class F>
void for_each_run(const Shape& shape, const std::array<const Strides*, N>& strides, F fn) {
  if (element_count(shape) == 0) return;
  Layout<N> layout = coalesce<N>(shape, strides);
  const size_t dims = layout.shape.size();
  const size_t inner = static_cast<size_t>(layout.shape.back());
  const size_t chunks_per_row = (inner + kRun - 1) / kRun;
  size_t rows = 1;
  for (size_t d = 0; d + 1 < dims; ++d) rows *= static_cast<size_t>(layout.shape[d]);
  const size_t items = rows * chunks_per_row;
  std::array<int64_t, N> inner_strides;
  for (size_t o = 0; o < N; ++o) inner_strides[o] = layout.strides[o].back();
  auto body = [&](size_t begin, size_t end) {
    for (size_t item = begin; item < end; ++item) {
      size_t row = item / chunks_per_row, chunk = item % chunks_per_row;
      std::array<int64_t, N> offsets{};
      size_t rest = row;
      for (size_t d = dims - 1; d-- > 0;) {
        const int64_t i = static_cast<int64_t>(rest % static_cast<size_t>(layout.shape[d]));
        rest /= static_cast<size_t>(layout.shape[d]);
        for (size_t o = 0; o < N; ++o) offsets[o] += i * layout.strides[o][d];
      }
      const size_t start = chunk * kRun, length = std::min(kRun, inner - start);
      for (size_t o = 0; o < N; ++o) offsets[o] += static_cast<int64_t>(start) * inner_strides[o];
      fn(offsets, length, inner_strides);
    }
  };
  const size_t total = rows * inner;
  if (total < kParallelMin || items == 1) {
    body(0, items);
    return;
  }
  const size_t per_item = std::min(inner, kRun);
  global_thread_pool().parallel_for(items, std::max<size_t>(1, 32768 / per_item), body);
}

template <class T>
T* thread_buffer(int slot) {
  thread_local std::array<std::vector<float>, 4> buffers;
  auto& buffer = buffers[slot];
  if (buffer.size() < kRun) buffer.resize(kRun);
  return reinterpret_cast<T*>(buffer.data());
}

// A run of an input in the form a contiguous kernel takes: in place (stride 1),
// a single value (stride 0), or gathered into a buffer.
const float* as_run(const float* base, int64_t stride, size_t length, int slot, bool* scalar) {
  *scalar = stride == 0;
  if (stride == 0 || stride == 1) return base;
  float* buffer = thread_buffer<float>(slot);
  for (size_t i = 0; i < length; ++i) buffer[i] = base[static_cast<int64_t>(i) * stride];
  return buffer;
}

BinaryMode mode_of(bool a_scalar, bool b_scalar) {
  if (a_scalar && !b_scalar) return BinaryMode::scalar_vector;
  if (!a_scalar && b_scalar) return BinaryMode::vector_scalar;
  return BinaryMode::vector_vector;
}

}  // namespace

// Binary ops and comparisons share the walk: runs of two inputs (either may be
// a broadcast scalar along the run) into an output of type T, through a
// gather buffer when the output run is not contiguous.
template <typename T, typename Kernel>
void binary_runs(const Shape& shape, T* out, const Strides& out_strides, const float* a, const Strides& a_strides,
                 const float* b, const Strides& b_strides, Kernel kernel) {
  for_each_run<3>(shape, {&out_strides, &a_strides, &b_strides}, [&](auto offsets, size_t n, auto s) {
    bool a_scalar, b_scalar;
    const float* x = as_run(a + offsets[1], s[1], n, 0, &a_scalar);
    const float* y = as_run(b + offsets[2], s[2], n, 1, &b_scalar);
    if (a_scalar && b_scalar) {
      // Both broadcast along the run: expand one so the kernel sees a vector.
      float* fill = thread_buffer<float>(1);
      std::fill(fill, fill + n, *y);
      y = fill;
      b_scalar = false;
    }
    T* target = s[0] == 1 ? out + offsets[0] : thread_buffer<T>(2);
    kernel(mode_of(a_scalar, b_scalar), x, y, target, n);
    if (s[0] != 1)
      for (size_t i = 0; i < n; ++i) out[offsets[0] + static_cast<int64_t>(i) * s[0]] = target[i];
  });
}

void binary(const TensorKernelTable& t, BinaryOp op, const Shape& shape, float* out, const Strides& out_strides,
            const float* a, const Strides& a_strides, const float* b, const Strides& b_strides) {
  binary_runs<float>(shape, out, out_strides, a, a_strides, b, b_strides,
                     [&](BinaryMode mode, const float* x, const float* y, float* target, size_t n) {
                       t.binary_f32(op, mode, x, y, target, n);
                     });
}

void compare(const TensorKernelTable& t, CompareOp op, const Shape& shape, uint8_t* out, const Strides& out_strides,
             const float* a, const Strides& a_strides, const float* b, const Strides& b_strides) {
  binary_runs<uint8_t>(shape, out, out_strides, a, a_strides, b, b_strides,
                       [&](BinaryMode mode, const float* x, const float* y, uint8_t* target, size_t n) {
                         t.compare_f32(op, mode, x, y, target, n);
                       });
}

void unary(const TensorKernelTable& t, UnaryOp op, const Shape& shape, float* out, const Strides& out_strides,
           const float* a, const Strides& a_strides, float p0, float p1) {
  for_each_run<2>(shape, {&out_strides, &a_strides}, [&](auto offsets, size_t n, auto s) {
    bool scalar;
    const float* x = as_run(a + offsets[1], s[1], n, 0, &scalar);
    if (scalar) {
      float* fill = thread_buffer<float>(0);
      std::fill(fill, fill + n, *x);
      x = fill;
    }
    float* target = s[0] == 1 ? out + offsets[0] : thread_buffer<float>(2);
    t.unary_f32(op, x, target, n, p0, p1);
    if (s[0] != 1)
      for (size_t i = 0; i < n; ++i) out[offsets[0] + static_cast<int64_t>(i) * s[0]] = target[i];
  });
}

void where(const Shape& shape, float* out, const Strides& out_strides, const uint8_t* cond, const Strides& cond_strides,
           const float* a, const Strides& a_strides, const float* b, const Strides& b_strides) {
  for_each_run<4>(shape, {&out_strides, &cond_strides, &a_strides, &b_strides}, [&](auto o, size_t n, auto s) {
    for (size_t i = 0; i < n; ++i) {
      const int64_t k = static_cast<int64_t>(i);
      out[o[0] + k * s[0]] = cond[o[1] + k * s[1]] ? a[o[2] + k * s[2]] : b[o[3] + k * s[3]];
    }
  });
}

void copy(size_t element_size, const Shape& shape, uint8_t* out, const Strides& out_strides, const uint8_t* in,
          const Strides& in_strides) {
  for_each_run<2>(shape, {&out_strides, &in_strides}, [&](auto o, size_t n, auto s) {
    uint8_t* dst = out + o[0] * static_cast<int64_t>(element_size);
    const uint8_t* src = in + o[1] * static_cast<int64_t>(element_size);
    if (s[0] == 1 && s[1] == 1) {
      std::memcpy(dst, src, n * element_size);
      return;
    }
    const int64_t ds = s[0] * static_cast<int64_t>(element_size), ss = s[1] * static_cast<int64_t>(element_size);
    switch (element_size) {
      case 1: for (size_t i = 0; i < n; ++i) dst[int64_t(i) * ds] = src[int64_t(i) * ss]; break;
      case 2: for (size_t i = 0; i < n; ++i) std::memcpy(dst + int64_t(i) * ds, src + int64_t(i) * ss, 2); break;
      case 4: for (size_t i = 0; i < n; ++i) std::memcpy(dst + int64_t(i) * ds, src + int64_t(i) * ss, 4); break;
      case 8: for (size_t i = 0; i < n; ++i) std::memcpy(dst + int64_t(i) * ds, src + int64_t(i) * ss, 8); break;
      default:
        for (size_t i = 0; i < n; ++i) std::memcpy(dst + int64_t(i) * ds, src + int64_t(i) * ss, element_size);
    }
  });
}

// ---- reductions ----

namespace {

// Partial result of a reduction over part of the reduced space.
struct Partial {
  double sum = 0;
  float extreme = 0;
  int64_t index = -1;  // flat index within the reduced space (arg ops); -1 = nothing seen yet
  bool seen = false;
};

void fold_run(const TensorKernelTable& t, ReduceOp op, const float* run, size_t n, int64_t base, double mean,
              Partial& p) {
  switch (op) {
    case ReduceOp::sum:
    case ReduceOp::mean: p.sum += t.sum_f32(run, n); return;
    case ReduceOp::var:
      for (size_t i = 0; i < n; ++i) {
        const double d = run[i] - mean;
        p.sum += d * d;
      }
      return;
    case ReduceOp::max:
    case ReduceOp::min: {
      const float v = op == ReduceOp::max ? t.max_f32(run, n) : t.min_f32(run, n);
      if (!p.seen) {
        p.extreme = v;
        p.seen = true;
      } else if (!std::isnan(p.extreme) && (std::isnan(v) || (op == ReduceOp::max ? v > p.extreme : v < p.extreme))) {
        p.extreme = v;
      }
      return;
    }
    case ReduceOp::argmax:
    case ReduceOp::argmin: {
      // First occurrence wins; a NaN is the extreme (numpy's rule).
      if (p.seen && std::isnan(p.extreme)) return;
      for (size_t i = 0; i < n; ++i) {
        const float v = run[i];
        const bool better = !p.seen || std::isnan(v) || (op == ReduceOp::argmax ? v > p.extreme : v < p.extreme);
        if (better) {
          p.extreme = v;
          p.index = base + static_cast<int64_t>(i);
          p.seen = true;
          if (std::isnan(v)) return;
        }
      }
      return;
    }
    default: return;
  }
}

void merge(ReduceOp op, Partial& into, const Partial& other) {
  if (op == ReduceOp::sum || op == ReduceOp::mean || op == ReduceOp::var) {
    into.sum += other.sum;
    return;
  }
  if (!other.seen) return;
  if (into.seen && std::isnan(into.extreme)) return;
  const bool max_like = op == ReduceOp::max || op == ReduceOp::argmax;
  // Partials cover increasing index ranges, so ties keep `into` (the first occurrence).
  if (!into.seen || std::isnan(other.extreme) || (max_like ? other.extreme > into.extreme : other.extreme < into.extreme))
    into = other;
}

// Iterates the reduced sub-space (already coalesced) of one output element
// over flat reduced indices [begin, end), folding runs into p.
void reduce_range(const TensorKernelTable& t, ReduceOp op, const float* base, const Shape& rshape,
                  const Strides& rstrides, size_t begin, size_t end, double mean, Partial& p) {
  const size_t dims = rshape.size();
  const size_t inner = static_cast<size_t>(rshape.back());
  const int64_t inner_stride = rstrides.back();
  size_t flat = begin;
  while (flat < end) {
    const size_t row = flat / inner, col = flat % inner;
    const size_t length = std::min({inner - col, end - flat, kRun});
    int64_t offset = static_cast<int64_t>(col) * inner_stride;
    size_t rest = row;
    for (size_t d = dims - 1; d-- > 0;) {
      offset += static_cast<int64_t>(rest % static_cast<size_t>(rshape[d])) * rstrides[d];
      rest /= static_cast<size_t>(rshape[d]);
    }
    bool scalar;
    const float* run = as_run(base + offset, inner_stride, length, 3, &scalar);
    if (scalar) {
      float* fill = thread_buffer<float>(3);
      std::fill(fill, fill + length, *run);
      run = fill;
    }
    fold_run(t, op, run, length, static_cast<int64_t>(flat), mean, p);
    flat += length;
  }
}

Shape coalesce_one(const Shape& shape, const Strides& strides, Strides* out_strides) {
  std::array<const Strides*, 1> s{&strides};
  Layout<1> layout = coalesce<1>(shape, s);
  *out_strides = layout.strides[0];
  return layout.shape;
}

}  // namespace

void reduce(const TensorKernelTable& t, ReduceOp op, const Shape& shape, const float* in, const Strides& strides,
            const std::vector<int>& axes, float* out, int32_t* out_index, double correction) {
  Shape kept_shape, red_shape;
  Strides kept_strides, red_strides;
  std::vector<bool> reduced(shape.size(), false);
  for (int axis : axes) reduced[static_cast<size_t>(axis)] = true;
  for (size_t d = 0; d < shape.size(); ++d) {
    (reduced[d] ? red_shape : kept_shape).push_back(shape[d]);
    (reduced[d] ? red_strides : kept_strides).push_back(strides[d]);
  }
  const int64_t outputs = element_count(kept_shape);
  const int64_t count = element_count(red_shape);
  if (outputs == 0) return;
  const bool arg = op == ReduceOp::argmax || op == ReduceOp::argmin;
  auto finish = [&](int64_t o, const Partial& p, double mean) {
    switch (op) {
      case ReduceOp::sum: out[o] = static_cast<float>(p.sum); break;
      case ReduceOp::mean: out[o] = static_cast<float>(p.sum / static_cast<double>(count)); break;
      case ReduceOp::var: {
        // numpy and torch: the divisor stops at 0, so a correction ≥ count gives +Inf (0/0 = NaN when all equal).
        const double divisor = std::max(0.0, static_cast<double>(count) - correction);
        out[o] = static_cast<float>(p.sum / divisor);
        break;
      }
      case ReduceOp::max:
      case ReduceOp::min: out[o] = p.extreme; break;
      default: out_index[o] = static_cast<int32_t>(p.index); break;
    }
    (void)mean;
  };
  if (count == 0) {
    // Empty reduced space: sum 0, mean/var NaN (the JS layer rejects max/min/arg on empty axes).
    for (int64_t o = 0; o < outputs; ++o) {
      if (arg) out_index[o] = -1;
      else out[o] = op == ReduceOp::sum ? 0.0f : std::numeric_limits<float>::quiet_NaN();
    }
    return;
  }
  Strides rs, ks;
  Shape rshape = coalesce_one(red_shape, red_strides, &rs);
  Shape kshape = coalesce_one(kept_shape, kept_strides, &ks);
  ThreadPool& pool = global_thread_pool();
  const size_t total = static_cast<size_t>(outputs) * static_cast<size_t>(count);

  // Column reduction: the kept axes are one contiguous run, the reduced ones
  // outer. Accumulate whole rows with the vector kernel instead of gathering.
  const bool column = !arg && op != ReduceOp::var && kshape.size() == 1 && ks[0] == 1 && outputs > 1 &&
                      rs.back() != 1;
  if (column) {
    const size_t width = static_cast<size_t>(outputs);
    const int kind = op == ReduceOp::max ? 1 : op == ReduceOp::min ? 2 : 0;
    auto body = [&](size_t begin, size_t end) {
      const size_t n = end - begin;
      std::vector<float> acc(n);
      for (int64_t r = 0; r < count; ++r) {
        int64_t offset = 0, rest = r;
        for (size_t d = rshape.size(); d-- > 0;) {
          offset += (rest % rshape[d]) * rs[d];
          rest /= rshape[d];
        }
        const float* row = in + offset + static_cast<int64_t>(begin);
        if (r == 0) std::memcpy(acc.data(), row, n * sizeof(float));
        else t.accumulate_f32(kind, row, acc.data(), n);
      }
      for (size_t j = 0; j < n; ++j)
        out[begin + j] = op == ReduceOp::mean ? static_cast<float>(acc[j] / static_cast<double>(count)) : acc[j];
    };
    if (total < kParallelMin || pool.size() == 1) {
      body(0, width);
      return;
    }
    // Each thread accumulates whole rows of its share of the reduced rows (so
    // every thread streams memory in order); partials merge in thread order.
    const size_t threads = std::min<size_t>(pool.size(), static_cast<size_t>(count));
    std::vector<std::vector<float>> partial(threads, std::vector<float>(width));
    pool.run(
        [&](size_t index, size_t n) {
          const int64_t r0 = count * static_cast<int64_t>(index) / static_cast<int64_t>(n);
          const int64_t r1 = count * static_cast<int64_t>(index + 1) / static_cast<int64_t>(n);
          float* acc = partial[index].data();
          for (int64_t r = r0; r < r1; ++r) {
            int64_t offset = 0, rest = r;
            for (size_t d = rshape.size(); d-- > 0;) {
              offset += (rest % rshape[d]) * rs[d];
              rest /= rshape[d];
            }
            if (r == r0) std::memcpy(acc, in + offset, width * sizeof(float));
            else t.accumulate_f32(kind, in + offset, acc, width);
          }
        },
        threads);
    for (size_t i = 1; i < threads; ++i) t.accumulate_f32(kind, partial[i].data(), partial[0].data(), width);
    for (size_t j = 0; j < width; ++j)
      out[j] = op == ReduceOp::mean ? static_cast<float>(partial[0][j] / static_cast<double>(count)) : partial[0][j];
    return;
  }

  auto kept_offset = [&](int64_t o) {
    int64_t offset = 0;
    for (size_t d = kshape.size(); d-- > 0;) {
      offset += (o % kshape[d]) * ks[d];
      o /= kshape[d];
    }
    return offset;
  };

  if (outputs == 1 || static_cast<size_t>(outputs) < pool.size()) {
    // Few outputs: split each output's reduced space over the threads; partials merge in order.
    for (int64_t o = 0; o < outputs; ++o) {
      const float* base = in + kept_offset(o);
      const size_t threads = total < kParallelMin ? 1 : pool.size();
      auto pass = [&](ReduceOp pass_op, double mean) {
        std::vector<Partial> partials(threads);
        pool.run(
            [&](size_t index, size_t n) {
              const size_t begin = static_cast<size_t>(count) * index / n, end = static_cast<size_t>(count) * (index + 1) / n;
              if (begin < end) reduce_range(t, pass_op, base, rshape, rs, begin, end, mean, partials[index]);
            },
            threads);
        Partial p = partials[0];
        for (size_t i = 1; i < threads; ++i) merge(pass_op, p, partials[i]);
        return p;
      };
      if (op == ReduceOp::var) {
        const double mean = pass(ReduceOp::sum, 0).sum / static_cast<double>(count);
        finish(o, pass(ReduceOp::var, mean), mean);
      } else {
        finish(o, pass(op, 0), 0);
      }
    }
    return;
  }
  auto body = [&](size_t begin, size_t end) {
    for (size_t o = begin; o < end; ++o) {
      const float* base = in + kept_offset(static_cast<int64_t>(o));
      double mean = 0;
      if (op == ReduceOp::var) {
        Partial s;
        reduce_range(t, ReduceOp::sum, base, rshape, rs, 0, static_cast<size_t>(count), 0, s);
        mean = s.sum / static_cast<double>(count);
      }
      Partial p;
      reduce_range(t, op, base, rshape, rs, 0, static_cast<size_t>(count), mean, p);
      finish(static_cast<int64_t>(o), p, mean);
    }
  };
  if (total < kParallelMin) body(0, static_cast<size_t>(outputs));
  else pool.parallel_for(static_cast<size_t>(outputs), std::max<size_t>(1, 16384 / static_cast<size_t>(count)), body);
}

// ---- row-wise ops and conversion ----

namespace {
template <class F>
void over_rows(size_t rows, size_t n, F fn) {
  if (rows * n < kParallelMin || rows == 1) {
    fn(0, rows);
    return;
  }
  global_thread_pool().parallel_for(rows, std::max<size_t>(1, 16384 / std::max<size_t>(1, n)), fn);
}
}  // namespace

void softmax_rows(const TensorKernelTable& t, const float* x, float* y, size_t rows, size_t n, bool log) {
  over_rows(rows, n, [&](size_t begin, size_t end) {
    for (size_t r = begin; r < end; ++r) t.softmax_f32(x + r * n, y + r * n, n, log);
  });
}

void rms_norm_rows(const TensorKernelTable& t, const float* x, const float* weight, float* y, size_t rows, size_t n,
                   float eps) {
  over_rows(rows, n, [&](size_t begin, size_t end) {
    for (size_t r = begin; r < end; ++r) t.rms_norm_f32(x + r * n, weight, y + r * n, n, eps);
  });
}

void layer_norm_rows(const TensorKernelTable& t, const float* x, const float* weight, const float* bias, float* y,
                     size_t rows, size_t n, float eps) {
  over_rows(rows, n, [&](size_t begin, size_t end) {
    for (size_t r = begin; r < end; ++r) t.layer_norm_f32(x + r * n, weight, bias, y + r * n, n, eps);
  });
}

void convert(const TensorKernelTable& t, ConvertKind kind, const void* in, void* out, size_t count) {
  auto body = [&](size_t begin, size_t end) {
    const size_t n = end - begin;
    switch (kind) {
      case ConvertKind::f32_to_f16: t.f32_to_f16(static_cast<const float*>(in) + begin, static_cast<uint16_t*>(out) + begin, n); break;
      case ConvertKind::f16_to_f32: t.f16_to_f32(static_cast<const uint16_t*>(in) + begin, static_cast<float*>(out) + begin, n); break;
      case ConvertKind::f32_to_bf16: t.f32_to_bf16(static_cast<const float*>(in) + begin, static_cast<uint16_t*>(out) + begin, n); break;
      case ConvertKind::bf16_to_f32: t.bf16_to_f32(static_cast<const uint16_t*>(in) + begin, static_cast<float*>(out) + begin, n); break;
    }
  };
  if (count < 262144) body(0, count);
  else global_thread_pool().parallel_for(count, 65536, body);
}

}  // namespace tensor
}  // namespace bitnet
