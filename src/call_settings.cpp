#include <connectors/detail/call_settings.hpp>

#include <stdexcept>
#include <string>

namespace connectors::detail {

std::optional<std::chrono::milliseconds> CallSettings::call_timeout() const noexcept {
  const long long value = timeout_ms.load();
  if (value < 0) return std::nullopt;
  return std::chrono::milliseconds{value};
}

void CallSettings::set_limits(const WorkerLimits& limits) {
  auto check = [](const std::optional<std::size_t>& limit, const char* name) -> std::uint64_t {
    if (!limit) return 0;
    if (*limit == 0) throw std::invalid_argument(std::string{"set_worker_limits: "} + name + " must be positive");
    return *limit;
  };
  const std::uint64_t memory = check(limits.memory_limit, "memory_limit");
  const std::uint64_t after_calls = check(limits.recycle_after_calls, "recycle_after_calls");
  const std::uint64_t above_memory = check(limits.recycle_above_memory, "recycle_above_memory");
  const std::uint64_t max_reply = check(limits.max_reply_size, "max_reply_size");
  memory_limit.store(memory);
  recycle_after_calls.store(after_calls);
  recycle_above_memory.store(above_memory);
  max_reply_size.store(max_reply);
}

WorkerLimits CallSettings::limits() const {
  auto value = [](std::uint64_t limit) -> std::optional<std::size_t> {
    if (limit == 0) return std::nullopt;
    return static_cast<std::size_t>(limit);
  };
  WorkerLimits result;
  result.memory_limit = value(memory_limit.load());
  result.recycle_after_calls = value(recycle_after_calls.load());
  result.recycle_above_memory = value(recycle_above_memory.load());
  result.max_reply_size = value(max_reply_size.load());
  return result;
}

}  // namespace connectors::detail
