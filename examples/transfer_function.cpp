// Tutorial: measuring the transfer function of a linear system (the original's
// demo D8, docs/design.md#tutorials).
//
//   SweepGenerator ──► LinearSystem ──► FourierTransform (response) ──┐
//         │                                                          ├─► TransferFunction ─► MagnitudePlot
//         └──────────────────────────► FourierTransform (excitation) ┘                          ▲
//                                    impulse response spectrum (a direct call) ─────────────────┘
//
// A sine sweep excites a system whose impulse response is [-1, 0, 1]; the
// ratio of the spectra of its output and its input is the system's transfer
// function, plotted beside the exact one. The whole network is computed under
// each executor, side by side; then the sweep's start frequency changes and
// only what depends on it is computed again.
#include <connectors/connectors.hpp>
#ifdef CONNECTORS_DEMO_MPI
#include <connectors/mpi.hpp>
#endif

#include <fftw3.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <complex>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <mutex>
#include <numbers>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

using Signal = std::vector<double>;
using Spectrum = std::vector<std::complex<double>>;
constexpr double sampling_rate = 44100.0;

std::mutex ran_mutex;
std::vector<std::string> ran;  // the methods that ran, for the second part of the tutorial
void note(const char* what) {
  std::lock_guard lock{ran_mutex};
  ran.emplace_back(what);
}

// A linear sine sweep from a start to a stop frequency.
class SweepGenerator {
 public:
  SweepGenerator() = default;
  SweepGenerator(double start, double stop, std::size_t length) : start_(start), stop_(stop), length_(length) {}

  connectors::Output<Signal> get_sweep{this, &SweepGenerator::sweep};
  connectors::Input<double> set_start_frequency{this, &SweepGenerator::start, get_sweep};
  connectors::Input<double> set_stop_frequency{this, &SweepGenerator::stop, get_sweep};

  template <class Archive>
  void serialize(Archive& archive) {
    archive(start_, stop_, length_);
  }

 private:
  Signal sweep() const {
    note("sweep");
    Signal signal(length_);
    const double duration = static_cast<double>(length_) / sampling_rate;
    for (std::size_t i = 0; i < length_; ++i) {
      const double t = static_cast<double>(i) / sampling_rate;
      signal[i] = std::sin(2.0 * std::numbers::pi * (start_ * t + (stop_ - start_) * t * t / (2.0 * duration)));
    }
    return signal;
  }
  void start(double frequency) { start_ = frequency; }
  void stop(double frequency) { stop_ = frequency; }

  double start_ = 20.0;
  double stop_ = 20000.0;
  std::size_t length_ = 1U << 16U;
};

// Convolves its input with the impulse response [-1, 0, 1], truncated to the
// input's length.
class LinearSystem {
 public:
  static Signal impulse_response(std::size_t length) {
    Signal response(length, 0.0);
    response[0] = -1.0;
    response[2] = 1.0;
    return response;
  }

  connectors::Output<Signal> get_output{this, &LinearSystem::output};
  connectors::Input<Signal> set_input{this, &LinearSystem::input, get_output};

  template <class Archive>
  void serialize(Archive& archive) {
    archive(input_);
  }

 private:
  Signal output() const {
    note("system");
    Signal result(input_.size(), 0.0);
    for (std::size_t i = 0; i < input_.size(); ++i) result[i] = -input_[i] + (i >= 2 ? input_[i - 2] : 0.0);
    return result;
  }
  void input(Signal signal) { input_ = std::move(signal); }

  Signal input_;
};

// FFTW plans are made under a lock: planning is not thread-safe, executing is.
std::mutex fftw_planner;

Spectrum real_fft(const Signal& signal) {
  Signal in = signal;
  Spectrum out(signal.size() / 2 + 1);
  fftw_plan plan = nullptr;
  {
    std::lock_guard lock{fftw_planner};
    plan = fftw_plan_dft_r2c_1d(static_cast<int>(in.size()), in.data(), reinterpret_cast<fftw_complex*>(out.data()),
                                FFTW_ESTIMATE);
  }
  fftw_execute(plan);
  {
    std::lock_guard lock{fftw_planner};
    fftw_destroy_plan(plan);
  }
  return out;
}

class FourierTransform {
 public:
  FourierTransform() = default;
  explicit FourierTransform(const char* name) : name_(name) {}

  connectors::Output<Spectrum> get_spectrum{this, &FourierTransform::spectrum};
  connectors::Input<Signal> set_signal{this, &FourierTransform::signal, get_spectrum};

