// Outsized results streamed from the worker into the caller's result (issue
// 11, item 8; docs/processes.md, "Design"): they arrive intact whichever way
// their bytes travel, and a worker that dies, hangs, throws or writes stray
// bytes in the middle of its reply gives its call a clean error, never a
// partial result or a hang, while the executor keeps working.
#include "process_support.hpp"
#include "sanitizers.hpp"

#include <connectors/connectors.hpp>

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using connectors::MultiprocessingExecutor;
using connectors::Parallelization;
using connectors::RemoteError;
using connectors::Task;
using connectors::WorkerError;

// Larger than a reply file may be kept (80 MiB): streamed.
constexpr std::size_t outsized = std::size_t{100} << 20;

// The worker's connection to the parent: its highest socket.
int worker_socket() {
  int found = -1;
  for (int fd = 3; fd < 1024; ++fd) {
    char link[64];
    const std::string path = "/proc/self/fd/" + std::to_string(fd);
    const ssize_t length = ::readlink(path.c_str(), link, sizeof link - 1);
    if (length > 0 && std::string{link, static_cast<std::size_t>(length)}.rfind("socket:", 0) == 0) found = fd;
  }
  return found;
}

// A result whose saving misbehaves after its bulk (an outsized vector) has
// gone out, or whose loading gives up before reading it.
struct Mischief {
  enum Kind : int { none, abort_midway, exit_midway, throw_midway, sleep_midway, stray_midway, refuse_on_load };
  int kind = none;
  std::vector<char> bulk;

  template <class Archive>
  void save(Archive& archive) const {
    archive(kind, bulk);
    switch (kind) {
      case abort_midway:
        std::abort();
      case exit_midway:
        ::_exit(3);
      case throw_midway:
        throw std::runtime_error("cannot save the rest");
      case sleep_midway:
        std::this_thread::sleep_for(std::chrono::seconds{60});
        break;
      case stray_midway: {
        const std::uint64_t words[2] = {16, 0};
        ::send(worker_socket(), words, sizeof words, MSG_NOSIGNAL);
        break;
      }
      default:
        break;
    }
    archive(kind);
  }
  template <class Archive>
  void load(Archive& archive) {
    archive(kind);
    if (kind == refuse_on_load) throw std::runtime_error("cannot load here");
    archive(bulk, kind);
  }
};

struct Source {
  template <class Archive>
  void serialize(Archive& archive) {
    archive(value);
  }
  int value = 0;

  int pid() const { return static_cast<int>(::getpid()); }
  Mischief mischief(int kind, std::size_t size) const {
    Mischief result;
    result.kind = kind;
    result.bulk.assign(size, 'm');
    return result;
  }
  std::vector<std::uint64_t> numbers(std::size_t count) const {
    std::vector<std::uint64_t> result(count);
    for (std::size_t i = 0; i < count; ++i) result[i] = static_cast<std::uint64_t>(value) + i;
    return result;
  }
  std::string text(std::size_t size) const { return std::string(size, 't'); }
  // Many small writes: the reply grows in a kept reply file before it
  // outgrows it, and is streamed from there.
  std::vector<std::vector<char>> pieces(std::size_t count, std::size_t size) const {
    std::vector<std::vector<char>> result(count);
    for (std::size_t i = 0; i < count; ++i) result[i].assign(size, static_cast<char>('a' + i % 26));
    return result;
  }
};

template <class Method, class... Args>
auto run(MultiprocessingExecutor& executor, Method method, Args... args) {
  Source source;
  source.value = 7;
  auto main = [&]() -> Task<decltype((source.*method)(args...))> {
    co_return co_await executor.run_method(Parallelization::PROCESS, method, source, args...);
  };
  return executor.run_coroutine(main());
}

template <class Method, class... Args>
std::string worker_error(MultiprocessingExecutor& executor, Method method, Args... args) {
  try {
    run(executor, method, args...);
  } catch (const WorkerError& error) {
    return error.what();
  }
  ADD_FAILURE() << "no WorkerError";
  return {};
}

bool intact_numbers(const std::vector<std::uint64_t>& result, std::size_t count) {
  bool intact = result.size() == count;
  for (std::size_t i = 0; intact && i < count; ++i) intact = result[i] == 7 + i;
  return intact;
}

bool intact_pieces(const std::vector<std::vector<char>>& result, std::size_t count, std::size_t size) {
  bool intact = result.size() == count;
  for (std::size_t i = 0; intact && i < count; ++i)
    intact = result[i] == std::vector<char>(size, static_cast<char>('a' + i % 26));
  return intact;
}

