// Copyright (c) 2026 bitnet contributors. MIT license.
// Bindings for core/: CPU features, ISA selection, system info, thread pool,
// aligned native memory and the bandwidth / compute probes.
#include <atomic>
#include <cmath>
#include <cstring>
#include <algorithm>
#include <iterator>
#include <map>
#include <mutex>
#include <vector>
#include <string>

#include "core/aligned_memory.h"
#include "core/cpu_features.h"
#include "core/system_info.h"
#include "core/thread_pool.h"
#include "cpu/kernels.h"
#include "cpu/probe.h"
#include "napi/convert.h"
#include "napi/pins.h"
#include "napi/registry.h"

#ifndef BITNET_VERSION
#define BITNET_VERSION "0.0.0"
#endif

namespace bitnet {
namespace napi {
namespace {

Napi::Value get_cpu_features(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const CpuFeatures& f = cpu_features();
    Napi::Env env = info.Env();
    Napi::Object out = Napi::Object::New(env);
    out.Set("architecture", f.architecture);
    out.Set("vendor", f.vendor);
    out.Set("brand", f.brand);
    Napi::Object flags = Napi::Object::New(env);
    auto set = [&](const char* name, bool value) { flags.Set(name, Napi::Boolean::New(env, value)); };
    if (f.architecture == "x64") {
      set("sse4.2", f.sse42);
      set("avx", f.avx);
      set("avx2", f.avx2);
      set("fma", f.fma);
      set("f16c", f.f16c);
      set("avx512f", f.avx512f);
      set("avx512bw", f.avx512bw);
      set("avx512vl", f.avx512vl);
      set("avx512dq", f.avx512dq);
      set("avx512vnni", f.avx512vnni);
      set("avx512bf16", f.avx512bf16);
      set("avxvnni", f.avxvnni);
    } else if (f.architecture == "arm64") {
      set("neon", f.neon);
      set("dotprod", f.dotprod);
      set("i8mm", f.i8mm);
      set("fp16", f.fp16);
    }
    out.Set("flags", flags);
    return out;
  });
}

Napi::Value get_isa(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const IsaSelection& selection = isa_selection();
    kernels();  // build the table now so a bad tier fails here, not in a kernel
    Napi::Object out = Napi::Object::New(env);
    out.Set("selected", isa_tier_name(selection.selected));
    out.Set("best", isa_tier_name(selection.best));
    out.Set("overridden", Napi::Boolean::New(env, selection.overridden));
    out.Set("warning", selection.warning ? Napi::Value(Napi::String::New(env, selection.warning)) : env.Null());
    Napi::Array supported = Napi::Array::New(env);
    uint32_t n = 0;
    for (IsaTier tier : {IsaTier::generic, IsaTier::neon, IsaTier::avx2, IsaTier::avx512})
      if (tier_supported(tier)) supported.Set(n++, isa_tier_name(tier));
    out.Set("supported", supported);
    return out;
  });
}

Napi::Value get_cache_info(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    Napi::Array out = Napi::Array::New(env);
    uint32_t n = 0;
    for (const CacheInfo& cache : cache_info()) {
      Napi::Object entry = Napi::Object::New(env);
      entry.Set("level", cache.level);
      entry.Set("type", cache.type);
      entry.Set("sizeBytes", static_cast<double>(cache.size_bytes));
      entry.Set("lineBytes", static_cast<double>(cache.line_bytes));
      entry.Set("sharedByCpus", cache.shared_by_cpus);
      out.Set(n++, entry);
    }
    return out;
  });
}

Napi::Value get_memory_info(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    MemoryInfo memory = memory_info();
    Napi::Object out = Napi::Object::New(info.Env());
    out.Set("totalBytes", static_cast<double>(memory.total_bytes));
    out.Set("availableBytes", static_cast<double>(memory.available_bytes));
    out.Set("cgroupLimitBytes", memory.cgroup_limit_bytes < 0 ? info.Env().Null()
                                                              : Napi::Number::New(info.Env(), double(memory.cgroup_limit_bytes)));
    return out;
  });
}

Napi::Value get_thread_info(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    ThreadPool& pool = global_thread_pool();
    Napi::Object out = Napi::Object::New(info.Env());
    out.Set("poolThreads", static_cast<double>(pool.size()));
    out.Set("availableCpus", static_cast<double>(available_cpu_count()));
    out.Set("jobsRun", static_cast<double>(pool.jobs_run()));
    out.Set("jobsInline", static_cast<double>(pool.jobs_inline()));
    out.Set("spinMicroseconds", static_cast<double>(pool.spin_microseconds()));
    out.Set("workerSleeps", static_cast<double>(pool.worker_sleeps()));
    return out;
  });
}

}  // namespace

