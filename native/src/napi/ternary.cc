// Copyright (c) 2026 bitnet contributors. MIT license.
// Bindings for the ternary (1.58-bit) formats and kernels: argument checks,
// output allocation, sync and Promise forms. Kernels never see N-API types.
#include <cmath>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "core/aligned_memory.h"
#include "cpu/ternary/ternary.h"
#include "napi/convert.h"
#include "napi/pins.h"
#include "napi/registry.h"

namespace bitnet {
namespace napi {
namespace {

using ternary::Variant;

Error shape_error(const std::string& message) { return Error("ERR_BITNET_SHAPE_MISMATCH", message, ErrorKind::range); }

size_t dim_arg(const Napi::CallbackInfo& info, size_t index, const char* op, const char* name) {
  if (index >= info.Length()) throw invalid_argument(std::string("[") + op + "] " + name + " is required");
  return static_cast<size_t>(size_arg(info[index], op, name));
}

Variant variant_arg(const Napi::CallbackInfo& info, size_t index, const char* op) {
  if (index >= info.Length() || info[index].IsUndefined() || info[index].IsNull()) return ternary::default_variant();
  if (!info[index].IsString()) throw invalid_argument(std::string("[") + op + "] tier must be a string");
  std::string name = info[index].As<Napi::String>().Utf8Value();
  Variant v;
  if (!ternary::parse_variant(name.c_str(), &v))
    throw invalid_argument(std::string("[") + op + "] unknown tier \"" + name +
                           "\"; expected generic, avx2, avx512, avx512vnni or neon");
  if (!ternary::variant_supported(v))
    throw Error("ERR_BITNET_UNSUPPORTED", std::string("[") + op + "] this CPU or build cannot run the " + name + " kernels",
                ErrorKind::range);
  return v;
}

size_t threads_arg(const Napi::CallbackInfo& info, size_t index, const char* op) {
  if (index >= info.Length() || info[index].IsUndefined() || info[index].IsNull()) return 0;
  return static_cast<size_t>(size_arg(info[index], op, "threads"));
}

size_t checked_product(size_t a, size_t b, const char* op) {
  if (a != 0 && b > SIZE_MAX / a) throw out_of_range(std::string("[") + op + "] size overflows");
  return a * b;
}

template <typename T>
T* array_of_length(const Napi::Value& value, napi_typedarray_type type, size_t expected, const char* op,
                   const char* name) {
  size_t count = 0;
  T* data = typed_data<T>(value, type, op, name, &count);
  if (count != expected)
    throw shape_error(std::string("[") + op + "] " + name + " has " + std::to_string(count) + " elements, expected " +
                      std::to_string(expected));
  return data;
}

enum class Layout { i2_r4, tq2_0, tq1_0 };

// Columns per scale of a group-scaled i2_r4 matrix, as blocks per group (0: one scale per row).
size_t group_blocks_arg(const Napi::CallbackInfo& info, size_t index, const char* op) {
  if (index >= info.Length() || info[index].IsUndefined() || info[index].IsNull()) return 0;
  size_t group_size = static_cast<size_t>(size_arg(info[index], op, "groupSize"));
  if (group_size == 0) throw out_of_range(std::string("[") + op + "] groupSize must be positive, got 0");
  if (group_size % ternary::kBlockWeights != 0)
    throw Error("ERR_BITNET_UNSUPPORTED",
                std::string("[") + op + "] i2_r4 group scales cover whole 256-column blocks; groupSize " +
                    std::to_string(group_size) + " is not a multiple of 256",
                ErrorKind::range);
  return group_size / ternary::kBlockWeights;
}

Layout layout_arg(const Napi::CallbackInfo& info, size_t index, const char* op) {
  std::string name = index < info.Length() && info[index].IsString() ? info[index].As<Napi::String>().Utf8Value() : "";
  if (name == "i2_r4") return Layout::i2_r4;
  if (name == "tq2_0") return Layout::tq2_0;
  if (name == "tq1_0") return Layout::tq1_0;
  throw invalid_argument(std::string("[") + op + "] layout must be \"i2_r4\", \"tq2_0\" or \"tq1_0\"; got \"" + name + "\"");
}

size_t packed_bytes(Layout layout, size_t rows, size_t columns, const char* op) {
  if (layout != Layout::i2_r4 && columns % 256 != 0)
    throw Error("ERR_BITNET_UNSUPPORTED",
                std::string("[") + op + "] ggml ternary formats need columns to be a multiple of 256; got " +
                    std::to_string(columns),
                ErrorKind::range);
  if (rows > (size_t(1) << 40) || columns > (size_t(1) << 40)) throw out_of_range(std::string("[") + op + "] shape too large");
  switch (layout) {
    case Layout::i2_r4: return ternary::i2_bytes(rows, columns);
    case Layout::tq2_0: return checked_product(rows, columns / 256 * ternary::kTq2BlockBytes, op);
    case Layout::tq1_0: return checked_product(rows, columns / 256 * ternary::kTq1BlockBytes, op);
  }
  return 0;
}

// A 64-byte aligned Uint8Array (SIMD loads never split a cache line) that V8 owns.
Napi::Uint8Array aligned_bytes(Napi::Env env, size_t size, const char* op) {
  check_external_bytes(size, op);
  void* data = aligned_allocate(size, 64, op);
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(
      env, data, size,
      [](Napi::Env finalize_env, void* pointer, size_t* bytes) {
        aligned_free(pointer);
        note_aligned_free(*bytes);
        Napi::MemoryManagement::AdjustExternalMemory(finalize_env, -static_cast<int64_t>(*bytes));
        delete bytes;
      },
      new size_t(size));
  Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(size));
  return Napi::Uint8Array::New(env, size, buffer, 0);
}

Napi::Value ternary_variants(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    Napi::Object out = Napi::Object::New(env);
    out.Set("selected", ternary::variant_name(ternary::default_variant()));
    Napi::Array supported = Napi::Array::New(env);
    uint32_t n = 0;
    for (int i = 0; i < ternary::kVariantCount; ++i)
      if (ternary::variant_supported(static_cast<Variant>(i))) supported.Set(n++, ternary::variant_name(static_cast<Variant>(i)));
    out.Set("supported", supported);
    return out;
  });
}

