#pragma once

// A hang must not block CI: every operation of a random sequence runs under a
// watchdog. Each runner keeps a journal (its seed and the operations so far);
// an operation that takes longer than the limit gets every journal printed,
// then the process aborts. An abort for another reason (a failed ASan check,
// std::terminate) prints the journals too.

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace connectors::random_test {

class Journal {
 public:
  void start(std::string header) {
    std::lock_guard lock{mutex_};
    header_ = std::move(header);
    lines_.clear();
    busy_ = false;
  }
  void begin(const std::string& line) {
    std::lock_guard lock{mutex_};
    lines_.push_back(line);
    busy_ = true;
    since_ = std::chrono::steady_clock::now();
  }
  void end() {
    std::lock_guard lock{mutex_};
    busy_ = false;
  }
  // How long the current operation has been running, or zero.
  std::chrono::steady_clock::duration busy_for() const {
    std::lock_guard lock{mutex_};
    return busy_ ? std::chrono::steady_clock::now() - since_ : std::chrono::steady_clock::duration{};
  }
  // Without the lock when called from a signal handler: best effort.
  void print(bool locked = true) const {
    std::unique_lock lock{mutex_, std::defer_lock};
    if (locked) lock.lock();
    std::fprintf(stderr, "---- %s\n", header_.c_str());
    for (const std::string& line : lines_) std::fprintf(stderr, "  %s\n", line.c_str());
    std::fprintf(stderr, "---- (%s)\n", busy_ ? "the last operation had not returned" : "idle");
    std::fflush(stderr);
  }

 private:
  mutable std::mutex mutex_;
  std::string header_;
  std::vector<std::string> lines_;
  bool busy_ = false;
  std::chrono::steady_clock::time_point since_;
};

class Watchdog {
 public:
  static Watchdog& instance() {
    // Never destroyed: its detached thread watches until the process ends.
    static Watchdog* watchdog = new Watchdog;
    return *watchdog;
  }

  void watch(Journal* journal) {
    std::lock_guard lock{mutex_};
    journals_.push_back(journal);
  }
  void unwatch(Journal* journal) {
    std::lock_guard lock{mutex_};
    std::erase(journals_, journal);
  }

 private:
  Watchdog() {
    limit_ = std::chrono::seconds{20};
    if (const char* text = std::getenv("CONNECTORS_RANDOM_OP_TIMEOUT_SECONDS"))
      limit_ = std::chrono::seconds{std::atoi(text)};
    std::signal(SIGABRT, &Watchdog::on_abort);
    std::thread{[this] { loop(); }}.detach();
  }

  void loop() {
    for (;;) {
      std::this_thread::sleep_for(std::chrono::milliseconds{250});
      std::lock_guard lock{mutex_};
      for (Journal* journal : journals_) {
        if (journal->busy_for() < limit_) continue;
        std::fprintf(stderr, "\nRANDOM TEST WATCHDOG: an operation ran for more than %lld s (a hang?)\n",
                     static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(limit_).count()));
        for (Journal* each : journals_) each->print();
        std::fprintf(stderr, "The hanging sequence is the one whose last operation had not returned.\n");
        std::fflush(stderr);
        reported_ = true;
        std::abort();
      }
    }
  }

  static void on_abort(int signal) {
    std::signal(signal, SIG_DFL);
    if (reported_) std::raise(signal);
    std::fprintf(stderr, "\nRANDOM TEST: the process aborts; the sequences under way:\n");
    for (Journal* journal : instance().journals_) journal->print(false);
    std::raise(signal);
  }

  static inline std::atomic<bool> reported_{false};
  std::mutex mutex_;
  std::vector<Journal*> journals_;
  std::chrono::steady_clock::duration limit_;
};

// Registers a journal with the watchdog for its lifetime.
class Watched {
 public:
  Watched() { Watchdog::instance().watch(&journal); }
  ~Watched() { Watchdog::instance().unwatch(&journal); }
  Watched(const Watched&) = delete;
  Watched& operator=(const Watched&) = delete;
  Journal journal;
};

}  // namespace connectors::random_test