// Control block of one aligned allocation. The finalizer owns it; an explicit
// free releases the memory early and leaves the block for the finalizer.
// `pins` counts async kernels using the memory: a free or finalizer that comes
// while pinned leaves the memory to the last unpin (AllocationPins).
struct Allocation {
  void* data;
  size_t size;
  std::atomic<bool> freed{false};
  int pins = 0;
  bool free_when_unpinned = false;
  bool delete_when_unpinned = false;
};

namespace {

// Live allocations by data pointer, ordered, so a pointer into an allocation
// finds it (pins). freeAligned finds its block through napi_wrap instead: a
// private slot of the buffer object that no copy of its properties and no other
// view of its bytes carries (and that works for zero-length buffers, whose data
// pointer V8 reports as null).
std::mutex live_mutex;
std::map<uintptr_t, Allocation*> live_allocations;

// Returns the memory; the caller holds live_mutex.
void release_locked(napi_env env, Allocation* allocation) {
  if (!allocation->freed.exchange(true)) {
    live_allocations.erase(reinterpret_cast<uintptr_t>(allocation->data));
    aligned_free(allocation->data);
    note_aligned_free(allocation->size);
    int64_t adjusted = 0;
    napi_adjust_external_memory(env, -static_cast<int64_t>(allocation->size), &adjusted);
  }
}

// Frees now, or at the last unpin.
void release(napi_env env, Allocation* allocation) {
  std::lock_guard<std::mutex> lock(live_mutex);
  if (allocation->pins > 0) {
    allocation->free_when_unpinned = true;
    return;
  }
  release_locked(env, allocation);
}

// The finalizer's part: free and delete now, or leave both to the last unpin.
void finalize_allocation(napi_env env, Allocation* allocation) {
  {
    std::lock_guard<std::mutex> lock(live_mutex);
    if (allocation->pins > 0) {
      allocation->free_when_unpinned = true;
      allocation->delete_when_unpinned = true;
      return;
    }
    release_locked(env, allocation);
  }
  delete allocation;
}

Napi::Value allocate_aligned(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    if (info.Length() < 1) throw invalid_argument("[allocateAligned] size is required");
    uint64_t size = size_arg(info[0], "allocateAligned", "size");
    uint64_t alignment = info.Length() > 1 && !info[1].IsUndefined() ? size_arg(info[1], "allocateAligned", "alignment") : 64;
    check_external_bytes(size, "allocateAligned");
    void* data = aligned_allocate(size, alignment, "allocateAligned");
    auto* allocation = new Allocation{data, size};
    // Zero-filled, like `new ArrayBuffer`: no stale heap contents reach JS.
    if (!(info.Length() > 2 && info[2].ToBoolean().Value())) std::memset(data, 0, size);
    {
      std::lock_guard<std::mutex> lock(live_mutex);
      live_allocations[reinterpret_cast<uintptr_t>(data)] = allocation;
    }
    Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(
        env, data, size,
        [](Napi::Env finalize_env, void*, Allocation* hint) { finalize_allocation(finalize_env, hint); },
        allocation);
    Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(size));
    // The buffer's own finalizer releases the allocation; the wrap only names it.
    if (napi_wrap(env, buffer, allocation, nullptr, nullptr, nullptr) != napi_ok)
      throw Error("ERR_BITNET_INTERNAL", "[allocateAligned] could not attach the allocation to its ArrayBuffer");
    return buffer;
  });
}

Napi::Value free_aligned(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsArrayBuffer())
      throw invalid_argument("[freeAligned] expected an ArrayBuffer from allocateAligned");
    Napi::ArrayBuffer buffer = info[0].As<Napi::ArrayBuffer>();
    if (buffer.IsDetached()) throw Error("ERR_BITNET_DISPOSED", "[freeAligned] this ArrayBuffer is detached (already freed?)");
    void* wrapped = nullptr;
    if (napi_unwrap(env, buffer, &wrapped) != napi_ok || wrapped == nullptr)
      throw invalid_argument("[freeAligned] this ArrayBuffer was not made by allocateAligned");
    // Alive: the allocation is deleted only by the finalizer of this (reachable) buffer.
    Allocation* allocation = static_cast<Allocation*>(wrapped);
    // Detach first, so no JS view can reach the memory once it is returned.
    buffer.Detach();
    release(env, allocation);
    return env.Undefined();
  });
}