// packTernary(values: Int8Array, rows, columns, layout, blockScales?: Float32Array, out?: Uint8Array, groupSize?) → Uint8Array
Napi::Value pack_ternary(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = "packTernary";
    if (info.Length() < 4) throw invalid_argument("[packTernary] expected (values, rows, columns, layout)");
    size_t rows = dim_arg(info, 1, op, "rows"), columns = dim_arg(info, 2, op, "columns");
    Layout layout = layout_arg(info, 3, op);
    size_t bytes = packed_bytes(layout, rows, columns, op);
    size_t group_blocks = group_blocks_arg(info, 6, op);
    const int8_t* values = array_of_length<int8_t>(info[0], napi_int8_array, checked_product(rows, columns, op), op, "values");
    const float* scales = nullptr;
    if (layout != Layout::i2_r4) {
      if (info.Length() < 5) throw invalid_argument(std::string("[") + op + "] blockScales is required for ggml layouts");
      scales = array_of_length<float>(info[4], napi_float32_array, rows * (columns / 256), op, "blockScales");
    }
    // Into `out` when given (JS owns aligned memory it can free early), else a new aligned array.
    // A bad value throws part-way through; the caller then drops the half-filled buffer.
    Napi::Uint8Array out;
    if (info.Length() > 5 && !info[5].IsUndefined() && !info[5].IsNull()) {
      array_of_length<uint8_t>(info[5], napi_uint8_array, bytes, op, "out");
      out = info[5].As<Napi::Uint8Array>();
    } else {
      out = aligned_bytes(info.Env(), bytes, op);
    }
    switch (layout) {
      case Layout::i2_r4: ternary::pack_i2(values, rows, columns, out.Data(), group_blocks); break;
      case Layout::tq2_0: ternary::pack_tq2(values, scales, rows, columns, out.Data()); break;
      case Layout::tq1_0: ternary::pack_tq1(values, scales, rows, columns, out.Data()); break;
    }
    return out;
  });
}

