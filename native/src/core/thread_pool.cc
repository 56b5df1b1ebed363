// Copyright (c) 2026 bitnet contributors. MIT license.
#include "core/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <string>

#if defined(__linux__)
#include <sched.h>
#endif

#include "core/error.h"

namespace bitnet {

ThreadPool::ThreadPool(size_t threads, size_t spin_microseconds) : spin_microseconds_(spin_microseconds) {
  threads = std::max<size_t>(1, threads);
  workers_.reserve(threads - 1);
  for (size_t i = 1; i < threads; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(state_mutex_);
    stop_ = true;
    generation_.fetch_add(1, std::memory_order_release);  // ends every spin at once
  }
  wake_.notify_all();
  for (auto& worker : workers_) worker.join();
}

namespace {

// Pauses until `done()` or `microseconds` pass; the clock is read every 64
// pauses (~1 µs here).
template <typename Done>
void spin_until(Done done, size_t microseconds) {
  if (microseconds == 0) return;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(microseconds);
  for (unsigned spin = 1;; ++spin) {
    if (done()) return;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
    if (spin % 64 == 0 && std::chrono::steady_clock::now() >= deadline) return;
  }
}

}  // namespace

void ThreadPool::worker_loop(size_t index) {
  size_t seen = 0;
  for (;;) {
    const std::function<void(size_t, size_t)>* job = nullptr;
    size_t job_threads = 0;
    // Spin first (see the constructor's comment).
    spin_until([&] { return generation_.load(std::memory_order_acquire) != seen; }, spin_microseconds_);
    {
      std::unique_lock<std::mutex> lock(state_mutex_);
      if (!stop_ && generation_.load() == seen) worker_sleeps_.fetch_add(1);
      wake_.wait(lock, [&] { return stop_ || generation_.load() != seen; });
      if (stop_) return;
      seen = generation_.load();
      job = job_;
      job_threads = job_threads_;
    }
    if (index < job_threads) (*job)(index, job_threads);
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(state_mutex_);
      done_.notify_all();
    }
  }
}

void ThreadPool::run(const std::function<void(size_t, size_t)>& fn, size_t threads) {
  size_t total = size();
  if (threads == 0 || threads > total) threads = total;
  std::unique_lock<std::mutex> submit(submit_mutex_, std::try_to_lock);
  if (threads == 1 || !submit.owns_lock()) {
    // Busy or single-threaded: run every thread index here, in order.
    if (!submit.owns_lock()) jobs_inline_.fetch_add(1);
    for (size_t i = 0; i < threads; ++i) fn(i, threads);
    return;
  }
  std::exception_ptr error;
  std::mutex error_mutex;
  std::function<void(size_t, size_t)> guarded = [&](size_t index, size_t count) {
    try {
      fn(index, count);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
    }
  };
  {
    std::lock_guard<std::mutex> lock(state_mutex_);
    job_ = &guarded;
    job_threads_ = threads;
    pending_.store(workers_.size());
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  guarded(0, threads);
  // Wait for every worker, including those with no part in this job, so none
  // still holds a pointer to `guarded` when it goes out of scope.
  spin_until([&] { return pending_.load(std::memory_order_acquire) == 0; }, std::max<size_t>(spin_microseconds_, 100));
  {
    std::unique_lock<std::mutex> lock(state_mutex_);
    done_.wait(lock, [&] { return pending_.load() == 0; });
    job_ = nullptr;
  }
  jobs_run_.fetch_add(1);
  if (error) std::rethrow_exception(error);
}

void ThreadPool::parallel_for(size_t count, size_t grain, const std::function<void(size_t, size_t)>& fn) {
  if (count == 0) return;
  grain = std::max<size_t>(1, grain);
  size_t chunks = (count + grain - 1) / grain;
  if (chunks == 1) {
    fn(0, count);
    return;
  }
  std::atomic<size_t> next{0};
  run(
      [&](size_t, size_t) {
        for (;;) {
          size_t chunk = next.fetch_add(1);
          if (chunk >= chunks) return;
          size_t begin = chunk * grain;
          fn(begin, std::min(count, begin + grain));
        }
      },
      std::min(chunks, size()));
}

size_t available_cpu_count() {
#if defined(__linux__)
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int count = CPU_COUNT(&set);
    if (count > 0) return static_cast<size_t>(count);
  }
#endif
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : hw;
}

namespace {

// The integer in environment variable `name`, or `fallback` when it is unset or empty.
size_t env_integer(const char* name, long min, long max, size_t fallback) {
  const char* env = std::getenv(name);
  if (!env || !*env) return fallback;
  char* end = nullptr;
  long value = std::strtol(env, &end, 10);
  if (end && *end == '\0' && value >= min && value <= max) return static_cast<size_t>(value);
  throw invalid_argument(std::string("[threadPool] ") + name + " must be an integer from " + std::to_string(min) +
                         " to " + std::to_string(max) + ", got \"" + env + "\"");
}

}  // namespace

size_t default_thread_count() {
  const size_t threads = env_integer("BITNET_NUM_THREADS", 1, 1024, 0);
  return threads ? threads : available_cpu_count();
}

size_t default_spin_microseconds() { return env_integer("BITNET_SPIN_US", 0, 1000000, 500); }

ThreadPool& global_thread_pool() {
  static ThreadPool pool(default_thread_count(), default_spin_microseconds());
  return pool;
}

}  // namespace bitnet
