// Copyright (c) 2026 bitnet contributors. MIT license.
// Bindings of the tensor area. Every tensor operand arrives as (buffer,
// byteOffset, strides) with strides in elements; this layer checks that every
// element the shape and strides can reach lies inside the buffer, so a kernel
// never reads or writes outside JS-owned memory. An optional trailing tier
// name ("generic", "avx2", "avx512") runs one tier's kernels, for tests.
#include <cmath>
#include <string>
#include <vector>

#include "core/cpu_features.h"
#include "cpu/kernels.h"
#include "cpu/tensor/ops.h"
#include "napi/convert.h"
#include "napi/pins.h"
#include "napi/registry.h"

namespace bitnet {
namespace napi {
namespace {

using tensor::Shape;
using tensor::Strides;

std::string join(const std::vector<int64_t>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + std::to_string(values[i]);
  return out + "]";
}

std::vector<int64_t> int_array(const Napi::Value& value, const char* op, const char* name, bool allow_negative) {
  if (!value.IsArray()) throw invalid_argument(std::string("[") + op + "] " + name + " must be an array of integers");
  Napi::Array array = value.As<Napi::Array>();
  std::vector<int64_t> out(array.Length());
  for (uint32_t i = 0; i < array.Length(); ++i) {
    Napi::Value item = array.Get(i);
    double v = item.IsNumber() ? item.As<Napi::Number>().DoubleValue() : NAN;
    if (!std::isfinite(v) || std::floor(v) != v || std::fabs(v) > 9007199254740991.0 || (!allow_negative && v < 0))
      throw invalid_argument(std::string("[") + op + "] " + name + "[" + std::to_string(i) + "] must be " +
                             (allow_negative ? "an integer" : "a non-negative integer"));
    out[i] = static_cast<int64_t>(v);
  }
  return out;
}

const tensor::TensorKernelTable& table_arg(const Napi::CallbackInfo& info, size_t index, const char* op) {
  if (index >= info.Length() || info[index].IsUndefined() || info[index].IsNull()) return tensor::tensor_kernels();
  if (!info[index].IsString()) throw invalid_argument(std::string("[") + op + "] tier must be a string");
  std::string name = info[index].As<Napi::String>().Utf8Value();
  IsaTier tier;
  if (!parse_isa_tier(name, &tier)) throw invalid_argument(std::string("[") + op + "] unknown tier \"" + name + "\"");
  return tensor::tensor_kernels_for(tier);
}

// One strided operand: base pointer of element 0 plus strides, bounds-checked.
struct Operand {
  uint8_t* data = nullptr;
  Strides strides;
};

Operand operand(const Napi::CallbackInfo& info, size_t index, const char* op, const char* name, size_t element_size,
                const Shape& shape) {
  if (index + 2 >= info.Length()) throw invalid_argument(std::string("[") + op + "] missing operand " + name);
  ByteSpan span = bytes_of(info[index], op, name);
  uint64_t byte_offset = size_arg(info[index + 1], op, "byteOffset");
  Operand out;
  out.strides = int_array(info[index + 2], op, "strides", true);
  if (out.strides.size() != shape.size())
    throw invalid_argument(std::string("[") + op + "] " + name + " has " + std::to_string(out.strides.size()) +
                           " strides for shape " + join(shape));
  // In 128 bits: shapes and strides reach 2^53 each, so a product or a sum in
  // 64 bits could wrap around and pass the check (then the kernel runs wild).
  bool empty = false;
  for (int64_t extent : shape) empty = empty || extent == 0;
  __int128 low = 0, high = 0;
  bool too_far = false;
  for (size_t d = 0; d < shape.size() && !empty; ++d) {
    const __int128 reach = static_cast<__int128>(out.strides[d]) * (shape[d] - 1);
    (reach < 0 ? low : high) += reach;
    too_far = too_far || low < -(static_cast<__int128>(1) << 64) || high > (static_cast<__int128>(1) << 64);
  }
  const __int128 base = byte_offset;
  if (!empty && (too_far || base + low * static_cast<__int128>(element_size) < 0 ||
                 base + (high + 1) * static_cast<__int128>(element_size) > static_cast<__int128>(span.length)))
    throw out_of_range(std::string("[") + op + "] " + name + " with shape " + join(shape) + ", strides " +
                       join(out.strides) + " at byte " + std::to_string(byte_offset) + " reaches outside its " +
                       std::to_string(span.length) + "-byte buffer");
  out.data = span.data + byte_offset;
  return out;
}

Shape shape_arg(const Napi::CallbackInfo& info, size_t index, const char* op) {
  if (index >= info.Length()) throw invalid_argument(std::string("[") + op + "] shape is required");
  return int_array(info[index], op, "shape", false);
}

int enum_arg(const Napi::CallbackInfo& info, size_t index, int count, const char* op, const char* name) {
  double v = number_arg(info, index, op, name);
  if (!(v >= 0 && v < count) || std::floor(v) != v)
    throw out_of_range(std::string("[") + op + "] " + name + " must be an integer in [0, " + std::to_string(count) + ")");
  return static_cast<int>(v);
}

// (op, shape, out, outOffset, outStrides, a, aOffset, aStrides, b, bOffset, bStrides, tier?)
Napi::Value binary(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto op = static_cast<tensor::BinaryOp>(enum_arg(info, 0, int(tensor::BinaryOp::count), "tensorBinary", "op"));
    Shape shape = shape_arg(info, 1, "tensorBinary");
    Operand out = operand(info, 2, "tensorBinary", "out", 4, shape);
    Operand a = operand(info, 5, "tensorBinary", "a", 4, shape);
    Operand b = operand(info, 8, "tensorBinary", "b", 4, shape);
    const auto& t = table_arg(info, 11, "tensorBinary");
    tensor::binary(t, op, shape, reinterpret_cast<float*>(out.data), out.strides, reinterpret_cast<const float*>(a.data),
                   a.strides, reinterpret_cast<const float*>(b.data), b.strides);
    return info.Env().Undefined();
  });
}

Napi::Value compare(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto op = static_cast<tensor::CompareOp>(enum_arg(info, 0, int(tensor::CompareOp::count), "tensorCompare", "op"));
    Shape shape = shape_arg(info, 1, "tensorCompare");
    Operand out = operand(info, 2, "tensorCompare", "out", 1, shape);
    Operand a = operand(info, 5, "tensorCompare", "a", 4, shape);
    Operand b = operand(info, 8, "tensorCompare", "b", 4, shape);
    const auto& t = table_arg(info, 11, "tensorCompare");
    tensor::compare(t, op, shape, out.data, out.strides, reinterpret_cast<const float*>(a.data), a.strides,
                    reinterpret_cast<const float*>(b.data), b.strides);
    return info.Env().Undefined();
  });
}