// unpackTernary(data: Uint8Array, rows, columns, layout, groupSize?) → { values: Int8Array, blockScales: Float32Array | null }
Napi::Value unpack_ternary(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = "unpackTernary";
    Napi::Env env = info.Env();
    if (info.Length() < 4) throw invalid_argument("[unpackTernary] expected (data, rows, columns, layout)");
    size_t rows = dim_arg(info, 1, op, "rows"), columns = dim_arg(info, 2, op, "columns");
    Layout layout = layout_arg(info, 3, op);
    size_t bytes = packed_bytes(layout, rows, columns, op);
    size_t group_blocks = group_blocks_arg(info, 4, op);
    const uint8_t* data = array_of_length<uint8_t>(info[0], napi_uint8_array, bytes, op, "data");
    std::vector<int8_t> values(checked_product(rows, columns, op));
    std::vector<float> scales(layout == Layout::i2_r4 ? 0 : rows * (columns / 256));
    switch (layout) {
      case Layout::i2_r4: ternary::unpack_i2(data, rows, columns, values.data(), group_blocks); break;
      case Layout::tq2_0: ternary::unpack_tq2(data, rows, columns, values.data(), scales.data()); break;
      case Layout::tq1_0: ternary::unpack_tq1(data, rows, columns, values.data(), scales.data()); break;
    }
    Napi::Object out = Napi::Object::New(env);
    Napi::Int8Array v = Napi::Int8Array::New(env, values.size());
    if (!values.empty()) std::memcpy(v.Data(), values.data(), values.size());
    out.Set("values", v);
    if (layout == Layout::i2_r4) {
      out.Set("blockScales", env.Null());
    } else {
      Napi::Float32Array s = Napi::Float32Array::New(env, scales.size());
      if (!scales.empty()) std::memcpy(s.Data(), scales.data(), scales.size() * 4);
      out.Set("blockScales", s);
    }
    return out;
  });
}

Napi::Value quantize_activations(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = "quantizeActivations";
    Napi::Env env = info.Env();
    size_t batch = dim_arg(info, 1, op, "rows"), columns = dim_arg(info, 2, op, "columns");
    const float* x = array_of_length<float>(info[0], napi_float32_array, checked_product(batch, columns, op), op, "values");
    // Straight into the returned arrays (a NaN throws and leaves them to the GC).
    Napi::Int8Array v = Napi::Int8Array::New(env, batch * columns);
    Napi::Float32Array s = Napi::Float32Array::New(env, batch);
    ternary::quantize_activations(x, batch, columns, v.Data(), s.Data(), op);
    Napi::Object out = Napi::Object::New(env);
    out.Set("values", v);
    out.Set("scales", s);
    return out;
  });
}

// Runs `work` on a libuv thread and resolves with `result` (kept alive, with
// every input, by references until then).
class TaskWorker : public Napi::AsyncWorker {
 public:
  // `memory`: the raw pointers `work` reads and writes; their allocations stay alive until it is done.
  TaskWorker(Napi::Env env, std::function<void()> work, Napi::Value result, const std::vector<Napi::Value>& keep,
             const std::vector<const void*>& memory)
      : Napi::AsyncWorker(env), work_(std::move(work)), pins_(env, memory), deferred_(Napi::Promise::Deferred::New(env)) {
    result_ = Napi::Persistent(result.As<Napi::Object>());
    for (const Napi::Value& value : keep)
      if (value.IsObject()) keep_.push_back(Napi::Persistent(value.As<Napi::Object>()));
  }
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override {
    try {
      work_();
    } catch (const bitnet::Error& error) {
      code_ = error.code();
      kind_ = error.kind();
      SetError(error.what());
    } catch (const std::bad_alloc&) {
      code_ = "ERR_BITNET_OUT_OF_MEMORY";
      kind_ = ErrorKind::range;
      SetError("[native] out of memory");
    } catch (const std::exception& error) {
      code_ = "ERR_BITNET_INTERNAL";
      SetError(error.what());
    }
  }
  void OnOK() override { deferred_.Resolve(result_.Value()); }
  void OnError(const Napi::Error& error) override {
    Napi::Error js = kind_ == ErrorKind::type    ? Napi::TypeError::New(Env(), error.Message())
                     : kind_ == ErrorKind::range ? Napi::RangeError::New(Env(), error.Message())
                                                 : Napi::Error::New(Env(), error.Message());
    js.Set("code", code_);
    deferred_.Reject(js.Value());
  }