// The loader passes buffer.constants.MAX_LENGTH: the largest external ArrayBuffer this Node.js makes.
Napi::Value set_array_buffer_limit(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    if (info.Length() < 1) throw invalid_argument("[setArrayBufferLimit] expected a byte count");
    uint64_t bytes = size_arg(info[0], "setArrayBufferLimit", "bytes");
    set_max_external_bytes(bytes);
    return info.Env().Undefined();
  });
}

Napi::Value address_of(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    if (info.Length() < 1) throw invalid_argument("[addressOf] expected an ArrayBuffer or view");
    ByteSpan span = bytes_of(info[0], "addressOf", "value");
    return Napi::BigInt::New(info.Env(), static_cast<uint64_t>(reinterpret_cast<uintptr_t>(span.data)));
  });
}

Napi::Value native_memory_stats(const Napi::CallbackInfo& info) {
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("liveBytes", static_cast<double>(aligned_live_bytes()));
  out.Set("liveBlocks", static_cast<double>(aligned_live_blocks()));
  return out;
}

BandwidthOptions bandwidth_options(const Napi::Value& options) {
  BandwidthOptions parsed;
  double bytes = option_number(options, "bytes", 0, "measureBandwidth");
  double threads = option_number(options, "threads", 0, "measureBandwidth");
  double repetitions = option_number(options, "repetitions", 5, "measureBandwidth");
  if (!(bytes >= 0) || std::floor(bytes) != bytes)
    throw out_of_range("[measureBandwidth] bytes must be a non-negative integer, got " + format_number(bytes));
  if (!(threads >= 0) || std::floor(threads) != threads)
    throw out_of_range("[measureBandwidth] threads must be a non-negative integer, got " + format_number(threads));
  if (!(repetitions >= 1 && repetitions <= 1000) || std::floor(repetitions) != repetitions)
    throw out_of_range("[measureBandwidth] repetitions must be an integer from 1 to 1000, got " + format_number(repetitions));
  parsed.bytes = static_cast<size_t>(bytes);
  parsed.threads = static_cast<size_t>(threads);
  parsed.repetitions = static_cast<int>(repetitions);
  return parsed;
}

Napi::Object bandwidth_object(Napi::Env env, const BandwidthResult& result) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("readBytesPerSecond", result.read_bytes_per_second);
  out.Set("triadBytesPerSecond", result.triad_bytes_per_second);
  out.Set("bytes", static_cast<double>(result.bytes));
  out.Set("threads", static_cast<double>(result.threads));
  out.Set("isa", isa_tier_name(isa_selection().selected));
  return out;
}

class BandwidthWorker : public Napi::AsyncWorker {
 public:
  BandwidthWorker(Napi::Env env, BandwidthOptions options)
      : Napi::AsyncWorker(env), options_(options), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override {
    try {
      result_ = measure_bandwidth(options_);
    } catch (const bitnet::Error& error) {
      code_ = error.code();
      SetError(error.what());
    } catch (const std::exception& error) {
      code_ = "ERR_BITNET_INTERNAL";
      SetError(error.what());
    }
  }
  void OnOK() override { deferred_.Resolve(bandwidth_object(Env(), result_)); }
  void OnError(const Napi::Error& error) override {
    Napi::Error js = Napi::Error::New(Env(), error.Message());
    js.Set("code", code_);
    deferred_.Reject(js.Value());
  }

 private:
  BandwidthOptions options_;
  BandwidthResult result_;
  std::string code_;
  Napi::Promise::Deferred deferred_;
};

Napi::Value measure_bandwidth_sync(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    return bandwidth_object(info.Env(), measure_bandwidth(bandwidth_options(info.Length() > 0 ? info[0] : info.Env().Undefined())));
  });
}

Napi::Value measure_bandwidth_async(const Napi::CallbackInfo& info) {
  return guarded_async(info, [&]() -> Napi::Value {
    auto* worker = new BandwidthWorker(info.Env(), bandwidth_options(info.Length() > 0 ? info[0] : info.Env().Undefined()));
    Napi::Promise promise = worker->promise();
    worker->Queue();
    return promise;
  });
}

