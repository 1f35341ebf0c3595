// A library loaded (dlopen) after connectors::init is not in the worker
// processes, which are forks made by init: a PROCESS call of its code fails
// with a WorkerError that says so (it named an offset of a module, as for a
// forged request). See docs/processes.md, "What the types need".
#include <connectors/connectors.hpp>

#include <gtest/gtest.h>

#include <dlfcn.h>

#include <string>

namespace {

struct Local {
  double base = 4;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(base);
  }
  double twice() const { return base * 2; }
};

connectors::Task<double> local_twice(connectors::Executor& executor, Local& local) {
  co_return co_await executor.run_method(connectors::Parallelization::PROCESS, &Local::twice, local);
}

TEST(ProcessPlugin, ALibraryLoadedAfterInitIsNamedAsMissingInTheWorker) {
  void* plugin = ::dlopen(CONNECTORS_PLUGIN, RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(plugin, nullptr) << ::dlerror();
  using Twice = double (*)(connectors::Executor&);
  auto twice = reinterpret_cast<Twice>(::dlsym(plugin, "connectors_plugin_twice"));
  ASSERT_NE(twice, nullptr) << ::dlerror();
  connectors::MultiprocessingExecutor executor{1};
  try {
    (void)twice(executor);
    ADD_FAILURE() << "the plugin's method ran in a worker that does not have the plugin";
  } catch (const connectors::WorkerError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("is not loaded in the worker process"), std::string::npos) << message;
    EXPECT_NE(message.find("loaded after init"), std::string::npos) << message;
  }
  // The program's own blocks still run there.
  Local local;
  EXPECT_EQ(executor.run_coroutine(local_twice(executor, local)), 8.0);
}

}  // namespace
