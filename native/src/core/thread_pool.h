// Copyright (c) 2026 bitnet contributors. MIT license.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace bitnet {

// A fixed pool of worker threads. The calling thread takes part in every job,
// so a pool of N threads has N - 1 workers. One job runs at a time; a caller
// that finds the pool busy (another JS thread, a nested call) runs its job
// inline on its own thread instead of waiting, so concurrent use never
// deadlocks and never interleaves two jobs' chunks.
class ThreadPool {
 public:
  explicit ThreadPool(size_t threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  size_t size() const { return workers_.size() + 1; }

  // Calls fn(thread_index, thread_count) once on each of `threads` threads
  // (0 = all). Static partitioning: kernels whose results must not depend on
  // timing split work by thread_index.
  void run(const std::function<void(size_t, size_t)>& fn, size_t threads = 0);

  // Splits [0, count) into chunks of at least `grain` items taken dynamically
  // by the threads: fn(begin, end). For work with uneven cost.
  void parallel_for(size_t count, size_t grain, const std::function<void(size_t, size_t)>& fn);

  // Jobs run so far on the workers (not inline), for tests.
  size_t jobs_run() const { return jobs_run_.load(); }
  size_t jobs_inline() const { return jobs_inline_.load(); }

 private:
  void worker_loop(size_t index);

  std::vector<std::thread> workers_;
  std::mutex submit_mutex_;  // held by the thread whose job is running
  std::mutex state_mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  const std::function<void(size_t, size_t)>* job_ = nullptr;
  size_t job_threads_ = 0;
  std::atomic<size_t> generation_{0};
  std::atomic<size_t> pending_{0};
  bool stop_ = false;
  std::atomic<size_t> jobs_run_{0};
  std::atomic<size_t> jobs_inline_{0};
};

// Threads the process may use: BITNET_NUM_THREADS, else the CPUs in this
// process's affinity mask.
size_t default_thread_count();
size_t available_cpu_count();

// The process-wide pool the kernels use, created on first use.
ThreadPool& global_thread_pool();

}  // namespace bitnet
