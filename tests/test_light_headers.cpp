// The connector headers stay light (docs/design.md#light-headers): a network
// of sequential and threaded blocks compiles without cereal and without the
// process machinery. This file fails to compile when a heavy header sneaks
// into a light one, and checks the seam that takes its place.

// First what a block needs: its connectors, nothing of the executor's event
// loop, thread pool and coroutine dispatch, nor the standard headers those
// and the protocol's compiled parts use (docs/benchmarks.md, "Compile time of
// a light network"). The guards are libstdc++'s; with another library these
// checks pass vacuously.
#include <connectors/input.hpp>
#include <connectors/output.hpp>

#if defined(_GLIBCXX_FUNCTIONAL) || defined(_GLIBCXX_ALGORITHM) || defined(_GLIBCXX_UNORDERED_MAP) || \
    defined(_GLIBCXX_MAP) || defined(_GLIBCXX_DEQUE) || defined(_GLIBCXX_RANGES) || defined(_GLIBCXX_ITERATOR)
#error "<connectors/output.hpp> or <connectors/input.hpp> includes a container or algorithm header it should not"
#endif
#if defined(_GLIBCXX_THREAD) || defined(_GLIBCXX_FUTURE) || defined(_GLIBCXX_CONDITION_VARIABLE) || \
    defined(_GLIBCXX_CHRONO) || defined(_GLIBCXX_SSTREAM) || defined(_GLIBCXX_IOSTREAM)
#error "<connectors/output.hpp> or <connectors/input.hpp> includes threading, time or stream machinery"
#endif
// The executor's class comes with <connectors/executor.hpp>, not with the
// connectors: they hold an executor and ask it only through the library.
namespace connectors::light_check {
template <class T>
concept complete = requires {
  sizeof(T);
};
}  // namespace connectors::light_check
static_assert(!connectors::light_check::complete<connectors::Executor>,
              "<connectors/output.hpp> or <connectors/input.hpp> includes <connectors/executor.hpp>");
static_assert(!connectors::light_check::complete<connectors::EventLoop>,
              "<connectors/output.hpp> or <connectors/input.hpp> includes <connectors/event_loop.hpp>");

// The multi-connectors keep their own containers (<unordered_map>, <list>,
// <ranges>, <sstream> for labels) but neither the executor nor <algorithm>,
// <functional> or the threading headers.
#include <connectors/multi_input.hpp>
#include <connectors/multi_output.hpp>

#if defined(_GLIBCXX_FUNCTIONAL) || defined(_GLIBCXX_ALGORITHM) || defined(_GLIBCXX_THREAD) || \
    defined(_GLIBCXX_FUTURE) || defined(_GLIBCXX_CONDITION_VARIABLE) || defined(_GLIBCXX_DEQUE)
#error "<connectors/multi_input.hpp> or <connectors/multi_output.hpp> includes a header it should not"
#endif

// Then every light header: none of them brings cereal or the process
// machinery.
#include <connectors/blocks/multiplexer.hpp>
#include <connectors/blocks/pass_through.hpp>
#include <connectors/blocks/weakref_proxy_generator.hpp>
#include <connectors/errors.hpp>
#include <connectors/event_loop.hpp>
#include <connectors/executor.hpp>
#include <connectors/flags.hpp>
#include <connectors/future.hpp>
#include <connectors/gather.hpp>
#include <connectors/helper.hpp>
#include <connectors/input.hpp>
#include <connectors/macro.hpp>
#include <connectors/multi_input.hpp>
#include <connectors/multi_input_data.hpp>
#include <connectors/multi_output.hpp>
#include <connectors/output.hpp>
#include <connectors/picture.hpp>
#include <connectors/progress.hpp>
#include <connectors/task.hpp>
#include <connectors/trace.hpp>

#if defined(CEREAL_CEREAL_HPP_) || defined(CEREAL_DETAILS_TRAITS_HPP_) || defined(CEREAL_ACCESS_HPP_)
#error "a light connectors header includes cereal: PROCESS support belongs in <connectors/process.hpp>"
#endif
#if defined(CONNECTORS_DETAIL_PROCESS_CALL_HPP) || defined(CONNECTORS_DETAIL_PROCESS_BACKEND_HPP)
#error "a light connectors header includes the process machinery (detail/process_call.hpp, detail/process_backend.hpp)"
#endif

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace {

class TimesTwo {
 public:
  connectors::Output<double> get_double{this, &TimesTwo::compute};
  connectors::Input<double> set_value{this, &TimesTwo::store, get_double};

 private:
  double compute() const { return 2.0 * value_; }
  void store(double value) { value_ = value; }
  double value_ = 0.0;
};

TEST(LightHeaders, ANetworkRunsOnThreadsWithoutProcessSupport) {
  auto executor = connectors::executor(2, 0);
  TimesTwo first, second;
  first.get_double.set_executor(executor);
  second.get_double.set_executor(executor);
  first.get_double.set_parallelization(connectors::Parallelization::THREAD);
  second.set_value.connect(first.get_double);
  first.set_value(2.0);
  EXPECT_EQ(second.get_double(), 8.0);
}

TEST(LightHeaders, AnOwnerWithoutStateRefusesProcessPlacementWithItsReason) {
  TimesTwo block;
  try {
    block.get_double.set_parallelization(connectors::Parallelization::PROCESS);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string{error.what()}.find("declares no state to travel"), std::string::npos) << error.what();
  }
}

// What counts as declaring state to travel: cereal's names, of any kind and
// access, or free functions found for the owner.
struct PublicSerialize {
  template <class Archive>
  void serialize(Archive&) {}
};
class PrivateSerialize {
  template <class Archive>
  void serialize(Archive&) {}
};
class PrivateSaveLoad {
  template <class Archive>
  void save(Archive&) const {}
  template <class Archive>
  void load(Archive&) {}
};
struct FinalPublicSerialize final {
  template <class Archive>
  void serialize(Archive&) {}
};
struct FreeSerialize {};
template <class Archive>
void serialize(Archive&, FreeSerialize&) {}
struct Inherits : PrivateSerialize {};

using connectors::detail::declares_process_state;
static_assert(declares_process_state<PublicSerialize>);
static_assert(declares_process_state<PrivateSerialize>);
static_assert(declares_process_state<PrivateSaveLoad>);
static_assert(declares_process_state<FinalPublicSerialize>);
static_assert(declares_process_state<FreeSerialize>);
static_assert(declares_process_state<Inherits>);
static_assert(!declares_process_state<TimesTwo>);
static_assert(!declares_process_state<int>);
// Without <connectors/process.hpp> the entry is missing: building such an
// owner stops at a static_assert naming that header (tests/compile_fail).
static_assert(!connectors::detail::complete_type<connectors::detail::ProcessEntry<PublicSerialize>>);

TEST(LightHeaders, StateDeclarationsAreRecognisedWithoutCereal) {
  // The checks are the static_asserts above; this test names them in the run.
  EXPECT_TRUE(declares_process_state<PrivateSaveLoad>);
  EXPECT_FALSE(declares_process_state<TimesTwo>);
}

}  // namespace
