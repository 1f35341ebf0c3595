#pragma once

#include <connectors/input.hpp>
#include <connectors/output.hpp>

#include <utility>

namespace connectors::blocks {

/// Stores a value and hands it on: distributes one value to many places
/// (docs/blocks.md). The output is not cached; the block itself holds the value.
///
///     blocks::PassThrough<double> x{1.0};
///     a.set_value.connect(x.output);
///     b.set_value.connect(x.output);
///     x.input(2.0);  // both a and b get 2.0 when pulled
///
/// **Threads.** Its connectors are those of any block: every call, connect
/// and disconnect is an operation on the block's network, from any thread,
/// serialised with the others on that network (`docs/connectors.md`,
/// "Threads and nested operations").
template <class T>
class PassThrough {
 public:
  /// Holds a default T.
  /// Throws only std::bad_alloc (or what constructing the value throws).
  /// Threads: as any block's construction: before another thread can reach it.
  PassThrough() { output.set_caching(false); }
  /// Holds `data`. Throws what moving a T throws.
  /// Throws only std::bad_alloc (or what constructing the value throws).
  /// Threads: as any block's construction: before another thread can reach it.
  explicit PassThrough(T data) : data_(std::move(data)) { output.set_caching(false); }
  PassThrough(const PassThrough&) = delete;
  PassThrough& operator=(const PassThrough&) = delete;

 private:
  // Declared before the connectors, so destroyed after them: another thread's
  // operation may read it until they have left the network (docs/connectors.md,
  // Threads and nested operations).
  T data_{};

 public:
  /// The value held (not cached: the block holds it).
  Output<T> output{this, &PassThrough::get};
  /// Takes a new value to hold.
  Input<T> input{this, &PassThrough::set, output};

 private:
  const T& get() const { return data_; }
  void set(T data) { data_ = std::move(data); }
};

}  // namespace connectors::blocks