 private:
  std::function<void()> work_;
  AllocationPins pins_;
  Napi::ObjectReference result_;
  std::vector<Napi::ObjectReference> keep_;
  std::string code_;
  ErrorKind kind_ = ErrorKind::generic;
  Napi::Promise::Deferred deferred_;
};

Napi::Float32Array output_f32(const Napi::CallbackInfo& info, size_t index, size_t length, const char* op) {
  if (index < info.Length() && !info[index].IsUndefined() && !info[index].IsNull()) {
    array_of_length<float>(info[index], napi_float32_array, length, op, "out");
    return info[index].As<Napi::Float32Array>();
  }
  return Napi::Float32Array::New(info.Env(), length);
}

// ternaryMatmul(codes, scales, rows, columns, x, batch, bias|null, out|null, threads?, tier?, groupSize?) → Float32Array [batch, rows]
// scales: rows, or rows × ceil(columns / groupSize) with groupSize (a group-scaled i2_r4 buffer).
Napi::Value ternary_matmul_impl(const Napi::CallbackInfo& info, bool async) {
  // The async form reports bad arguments through its promise, as every Promise-returning binding does.
  auto body = [&]() -> Napi::Value {
    const char* op = async ? "ternaryMatmulAsync" : "ternaryMatmul";
    size_t rows = dim_arg(info, 2, op, "rows"), columns = dim_arg(info, 3, op, "columns");
    size_t batch = dim_arg(info, 5, op, "batch");
    ternary::PackedView w{};
    w.rows = rows;
    w.columns = columns;
    w.codes = array_of_length<uint8_t>(info[0], napi_uint8_array, ternary::i2_bytes(rows, columns), op, "codes");
    w.group_blocks = group_blocks_arg(info, 10, op);
    size_t scale_count = w.group_blocks ? checked_product(rows, ternary::groups_for(columns, w.group_blocks), op) : rows;
    w.scales = array_of_length<float>(info[1], napi_float32_array, scale_count, op, "scales");
    const float* x = array_of_length<float>(info[4], napi_float32_array, checked_product(batch, columns, op), op, "x");
    const float* bias = nullptr;
    if (info.Length() > 6 && !info[6].IsUndefined() && !info[6].IsNull())
      bias = array_of_length<float>(info[6], napi_float32_array, rows, op, "bias");
    Napi::Float32Array out = output_f32(info, 7, checked_product(batch, rows, op), op);
    size_t threads = threads_arg(info, 8, op);
    Variant variant = variant_arg(info, 9, op);
    float* y = out.Data();
    auto work = [=]() { ternary::matmul(w, x, batch, bias, y, threads, variant); };
    if (!async) {
      work();
      return out;
    }
    auto* worker = new TaskWorker(info.Env(), work, out, {info[0], info[1], info[4], info.Length() > 6 ? info[6] : info.Env().Undefined()},
                                  {w.codes, w.scales, x, bias, y});
    Napi::Promise promise = worker->promise();
    worker->Queue();
    return promise;
  };
  return async ? guarded_async(info, body) : guarded(info, body);
}

Napi::Value ternary_matmul(const Napi::CallbackInfo& info) { return ternary_matmul_impl(info, false); }
Napi::Value ternary_matmul_async(const Napi::CallbackInfo& info) { return ternary_matmul_impl(info, true); }

// ternaryMatmulInt8(codes, rows, columns, xq: Int8Array, batch, threads?, tier?, groupSize?) → Int32Array [batch, rows]
Napi::Value ternary_matmul_int8(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = "ternaryMatmulInt8";
    size_t rows = dim_arg(info, 1, op, "rows"), columns = dim_arg(info, 2, op, "columns");
    size_t batch = dim_arg(info, 4, op, "batch");
    ternary::PackedView w{};
    w.rows = rows;
    w.columns = columns;
    w.codes = array_of_length<uint8_t>(info[0], napi_uint8_array, ternary::i2_bytes(rows, columns), op, "codes");
    w.scales = nullptr;
    w.group_blocks = group_blocks_arg(info, 7, op);
    const int8_t* xq = array_of_length<int8_t>(info[3], napi_int8_array, checked_product(batch, columns, op), op, "xq");
    size_t threads = threads_arg(info, 5, op);
    Variant variant = variant_arg(info, 6, op);
    Napi::Int32Array out = Napi::Int32Array::New(info.Env(), checked_product(batch, rows, op));
    ternary::matmul_int(w, xq, batch, out.Data(), threads, variant);
    return out;
  });
}