Napi::Value measure_compute_sync(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Value options = info.Length() > 0 ? info[0] : info.Env().Undefined();
    double threads = option_number(options, "threads", 0, "measureCompute");
    double seconds = option_number(options, "seconds", 0.05, "measureCompute");
    if (!(threads >= 0) || std::floor(threads) != threads)
      throw out_of_range("[measureCompute] threads must be a non-negative integer");
    if (!(seconds > 0 && seconds <= 10)) throw out_of_range("[measureCompute] seconds must be in (0, 10]");
    ComputeResult result = measure_compute(static_cast<size_t>(threads), seconds);
    Napi::Object out = Napi::Object::New(info.Env());
    out.Set("flopsPerSecond", result.flops_per_second);
    out.Set("threads", static_cast<double>(result.threads));
    out.Set("isa", isa_tier_name(isa_selection().selected));
    return out;
  });
}

// Sum of a Float64Array split over the pool by thread index, for testing the
// pool (partials are summed in thread order, so the result is deterministic).
Napi::Value thread_pool_sum(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    size_t count = 0;
    if (info.Length() < 1) throw invalid_argument("[threadPoolSum] expected a Float64Array");
    const double* data = typed_data<double>(info[0], napi_float64_array, "threadPoolSum", "values", &count);
    size_t threads = info.Length() > 1 && !info[1].IsUndefined() ? size_arg(info[1], "threadPoolSum", "threads") : 0;
    ThreadPool& pool = global_thread_pool();
    size_t used = threads == 0 ? pool.size() : std::min(threads, pool.size());
    std::vector<double> partial(used, 0.0);
    std::vector<double> seen(used, 0.0);
    pool.run(
        [&](size_t t, size_t n) {
          size_t begin = count * t / n, end = count * (t + 1) / n;
          double sum = 0;
          for (size_t i = begin; i < end; ++i) sum += data[i];
          partial[t] = sum;
          seen[t] = 1;
        },
        used);
    double total = 0;
    double ran = 0;
    for (size_t t = 0; t < used; ++t) {
      total += partial[t];
      ran += seen[t];
    }
    Napi::Object out = Napi::Object::New(info.Env());
    out.Set("sum", total);
    out.Set("threadsRan", ran);
    return out;
  });
}

// Runs one probe kernel of a named tier over a Float32Array: lets tests check
// every tier the CPU runs against the generic body, in one process.
Napi::Value stream_sum_with_tier(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    size_t count = 0;
    if (info.Length() < 2) throw invalid_argument("[streamSum] expected (values, tier)");
    const float* data = typed_data<float>(info[0], napi_float32_array, "streamSum", "values", &count);
    IsaTier tier;
    std::string name = info[1].ToString().Utf8Value();
    if (!parse_isa_tier(name, &tier)) throw invalid_argument("[streamSum] unknown tier \"" + name + "\"");
    return Napi::Number::New(info.Env(), kernels_for(tier).stream_sum_f32(data, count));
  });
}

// probeRead(data, threads?) → float sum of data's whole 64-byte lines, read by the probe kernel on the pool.
Napi::Value probe_read_sync(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    if (info.Length() < 1) throw invalid_argument("[probeRead] expected an ArrayBuffer or view");
    ByteSpan span = bytes_of(info[0], "probeRead", "data");
    if (reinterpret_cast<uintptr_t>(span.data) % 4 != 0)
      throw invalid_argument("[probeRead] data must start on a 4-byte boundary");
    size_t threads = 0;
    if (info.Length() > 1 && !info[1].IsUndefined()) threads = size_arg(info[1], "probeRead", "threads");
    return Napi::Number::New(info.Env(), probe_read(span.data, span.length, threads));
  });
}

Napi::Value triad_with_tier(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    size_t na = 0, nb = 0, nc = 0;
    if (info.Length() < 5) throw invalid_argument("[streamTriad] expected (a, b, c, scalar, tier)");
    float* a = typed_data<float>(info[0], napi_float32_array, "streamTriad", "a", &na);
    const float* b = typed_data<float>(info[1], napi_float32_array, "streamTriad", "b", &nb);
    const float* c = typed_data<float>(info[2], napi_float32_array, "streamTriad", "c", &nc);
    if (na != nb || na != nc)
      throw Error("ERR_BITNET_SHAPE_MISMATCH",
                  "[streamTriad] lengths differ: " + std::to_string(na) + ", " + std::to_string(nb) + ", " + std::to_string(nc),
                  ErrorKind::range);
    float scalar = static_cast<float>(number_arg(info, 3, "streamTriad", "scalar"));
    IsaTier tier;
    std::string name = info[4].ToString().Utf8Value();
    if (!parse_isa_tier(name, &tier)) throw invalid_argument("[streamTriad] unknown tier \"" + name + "\"");
    kernels_for(tier).stream_triad_f32(a, b, c, scalar, na);
    return info.Env().Undefined();
  });
}

