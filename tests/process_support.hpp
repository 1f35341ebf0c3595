#pragma once

// Helpers for tests that use worker processes: counting descriptors and
// descendant processes through /proc.

#include <dirent.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace connectors::testing {

inline std::size_t open_fd_count() {
  std::size_t count = 0;
  DIR* directory = ::opendir("/proc/self/fd");
  if (directory == nullptr) return 0;
  while (const dirent* entry = ::readdir(directory)) {
    if (entry->d_name[0] != '.') ++count;
  }
  ::closedir(directory);
  return count - 1;  // the directory's own descriptor
}

// How many of this process's descriptors are worker reply files (memfds).
inline std::size_t reply_file_descriptors(int pid = static_cast<int>(::getpid())) {
  std::size_t count = 0;
  const std::string directory_path = "/proc/" + std::to_string(pid) + "/fd";
  DIR* directory = ::opendir(directory_path.c_str());
  if (directory == nullptr) return 0;
  while (const dirent* entry = ::readdir(directory)) {
    if (entry->d_name[0] == '.') continue;
    char link[256];
    const std::string path = directory_path + "/" + entry->d_name;
    const ssize_t length = ::readlink(path.c_str(), link, sizeof link - 1);
    if (length > 0 && std::string{link, static_cast<std::size_t>(length)}.find("connectors-reply") != std::string::npos)
      ++count;
  }
  ::closedir(directory);
  return count;
}

struct ProcessInfo {
  int parent = 0;
  char state = '?';
};

// Every process on the machine: pid -> (parent, state).
inline std::map<int, ProcessInfo> all_processes() {
  std::map<int, ProcessInfo> processes;
  DIR* directory = ::opendir("/proc");
  if (directory == nullptr) return processes;
  while (const dirent* entry = ::readdir(directory)) {
    const int pid = std::atoi(entry->d_name);
    if (pid <= 0) continue;
    std::ifstream stat{"/proc/" + std::string{entry->d_name} + "/stat"};
    std::string line;
    if (!std::getline(stat, line)) continue;
    // pid (comm) state ppid ...; comm may contain spaces and parentheses.
    const std::size_t close = line.rfind(')');
    if (close == std::string::npos || close + 4 >= line.size()) continue;
    ProcessInfo info;
    info.state = line[close + 2];
    info.parent = std::atoi(line.c_str() + close + 4);
    processes[pid] = info;
  }
  ::closedir(directory);
  return processes;
}

// The processes below `root` (children, grandchildren, ...), with their states.
inline std::map<int, char> descendants(int root) {
  const auto processes = all_processes();
  std::map<int, char> found;
  std::set<int> frontier{root};
  while (!frontier.empty()) {
    std::set<int> next;
    for (const auto& [pid, info] : processes) {
      if (frontier.count(info.parent) != 0 && found.count(pid) == 0) {
        found[pid] = info.state;
        next.insert(pid);
      }
    }
    frontier = std::move(next);
  }
  return found;
}

// The parent of `pid` (0 if it is gone): for a worker, the fork server, which
// is no child of the program (docs/processes.md).
inline int parent_of(int pid) {
  const auto processes = all_processes();
  const auto found = processes.find(pid);
  return found == processes.end() ? 0 : found->second.parent;
}

// Whether `pid` no longer runs: gone, or a zombie its (dead) parent left.
inline bool process_ended(int pid) {
  std::ifstream stat{"/proc/" + std::to_string(pid) + "/stat"};
  std::string line;
  if (!std::getline(stat, line)) return true;
  const std::size_t close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && (line[close + 2] == 'Z' || line[close + 2] == 'X');
}

// Waits until `pid` no longer runs. No deadline of its own: a process that
// never ends fails the test by its ctest timeout, not by a clock.
inline void wait_until_ended(int pid) {
  while (!process_ended(pid)) std::this_thread::sleep_for(std::chrono::milliseconds{10});
}

// A field of this process's /proc/self/status (`"VmRSS:"`, say), in bytes; 0
// if it is not there.
inline std::size_t status_bytes(const std::string& field) {
  std::ifstream status{"/proc/self/status"};
  for (std::string line; std::getline(status, line);) {
    if (line.rfind(field, 0) == 0) return std::stoull(line.substr(field.size())) * 1024;
  }
  return 0;
}

// This process's peak resident memory since the last reset_peak_memory().
inline std::size_t peak_memory() { return status_bytes("VmHWM:"); }

// Whether the kernel let this process reset its peak.
inline bool reset_peak_memory() {
  return static_cast<bool>(std::ofstream{"/proc/self/clear_refs"}.write("5", 1).flush());
}

}  // namespace connectors::testing
