// The connector headers stay light (docs/design.md#light-headers): a network
// of sequential and threaded blocks compiles without cereal and without the
// process machinery. This file fails to compile when a heavy header sneaks
// into a light one, and checks the seam that takes its place.
#include <connectors/blocks/multiplexer.hpp>
#include <connectors/blocks/pass_through.hpp>
#include <connectors/blocks/weakref_proxy_generator.hpp>
#include <connectors/errors.hpp>
#include <connectors/event_loop.hpp>
#include <connectors/executor.hpp>
#include <connectors/flags.hpp>
#include <connectors/future.hpp>
#include <connectors/gather.hpp>
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
#if defined(CONNECTORS_DETAIL_PROCESS_CALL_HPP)
#error "a light connectors header includes the process machinery (detail/process_call.hpp)"
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
    EXPECT_NE(std::string{error.what()}.find("not cereal-serializable"), std::string::npos) << error.what();
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
