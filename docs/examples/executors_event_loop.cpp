// docs/executors.md — Task, Future, EventLoop::create_task, call_soon,
// call_soon_threadsafe, run_until_complete, run_coroutines.
#include <connectors/connectors.hpp>

#include "check.hpp"

#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace {

using connectors::Future;
using connectors::Task;

Task<int> answer() { co_return 42; }
Task<int> twice(Task<int> inner) { co_return 2 * co_await std::move(inner); }
}  // namespace

int main() {
  connectors::ThreadingExecutor executor{2};

  // --- tasks are lazy
  Task<int> task = twice(answer());  // nothing has run yet
  CHECK(!task.done());
  CHECK(executor.run_coroutine(std::move(task)) == 84);
  // ---

  // --- a Future completed from another thread
  Future<std::string> message;
  std::thread producer{[message]() mutable { message.set_result("hello"); }};  // copies share the result
  CHECK(executor.run_until_complete(message) == "hello");
  producer.join();
  CHECK(message.done());
  // ---

  // --- create_task, call_soon and call_soon_threadsafe
  std::vector<std::string> order;
  std::thread::id threadsafe_thread;
  auto main_task = [&]() -> Task<int> {
    connectors::EventLoop& loop = *executor.get_event_loop();
    Future<int> background = loop.create_task(answer());  // starts soon, not now
    loop.call_soon([&] { order.push_back("call_soon"); });
    Future<void> woken;
    std::thread other{[&loop, &order, &threadsafe_thread, woken]() mutable {
      loop.call_soon_threadsafe([&, woken]() mutable {
        order.push_back("call_soon_threadsafe");
        threadsafe_thread = std::this_thread::get_id();  // the loop's thread
        woken.set_result();
      });
    }};
    order.push_back("main");
    co_await woken;
    other.join();
    co_return co_await background;
  };
  CHECK(executor.run_coroutine(main_task()) == 42);
  CHECK(order.size() == 3 && order[0] == "main");  // the callbacks ran later, in either order
  CHECK(threadsafe_thread == std::this_thread::get_id());
  // ---

  // --- run_coroutines
  int finished = 0;
  auto count = [&]() -> Task<void> {
    ++finished;
    co_return;
  };
  std::vector<Task<void>> tasks;
  for (int i = 0; i < 3; ++i) tasks.push_back(count());
  executor.run_coroutines(tasks);  // consumes the tasks
  CHECK(finished == 3);
  // ---
  return failures == 0 ? 0 : 1;
}
