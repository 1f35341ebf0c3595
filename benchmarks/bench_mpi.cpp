// MpiExecutor costs next to raw MPI (docs/benchmarks.md, "MPI ranks"). Run by
// benchmarks/bench_mpi.sh under mpirun -n 3, twice back to back:
//   bench_mpi raw   plain MPI between ranks 0 and 1: ping-pong of a trivial
//                   call's sizes, one 64 MiB MPI_Send/MPI_Recv
//   bench_mpi       the same through MpiExecutor (ranks 1 and 2 serve), the
//                   local worker hop alone (MultiprocessingExecutor on rank
//                   0), 64 MiB results, 16 x 20 ms of CPU fanned out over
//                   two ranks against one at a time, and the CPU an idle
//                   rank 0 and idle serving ranks use.
// Figures are medians; one line each, "name value unit".
#include <connectors/connectors.hpp>
#include <connectors/mpi.hpp>

#include <mpi.h>

#include <dirent.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

using connectors::Parallelization;
using connectors::Task;
using Clock = std::chrono::steady_clock;

constexpr std::size_t big_size = std::size_t{64} << 20;

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// The fastest batch: on a machine others load too, the cost of the
// mechanism itself, with the least waiting for a core in it.
double best(const std::vector<double>& values) { return *std::min_element(values.begin(), values.end()); }

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

