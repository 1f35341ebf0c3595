// docs/macros.md — macro inputs and outputs: delegation, one operation per
// exported input, nesting, run-time sized exports, configuration, value types.
#include <connectors/connectors.hpp>

#include "check.hpp"

#include <cstdio>
#include <memory>
#include <stdexcept>
#include <vector>

namespace {

// --- the inner blocks
class Amplifier {
 public:
  connectors::Output<double> get_result{this, &Amplifier::compute};
  connectors::Input<double> set_signal{this, &Amplifier::signal, get_result};
  connectors::Input<double> set_gain{this, &Amplifier::gain, get_result};

 private:
  double compute() const { return gain_ * signal_; }
  void signal(double value) { signal_ = value; }
  void gain(double value) { gain_ = value; }
  double signal_ = 0.0;
  double gain_ = 1.0;
};

class Mix {
 public:
  connectors::Output<double> get_result{this, &Mix::compute};
  connectors::Input<double> set_left{this, &Mix::left, get_result};
  connectors::Input<double> set_right{this, &Mix::right, get_result};

 private:
  double compute() const { return left_ + right_; }
  void left(double value) { left_ = value; }
  void right(double value) { right_ = value; }
  double left_ = 0.0;
  double right_ = 0.0;
};
// ---

// --- a macro
// Two channels with one gain knob, mixed to mono.
class Stereo {
 public:
  Stereo() {
    mix_.set_left.connect(left_.get_result);
    mix_.set_right.connect(right_.get_result);
  }

 private:
  // The inner network comes first: the macro connectors refer to it.
  Amplifier left_, right_;
  Mix mix_;

 public:
  connectors::MacroInput<double> set_left{left_.set_signal};
  connectors::MacroInput<double> set_right{right_.set_signal};
  connectors::MacroInput<double> set_gain{left_.set_gain, right_.set_gain};
  connectors::MacroOutput<double> get_mono{mix_.get_result};
};
// ---

// --- nesting
// Two stereo pairs; one knob for all four gains.
class Rack {
 private:
  Stereo front_, back_;

 public:
  connectors::MacroInput<double> set_gain{front_.set_gain, back_.set_gain};
};
// ---

// --- a run-time number of exported inputs
// Any number of channels, known only at run time, with one gain knob.
class Channels {
 public:
  explicit Channels(std::size_t count) : amplifiers_(make(count)), set_gain(gains()) {}

 private:
  static std::vector<std::unique_ptr<Amplifier>> make(std::size_t count) {
    std::vector<std::unique_ptr<Amplifier>> amplifiers;
    for (std::size_t i = 0; i < count; ++i) amplifiers.push_back(std::make_unique<Amplifier>());
    return amplifiers;
  }
  std::vector<connectors::Input<double>*> gains() {
    std::vector<connectors::Input<double>*> inputs;
    for (auto& amplifier : amplifiers_) inputs.push_back(&amplifier->set_gain);
    return inputs;
  }
  std::vector<std::unique_ptr<Amplifier>> amplifiers_;  // declared, so built, before set_gain

 public:
  connectors::MacroInput<double> set_gain;  // every channel's gain
};
// ---

// --- a macro with its inner blocks in sight
struct Pair {
  Amplifier first, second;
  connectors::MacroInput<double> set_gain{first.set_gain, second.set_gain};
  connectors::MacroOutput<double> get_first{first.get_result};
};
// ---

class Source {
 public:
  connectors::Output<double> output{this, &Source::read};
  connectors::Input<double> input{this, &Source::write, output};

 private:
  double read() const { return value_; }
  void write(double value) { value_ = value; }
  double value_ = 0.0;
};

// Records every value it pulls by itself.
class Recorder {
 public:
  Recorder() { input.set_laziness(connectors::Laziness::ON_ANNOUNCE); }
  connectors::Input<double> input{this, &Recorder::record};
  std::vector<double> received;

 private:
  void record(double value) { received.push_back(value); }
};

class Counter {
 public:
  connectors::Output<int> output{this, &Counter::read};

 private:
  int read() const { return 3; }
};

}  // namespace

int main() {
  {
    // --- delegation
    Stereo stereo;
    stereo.set_left(1.0);
    stereo.set_right(3.0);
    stereo.set_gain(2.0);  // calls both exported inputs
    CHECK(stereo.get_mono() == 8.0);
    Source knob;
    knob.output.connect(stereo.set_gain);  // connects both exported inputs
    Source sink;
    sink.input.connect(stereo.get_mono);
    knob.input(0.5);
    CHECK(sink.output() == 2.0);
    // ---
  }
  {
    // --- one operation per exported input
    Stereo stereo;
    stereo.set_left(1.0);
    stereo.set_right(3.0);
    CHECK(stereo.get_mono() == 4.0);
    Recorder recorder;  // pulls by itself after every change upstream
    recorder.input.connect(stereo.get_mono);
    stereo.set_gain(2.0);
    CHECK(recorder.received == (std::vector<double>{5.0, 8.0}));  // left's gain alone, then both
    // ---
  }
  {
    // --- nested macros flatten
    Rack rack;
    Source knob;
    rack.set_gain.connect(knob.output);
    CHECK(knob.output.connection_count() == 4);  // four Amplifier::set_gain inputs
    // ---
  }
  {
    // --- run-time sized export in use
    Channels channels{5};
    Source knob;
    channels.set_gain.connect(knob.output);
    CHECK(knob.output.connection_count() == 5);
    // ---
  }
  {
    // --- configuration is forwarded
    Pair pair;
    pair.set_gain.set_laziness(connectors::Laziness::ON_NOTIFY);
    CHECK(pair.first.set_gain.laziness() == connectors::Laziness::ON_NOTIFY);
    CHECK(pair.second.set_gain.laziness() == connectors::Laziness::ON_NOTIFY);
    pair.get_first.set_caching(false);
    CHECK(!pair.first.get_result.caching());
    // ---
  }
  {
    // --- connecting one after another
    Pair pair;  // first.set_gain and second.set_gain, exported as pair.set_gain
    Source other, knob;
    pair.second.set_gain.connect(other.output);
    CHECK(throws<connectors::ConnectionError>([&] { pair.set_gain.connect(knob.output); }));
    CHECK(!knob.output.is_connected());  // first.set_gain was disconnected again
    // ---
  }
  {
    // --- value types
    struct Owner {
      Counter counter;
      connectors::MacroOutput<double> get_value{counter.output};  // exports an Output<int>
    } owner;
    CHECK(owner.get_value() == 3.0);  // converts on call
    Source sink;
    sink.input.connect(owner.get_value);  // connections carry doubles too
    CHECK(sink.output() == 3.0);
    // ---
  }
  return failures == 0 ? 0 : 1;
}