// The binary's half of the version handshake: the loader passes the JS
// package's version and the binary refuses a JS layer it was not built for.
Napi::Value check_js_version(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsString()) throw invalid_argument("[checkJsVersion] expected the JS package version");
    std::string js = info[0].As<Napi::String>().Utf8Value();
    if (js != BITNET_VERSION)
      throw Error("ERR_BITNET_NATIVE_LOAD", "[checkJsVersion] this binary is " BITNET_VERSION " but the JS package is " + js);
    return Napi::Boolean::New(info.Env(), true);
  });
}

}  // namespace

AllocationPins::AllocationPins(Napi::Env env, const std::vector<const void*>& pointers) : env_(env) {
  std::lock_guard<std::mutex> lock(live_mutex);
  for (const void* pointer : pointers) {
    if (pointer == nullptr) continue;
    const uintptr_t address = reinterpret_cast<uintptr_t>(pointer);
    auto after = live_allocations.upper_bound(address);
    if (after == live_allocations.begin()) continue;
    Allocation* allocation = std::prev(after)->second;
    const uintptr_t begin = reinterpret_cast<uintptr_t>(allocation->data);
    if (address >= begin + std::max<size_t>(allocation->size, 1)) continue;
    if (std::find(pinned_.begin(), pinned_.end(), allocation) != pinned_.end()) continue;
    ++allocation->pins;
    pinned_.push_back(allocation);
  }
}

AllocationPins::AllocationPins(AllocationPins&& other) noexcept : env_(other.env_), pinned_(std::move(other.pinned_)) {
  other.pinned_.clear();
}

AllocationPins::~AllocationPins() {
  std::vector<Allocation*> orphans;
  {
    std::lock_guard<std::mutex> lock(live_mutex);
    for (Allocation* allocation : pinned_) {
      if (--allocation->pins > 0) continue;
      if (allocation->free_when_unpinned) release_locked(env_, allocation);
      if (allocation->delete_when_unpinned) orphans.push_back(allocation);
    }
  }
  for (Allocation* allocation : orphans) delete allocation;
}

namespace {

void init_core(Napi::Env env, Napi::Object exports) {
  exports.Set("checkJsVersion", Napi::Function::New(env, check_js_version, "checkJsVersion"));
  exports.Set("version", Napi::String::New(env, BITNET_VERSION));
  exports.Set("getCpuFeatures", Napi::Function::New(env, get_cpu_features, "getCpuFeatures"));
  exports.Set("getIsa", Napi::Function::New(env, get_isa, "getIsa"));
  exports.Set("getCacheInfo", Napi::Function::New(env, get_cache_info, "getCacheInfo"));
  exports.Set("getMemoryInfo", Napi::Function::New(env, get_memory_info, "getMemoryInfo"));
  exports.Set("getThreadInfo", Napi::Function::New(env, get_thread_info, "getThreadInfo"));
  exports.Set("allocateAligned", Napi::Function::New(env, allocate_aligned, "allocateAligned"));
  exports.Set("freeAligned", Napi::Function::New(env, free_aligned, "freeAligned"));
  exports.Set("setArrayBufferLimit", Napi::Function::New(env, set_array_buffer_limit, "setArrayBufferLimit"));
  exports.Set("addressOf", Napi::Function::New(env, address_of, "addressOf"));
  exports.Set("nativeMemoryStats", Napi::Function::New(env, native_memory_stats, "nativeMemoryStats"));
  exports.Set("measureBandwidth", Napi::Function::New(env, measure_bandwidth_sync, "measureBandwidth"));
  exports.Set("measureBandwidthAsync", Napi::Function::New(env, measure_bandwidth_async, "measureBandwidthAsync"));
  exports.Set("measureCompute", Napi::Function::New(env, measure_compute_sync, "measureCompute"));
  exports.Set("threadPoolSum", Napi::Function::New(env, thread_pool_sum, "threadPoolSum"));
  exports.Set("streamSum", Napi::Function::New(env, stream_sum_with_tier, "streamSum"));
  exports.Set("probeRead", Napi::Function::New(env, probe_read_sync, "probeRead"));
  exports.Set("streamTriad", Napi::Function::New(env, triad_with_tier, "streamTriad"));
}

}  // namespace
}  // namespace napi
}  // namespace bitnet

BITNET_NAPI_AREA(core, bitnet::napi::init_core);
