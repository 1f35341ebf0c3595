#pragma once

#include <connectors/input.hpp>
#include <connectors/output.hpp>

#include <utility>

namespace connectors::blocks {

/// Stores a value and hands it on: distributes one value to many places
/// (docs/blocks.md). The output is not cached; the block itself holds the value.
template <class T>
class PassThrough {
 public:
  PassThrough() { output.set_caching(false); }
  explicit PassThrough(T data) : data_(std::move(data)) { output.set_caching(false); }
  PassThrough(const PassThrough&) = delete;
  PassThrough& operator=(const PassThrough&) = delete;

  Output<T> output{this, &PassThrough::get};
  Input<T> input{this, &PassThrough::set, output};

 private:
  const T& get() const { return data_; }
  void set(T data) { data_ = std::move(data); }

  T data_{};
};

}  // namespace connectors::blocks