void expect_streamed_results_intact(MultiprocessingExecutor& executor) {
  const int worker = run(executor, &Source::pid);
  const std::size_t count = outsized / sizeof(std::uint64_t);
  EXPECT_TRUE(intact_numbers(run(executor, &Source::numbers, count), count));
  EXPECT_EQ(run(executor, &Source::text, outsized), std::string(outsized, 't'));
  EXPECT_TRUE(intact_pieces(run(executor, &Source::pieces, std::size_t{120}, std::size_t{1} << 20), 120, 1U << 20));
  // Results that a kept reply file or the socket carry, between and after.
  EXPECT_TRUE(intact_numbers(run(executor, &Source::numbers, std::size_t{5} << 20), std::size_t{5} << 20));
  EXPECT_EQ(run(executor, &Source::text, std::size_t{1000}), std::string(1000, 't'));
  EXPECT_TRUE(intact_numbers(run(executor, &Source::numbers, count), count));
  // One worker served them all: nothing went wrong on the way.
  EXPECT_EQ(run(executor, &Source::pid), worker);
}

// This test and the next are volume tests; TwoStreamedRepliesAtOnceStayApart
// and the misbehaving replies below keep the streaming path under
// ThreadSanitizer.
TEST(ProcessStream, OutsizedResultsArriveIntactAndTheWorkerStays) {
  CONNECTORS_SKIP_VOLUME_TEST_UNDER_THREAD_SANITIZER();
  MultiprocessingExecutor executor{1};
  expect_streamed_results_intact(executor);
}

// Where the caller may not read the worker's memory (ptrace rules, seccomp),
// the same bytes come through the socket.
TEST(ProcessStream, OutsizedResultsArriveIntactThroughTheSocketAlone) {
  CONNECTORS_SKIP_VOLUME_TEST_UNDER_THREAD_SANITIZER();
  connectors::detail::read_worker_memory(false);
  MultiprocessingExecutor executor{1};
  expect_streamed_results_intact(executor);
  connectors::detail::read_worker_memory(true);
}

// Concurrent streamed replies from two workers do not mix.
TEST(ProcessStream, TwoStreamedRepliesAtOnceStayApart) {
  MultiprocessingExecutor executor{2};
  auto call = [&](int value) -> Task<bool> {
    Source source;
    source.value = value;
    const std::size_t count = outsized / sizeof(std::uint64_t);
    const std::vector<std::uint64_t> result =
        co_await executor.run_method(Parallelization::PROCESS, &Source::numbers, source, count);
    bool intact = result.size() == count;
    for (std::size_t i = 0; intact && i < count; ++i) intact = result[i] == static_cast<std::uint64_t>(value) + i;
    co_return intact;
  };
  auto main = [&]() -> Task<std::vector<bool>> {
    std::vector<Task<bool>> calls;
    for (int value = 0; value < 4; ++value) calls.push_back(call(value * 1000));
    co_return co_await connectors::gather(std::move(calls));
  };
  const std::vector<bool> intact = executor.run_coroutine(main());
  ASSERT_EQ(intact.size(), 4U);
  for (std::size_t i = 0; i < intact.size(); ++i) EXPECT_TRUE(intact[i]) << "call " << i;
}

TEST(ProcessStream, AWorkerDyingInTheMiddleOfItsReplyIsAWorkerError) {
  MultiprocessingExecutor executor{1};
  std::string message = worker_error(executor, &Source::mischief, int{Mischief::abort_midway}, outsized);
  EXPECT_NE(message.find("SIGABRT"), std::string::npos) << message;
  message = worker_error(executor, &Source::mischief, int{Mischief::exit_midway}, outsized);
  EXPECT_NE(message.find("exited with code 3"), std::string::npos) << message;
  EXPECT_EQ(run(executor, &Source::mischief, int{Mischief::none}, outsized).bulk.size(), outsized);
}

TEST(ProcessStream, AFailureToSaveTheRestOfAReplyIsTheMethodsException) {
  MultiprocessingExecutor executor{1};
  const int worker = run(executor, &Source::pid);
  try {
    run(executor, &Source::mischief, int{Mischief::throw_midway}, outsized);
    ADD_FAILURE() << "no RemoteError";
  } catch (const RemoteError& error) {
    EXPECT_EQ(error.message(), "cannot save the rest");
  }
  // The worker said what happened and stays.
  EXPECT_EQ(run(executor, &Source::pid), worker);
  EXPECT_EQ(run(executor, &Source::mischief, int{Mischief::none}, outsized).bulk.size(), outsized);
}

TEST(ProcessStream, AHangInTheMiddleOfAReplyEndsAtTheCallTimeout) {
  MultiprocessingExecutor executor{1};
  executor.set_call_timeout(std::chrono::milliseconds{1000});
  const std::string message = worker_error(executor, &Source::mischief, int{Mischief::sleep_midway}, outsized);
  EXPECT_NE(message.find("call timeout"), std::string::npos) << message;
  executor.set_call_timeout(std::nullopt);
  EXPECT_EQ(run(executor, &Source::mischief, int{Mischief::none}, outsized).bulk.size(), outsized);
}