// (op, shape, out, outOffset, outStrides, a, aOffset, aStrides, p0, p1, tier?)
Napi::Value unary(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto op = static_cast<tensor::UnaryOp>(enum_arg(info, 0, int(tensor::UnaryOp::count), "tensorUnary", "op"));
    Shape shape = shape_arg(info, 1, "tensorUnary");
    Operand out = operand(info, 2, "tensorUnary", "out", 4, shape);
    Operand a = operand(info, 5, "tensorUnary", "a", 4, shape);
    float p0 = static_cast<float>(number_arg(info, 8, "tensorUnary", "p0"));
    float p1 = static_cast<float>(number_arg(info, 9, "tensorUnary", "p1"));
    const auto& t = table_arg(info, 10, "tensorUnary");
    tensor::unary(t, op, shape, reinterpret_cast<float*>(out.data), out.strides, reinterpret_cast<const float*>(a.data),
                  a.strides, p0, p1);
    return info.Env().Undefined();
  });
}

// (shape, out, off, strides, cond, off, strides, a, off, strides, b, off, strides)
Napi::Value where(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Shape shape = shape_arg(info, 0, "tensorWhere");
    Operand out = operand(info, 1, "tensorWhere", "out", 4, shape);
    Operand cond = operand(info, 4, "tensorWhere", "condition", 1, shape);
    Operand a = operand(info, 7, "tensorWhere", "a", 4, shape);
    Operand b = operand(info, 10, "tensorWhere", "b", 4, shape);
    tensor::where(shape, reinterpret_cast<float*>(out.data), out.strides, cond.data, cond.strides,
                  reinterpret_cast<const float*>(a.data), a.strides, reinterpret_cast<const float*>(b.data), b.strides);
    return info.Env().Undefined();
  });
}

