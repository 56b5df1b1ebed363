// Copyright (c) 2026 bitnet contributors. MIT license.
// Bindings for @bitnet/memory: per-block ArrayBuffers over pool arenas (so a
// freed block's views can be detached), memset, and the benchmark peers (plain
// malloc/free through the addon, and a process-wide native block pool).
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>

#include "memory/block_pool.h"
#include "napi/convert.h"
#include "napi/registry.h"

namespace bitnet {
namespace napi {
namespace {

struct ArenaSpan {
  uint8_t* data;
  size_t length;
};

ArenaSpan arena_arg(const Napi::CallbackInfo& info, const char* op) {
  if (info.Length() < 1 || !info[0].IsArrayBuffer())
    throw invalid_argument(std::string("[") + op + "] arena must be an ArrayBuffer");
  Napi::ArrayBuffer arena = info[0].As<Napi::ArrayBuffer>();
  if (arena.IsDetached() || arena.Data() == nullptr)
    throw Error("ERR_BITNET_DISPOSED", std::string("[") + op + "] the arena has been released");
  return {static_cast<uint8_t*>(arena.Data()), arena.ByteLength()};
}

// Checks [offset, offset + length) lies inside the arena.
void range_arg(const Napi::CallbackInfo& info, const char* op, const ArenaSpan& arena, size_t* offset, size_t* length) {
  if (info.Length() < 3) throw invalid_argument(std::string("[") + op + "] expected (arena, offset, length)");
  *offset = size_arg(info[1], op, "offset");
  *length = size_arg(info[2], op, "length");
  if (*offset > arena.length || *length > arena.length - *offset)
    throw out_of_range(std::string("[") + op + "] range [" + std::to_string(*offset) + ", " +
                       std::to_string(*offset + *length) + ") is outside the arena of " + std::to_string(arena.length) +
                       " bytes");
}

// An ArrayBuffer over [offset, offset + length) of an arena, without a
// finalizer: the arena owns the memory, and the JS side keeps the arena alive
// for as long as this buffer is reachable, and detaches it when the block is freed.
Napi::Value block_buffer(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    ArenaSpan arena = arena_arg(info, "memoryBlockBuffer");
    size_t offset = 0, length = 0;
    range_arg(info, "memoryBlockBuffer", arena, &offset, &length);
    check_external_bytes(length, "memoryBlockBuffer");
    napi_value result;
    napi_status status = napi_create_external_arraybuffer(info.Env(), arena.data + offset, length, nullptr, nullptr, &result);
    if (status != napi_ok)
      throw Error("ERR_BITNET_UNSUPPORTED",
                  "[memoryBlockBuffer] this runtime does not allow external ArrayBuffers (napi status " +
                      std::to_string(static_cast<int>(status)) + ")");
    return Napi::Value(info.Env(), result);
  });
}

// Detaches an ArrayBuffer: every view over it reads as length 0 from now on.
Napi::Value detach(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsArrayBuffer())
      throw invalid_argument("[memoryDetach] expected an ArrayBuffer");
    Napi::ArrayBuffer buffer = info[0].As<Napi::ArrayBuffer>();
    if (!buffer.IsDetached()) buffer.Detach();
    return info.Env().Undefined();
  });
}

Napi::Value fill(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    ArenaSpan arena = arena_arg(info, "memoryFill");
    size_t offset = 0, length = 0;
    range_arg(info, "memoryFill", arena, &offset, &length);
    int value = info.Length() > 3 ? static_cast<int>(number_arg(info, 3, "memoryFill", "value")) : 0;
    std::memset(arena.data + offset, value & 0xff, length);
    return info.Env().Undefined();
  });
}

// ---- benchmark peers -------------------------------------------------------

Napi::Value bench_noop(const Napi::CallbackInfo& info) { return info.Env().Undefined(); }

// One malloc and one free per call; the first byte is written so the
// allocation cannot be optimised away.
Napi::Value bench_malloc_free(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    size_t size = info.Length() > 0 ? size_arg(info[0], "memoryBenchMallocFree", "size") : 64;
    void* pointer = std::malloc(size == 0 ? 1 : size);
    if (!pointer) throw out_of_memory("[memoryBenchMallocFree] malloc(" + std::to_string(size) + ") failed");
    static_cast<volatile uint8_t*>(pointer)[0] = 1;
    std::free(pointer);
    return info.Env().Undefined();
  });
}

// `count` malloc/free pairs inside C++; returns nanoseconds per pair, the
// allocator's own cost without any Node-API call.
Napi::Value bench_malloc_free_loop(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    if (info.Length() < 2) throw invalid_argument("[memoryBenchMallocFreeLoop] expected (size, count)");
    size_t size = size_arg(info[0], "memoryBenchMallocFreeLoop", "size");
    size_t count = size_arg(info[1], "memoryBenchMallocFreeLoop", "count");
    if (count == 0) throw out_of_range("[memoryBenchMallocFreeLoop] count must be positive");
    auto start = std::chrono::steady_clock::now();
    for (size_t i = 0; i < count; ++i) {
      void* pointer = std::malloc(size == 0 ? 1 : size);
      if (!pointer) throw out_of_memory("[memoryBenchMallocFreeLoop] malloc(" + std::to_string(size) + ") failed");
      static_cast<volatile uint8_t*>(pointer)[0] = 1;
      std::free(pointer);
    }
    double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
    return Napi::Number::New(info.Env(), ns / static_cast<double>(count));
  });
}

// A process-wide native pool of 64-byte blocks: the design @bitnet/memory did
// not choose, kept so the benchmark can show what one call per operation costs.
memory::BlockPool& shared_block_pool() {
  static memory::BlockPool pool(64, 1 << 16, 64);
  return pool;
}

Napi::Value bench_shared_pool_allocate(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t index = shared_block_pool().allocate();
    if (index < 0) throw out_of_memory("[memoryBenchSharedPoolAllocate] all 65536 blocks are in use");
    return Napi::Number::New(info.Env(), static_cast<double>(index));
  });
}

Napi::Value bench_shared_pool_free(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    double index = number_arg(info, 0, "memoryBenchSharedPoolFree", "index");
    shared_block_pool().free(static_cast<int64_t>(index));
    return info.Env().Undefined();
  });
}

void init_memory(Napi::Env env, Napi::Object exports) {
  exports.Set("memoryBlockBuffer", Napi::Function::New(env, block_buffer, "memoryBlockBuffer"));
  exports.Set("memoryDetach", Napi::Function::New(env, detach, "memoryDetach"));
  exports.Set("memoryFill", Napi::Function::New(env, fill, "memoryFill"));
  exports.Set("memoryBenchNoop", Napi::Function::New(env, bench_noop, "memoryBenchNoop"));
  exports.Set("memoryBenchMallocFree", Napi::Function::New(env, bench_malloc_free, "memoryBenchMallocFree"));
  exports.Set("memoryBenchMallocFreeLoop", Napi::Function::New(env, bench_malloc_free_loop, "memoryBenchMallocFreeLoop"));
  exports.Set("memoryBenchSharedPoolAllocate", Napi::Function::New(env, bench_shared_pool_allocate, "memoryBenchSharedPoolAllocate"));
  exports.Set("memoryBenchSharedPoolFree", Napi::Function::New(env, bench_shared_pool_free, "memoryBenchSharedPoolFree"));
}

}  // namespace
}  // namespace napi
}  // namespace bitnet

BITNET_NAPI_AREA(memory, bitnet::napi::init_memory);
