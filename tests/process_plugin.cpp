// A shared object that test_process_plugin loads with dlopen after
// connectors::init, as a program with plugins does: a block of its own and a
// function that runs the block's method in a worker process. It links no
// copy of the library: the test program exports its own (ENABLE_EXPORTS).
#include <connectors/connectors.hpp>

#include <string>

namespace {

struct PluginBlock {
  double base = 21;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(base);
  }
  double twice() const { return base * 2; }
};

connectors::Task<double> run_twice(connectors::Executor& executor, PluginBlock& block) {
  co_return co_await executor.run_method(connectors::Parallelization::PROCESS, &PluginBlock::twice, block);
}

}  // namespace

// The block's method run in a worker of `executor`, or the error it gave.
extern "C" double connectors_plugin_twice(connectors::Executor& executor) {
  PluginBlock block;
  return executor.run_coroutine(run_twice(executor, block));
}