// The worker of a streamed reply waits for its caller to begin reading; that
// wait is not the call's time, up to one more timeout. Here the caller's
// thread is busy for 1.5 timeouts while the reply waits (as it is while it
// reads another streamed reply); before, the call timed out and its worker
// was killed. (Long enough for the reading under the sanitizers.)
TEST(ProcessStream, AReplyWaitingForItsCallerToBeginReadingDoesNotTimeOut) {
  MultiprocessingExecutor executor{2};
  const auto timeout = std::chrono::milliseconds{3000};
  executor.set_call_timeout(timeout);
  Source source;
  Source other;
  auto outsized_call = [&]() -> Task<std::size_t> {
    const std::vector<std::uint64_t> result = co_await executor.run_method(Parallelization::PROCESS, &Source::numbers,
                                                                           source, outsized / sizeof(std::uint64_t));
    co_return result.size();
  };
  auto main = [&]() -> Task<std::size_t> {
    connectors::Future<std::size_t> waiting = executor.get_event_loop()->create_task(outsized_call());
    // A round trip to the other worker: the loop has started the outsized
    // call (it was scheduled first) and its worker is computing.
    co_await executor.run_method(Parallelization::PROCESS, &Source::pid, other);
    std::this_thread::sleep_for(timeout * 3 / 2);
    co_return co_await waiting;
  };
  EXPECT_EQ(executor.run_coroutine(main()), outsized / sizeof(std::uint64_t));
  executor.set_call_timeout(std::nullopt);
}

TEST(ProcessStream, StrayBytesInTheMiddleOfAReplyAreAWorkerError) {
  MultiprocessingExecutor executor{1};
  const int worker = run(executor, &Source::pid);
  const std::string message = worker_error(executor, &Source::mischief, int{Mischief::stray_midway}, outsized);
  EXPECT_NE(message.find("other than its reply"), std::string::npos) << message;
  EXPECT_NE(run(executor, &Source::pid), worker);
}

// A caller that gives up reading (its result's load throws) gets its error;
// the worker, still sending, is replaced.
TEST(ProcessStream, ACallerThatStopsReadingGetsItsErrorAndTheWorkerIsReplaced) {
  MultiprocessingExecutor executor{1};
  const int worker = run(executor, &Source::pid);
  try {
    run(executor, &Source::mischief, int{Mischief::refuse_on_load}, outsized);
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& error) {
    EXPECT_STREQ(error.what(), "cannot load here");
  }
  EXPECT_NE(run(executor, &Source::pid), worker);
  EXPECT_EQ(run(executor, &Source::mischief, int{Mischief::none}, outsized).bulk.size(), outsized);
}

TEST(ProcessStream, AStreamedReplyLargerThanTheAcceptedSizeFailsTheCall) {
  MultiprocessingExecutor executor{1};
  connectors::WorkerLimits limits;
  limits.max_reply_size = std::size_t{90} << 20;
  executor.set_worker_limits(limits);
  const std::string message = worker_error(executor, &Source::text, outsized);
  EXPECT_NE(message.find("max_reply_size"), std::string::npos) << message;
  EXPECT_EQ(run(executor, &Source::text, std::size_t{1000}).size(), 1000U);
}

// A result whose size tag comes in one chunk and whose bytes in the next: the
// size past max_reply_size is refused before the caller's load allocates for
// it (a string's resize writes all of it), so the caller's memory stays low.
TEST(ProcessStream, AnOversizedStringIsRefusedBeforeTheCallerAllocatesIt) {
  // The peak is reset (Linux 4.0 and later) so that earlier tests' do not count.
  if (!connectors::testing::reset_peak_memory()) GTEST_SKIP() << "no /proc/self/clear_refs";
  MultiprocessingExecutor executor{1};
  connectors::WorkerLimits limits;
  limits.max_reply_size = std::size_t{16} << 20;
  executor.set_worker_limits(limits);
  run(executor, &Source::pid);
  connectors::testing::reset_peak_memory();
  const std::size_t resident_before = connectors::testing::status_bytes("VmRSS:");
  const std::string message = worker_error(executor, &Source::text, std::size_t{512} << 20);
  EXPECT_NE(message.find("max_reply_size"), std::string::npos) << message;
  const std::size_t peak = connectors::testing::peak_memory();
  ASSERT_GT(peak, 0U);
  EXPECT_LT(peak, resident_before + (std::size_t{128} << 20)) << "the caller allocated for the refused reply";
}

// Streaming leaves nothing behind: no descriptor, no reply file.
TEST(ProcessStream, NoDescriptorOutlivesAStreamedReply) {
  {
    MultiprocessingExecutor warm_up{1};
    run(warm_up, &Source::pid);
  }
  const std::size_t fds_before = connectors::testing::open_fd_count();
  {
    MultiprocessingExecutor executor{1};
    for (int i = 0; i < 3; ++i) EXPECT_EQ(run(executor, &Source::text, outsized).size(), outsized);
    worker_error(executor, &Source::mischief, int{Mischief::abort_midway}, outsized);
  }
  EXPECT_EQ(connectors::testing::reply_file_descriptors(), 0U);
  EXPECT_EQ(connectors::testing::open_fd_count(), fds_before);
}

}  // namespace