  template <class Archive>
  void serialize(Archive& archive) {
    archive(signal_);
  }

 private:
  Spectrum spectrum() const {
    note(name_);
    return real_fft(signal_);
  }
  void signal(Signal signal) { signal_ = std::move(signal); }

  const char* name_ = "fft";
  Signal signal_;
};

class TransferFunction {
 public:
  connectors::Output<Spectrum> get_transfer_function{this, &TransferFunction::divide};
  connectors::Input<Spectrum> set_excitation{this, &TransferFunction::excitation, get_transfer_function};
  connectors::Input<Spectrum> set_response{this, &TransferFunction::response, get_transfer_function};

  template <class Archive>
  void serialize(Archive& archive) {
    archive(excitation_, response_);
  }

 private:
  Spectrum divide() const {
    note("transfer function");
    Spectrum result(std::min(excitation_.size(), response_.size()));
    for (std::size_t i = 0; i < result.size(); ++i) {
      result[i] = std::abs(excitation_[i]) > 1e-12 ? response_[i] / excitation_[i] : std::complex<double>{};
    }
    return result;
  }
  void excitation(Spectrum spectrum) { excitation_ = std::move(spectrum); }
  void response(Spectrum spectrum) { response_ = std::move(spectrum); }

  Spectrum excitation_;
  Spectrum response_;
};

// Draws the magnitudes of any number of spectra on log-log axes into an SVG
// document. Spectra arrive through a multi-input: added directly or from any
// number of connected outputs; each keeps its place (and colour) when updated.
class MagnitudePlot {
 public:
  explicit MagnitudePlot(std::vector<std::string> labels) : labels_(std::move(labels)) {
    add_spectrum.set_replace(&MagnitudePlot::replace);
    get_svg.set_parallelization(connectors::Parallelization::SEQUENTIAL);  // like a GUI: on the caller's thread
  }

  connectors::Output<std::string> get_svg{this, &MagnitudePlot::draw};
  connectors::MultiInput<Spectrum> add_spectrum{this, &MagnitudePlot::add, &MagnitudePlot::remove, get_svg};

 private:
  std::string draw() const {
    note("plot");
    constexpr double width = 800, height = 450, left = 70, right = 20, top = 20, bottom = 50;
    constexpr double f_min = 20.0, f_max = sampling_rate / 2.0, db_min = -60.0, db_max = 20.0;
    auto x_of = [&](double f) {
      return left + (width - left - right) * std::log10(f / f_min) / std::log10(f_max / f_min);
    };
    auto y_of = [&](double db) {
      return top + (height - top - bottom) * (1.0 - (std::clamp(db, db_min, db_max) - db_min) / (db_max - db_min));
    };
    std::ostringstream svg;
    svg << "<svg xmlns='http://www.w3.org/2000/svg' width='" << width << "' height='" << height << "'>\n"
        << "<rect width='100%' height='100%' fill='white'/>\n";
    for (double f : {20.0, 100.0, 1000.0, 10000.0}) {
      svg << "<line x1='" << x_of(f) << "' y1='" << top << "' x2='" << x_of(f) << "' y2='" << height - bottom
          << "' stroke='#ddd'/><text x='" << x_of(f) << "' y='" << height - bottom + 18
          << "' font-size='12' text-anchor='middle'>" << f << " Hz</text>\n";
    }
    for (double db = db_min; db <= db_max; db += 20.0) {
      svg << "<line x1='" << left << "' y1='" << y_of(db) << "' x2='" << width - right << "' y2='" << y_of(db)
          << "' stroke='#ddd'/><text x='" << left - 8 << "' y='" << y_of(db) + 4
          << "' font-size='12' text-anchor='end'>" << db << " dB</text>\n";
    }
    auto curve = [&](const Spectrum& spectrum, const char* colour, double stroke) {
      if (spectrum.size() < 2) return;
      const double bin_width = sampling_rate / (2.0 * static_cast<double>(spectrum.size() - 1));
      svg << "<polyline fill='none' stroke='" << colour << "' stroke-width='" << stroke << "' points='";
      for (std::size_t i = 1; i < spectrum.size(); i += 8) {
        const double f = static_cast<double>(i) * bin_width;
        if (f < f_min) continue;
        svg << x_of(f) << ',' << y_of(20.0 * std::log10(std::max(std::abs(spectrum[i]), 1e-12))) << ' ';
      }
      svg << "'/>\n";
    };
    static constexpr const char* colours[] = {"#d62728", "#1f77b4", "#2ca02c", "#ff7f0e"};
    std::size_t index = 0;
    for (const auto& [id, spectrum] : spectra_) {
      const char* colour = colours[index % std::size(colours)];
      curve(spectrum, colour, index == 0 ? 2.0 : 1.0);
      const std::string label = index < labels_.size() ? labels_[index] : "spectrum " + std::to_string(id);
      svg << "<text x='" << left + 10 << "' y='" << top + 16 + 16 * static_cast<double>(index)
          << "' font-size='13' fill='" << colour << "'>" << label << "</text>\n";
      ++index;
    }
    svg << "</svg>\n";
    return svg.str();
  }
  std::size_t add(Spectrum spectrum) { return spectra_.add(std::move(spectrum)); }
  void remove(std::size_t id) { spectra_.erase(id); }
  void replace(std::size_t id, Spectrum spectrum) { spectra_[id] = std::move(spectrum); }