// (elementSize, shape, out, off, strides, in, off, strides)
Napi::Value copy(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    double size = number_arg(info, 0, "tensorCopy", "elementSize");
    if (!(size == 1 || size == 2 || size == 4 || size == 8))
      throw out_of_range("[tensorCopy] elementSize must be 1, 2, 4 or 8, got " + std::to_string(size));
    const size_t element_size = static_cast<size_t>(size);
    Shape shape = shape_arg(info, 1, "tensorCopy");
    Operand out = operand(info, 2, "tensorCopy", "out", element_size, shape);
    Operand in = operand(info, 5, "tensorCopy", "input", element_size, shape);
    tensor::copy(element_size, shape, out.data, out.strides, in.data, in.strides);
    return info.Env().Undefined();
  });
}

// (op, shape, in, off, strides, axes, out, outOffset, correction, tier?) — out contiguous over kept axes.
Napi::Value reduce(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto op = static_cast<tensor::ReduceOp>(enum_arg(info, 0, int(tensor::ReduceOp::count), "tensorReduce", "op"));
    Shape shape = shape_arg(info, 1, "tensorReduce");
    Operand in = operand(info, 2, "tensorReduce", "input", 4, shape);
    std::vector<int64_t> axes64 = int_array(info[5], "tensorReduce", "axes", false);
    std::vector<int> axes;
    std::vector<bool> seen(shape.size(), false);
    int64_t outputs = 1;
    for (int64_t axis : axes64) {
      if (axis >= static_cast<int64_t>(shape.size()) || seen[axis])
        throw out_of_range("[tensorReduce] axes " + join(axes64) + " are not distinct axes of shape " + join(shape));
      seen[axis] = true;
    }
    for (size_t d = 0; d < shape.size(); ++d) {
      if (seen[d]) {
        axes.push_back(static_cast<int>(d));
      } else {
        // A broadcast input (stride 0) passes its bounds check at any extent: keep the product in range.
        if (static_cast<__int128>(outputs) * shape[d] > (static_cast<__int128>(1) << 60))
          throw out_of_range("[tensorReduce] shape " + join(shape) + " has too many outputs");
        outputs *= shape[d];
      }
    }
    Shape out_shape{outputs};
    Strides out_strides{1};
    const bool arg = op == tensor::ReduceOp::argmax || op == tensor::ReduceOp::argmin;
    ByteSpan span = bytes_of(info[6], "tensorReduce", "out");
    uint64_t byte_offset = size_arg(info[7], "tensorReduce", "outOffset");
    if (byte_offset + static_cast<uint64_t>(outputs) * 4 > span.length)
      throw out_of_range("[tensorReduce] out needs " + std::to_string(outputs * 4) + " bytes at byte " +
                         std::to_string(byte_offset) + " of a " + std::to_string(span.length) + "-byte buffer");
    double correction = number_arg(info, 8, "tensorReduce", "correction");
    const auto& t = table_arg(info, 9, "tensorReduce");
    uint8_t* out = span.data + byte_offset;
    tensor::reduce(t, op, shape, reinterpret_cast<const float*>(in.data), in.strides, axes,
                   arg ? nullptr : reinterpret_cast<float*>(out), arg ? reinterpret_cast<int32_t*>(out) : nullptr,
                   correction);
    return info.Env().Undefined();
  });
}

