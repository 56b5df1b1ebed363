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
  // An idle worker spins (pause) for `spin_microseconds` after its last job
  // before it blocks, so kernels that come back to back (the layers of one
  // forward pass) find it awake: waking a blocked worker cost 45-140 µs on this
  // project's 2-vCPU VM (the futex wake plus the host running the halted vCPU
  // again), a third of a 6912x2560 GEMV. The calling thread likewise spins up
  // to max(spin, 100 µs) for the workers to finish a job. The spin is timed
  // (it was 20000 and 200000 pauses, whose length differs ~10x between x86 cores);
  // where the host may run both vCPUs on one core, spinning holds that core
  // from the thread being waited for, and BITNET_SPIN_US=0 avoids it.
  explicit ThreadPool(size_t threads, size_t spin_microseconds = 500);
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
  // Times a worker blocked (spun out and slept) waiting for a job, for tests.
  size_t worker_sleeps() const { return worker_sleeps_.load(); }
  size_t spin_microseconds() const { return spin_microseconds_; }

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
  std::atomic<size_t> worker_sleeps_{0};
  size_t spin_microseconds_;
};

// Threads the process may use: BITNET_NUM_THREADS, else the CPUs in this
// process's affinity mask.
size_t default_thread_count();

// How long idle workers spin before they block: BITNET_SPIN_US (0 to 1000000),
// else 500 (about the 20000 pauses this pool used to spin on the 2-vCPU Xeon).
size_t default_spin_microseconds();
size_t available_cpu_count();

// The process-wide pool the kernels use, created on first use.
ThreadPool& global_thread_pool();

}  // namespace bitnet