  std::vector<std::string> labels_;
  connectors::MultiInputData<Spectrum> spectra_;
};

void write_file(const std::string& path, const std::string& contents) {
  std::ofstream file(path);
  file << contents;
}

// The largest deviation (in dB) of the measured from the exact magnitude
// between two frequencies.
double deviation_db(const Spectrum& measured, const Spectrum& exact, double from, double to) {
  const double bin_width = sampling_rate / (2.0 * static_cast<double>(exact.size() - 1));
  double worst = 0.0;
  for (std::size_t i = 1; i < exact.size(); ++i) {
    const double f = static_cast<double>(i) * bin_width;
    if (f < from || f > to || std::abs(exact[i]) < 1e-3) continue;
    worst = std::max(worst, std::abs(20.0 * std::log10(std::abs(measured[i]) / std::abs(exact[i]))));
  }
  return worst;
}

// A progress bar on stderr for the computations below, only when stderr is a
// terminal (docs/observability.md, Progress).
std::optional<connectors::Progress> progress_bar() {
  if (::isatty(STDERR_FILENO) == 0) return std::nullopt;
  return std::optional<connectors::Progress>{
      std::in_place, [](const connectors::ProgressReport& report) {
        constexpr std::size_t width = 30;
        const std::size_t filled = report.expected == 0 ? width : width * report.finished / report.expected;
        std::fprintf(stderr, "\r  [%s%s] %zu/%zu methods%s", std::string(filled, '#').c_str(),
                     std::string(width - filled, ' ').c_str(), report.finished, report.expected,
                     report.done ? "\r\033[K" : "");
      }};
}

}  // namespace

