#pragma once

namespace connectors::detail {

// The hint for a spinning wait: lets the other hyperthread run, and saves power.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

}  // namespace connectors::detail
