// Started by test_process_hostile with descriptors 0, 1 and 2 closed: none of
// the library's descriptors may take those numbers, in the program or in a
// worker, or the program's own writes to stderr would go into them. Reports
// through its exit code: 0 all well, otherwise the sum of what went wrong.
#include <connectors/connectors.hpp>

#include <unistd.h>

#include <string>

namespace {

// Whether descriptor `fd` is one of the library's kinds (socket, eventfd,
// signalfd, memory file); sanitizer runtimes may open plain files there.
bool library_kind(int fd) {
  char link[128];
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  const ssize_t length = ::readlink(path.c_str(), link, sizeof link - 1);
  if (length <= 0) return false;
  const std::string target{link, static_cast<std::size_t>(length)};
  return target.rfind("socket:", 0) == 0 || target.rfind("anon_inode:", 0) == 0 || target.rfind("/memfd:", 0) == 0;
}

bool any_low_library_descriptor() { return library_kind(0) || library_kind(1) || library_kind(2); }

struct Probe {
  template <class Archive>
  void serialize(Archive&) {}
  bool low_descriptors() const { return any_low_library_descriptor(); }
  std::string large() const { return std::string(4U << 20, 'x'); }  // travels in a reply file
};

}  // namespace

int main(int argc, char** argv) {
  connectors::init(argc, argv);
  int failures = 0;
  {
    connectors::MultiprocessingExecutor executor{1};
    Probe probe;
    auto call = [&]() -> connectors::Task<bool> {
      const std::string large =
          co_await executor.run_method(connectors::Parallelization::PROCESS, &Probe::large, probe);
      if (large.size() != (4U << 20)) co_return true;
      co_return co_await executor.run_method(connectors::Parallelization::PROCESS, &Probe::low_descriptors, probe);
    };
    try {
      if (executor.run_coroutine(call())) failures += 2;
    } catch (...) {
      failures += 4;
    }
    if (any_low_library_descriptor()) failures += 1;
  }
  return failures;
}
