// Started by test_process_hostile: a program that has a pipe open when it
// calls init, which no worker may inherit (docs/processes.md, "A fork server
// started by init").
//   (no argument)        - as it is
//   refuse_close_range   - a seccomp filter makes close_range fail with ENOSYS
//                          first, as an old kernel or a container profile does
//   refuse_close_range_and_proc - and opening a directory fail with EACCES,
//                          as where /proc is not mounted
// Exit code: 0 when a worker holds none of the pipe's ends; otherwise the sum
// of 1 (a worker holds one), 2 (the call failed), 8 (the filter did not take),
// 16 (setting up failed).
#include <connectors/connectors.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cereal/types/string.hpp>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>

namespace {

// What /proc/self/fd/N names ("pipe:[inode]"), or "" when nothing is open there.
std::string link_of(int fd) {
  char link[128];
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  const ssize_t length = ::readlink(path.c_str(), link, sizeof link - 1);
  return length > 0 ? std::string{link, static_cast<std::size_t>(length)} : std::string{};
}

// Asks, in the worker, whether descriptor `fd` is the program's pipe: a
// number alone could be one the worker opened itself.
struct Probe {
  int fd = -1;
  std::string target;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(fd, target);
  }
  bool inherited() const { return link_of(fd) == target; }
};

bool refuse(bool directories_too) {
  const unsigned refused_openat = directories_too ? __NR_openat : ~0U;
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_close_range, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, refused_openat, 0, 3),
      // openat's flags, the low half of its third argument (little-endian)
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args) + 2 * sizeof(std::uint64_t)),
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, O_DIRECTORY, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EACCES & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog program{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return false;
  return ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  int ends[2];
  if (::pipe(ends) != 0) return 16;
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "refuse_close_range" || mode == "refuse_close_range_and_proc") {
    const bool directories_too = mode == "refuse_close_range_and_proc";
    // The last resort closes every number below the limit: keep it short.
    const rlimit limit{256, 256};
    if (directories_too && ::setrlimit(RLIMIT_NOFILE, &limit) != 0) return 16;
    if (!refuse(directories_too)) return 16;
    const int spare = ::dup(ends[0]);
    if (spare < 0) return 16;
    bool refused = ::close_range(static_cast<unsigned>(spare), static_cast<unsigned>(spare), 0) != 0 && errno == ENOSYS;
    ::close(spare);
    if (directories_too) refused = refused && ::opendir("/proc/self/fd") == nullptr && errno == EACCES;
    if (!refused) return 8;
  }
  connectors::init(argc, argv);
  int failures = 0;
  {
    connectors::MultiprocessingExecutor executor{1};
    for (const int end : ends) {
      const Probe probe{end, link_of(end)};
      if (probe.target.empty()) return 16;
      auto call = [&]() -> connectors::Task<bool> {
        co_return co_await executor.run_method(connectors::Parallelization::PROCESS, &Probe::inherited, probe);
      };
      try {
        if (executor.run_coroutine(call())) failures |= 1;
      } catch (...) {
        failures |= 2;
      }
    }
  }
  return failures;
}
