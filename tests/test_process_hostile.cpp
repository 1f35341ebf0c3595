// Methods that turn against the machinery (issue 11): whatever a method does
// to its worker's socket, descriptors or process, the caller gets its own
// result or a WorkerError, and the executor keeps working. See
// docs/processes.md, "What a misbehaving method cannot do".
#include "process_support.hpp"
#include "sanitizers.hpp"
// The frame layout and the running call's id, to play a method that forges
// whole frames, as a hostile one could (it can read its own worker's memory).
#include "../src/fork_server.hpp"

#include <connectors/connectors.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <exception>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

using connectors::testing::peak_memory;
using connectors::testing::reset_peak_memory;
using connectors::testing::status_bytes;

using connectors::MultiprocessingExecutor;
using connectors::Parallelization;
using connectors::Task;
using connectors::WorkerError;

// The worker's connection to the parent: its socket (the highest one, in case
// the program's own standard streams are sockets).
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

// Sends `bytes` on the worker's socket, with `fd` attached if it is >= 0.
void send_on_socket(const void* bytes, std::size_t size, int fd = -1) {
  iovec part{const_cast<void*>(bytes), size};
  msghdr message{};
  message.msg_iov = &part;
  message.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (fd >= 0) {
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    cmsghdr* header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(header), &fd, sizeof fd);
  }
  ::sendmsg(worker_socket(), &message, MSG_NOSIGNAL);
}

// The size of the largest reply file process `pid` holds a descriptor of.
std::size_t largest_reply_file(int pid) {
  std::size_t largest = 0;
  for (int fd = 0; fd < 1024; ++fd) {
    const std::string path = "/proc/" + std::to_string(pid) + "/fd/" + std::to_string(fd);
    char link[256];
    const ssize_t length = ::readlink(path.c_str(), link, sizeof link - 1);
    if (length <= 0 ||
        std::string{link, static_cast<std::size_t>(length)}.find("connectors-reply") == std::string::npos)
      continue;
    struct stat status {};
    if (::stat(path.c_str(), &status) == 0) largest = std::max(largest, static_cast<std::size_t>(status.st_size));
  }
  return largest;
}

using connectors::detail::FrameHeader;

// In the worker: the child of a fork in a method, waiting to return from it
// too, and the pipe that lets it (Hostile::fork_returning_later).
int child_release = -1;
pid_t waiting_child = -1;

// A result whose saving, in the worker, first lets that child return from
// its method and waits until it has ended: whatever the child writes into
// the worker's reply files then lies under this reply while it is written.
struct Gated {
  std::vector<char> bytes;
  template <class Archive>
  void save(Archive& archive) const {
    archive(bytes);
    if (child_release < 0) return;
    const char go = 1;
    [[maybe_unused]] const ssize_t written = ::write(child_release, &go, 1);
    ::close(child_release);
    child_release = -1;
    ::waitpid(waiting_child, nullptr, 0);
  }
  template <class Archive>
  void load(Archive& archive) {
    archive(bytes);
  }
};

struct Hostile {
  template <class Archive>
  void serialize(Archive& archive) {
    archive(value);
  }
  int value = 0;

  int identity(int x) const { return x; }
  int pid() const { return static_cast<int>(::getpid()); }

  // Sixteen bytes that read as a frame header claiming `size` bytes.
  int stray_header(std::uint64_t size) const {
    const std::uint64_t words[2] = {size, 0};
    send_on_socket(words, sizeof words);
    return 5;
  }

  // Both processes return: the fork's child is a second worker on one socket,
  // answering a little later than its parent (while later calls run).
  int fork_and_return(int x) const {
    if (::fork() == 0) std::this_thread::sleep_for(std::chrono::milliseconds{100});
    return x;
  }
  int slow_identity(int x) const {
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
    return x;
  }