// A 128-bit count as decimal text.
std::string count_text(__int128 value) {
  if (value < 0) return "-" + count_text(-value);
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(value % 10)));
    value /= 10;
  } while (value > 0);
  return digits;
}

// a × b for element counts, refusing products past 2^62 (no buffer is that large).
uint64_t checked_count(uint64_t a, uint64_t b, const char* op, const char* what) {
  const __int128 product = static_cast<__int128>(a) * b;
  if (product > (static_cast<__int128>(1) << 62))
    throw out_of_range(std::string("[") + op + "] " + what + " of " + std::to_string(a) + " × " + std::to_string(b) +
                       " elements is too large");
  return static_cast<uint64_t>(product);
}

// A contiguous run of `count` elements of `element_size` bytes at (buffer, byteOffset).
uint8_t* contiguous(const Napi::CallbackInfo& info, size_t index, const char* op, const char* name, size_t element_size,
                    uint64_t count) {
  ByteSpan span = bytes_of(info[index], op, name);
  uint64_t byte_offset = size_arg(info[index + 1], op, "byteOffset");
  // An empty run touches nothing, wherever it starts (an empty view may begin past the end).
  if (count == 0) return span.data;
  const __int128 bytes = static_cast<__int128>(count) * element_size;
  if (static_cast<__int128>(byte_offset) + bytes > static_cast<__int128>(span.length))
    throw out_of_range(std::string("[") + op + "] " + name + " needs " + count_text(bytes) + " bytes at byte " +
                       std::to_string(byte_offset) + " of a " + std::to_string(span.length) + "-byte buffer");
  return span.data + byte_offset;
}

const float* optional_row(const Napi::CallbackInfo& info, size_t index, const char* op, const char* name, uint64_t n) {
  if (info[index].IsNull() || info[index].IsUndefined()) return nullptr;
  return reinterpret_cast<const float*>(contiguous(info, index, op, name, 4, n));
}

// (x, xOffset, y, yOffset, rows, n, log, tier?)
Napi::Value softmax(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    uint64_t rows = size_arg(info[4], "tensorSoftmax", "rows"), n = size_arg(info[5], "tensorSoftmax", "n");
    auto* x = reinterpret_cast<const float*>(contiguous(info, 0, "tensorSoftmax", "x", 4, checked_count(rows, n, "tensorSoftmax", "x")));
    auto* y = reinterpret_cast<float*>(contiguous(info, 2, "tensorSoftmax", "y", 4, checked_count(rows, n, "tensorSoftmax", "y")));
    bool log = info[6].ToBoolean().Value();
    tensor::softmax_rows(table_arg(info, 7, "tensorSoftmax"), x, y, rows, n, log);
    return info.Env().Undefined();
  });
}

// (x, xOffset, weight|null, wOffset, y, yOffset, rows, n, eps, tier?)
Napi::Value rms_norm(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    uint64_t rows = size_arg(info[6], "tensorRmsNorm", "rows"), n = size_arg(info[7], "tensorRmsNorm", "n");
    auto* x = reinterpret_cast<const float*>(contiguous(info, 0, "tensorRmsNorm", "x", 4, checked_count(rows, n, "tensorRmsNorm", "x")));
    const float* w = optional_row(info, 2, "tensorRmsNorm", "weight", n);
    auto* y = reinterpret_cast<float*>(contiguous(info, 4, "tensorRmsNorm", "y", 4, checked_count(rows, n, "tensorRmsNorm", "y")));
    float eps = static_cast<float>(number_arg(info, 8, "tensorRmsNorm", "eps"));
    tensor::rms_norm_rows(table_arg(info, 9, "tensorRmsNorm"), x, w, y, rows, n, eps);
    return info.Env().Undefined();
  });
}