int main(int argc, char** argv) {
  connectors::init(argc, argv);  // first thing: worker processes start from here
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const std::string out_dir = argc > 2 ? argv[2] : ".";
  const std::size_t length = quick ? (1U << 14U) : (1U << 16U);

  SweepGenerator sweep{20.0, 20000.0, length};
  LinearSystem system;
  FourierTransform excitation{"fft of the excitation"}, response{"fft of the response"};
  TransferFunction transfer;
  MagnitudePlot plot{{"exact (impulse response)", "measured (sweep)"}};

  system.set_input.connect(sweep.get_sweep);
  excitation.set_signal.connect(sweep.get_sweep);
  response.set_signal.connect(system.get_output);
  transfer.set_excitation.connect(excitation.get_spectrum);
  transfer.set_response.connect(response.get_spectrum);
  plot.add_spectrum(real_fft(LinearSystem::impulse_response(length)));  // a direct call, no connection
  plot.add_spectrum.connect(transfer.get_transfer_function);

  // The heavy getters may run in worker processes where the executor offers
  // them (their owners are serializable); elsewhere they run on threads.
  for (connectors::Output<Spectrum>* spectrum : {&excitation.get_spectrum, &response.get_spectrum}) {
    spectrum->set_parallelization(connectors::Parallelization::PROCESS);
  }
  sweep.get_sweep.set_parallelization(connectors::Parallelization::PROCESS);
  system.get_output.set_parallelization(connectors::Parallelization::PROCESS);

  // Names for the picture and the timeline (docs/observability.md).
  sweep.get_sweep.set_name("sweep.get_sweep");
  sweep.set_start_frequency.set_name("sweep.set_start_frequency");
  sweep.set_stop_frequency.set_name("sweep.set_stop_frequency");
  system.get_output.set_name("system.get_output");
  system.set_input.set_name("system.set_input");
  excitation.get_spectrum.set_name("excitation fft.get_spectrum");
  excitation.set_signal.set_name("excitation fft.set_signal");
  response.get_spectrum.set_name("response fft.get_spectrum");
  response.set_signal.set_name("response fft.set_signal");
  transfer.get_transfer_function.set_name("transfer.get_transfer_function");
  transfer.set_excitation.set_name("transfer.set_excitation");
  transfer.set_response.set_name("transfer.set_response");
  plot.get_svg.set_name("plot.get_svg");
  plot.add_spectrum.set_name("plot.add_spectrum");

  struct Run {
    const char* name;
    std::shared_ptr<connectors::Executor> executor;
  };
  std::vector<Run> runs = {{"sequential", connectors::executor(0, 0)},
                           {"threads", connectors::executor()},
                           {"processes", connectors::executor(0, std::nullopt)},
                           {"both", connectors::executor(std::nullopt, std::nullopt)}};
#ifdef CONNECTORS_DEMO_MPI
  // Started by mpirun (docs/distributed.md): the heavy getters on the other ranks.
  if (connectors::mpi_world_size() > 1) runs.push_back({"mpi ranks", std::make_shared<connectors::MpiExecutor>()});
#endif
  std::printf("One full computation of the network (%zu samples):\n", length);
  std::string sequential_svg;
  bool same_everywhere = true;
  const std::string trace_path = out_dir + "/trace.json";
  for (const Run& run : runs) {
    plot.get_svg.set_executor(run.executor);
    sweep.set_stop_frequency(20000.0);  // invalidates everything downstream of the sweep
    (void)plot.get_svg();               // warm-up: starts the executor's threads or workers
    sweep.set_stop_frequency(20000.0);
    // The timeline of the computation under ThreadingMultiprocessingExecutor.
    std::optional<connectors::Trace> trace;
    if (std::strcmp(run.name, "both") == 0) trace.emplace();
    std::optional<connectors::Progress> progress = progress_bar();
    const auto start = std::chrono::steady_clock::now();
    const std::string svg = plot.get_svg();
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    progress.reset();
    std::printf("  %-12s %8.2f ms\n", run.name, ms);
    if (sequential_svg.empty()) sequential_svg = svg;
    same_everywhere = same_everywhere && svg == sequential_svg;
    if (trace) {
      std::ofstream file{trace_path};
      trace->write_json(file);
    }
  }
  std::printf(
      "(Worker processes copy each signal, about 1 MiB, to and from the worker: they pay off for\n"
      " CPU-heavy methods on small data, threads for light methods on large data.)\n");
  write_file(out_dir + "/transfer_function1.svg", plot.get_svg());
  plot.get_svg.set_executor(connectors::executor());  // methods report what ran from this process

  const Spectrum exact = real_fft(LinearSystem::impulse_response(length));
  const double good = deviation_db(transfer.get_transfer_function(), exact, 100.0, 15000.0);
  std::printf("\nMeasured vs exact magnitude, 100 Hz to 15 kHz: within %.3f dB\n", good);

  ran.clear();
  sweep.set_start_frequency(1000.0);
  // The network's picture now: the blocks downstream of the sweep are stale.
  const std::string picture_path = out_dir + "/network.svg";
  try {
    connectors::write_svg(picture_path, plot.get_svg);
  } catch (const connectors::Error& error) {
    std::fprintf(stderr, "%s\n", error.what());
    return 1;
  }
  write_file(out_dir + "/transfer_function2.svg", plot.get_svg());
  std::printf("After set_start_frequency(1000), these ran:");
  for (const std::string& what : ran) std::printf(" [%s]", what.c_str());
  const double below = deviation_db(transfer.get_transfer_function(), exact, 100.0, 500.0);
  std::printf("\nBelow 1 kHz the sweep has no energy now: off by up to %.1f dB at 100-500 Hz\n", below);
  std::printf("Plots: %s/transfer_function1.svg, %s/transfer_function2.svg\n", out_dir.c_str(), out_dir.c_str());
  std::printf("The network after that change (stale blocks in salmon): %s (open it in a web browser)\n",
              picture_path.c_str());
  std::printf("The timeline of one computation with threads and processes: %s\n", trace_path.c_str());
  std::printf("  (open it at https://ui.perfetto.dev or in chrome://tracing)\n");

  ran.clear();
  (void)plot.get_svg();
  if (!same_everywhere) std::printf("The executors computed different plots.\n");
  return good < 1.5 && below > good && ran.empty() && same_everywhere ? 0 : 1;
}