  // A reply file that claims 4 GiB but holds no page (sparse), sealed as the
  // real ones are, offered with a header that says "the reply is in it".
  int forged_sparse_file() const {
    const int file = ::memfd_create("forged", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    [[maybe_unused]] const int grown = ::ftruncate(file, std::int64_t{4} << 30);
    ::fcntl(file, F_ADD_SEALS, F_SEAL_SHRINK);
    const std::uint64_t words[2] = {std::uint64_t{4} << 30, 1 | 4};  // in a reply file, attached
    send_on_socket(words, sizeof words, file);
    ::close(file);
    return 6;
  }

  // Memory the worker keeps for good (until it is replaced).
  int hoard(std::size_t bytes) const {
    static std::vector<std::vector<char>> hoarded;
    hoarded.emplace_back(bytes, 'h');
    return static_cast<int>(hoarded.size());
  }
  // Memory the worker touches and frees again before it returns.
  int spike(std::size_t bytes) const {
    std::vector<char> memory(bytes, 's');
    return memory[bytes / 2];
  }
  std::size_t resident_memory() const { return status_bytes("VmRSS:"); }
  std::string text(std::size_t bytes) const { return std::string(bytes, 't'); }

  // Whole reply frames with the right call id, as only a method reading its
  // worker's memory could forge: a socket reply claiming 2^62 bytes, and a
  // sparse 4 GiB reply file.
  int forged_socket_frame() const {
    const FrameHeader header{connectors::detail::current_call_id(), std::uint64_t{1} << 62, 0, 0, 0};
    send_on_socket(&header, sizeof header);
    return 5;
  }
  int forged_file_frame() const {
    const int file = ::memfd_create("connectors-reply", MFD_CLOEXEC);
    [[maybe_unused]] const int grown = ::ftruncate(file, std::int64_t{4} << 30);
    const FrameHeader header{connectors::detail::current_call_id(), std::uint64_t{4} << 30,
                             FrameHeader::in_reply_file | FrameHeader::file_attached, 0, 0};
    send_on_socket(&header, sizeof header, file);
    ::close(file);
    return 6;
  }

  std::vector<char> filled(std::size_t bytes, char fill) const { return std::vector<char>(bytes, fill); }
  // Forks a child that returns from this method too (a forgotten _exit), with
  // `bytes` of 'C', once a later reply lets it (Gated).
  std::vector<char> fork_returning_later(std::size_t bytes) const {
    int ends[2];
    if (::pipe(ends) != 0) return {'!'};
    const pid_t child = ::fork();
    if (child == 0) {
      ::close(ends[1]);
      char go = 0;
      [[maybe_unused]] const ssize_t got = ::read(ends[0], &go, 1);
      return std::vector<char>(bytes, 'C');
    }
    ::close(ends[0]);
    child_release = ends[1];
    waiting_child = child;
    return {};
  }
  Gated gated(std::size_t bytes) const { return Gated{std::vector<char>(bytes, 'Q')}; }
  // Caps the worker's address space a little above what it uses now.
  int cap_address_space(std::size_t headroom) const {
    const std::size_t size = status_bytes("VmSize:");
    if (size == 0) return 0;
    const rlimit limit{size + headroom, size + headroom};
    return ::setrlimit(RLIMIT_AS, &limit) == 0 ? 1 : 0;
  }
  std::size_t length(const std::string& text) const { return text.size(); }
  // Meets every other call of a test in its worker: each says it arrived,
  // then waits until the test lets them all go (named semaphores, since the
  // workers were forked before the test made them).
  int meet(const std::string& arrived_name, const std::string& release_name) const {
    sem_t* arrived = ::sem_open(arrived_name.c_str(), 0);
    sem_t* release = ::sem_open(release_name.c_str(), 0);
    if (arrived == SEM_FAILED || release == SEM_FAILED) return 0;
    ::sem_post(arrived);
    while (::sem_wait(release) != 0 && errno == EINTR) {
    }
    ::sem_close(arrived);
    ::sem_close(release);
    return 1;
  }
  int call_init() const {
    char name[] = "worker";
    char* arguments[] = {name, nullptr};
    connectors::init(1, arguments);
    return 1;
  }

  // Closes every descriptor from 3 on, the worker's socket included.
  int close_everything() const {
    ::close_range(3, ~0U, 0);
    return 9;
  }
};

template <class Method, class... Args>
auto run(MultiprocessingExecutor& executor, Method method, Args... args) {
  Hostile hostile;
  auto main = [&]() -> Task<decltype(std::invoke(method, hostile, args...))> {
    co_return co_await executor.run_method(Parallelization::PROCESS, method, hostile, args...);
  };
  return executor.run_coroutine(main());
}

template <class Method, class... Args>
std::string worker_error(MultiprocessingExecutor& executor, Method method, Args... args) {
  try {
    const auto value = run(executor, method, args...);
    return "(no WorkerError; the call returned " + std::to_string(value) + ")";
  } catch (const WorkerError& error) {
    return error.what();
  }
}

// Item 1: the parent used to allocate whatever size a header claimed, on the
// supervisor thread, and died of std::bad_alloc.
TEST(ProcessHostile, StrayBytesOnTheSocketAreAWorkerErrorForThatCallOnly) {
  MultiprocessingExecutor executor{1};
  for (const std::uint64_t claimed : {std::uint64_t{1} << 62, std::uint64_t{64} << 30}) {
    const std::string message = worker_error(executor, &Hostile::stray_header, claimed);
    EXPECT_NE(message.find("connectors: the worker process"), std::string::npos) << message;
    EXPECT_EQ(run(executor, &Hostile::identity, 11), 11);
  }
}

// Item 2: after a fork in a method, two processes read requests from and
// write replies to one socket; a reply must never be taken for another call's.
TEST(ProcessHostile, AForkInAMethodNeverGivesACallAnotherCallsResult) {
  MultiprocessingExecutor executor{1};
  EXPECT_EQ(run(executor, &Hostile::fork_and_return, 1000), 1000);
  int wrong = 0;
  int failed = 0;
  for (int i = 0; i < 20; ++i) {
    try {
      const int value = run(executor, &Hostile::slow_identity, i);
      if (value != i) ++wrong;
    } catch (const WorkerError&) {
      ++failed;
    }
  }
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(run(executor, &Hostile::identity, 77), 77);
  // The fork's child returned from the method too, but must not answer.
  EXPECT_EQ(failed, 0);
}

// The child of that fork shared the worker's reply files (their mappings and
// descriptors): its result, written there before it learnt that it must not
// answer, overwrote the reply a later call was writing, which that call's
// caller then read as its result (16 MiB of 'C' in 48 MiB of 'Q').
TEST(ProcessHostile, AForkedChildReturningFromAMethodWritesNothingIntoTheReplyFiles) {
  MultiprocessingExecutor executor{1};
  constexpr std::size_t kept = std::size_t{64} << 20;
  EXPECT_EQ(run(executor, &Hostile::filled, kept, 'P').size(), kept);  // the worker keeps a file this large
  EXPECT_TRUE(run(executor, &Hostile::fork_returning_later, std::size_t{16} << 20).empty());
  constexpr std::size_t size = std::size_t{48} << 20;
  const Gated reply = run(executor, &Hostile::gated, size);
  EXPECT_EQ(reply.bytes.size(), size);
  EXPECT_EQ(static_cast<std::size_t>(std::count(reply.bytes.begin(), reply.bytes.end(), 'Q')), size);
  EXPECT_EQ(run(executor, &Hostile::identity, 78), 78);
}

// The worker's own loop failing between methods (here: no memory for the next
// request, once a method capped the address space) unwound out of
// connectors::init into the program's main, which ran on in the worker (here
// it ended in std::terminate: "killed by SIGABRT").
TEST(ProcessHostile, AWorkerLoopFailingBetweenMethodsEndsThatWorkerOnly) {
  if (connectors::testing::under_address_sanitizer || connectors::testing::under_thread_sanitizer) {
    GTEST_SKIP() << "the sanitizers reserve more address space than any cap leaves";
  }
  MultiprocessingExecutor executor{1};
  EXPECT_EQ(run(executor, &Hostile::cap_address_space, std::size_t{16} << 20), 1);
  const std::string message = worker_error(executor, &Hostile::length, std::string(std::size_t{64} << 20, 'x'));
  EXPECT_NE(message.find("library's own code"), std::string::npos) << message;
  EXPECT_EQ(run(executor, &Hostile::identity, 79), 79);  // a fresh worker
}

// A worker is forked while init holds its lock: a method calling init (a
// library initialising itself on first use, say) waited for that lock for
// ever (here: until the call timeout killed the worker).
TEST(ProcessHostile, InitCalledInAWorkerThrowsInsteadOfWaitingForEver) {
  MultiprocessingExecutor executor{1};
  executor.set_call_timeout(std::chrono::seconds{30});
  try {
    run(executor, &Hostile::call_init);
    ADD_FAILURE() << "init returned in a worker";
  } catch (const connectors::RemoteError& error) {
    EXPECT_EQ(error.type_name(), "std::logic_error");
    EXPECT_NE(error.message().find("worker process"), std::string::npos) << error.message();
  }
  EXPECT_EQ(run(executor, &Hostile::identity, 80), 80);
}

// Item 3: a sparse 4 GiB file used to be mapped populated by the supervisor
// thread (4 GiB in the parent, seconds of stall) and decoded as the result.
TEST(ProcessHostile, AForgedSparseReplyFileIsRefusedWithoutTouchingItsPages) {
  MultiprocessingExecutor executor{1};
  EXPECT_EQ(run(executor, &Hostile::identity, 1), 1);
  reset_peak_memory();
  const std::size_t peak_before = peak_memory();
  const std::string message = worker_error(executor, &Hostile::forged_sparse_file);
  EXPECT_NE(message.find("connectors: the worker process"), std::string::npos) << message;
  EXPECT_LT(peak_memory(), peak_before + (256U << 20));
  EXPECT_EQ(run(executor, &Hostile::identity, 2), 2);
}

// Items 1 and 3 with frames that carry the right call id: the parent checks
// what a header claims against what the worker can have written before it
// allocates, maps or reads anything.
TEST(ProcessHostile, ForgedFramesWithTheRightCallIdAreRefusedBeforeAnythingIsAllocated) {
  MultiprocessingExecutor executor{1};
  EXPECT_EQ(run(executor, &Hostile::identity, 1), 1);
  reset_peak_memory();
  const std::size_t peak_before = peak_memory();
  std::string message = worker_error(executor, &Hostile::forged_socket_frame);
  EXPECT_NE(message.find("through its socket"), std::string::npos) << message;
  message = worker_error(executor, &Hostile::forged_file_frame);
  EXPECT_NE(message.find("forged reply file"), std::string::npos) << message;
  EXPECT_LT(peak_memory(), peak_before + (64U << 20));
  EXPECT_EQ(run(executor, &Hostile::identity, 2), 2);
}

// Item 8: an outsized result is copied once into the caller's result (no
// second copy, no mapping of the worker's file), and the worker does not keep
// a file of its size afterwards.
TEST(ProcessHostile, AnOutsizedResultCostsTheCallerOneCopyAndTheWorkerNothingAfterwards) {
  CONNECTORS_SKIP_VOLUME_TEST_UNDER_THREAD_SANITIZER();
  MultiprocessingExecutor executor{1};
  const int worker = run(executor, &Hostile::pid);
  const std::size_t size = std::size_t{256} << 20;
  // What the result itself costs here (a sanitizer's shadow memory included).
  reset_peak_memory();
  std::size_t peak_before = peak_memory();
  {
    const std::string built_here = Hostile{}.text(size);
    EXPECT_EQ(built_here.find_first_not_of('t'), std::string::npos);
  }
  const std::size_t direct_growth = peak_memory() - peak_before;
  reset_peak_memory();
  peak_before = peak_memory();
  {
    const std::string result = run(executor, &Hostile::text, size);
    EXPECT_EQ(result.size(), size);
    EXPECT_EQ(result.find_first_not_of('t'), std::string::npos);
  }
  const std::size_t growth = peak_memory() - peak_before;
  // The measurement is meaningful: the direct result raised the peak by about
  // its size (a few pages of it may land in memory that was resident before).
  EXPECT_GE(direct_growth, size - (std::size_t{1} << 20));
  EXPECT_LE(static_cast<double>(growth), 1.1 * static_cast<double>(direct_growth)) << growth << " vs " << direct_growth;
  EXPECT_EQ(run(executor, &Hostile::pid), worker);
  EXPECT_LE(largest_reply_file(worker), connectors::detail::reply_file_keep_limit);
  EXPECT_LE(largest_reply_file(static_cast<int>(::getpid())), connectors::detail::reply_file_keep_limit);
  // A result the worker may keep a file for still arrives intact, twice.
  for (int i = 0; i < 2; ++i)
    EXPECT_EQ(run(executor, &Hostile::text, std::size_t{40} << 20), std::string(40U << 20, 't'));
}

// Item 9: a worker whose method closed its socket used to be reported as
// having "exited with code 0".
TEST(ProcessHostile, AMethodClosingTheWorkersConnectionIsReportedAsSuch) {
  MultiprocessingExecutor executor{1};
  const std::string message = worker_error(executor, &Hostile::close_everything);
  EXPECT_NE(message.find("closed its connection to the parent"), std::string::npos) << message;
  EXPECT_EQ(run(executor, &Hostile::identity, 3), 3);
}

// A worker started while this process has no descriptor free: its socket is
// dropped on the way (MSG_CTRUNC), and the call used to fail with "could not
// start a worker process: Success".
TEST(ProcessHostile, AWorkerWhoseSocketFindsNoFreeDescriptorIsReportedSo) {
  MultiprocessingExecutor executor{1};
  connectors::WorkerLimits limits;
  limits.recycle_after_calls = 1;  // every call starts a worker
  executor.set_worker_limits(limits);
  EXPECT_EQ(run(executor, &Hostile::identity, 1), 1);
  // Its worker is replaced after the call: gone (its socket closed) first.
  while (!executor.worker_process_ids().empty()) std::this_thread::yield();
  const int own = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(own, 0);
  std::vector<int> held{own};
  for (int fd = 0; (fd = ::dup(own)) >= 0;) held.push_back(fd);  // none left
  std::exception_ptr failure;
  try {
    run(executor, &Hostile::identity, 2);
  } catch (...) {
    failure = std::current_exception();  // looked at once descriptors are free (UBSan's checks need one)
  }
  for (int fd : held) ::close(fd);
  ASSERT_TRUE(failure);
  std::string message;
  try {
    std::rethrow_exception(failure);
  } catch (const WorkerError& error) {
    message = error.what();
  }
  EXPECT_EQ(message.find("Success"), std::string::npos) << message;
  EXPECT_NE(message.find("no descriptor was free"), std::string::npos) << message;
  EXPECT_EQ(run(executor, &Hostile::identity, 3), 3);
}

// Hundreds of workers stopped at once (here: an executor destroyed with 800
// of them): the supervisor sent a kill for each without reading its control
// socket, while the fork server sent an exit report for each one it reaped;
// once the socket was full both ways, both waited in send for ever and the
// executor's destructor never returned.
TEST(ProcessHostile, HundredsOfWorkersStoppedAtOnceDoNotJamTheForkServer) {
  CONNECTORS_SKIP_VOLUME_TEST_UNDER_THREAD_SANITIZER();
  constexpr int count = 800;
  rlimit files{};
  rlimit processes{};
  ::getrlimit(RLIMIT_NOFILE, &files);
  ::getrlimit(RLIMIT_NPROC, &processes);
  if (files.rlim_max < 2 * count) GTEST_SKIP() << "needs " << 2 * count << " descriptors";
  if (processes.rlim_cur != RLIM_INFINITY && processes.rlim_cur < 4 * count) GTEST_SKIP() << "needs processes";
  const rlimit before = files;
  files.rlim_cur = std::max<rlim_t>(files.rlim_cur, 2 * count);
  ::setrlimit(RLIMIT_NOFILE, &files);
  const std::string prefix = "/connectors-test-" + std::to_string(::getpid());
  const std::string arrived_name = prefix + "-arrived";
  const std::string release_name = prefix + "-release";
  ::sem_unlink(arrived_name.c_str());  // left by a run that was killed, in a container reusing pids
  ::sem_unlink(release_name.c_str());
  sem_t* arrived = ::sem_open(arrived_name.c_str(), O_CREAT | O_EXCL, 0600, 0);
  sem_t* release = ::sem_open(release_name.c_str(), O_CREAT | O_EXCL, 0600, 0);
  ASSERT_NE(arrived, SEM_FAILED);
  ASSERT_NE(release, SEM_FAILED);
  // Lets the calls go once all have arrived, or once none has arrived for a
  // minute or the test ends (a call that failed never arrives, and the others
  // must not wait for it for ever).
  std::atomic<bool> ending{false};
  std::thread host{[&] {
    int quiet = 0;
    for (int met = 0; met < count && !ending.load() && quiet < 600;) {
      timespec deadline{};
      ::clock_gettime(CLOCK_REALTIME, &deadline);
      deadline.tv_nsec += 100'000'000;
      if (deadline.tv_nsec >= 1'000'000'000) {
        ++deadline.tv_sec;
        deadline.tv_nsec -= 1'000'000'000;
      }
      if (::sem_timedwait(arrived, &deadline) == 0) {
        ++met;
        quiet = 0;
      } else {
        ++quiet;
      }
    }
    for (int let = 0; let < count; ++let) ::sem_post(release);
  }};
  struct Cleanup {
    std::function<void()> run;
    ~Cleanup() { run(); }
  } cleanup{[&] {
    ending.store(true);
    host.join();
    ::sem_close(arrived);
    ::sem_close(release);
    ::sem_unlink(arrived_name.c_str());
    ::sem_unlink(release_name.c_str());
    ::setrlimit(RLIMIT_NOFILE, &before);
  }};
  {
    MultiprocessingExecutor executor{count};
    Hostile hostile;
    std::vector<Task<int>> calls;
    for (int i = 0; i < count; ++i) {
      calls.push_back([](MultiprocessingExecutor& on, Hostile& block, std::string a, std::string r) -> Task<int> {
        co_return co_await on.run_method(Parallelization::PROCESS, &Hostile::meet, block, a, r);
      }(executor, hostile, arrived_name, release_name));
    }
    const std::vector<int> met = executor.run_coroutine(connectors::gather(std::move(calls)));
    EXPECT_EQ(std::count(met.begin(), met.end(), 1), count);
    EXPECT_EQ(executor.worker_process_ids().size(), static_cast<std::size_t>(count));
  }  // 800 kills at once
  MultiprocessingExecutor after{1};
  EXPECT_EQ(run(after, &Hostile::identity, 5), 5);  // the fork server still serves
}

// A child the program forks (without exec) has the executors' memory but not
// the supervisor's thread: destroying there an executor the program used
// waited for ever for that thread to close its pool, and init there started
// a second machinery beside the stale one (whose PROCESS calls then hung).
TEST(ProcessHostile, AChildTheProgramForksNeitherHangsOnItsExecutorsNorStartsAnotherMachinery) {
  auto* executor = new MultiprocessingExecutor{1};
  EXPECT_EQ(run(*executor, &Hostile::identity, 1), 1);
  const pid_t child = ::fork();
  if (child == 0) {
    int verdict = 0;
    try {
      char name[] = "child";
      char* arguments[] = {name, nullptr};
      connectors::init(1, arguments);
      verdict = 2;  // init went on
    } catch (const std::logic_error&) {
      verdict = executor->worker_process_ids().empty() ? 0 : 3;
    }
    delete executor;  // before: never returned
    ::_exit(verdict);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(run(*executor, &Hostile::identity, 2), 2);
  delete executor;
}

// Item 7: workers are replaced after a number of calls...
TEST(ProcessHostile, WorkersAreReplacedAfterTheConfiguredNumberOfCalls) {
  MultiprocessingExecutor executor{1};
  connectors::WorkerLimits limits;
  limits.recycle_after_calls = 3;
  executor.set_worker_limits(limits);
  EXPECT_EQ(executor.worker_limits().recycle_after_calls, std::optional<std::size_t>{3});
  std::vector<int> pids;
  for (int i = 0; i < 7; ++i) pids.push_back(run(executor, &Hostile::pid));
  EXPECT_EQ(pids[0], pids[1]);
  EXPECT_EQ(pids[0], pids[2]);
  EXPECT_NE(pids[3], pids[0]);
  EXPECT_EQ(pids[3], pids[4]);
  EXPECT_EQ(pids[3], pids[5]);
  EXPECT_NE(pids[6], pids[3]);
  EXPECT_TRUE(connectors::testing::process_ended(pids[0]));
}

// ... or after a call that leaves them above a size; that call succeeds.
TEST(ProcessHostile, AWorkerLeftAboveTheRecycleSizeIsReplacedAfterItsCall) {
  MultiprocessingExecutor executor{1};
  const std::size_t baseline = run(executor, &Hostile::resident_memory);
  connectors::WorkerLimits limits;
  limits.recycle_above_memory = baseline + (64U << 20);
  executor.set_worker_limits(limits);
  const int first = run(executor, &Hostile::pid);
  EXPECT_EQ(run(executor, &Hostile::pid), first);  // below the size: kept
  EXPECT_EQ(run(executor, &Hostile::hoard, std::size_t{128} << 20), 1);
  const int second = run(executor, &Hostile::pid);
  EXPECT_NE(second, first);
  EXPECT_EQ(run(executor, &Hostile::pid), second);
}

// A hard memory limit: the call during which the worker passes it fails, even
// when the method freed the memory again before returning; the next call
// gets a fresh worker.
TEST(ProcessHostile, ACallPassingTheMemoryLimitFailsAndTheWorkerIsReplaced) {
  MultiprocessingExecutor executor{1};
  const std::size_t baseline = run(executor, &Hostile::resident_memory);
  connectors::WorkerLimits limits;
  limits.memory_limit = baseline + (128U << 20);
  executor.set_worker_limits(limits);
  const int first = run(executor, &Hostile::pid);
  EXPECT_EQ(run(executor, &Hostile::spike, std::size_t{16} << 20), 's');  // well below: fine
  std::string message = worker_error(executor, &Hostile::spike, std::size_t{384} << 20);
  EXPECT_NE(message.find("memory limit"), std::string::npos) << message;
  const int second = run(executor, &Hostile::pid);
  EXPECT_NE(second, first);
  message = worker_error(executor, &Hostile::hoard, std::size_t{384} << 20);
  EXPECT_NE(message.find("memory limit"), std::string::npos) << message;
  EXPECT_NE(run(executor, &Hostile::pid), second);
}

// The hard limit was checked against the worker's peak since it started: once
// a limit was set (or lowered) after a larger call, the next call failed,
// blamed for memory it never used.
TEST(ProcessHostile, TheMemoryLimitCountsOnlyTheRunningCallsPeak) {
  MultiprocessingExecutor executor{1};
  const std::size_t baseline = run(executor, &Hostile::resident_memory);
  EXPECT_EQ(run(executor, &Hostile::spike, std::size_t{512} << 20), 's');  // no limit yet
  connectors::WorkerLimits limits;
  limits.memory_limit = baseline + (256U << 20);
  executor.set_worker_limits(limits);
  const int worker = run(executor, &Hostile::pid);
  EXPECT_EQ(run(executor, &Hostile::identity, 4), 4);
  EXPECT_EQ(run(executor, &Hostile::pid), worker);  // not replaced either
  // Still enforced; where the kernel does not let the peak be reset, a call
  // that stays below the earlier peak is caught only by a sample of its
  // memory taken during the spike.
  if (!reset_peak_memory()) return;
  const std::string message = worker_error(executor, &Hostile::spike, std::size_t{512} << 20);
  EXPECT_NE(message.find("memory limit"), std::string::npos) << message;
}

TEST(ProcessHostile, AReplyLargerThanTheAcceptedSizeFailsTheCall) {
  MultiprocessingExecutor executor{1};
  connectors::WorkerLimits limits;
  limits.max_reply_size = 1U << 20;
  executor.set_worker_limits(limits);
  EXPECT_EQ(run(executor, &Hostile::text, std::size_t{1000}).size(), 1000U);
  for (const std::size_t size : {std::size_t{2} << 20, std::size_t{40} << 20}) {  // socket, reply file
    try {
      run(executor, &Hostile::text, size);
      ADD_FAILURE() << "no WorkerError for " << size;
    } catch (const WorkerError& error) {
      EXPECT_NE(std::string{error.what()}.find("max_reply_size"), std::string::npos) << error.what();
    }
  }
  EXPECT_EQ(run(executor, &Hostile::text, std::size_t{1000}).size(), 1000U);
  limits.max_reply_size = 0;
  EXPECT_THROW(executor.set_worker_limits(limits), std::invalid_argument);
  EXPECT_EQ(executor.worker_limits().max_reply_size, std::optional<std::size_t>{1U << 20});
}

// Item 4: a request naming code that is not one of the library's invokers.
// This one has an invoker's signature and would answer 1234 if it were run.
void not_an_invoker(cereal::BinaryInputArchive&, cereal::BinaryOutputArchive& out) {
  out(static_cast<std::uint8_t>(0), 1234);
}

class RawJob final : public connectors::detail::ProcessJob {
 public:
  void deliver() noexcept override {}
  void discard() noexcept override {}
};

// A reply of the running call whose bytes cannot be loaded as the result
// (the status of a value, then one byte of an int's four) is the worker's
// fault, as any reply it should not have sent: WorkerError. (It was a plain
// connectors::Error, which a caller handling worker failures does not catch.)
TEST(ProcessHostile, AReplyThatCannotBeLoadedIsAWorkerError) {
  connectors::detail::ByteBuffer reply = connectors::detail::ByteBuffer::allocate(2);
  reply.data()[0] = 0;  // ReplyStatus::value
  reply.data()[1] = 9;
  try {
    (void)connectors::detail::decode_reply<int>(reply);
    ADD_FAILURE() << "a truncated reply was decoded";
  } catch (const WorkerError& error) {
    EXPECT_NE(std::string{error.what()}.find("could not load the result (int)"), std::string::npos) << error.what();
  }
}

TEST(ProcessHostile, ARequestNamingCodeOtherThanAnInvokerIsRefused) {
  std::string request;
  {
    connectors::detail::StringSink sink{request};
    std::ostream stream{&sink};
    cereal::BinaryOutputArchive out{stream};
    out(connectors::detail::locate_code(connectors::detail::function_address(&not_an_invoker)));
  }
  connectors::detail::Channel channel;
  connectors::detail::WorkerPool pool{1};
  RawJob job;
  job.request = request;
  job.channel = &channel;
  pool.submit(job);
  while (channel.take_all() == nullptr) channel.wait_for_post(std::chrono::seconds{1});
  if (job.failure) {
    EXPECT_THROW(std::rethrow_exception(job.failure), WorkerError);
  } else {
    EXPECT_THROW(connectors::detail::decode_reply<int>(job.reply), WorkerError);
  }
}

}  // namespace

#include <spawn.h>
#include <sys/wait.h>

extern char** environ;

namespace {

// Runs `program` with `argument` and returns its wait status; with
// `closed_standard_streams`, descriptors 0, 1 and 2 are closed in it.
int run_helper(const char* program, const char* argument, bool closed_standard_streams) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (closed_standard_streams) {
    for (int fd = 0; fd < 3; ++fd) posix_spawn_file_actions_addclose(&actions, fd);
  }
  char* arguments[] = {const_cast<char*>(program), const_cast<char*>(argument), nullptr};
  pid_t helper = 0;
  const int error = ::posix_spawn(&helper, program, &actions, nullptr, arguments, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) return -1;
  int status = 0;
  while (::waitpid(helper, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

std::string describe(int status) {
  if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

// Item 5: a program started with stdin, stdout and stderr closed.
TEST(ProcessHostile, LibraryDescriptorsNeverTakeTheStandardStreamNumbers) {
  const int status = run_helper(CONNECTORS_STDIO_HELPER, "", true);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << describe(status);
}

// Workers inherit nothing the program had open at init: a pipe stays the
// program's, also where close_range is refused (an old kernel, a seccomp
// profile), which left every descriptor open in the fork server and workers.
TEST(ProcessHostile, WorkersInheritNoDescriptorOfTheProgram) {
  const int status = run_helper(CONNECTORS_DESCRIPTOR_HELPER, "", false);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << describe(status);
}

// Where the helper cannot install its seccomp filter (another architecture,
// a kernel without seccomp): nothing to test.
#define CONNECTORS_SKIP_WITHOUT_SECCOMP(status)                                                  \
  if (WIFEXITED(status) && (WEXITSTATUS(status) == 8 || WEXITSTATUS(status) == 16)) {            \
    GTEST_SKIP() << "the helper could not refuse close_range here (" << describe(status) << ")"; \
  }

TEST(ProcessHostile, WorkersInheritNoDescriptorOfTheProgramWhereCloseRangeIsRefused) {
  const int status = run_helper(CONNECTORS_DESCRIPTOR_HELPER, "refuse_close_range", false);
  CONNECTORS_SKIP_WITHOUT_SECCOMP(status)
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << describe(status);
}

TEST(ProcessHostile, WorkersInheritNoDescriptorOfTheProgramWithoutCloseRangeOrProc) {
  const int status = run_helper(CONNECTORS_DESCRIPTOR_HELPER, "refuse_close_range_and_proc", false);
  CONNECTORS_SKIP_WITHOUT_SECCOMP(status)
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << describe(status);
}

#ifdef CONNECTORS_MEMORY_HELPER
// The program's first PROCESS call with memory exhausted from its Nth
// allocation on, for every N until the call needs no more: it fails with an
// exception, never ends the program. Before, making the supervisor failed
// and its error message could not be built (std::terminate, noexcept).
TEST(ProcessHostile, TheFirstCallWithMemoryExhaustedFailsWithAnException) {
  int n = 0;
  for (; n < 500; ++n) {
    const std::string failing_from = std::to_string(n);
    const int status = run_helper(CONNECTORS_MEMORY_HELPER, failing_from.c_str(), false);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) <= 1)
        << "failing from allocation " << n << ": " << describe(status);
    if (WEXITSTATUS(status) == 0) break;
  }
  EXPECT_GT(n, 0);
  EXPECT_LT(n, 500);
}
#endif

// Item 6: a program that reaps "all its children" must not wait for ours.
TEST(ProcessHostile, AWaitLoopInTheProgramSeesNoneOfTheLibrarysProcesses) {
  const int status = run_helper(CONNECTORS_CHILD_HELPER, "wait", false);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << describe(status);
}

// Item 6: init reaps the intermediate process it starts the fork server
// through, also in a program that ignores SIGCHLD (nothing to reap then).
TEST(ProcessHostile, InitWorksInAProgramThatIgnoresChildSignals) {
  const int status = run_helper(CONNECTORS_CHILD_HELPER, "ignore_sigchld", false);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << describe(status);
}

// A fork server that cannot be forked in a program that ignores SIGCHLD:
// init throws std::system_error and initialized() stays false (init
// returned as if it had started, and every PROCESS call failed).
TEST(ProcessHostile, AnInitThatCannotStartTheForkServerSaysSo) {
  const int status = run_helper(CONNECTORS_CHILD_HELPER, "server_fork_fails", false);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 77) GTEST_SKIP() << "needs root (setuid, a process limit)";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << describe(status);
}

// A child the program forks (without exec) after THREAD calls has the
// default executor's pool but none of its threads: its THREAD calls run on
// its own thread (they waited for ever for workers that did not exist).
TEST(ProcessHostile, ThreadCallsInAChildForkedAfterThePoolStartedRunInline) {
  const int status = run_helper(CONNECTORS_CHILD_HELPER, "thread_after_fork", false);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << describe(status);
}

// Item 6: the machinery lives as long as the process, not as the thread that
// called init.
TEST(ProcessHostile, WorkersOutliveTheMainThreadEndingWithPthreadExit) {
  const int status = run_helper(CONNECTORS_CHILD_HELPER, "pthread_exit", false);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << describe(status);
}

}  // namespace