// (x, xOffset, weight|null, wOffset, bias|null, bOffset, y, yOffset, rows, n, eps, tier?)
Napi::Value layer_norm(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    uint64_t rows = size_arg(info[8], "tensorLayerNorm", "rows"), n = size_arg(info[9], "tensorLayerNorm", "n");
    auto* x = reinterpret_cast<const float*>(contiguous(info, 0, "tensorLayerNorm", "x", 4, checked_count(rows, n, "tensorLayerNorm", "x")));
    const float* w = optional_row(info, 2, "tensorLayerNorm", "weight", n);
    const float* b = optional_row(info, 4, "tensorLayerNorm", "bias", n);
    auto* y = reinterpret_cast<float*>(contiguous(info, 6, "tensorLayerNorm", "y", 4, checked_count(rows, n, "tensorLayerNorm", "y")));
    float eps = static_cast<float>(number_arg(info, 10, "tensorLayerNorm", "eps"));
    tensor::layer_norm_rows(table_arg(info, 11, "tensorLayerNorm"), x, w, b, y, rows, n, eps);
    return info.Env().Undefined();
  });
}

// (kind, in, inOffset, out, outOffset, count, tier?)
Napi::Value convert(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsString()) throw invalid_argument("[tensorConvert] kind must be a string");
    std::string kind = info[0].As<Napi::String>().Utf8Value();
    tensor::ConvertKind k;
    size_t in_size, out_size;
    if (kind == "f32->f16") k = tensor::ConvertKind::f32_to_f16, in_size = 4, out_size = 2;
    else if (kind == "f16->f32") k = tensor::ConvertKind::f16_to_f32, in_size = 2, out_size = 4;
    else if (kind == "f32->bf16") k = tensor::ConvertKind::f32_to_bf16, in_size = 4, out_size = 2;
    else if (kind == "bf16->f32") k = tensor::ConvertKind::bf16_to_f32, in_size = 2, out_size = 4;
    else throw invalid_argument("[tensorConvert] unknown conversion \"" + kind + "\"; expected f32->f16, f16->f32, f32->bf16 or bf16->f32");
    uint64_t count = size_arg(info[5], "tensorConvert", "count");
    const uint8_t* in = contiguous(info, 1, "tensorConvert", "input", in_size, count);
    uint8_t* out = contiguous(info, 3, "tensorConvert", "out", out_size, count);
    tensor::convert(table_arg(info, 6, "tensorConvert"), k, in, out, count);
    return info.Env().Undefined();
  });
}

// Arguments of one matmul, parsed on the JS thread (so the async form only computes).
struct MatmulJob {
  Shape batch;
  Strides a_batch, b_batch;
  size_t m = 0, n = 0, k = 0, threads = 0;
  tensor::MatmulOperand a{}, b{};
  float* c = nullptr;
  const tensor::TensorKernelTable* table = nullptr;
  void run() const {
    tensor::batched_matmul(*table, batch, a_batch, b_batch, m, n, k, a, b, c, threads);
  }
};

// (batchShape, m, n, k, a, aOffset, aStrides, b, bOffset, bStrides, c, cOffset, threads, tier?)
// a/b strides: [batch strides..., row, col]; c contiguous [batch..., m, n].
MatmulJob matmul_job(const Napi::CallbackInfo& info) {
  const char* op = "tensorMatmul";
  MatmulJob job;
  job.batch = shape_arg(info, 0, op);
  job.m = size_arg(info[1], op, "m");
  job.n = size_arg(info[2], op, "n");
  job.k = size_arg(info[3], op, "k");
  Shape a_shape = job.batch, b_shape = job.batch;
  a_shape.push_back(static_cast<int64_t>(job.m));
  a_shape.push_back(static_cast<int64_t>(job.k));
  b_shape.push_back(static_cast<int64_t>(job.k));
  b_shape.push_back(static_cast<int64_t>(job.n));
  Operand a = operand(info, 4, op, "a", 4, a_shape);
  Operand b = operand(info, 7, op, "b", 4, b_shape);
  uint64_t batch = 1;
  for (int64_t d : job.batch) batch = checked_count(batch, static_cast<uint64_t>(d), op, "c");
  job.c = reinterpret_cast<float*>(
      contiguous(info, 10, op, "c", 4, checked_count(checked_count(batch, job.m, op, "c"), job.n, op, "c")));
  job.threads = info.Length() > 12 && !info[12].IsUndefined() ? size_arg(info[12], op, "threads") : 0;
  job.table = &table_arg(info, 13, op);
  const size_t nb = job.batch.size();
  job.a_batch.assign(a.strides.begin(), a.strides.begin() + nb);
  job.b_batch.assign(b.strides.begin(), b.strides.begin() + nb);
  job.a = {reinterpret_cast<const float*>(a.data), a.strides[nb], a.strides[nb + 1]};
  job.b = {reinterpret_cast<const float*>(b.data), b.strides[nb], b.strides[nb + 1]};
  return job;
}