// denseMatmulF32(w, rows, columns, x, batch, out|null, threads?, tier?) → Float32Array [batch, rows]
Napi::Value dense_matmul_impl(const Napi::CallbackInfo& info, bool async) {
  // The async form reports bad arguments through its promise, as every Promise-returning binding does.
  auto body = [&]() -> Napi::Value {
    const char* op = async ? "denseMatmulF32Async" : "denseMatmulF32";
    size_t rows = dim_arg(info, 1, op, "rows"), columns = dim_arg(info, 2, op, "columns");
    size_t batch = dim_arg(info, 4, op, "batch");
    const float* w = array_of_length<float>(info[0], napi_float32_array, checked_product(rows, columns, op), op, "w");
    const float* x = array_of_length<float>(info[3], napi_float32_array, checked_product(batch, columns, op), op, "x");
    Napi::Float32Array out = output_f32(info, 5, checked_product(batch, rows, op), op);
    size_t threads = threads_arg(info, 6, op);
    Variant variant = variant_arg(info, 7, op);
    float* y = out.Data();
    auto work = [=]() { ternary::matmul_f32(w, rows, columns, x, batch, y, threads, variant); };
    if (!async) {
      work();
      return out;
    }
    auto* worker = new TaskWorker(info.Env(), work, out, {info[0], info[3]}, {w, x, y});
    Napi::Promise promise = worker->promise();
    worker->Queue();
    return promise;
  };
  return async ? guarded_async(info, body) : guarded(info, body);
}

Napi::Value dense_matmul(const Napi::CallbackInfo& info) { return dense_matmul_impl(info, false); }
Napi::Value dense_matmul_async(const Napi::CallbackInfo& info) { return dense_matmul_impl(info, true); }

Napi::Value half_round_trip(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    size_t count = 0;
    if (info.Length() < 1) throw invalid_argument("[toFloat16Bits] expected a Float32Array");
    const float* values = typed_data<float>(info[0], napi_float32_array, "toFloat16Bits", "values", &count);
    Napi::Uint16Array out = Napi::Uint16Array::New(info.Env(), count);
    for (size_t i = 0; i < count; ++i) out[i] = ternary::float_to_half(values[i]);
    return out;
  });
}

void init_ternary(Napi::Env env, Napi::Object exports) {
  exports.Set("ternaryVariants", Napi::Function::New(env, ternary_variants, "ternaryVariants"));
  exports.Set("packTernary", Napi::Function::New(env, pack_ternary, "packTernary"));
  exports.Set("unpackTernary", Napi::Function::New(env, unpack_ternary, "unpackTernary"));
  exports.Set("quantizeActivationsInt8", Napi::Function::New(env, quantize_activations, "quantizeActivationsInt8"));
  exports.Set("ternaryMatmul", Napi::Function::New(env, ternary_matmul, "ternaryMatmul"));
  exports.Set("ternaryMatmulAsync", Napi::Function::New(env, ternary_matmul_async, "ternaryMatmulAsync"));
  exports.Set("ternaryMatmulInt8", Napi::Function::New(env, ternary_matmul_int8, "ternaryMatmulInt8"));
  exports.Set("denseMatmulF32", Napi::Function::New(env, dense_matmul, "denseMatmulF32"));
  exports.Set("denseMatmulF32Async", Napi::Function::New(env, dense_matmul_async, "denseMatmulF32Async"));
  exports.Set("float32ToFloat16Bits", Napi::Function::New(env, half_round_trip, "float32ToFloat16Bits"));
}

}  // namespace
}  // namespace napi
}  // namespace bitnet

BITNET_NAPI_AREA(ternary, bitnet::napi::init_ternary);
