// A block with state to travel (a serialize member), built with the light
// connector headers only: PROCESS support is missing, and the build stops at
// one static_assert that names the header to include
// (docs/design.md#light-headers). Checked by clang's -verify mode
// (tests/checks/CMakeLists.txt).
#include <connectors/multi_output.hpp>
#include <connectors/output.hpp>

// clang-format off
namespace {

class Power {
 public:
  template <class Archive>
  void serialize(Archive& archive) { archive(base_); }
  // expected-error@connectors/output.hpp:* {{connectors: this owner type is cereal-serializable, so its methods may run in worker processes: #include <connectors/process.hpp> (or <connectors/connectors.hpp>) in every file that defines or builds such a block}}
  connectors::Output<double> get{this, &Power::compute};
  // expected-error@connectors/multi_output.hpp:* {{connectors: this owner type is cereal-serializable, so its methods may run in worker processes: #include <connectors/process.hpp> (or <connectors/connectors.hpp>) in every file that defines or builds such a block}}
  connectors::MultiOutput<double(int)> get_key{this, &Power::compute_key};

 private:
  double compute() const { return base_; }
  double compute_key(int key) const { return base_ + key; }
  double base_ = 1.0;
};

}  // namespace

int main() {
  Power power;
  return static_cast<int>(power.get());
}
// clang-format on