Napi::Value matmul_sync(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    matmul_job(info).run();
    return info.Env().Undefined();
  });
}

class MatmulWorker : public Napi::AsyncWorker {
 public:
  MatmulWorker(Napi::Env env, MatmulJob job, std::vector<Napi::Value> keep)
      : Napi::AsyncWorker(env),
        job_(std::move(job)),
        // The operands' allocations stay alive until the kernel is done, whatever JS frees meanwhile.
        pins_(env, {job_.a.data, job_.b.data, job_.c}),
        deferred_(Napi::Promise::Deferred::New(env)) {
    // The buffers stay reachable until the worker finishes.
    for (auto& value : keep) keep_.push_back(Napi::Persistent(value.As<Napi::Object>()));
  }
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override {
    try {
      job_.run();
    } catch (const bitnet::Error& error) {
      code_ = error.code();
      SetError(error.what());
    } catch (const std::exception& error) {
      code_ = "ERR_BITNET_INTERNAL";
      SetError(error.what());
    }
  }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error& error) override {
    Napi::Error js = Napi::Error::New(Env(), error.Message());
    js.Set("code", code_);
    deferred_.Reject(js.Value());
  }

 private:
  MatmulJob job_;
  AllocationPins pins_;
  Napi::Promise::Deferred deferred_;
  std::vector<Napi::ObjectReference> keep_;
  std::string code_;
};

Napi::Value matmul_async(const Napi::CallbackInfo& info) {
  // Bad arguments reject the promise, as every Promise-returning binding does.
  return guarded_async(info, [&]() -> Napi::Value {
    MatmulJob job = matmul_job(info);
    auto* worker = new MatmulWorker(info.Env(), std::move(job), {info[4], info[7], info[10]});
    Napi::Promise promise = worker->promise();
    worker->Queue();
    return promise;
  });
}

void init_tensor(Napi::Env env, Napi::Object exports) {
  exports.Set("tensorBinary", Napi::Function::New(env, binary, "tensorBinary"));
  exports.Set("tensorCompare", Napi::Function::New(env, compare, "tensorCompare"));
  exports.Set("tensorUnary", Napi::Function::New(env, unary, "tensorUnary"));
  exports.Set("tensorWhere", Napi::Function::New(env, where, "tensorWhere"));
  exports.Set("tensorCopy", Napi::Function::New(env, copy, "tensorCopy"));
  exports.Set("tensorReduce", Napi::Function::New(env, reduce, "tensorReduce"));
  exports.Set("tensorSoftmax", Napi::Function::New(env, softmax, "tensorSoftmax"));
  exports.Set("tensorRmsNorm", Napi::Function::New(env, rms_norm, "tensorRmsNorm"));
  exports.Set("tensorLayerNorm", Napi::Function::New(env, layer_norm, "tensorLayerNorm"));
  exports.Set("tensorConvert", Napi::Function::New(env, convert, "tensorConvert"));
  exports.Set("tensorMatmul", Napi::Function::New(env, matmul_sync, "tensorMatmul"));
  exports.Set("tensorMatmulAsync", Napi::Function::New(env, matmul_async, "tensorMatmulAsync"));
}

}  // namespace
}  // namespace napi
}  // namespace bitnet

BITNET_NAPI_AREA(tensor, bitnet::napi::init_tensor);