double thread_cpu_seconds() {
  timespec now{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

struct Block {
  template <class Archive>
  void serialize(Archive& archive) {
    archive(value);
  }
  int value = 1;

  int get() const { return value; }
  // A 64 MiB result made once per worker and copied out: what is measured is
  // moving it, not computing it.
  std::vector<char> big() const {
    static const std::vector<char> made(big_size, static_cast<char>(value));
    return made;
  }
  // 20 ms of this thread's CPU time, whoever else wants the core.
  double work() const {
    const double until = thread_cpu_seconds() + 0.020;
    double x = value;
    while (thread_cpu_seconds() < until) {
      for (int i = 0; i < 1000; ++i) x = x * 1.0000001 + 1e-9;
    }
    return x;
  }
};

void print(const char* name, double value, const char* unit) {
  std::printf("%-36s %10.3f %s\n", name, value, unit);
  std::fflush(stdout);
}

// A barrier that sleeps instead of spinning: rank 2 waits in it while ranks 0
// and 1 measure, and must not take a core from them (3 ranks, 2 cores).
void polite_barrier(int rank) {
  MPI_Request request;
  MPI_Ibarrier(MPI_COMM_WORLD, &request);
  for (int done = 0; MPI_Test(&request, &done, MPI_STATUS_IGNORE), done == 0;) {
    if (rank > 1) ::usleep(1000);
  }
}

// Plain MPI, no connectors: the reference.
int run_raw(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  // The sizes of a trivial call: request header + request, reply header +
  // reply (see docs/distributed.md, "What is sent per call").
  constexpr int request_size = 80 + 40;
  constexpr int reply_size = 80 + 5;
  std::vector<char> out(request_size), in(request_size);
  constexpr int rounds = 2000;
  std::vector<double> batches;
  for (int batch = 0; batch < 7; ++batch) {
    polite_barrier(rank);
    const auto start = Clock::now();
    for (int i = 0; i < rounds; ++i) {
      if (rank == 0) {
        MPI_Send(out.data(), request_size, MPI_BYTE, 1, 0, MPI_COMM_WORLD);
        MPI_Recv(in.data(), reply_size, MPI_BYTE, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      } else if (rank == 1) {
        MPI_Recv(in.data(), request_size, MPI_BYTE, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        MPI_Send(out.data(), reply_size, MPI_BYTE, 0, 0, MPI_COMM_WORLD);
      }
    }
    batches.push_back(seconds_since(start) / rounds);
  }
  if (rank == 0) {
    print("raw_mpi_ping_pong", median(batches) * 1e6, "us");
    print("raw_mpi_ping_pong_best", best(batches) * 1e6, "us");
  }

  std::vector<char> buffer(big_size, 1);  // touched: no page faults measured
  batches.clear();
  for (int round = 0; round < 9; ++round) {
    polite_barrier(rank);
    const auto start = Clock::now();
    if (rank == 0) {
      MPI_Send(out.data(), 8, MPI_BYTE, 1, 0, MPI_COMM_WORLD);
      MPI_Recv(buffer.data(), static_cast<int>(big_size), MPI_BYTE, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else if (rank == 1) {
      MPI_Recv(in.data(), 8, MPI_BYTE, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      MPI_Send(buffer.data(), static_cast<int>(big_size), MPI_BYTE, 0, 0, MPI_COMM_WORLD);
    }
    batches.push_back(seconds_since(start));
  }
  if (rank == 0) {
    const double time = median(batches);
    print("raw_mpi_64mib", time * 1e3, "ms");
    print("raw_mpi_64mib_bandwidth", static_cast<double>(big_size) / time / 1e9, "GB/s");
    print("raw_mpi_64mib_best", best(batches) * 1e3, "ms");
  }
  MPI_Finalize();
  return 0;
}

// CPU seconds used so far by process `pid`, all threads: the scheduler's
// nanosecond run times (/proc/<pid>/task/<tid>/schedstat), not utime and
// stime, which count 10 ms ticks and cannot tell 2 ms from 10 ms of a
// fan-out. A thread that ended meanwhile is no longer counted.
double process_cpu_seconds(int pid) {
  const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  DIR* directory = ::opendir(tasks.c_str());
  if (directory == nullptr) return 0;  // the process ended meanwhile
  double seconds = 0;
  while (const dirent* entry = ::readdir(directory)) {
    if (entry->d_name[0] == '.') continue;
    std::ifstream stat{tasks + "/" + entry->d_name + "/schedstat"};
    double nanoseconds = 0;
    if (stat >> nanoseconds) seconds += nanoseconds * 1e-9;
  }
  ::closedir(directory);
  return seconds;
}

std::string read_link(const std::string& path) {
  char target[4096];
  const ssize_t length = ::readlink(path.c_str(), target, sizeof target - 1);
  return length > 0 ? std::string{target, static_cast<std::size_t>(length)} : std::string{};
}

int parent_of(int pid) {
  std::ifstream stat{"/proc/" + std::to_string(pid) + "/stat"};
  std::string line;
  std::getline(stat, line);
  // Other users' processes come and go while /proc is listed.
  const std::size_t name_end = line.rfind(')');
  if (name_end == std::string::npos || name_end + 2 > line.size()) return 0;
  std::istringstream fields{line.substr(name_end + 2)};
  std::string state;
  int parent = 0;
  fields >> state >> parent;
  return parent;
}

// The other ranks of this job on this machine: processes of this executable
// whose parent is mpirun's daemon, as this process's is (fork servers and
// workers are not: they are no children of it).
std::vector<int> serving_rank_pids() {
  std::vector<int> pids;
  const std::string self = read_link("/proc/self/exe");
  const int launcher = parent_of(static_cast<int>(::getpid()));
  DIR* directory = ::opendir("/proc");
  while (const dirent* entry = ::readdir(directory)) {
    const int pid = std::atoi(entry->d_name);
    if (pid <= 0 || pid == static_cast<int>(::getpid())) continue;
    if (parent_of(pid) == launcher && read_link("/proc/" + std::to_string(pid) + "/exe") == self) pids.push_back(pid);
  }
  ::closedir(directory);
  return pids;
}

// The median and the fastest batch, in seconds per call.
template <class Executor>
std::pair<double, double> round_trip_seconds(Executor& executor) {
  Block block;
  constexpr int rounds = 500;
  std::vector<double> batches;
  for (int batch = 0; batch < 7; ++batch) {
    auto body = [&]() -> Task<void> {
      for (int i = 0; i < rounds; ++i) co_await executor.run_method(Parallelization::PROCESS, &Block::get, block);
    };
    const auto start = Clock::now();
    executor.run_coroutine(body());
    batches.push_back(seconds_since(start) / rounds);
  }
  return {median(batches), best(batches)};
}

int run_connectors(int argc, char** argv) {
  connectors::init(argc, argv);  // ranks 1 and 2 serve in here
  connectors::MpiExecutor executor{0};
  Block block;

  const auto [mpi_median, mpi_best] = round_trip_seconds(executor);
  print("mpi_executor_round_trip", mpi_median * 1e6, "us");
  print("mpi_executor_round_trip_best", mpi_best * 1e6, "us");
  {
    connectors::MultiprocessingExecutor local{1};
    const auto [local_median, local_best] = round_trip_seconds(local);
    print("local_worker_round_trip", local_median * 1e6, "us");
    print("local_worker_round_trip_best", local_best * 1e6, "us");
  }

  std::vector<double> times;
  for (int round = 0; round < 9; ++round) {
    auto call = [&]() -> Task<std::size_t> {
      co_return (co_await executor.run_method(Parallelization::PROCESS, &Block::big, block)).size();
    };
    const auto start = Clock::now();
    const std::size_t size = executor.run_coroutine(call());
    times.push_back(seconds_since(start));
    if (size != big_size) std::printf("wrong size %zu\n", size);
  }
  const double big_time = median(times);
  print("mpi_executor_64mib_result", big_time * 1e3, "ms");
  print("mpi_executor_64mib_bandwidth", static_cast<double>(big_size) / big_time / 1e9, "GB/s");
  print("mpi_executor_64mib_best", best(times) * 1e3, "ms");

  auto fan_out_on = [&](connectors::Executor& on, bool together) {
    auto body = [&]() -> Task<void> {
      if (together) {
        std::vector<Task<double>> calls;
        for (int i = 0; i < 16; ++i) calls.push_back(on.run_method(Parallelization::PROCESS, &Block::work, block));
        co_await connectors::gather(std::move(calls));
      } else {
        for (int i = 0; i < 16; ++i) co_await on.run_method(Parallelization::PROCESS, &Block::work, block);
      }
    };
    const auto start = Clock::now();
    on.run_coroutine(body());
    return seconds_since(start);
  };
  auto fan_out = [&](bool together) { return fan_out_on(executor, together); };
  // What the machine gives right now: the same fan-out over 2 local worker
  // processes (no MPI), measured alongside.
  connectors::MultiprocessingExecutor local_pair{2};
  std::vector<double> local_fanned_out;
  const std::vector<int> ranks = serving_rank_pids();
  std::vector<double> one_at_a_time, fanned_out, inline_times;
  double overhead_cpu = 0;
  // The same per process: rank 0 first, then each serving rank.
  std::vector<double> cpu_per_rank(ranks.size() + 1, 0.0);
  auto cpu_of = [&](std::size_t i) {
    return process_cpu_seconds(i == 0 ? static_cast<int>(::getpid()) : ranks[i - 1]);
  };
  double fanned_out_total = 0;
  for (int round = 0; round < 5; ++round) {
    one_at_a_time.push_back(fan_out(false));
    // The CPU the ranks themselves (not their workers) use meanwhile:
    // polling, sending, receiving.
    double cpu = process_cpu_seconds(static_cast<int>(::getpid()));
    for (int pid : ranks) cpu += process_cpu_seconds(pid);
    for (std::size_t i = 0; i < cpu_per_rank.size(); ++i) cpu_per_rank[i] -= cpu_of(i);
    fanned_out.push_back(fan_out(true));
    for (std::size_t i = 0; i < cpu_per_rank.size(); ++i) cpu_per_rank[i] += cpu_of(i);
    overhead_cpu -= cpu;
    overhead_cpu += process_cpu_seconds(static_cast<int>(::getpid()));
    for (int pid : ranks) overhead_cpu += process_cpu_seconds(pid);
    fanned_out_total += fanned_out.back();
    const auto start = Clock::now();
    for (int i = 0; i < 16; ++i) block.work();
    inline_times.push_back(seconds_since(start));
    local_fanned_out.push_back(fan_out_on(local_pair, true));
  }
  print("fan_out_16x20ms_inline_on_rank_0", median(inline_times) * 1e3, "ms");
  print("fan_out_16x20ms_one_at_a_time", median(one_at_a_time) * 1e3, "ms");
  print("fan_out_16x20ms_over_2_ranks", median(fanned_out) * 1e3, "ms");
  print("fan_out_speed_up_vs_one_at_a_time", median(one_at_a_time) / median(fanned_out), "x");
  print("fan_out_speed_up_vs_inline", median(inline_times) / median(fanned_out), "x");
  // And with no library at all: two plain threads of rank 0, 8 x 20 ms each.
  std::vector<double> two_threads;
  for (int round = 0; round < 5; ++round) {
    auto eight = [&] {
      for (int i = 0; i < 8; ++i) block.work();
    };
    const auto start = Clock::now();
    std::thread first{eight}, second{eight};
    first.join();
    second.join();
    two_threads.push_back(seconds_since(start));
  }
  print("plain_2_threads_16x20ms", median(two_threads) * 1e3, "ms");
  print("plain_2_threads_speed_up_vs_inline", median(inline_times) / median(two_threads), "x");
  print("local_fan_out_over_2_worker_processes", median(local_fanned_out) * 1e3, "ms");
  print("local_fan_out_speed_up_vs_inline", median(inline_times) / median(local_fanned_out), "x");
  print("fan_out_cpu_of_the_ranks_themselves", overhead_cpu / fanned_out_total * 100, "% of one core");
  // The same as CPU time per fan-out: less dependent on how long other
  // users' load made the fan-out last.
  print("fan_out_cpu_ms_of_the_ranks_per_fan_out", overhead_cpu / static_cast<double>(fanned_out.size()) * 1e3, "ms");
  for (std::size_t i = 0; i < cpu_per_rank.size(); ++i) {
    const std::string name = i == 0 ? std::string{"fan_out_cpu_ms_of_rank_0"}
                                    : "fan_out_cpu_ms_of_serving_rank_pid_" + std::to_string(ranks[i - 1]);
    print(name.c_str(), cpu_per_rank[i] / static_cast<double>(fanned_out.size()) * 1e3, "ms");
  }

  // Idle: nothing to do for 2 s after the last call.
  std::vector<double> before;
  for (int pid : ranks) before.push_back(process_cpu_seconds(pid));
  const double own_before = process_cpu_seconds(static_cast<int>(::getpid()));
  const auto start = Clock::now();
  ::sleep(2);
  const double elapsed = seconds_since(start);
  print("idle_cpu_rank_0", (process_cpu_seconds(static_cast<int>(::getpid())) - own_before) / elapsed * 100, "%");
  for (std::size_t i = 0; i < ranks.size(); ++i) {
    const std::string name = "idle_cpu_serving_rank_pid_" + std::to_string(ranks[i]);
    print(name.c_str(), (process_cpu_seconds(ranks[i]) - before[i]) / elapsed * 100, "%");
  }
  if (ranks.empty()) std::printf("(no serving rank found on this machine to measure)\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "raw") == 0) return run_raw(argc, argv);
  return run_connectors(argc, argv);
}
