#pragma once

#include <exception>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>

namespace connectors::detail {

// The outcome of a computation: empty, a value, or an exception.
template <class T>
class Result {
 public:
  template <class U>
  void set_value(U&& value) {
    state_.template emplace<1>(std::forward<U>(value));
  }
  void set_exception(std::exception_ptr error) noexcept { state_.template emplace<2>(std::move(error)); }

  bool has_value() const noexcept { return state_.index() == 1; }
  bool has_exception() const noexcept { return state_.index() == 2; }
  bool empty() const noexcept { return state_.index() == 0; }
  std::exception_ptr exception() const noexcept { return has_exception() ? std::get<2>(state_) : std::exception_ptr{}; }

  // Moves the value out; the Result is empty afterwards.
  T take() {
    rethrow_if_exception();
    if (!has_value()) throw std::logic_error("connectors: the result was already taken or never set");
    T value = std::move(std::get<1>(state_));
    state_.template emplace<0>();
    return value;
  }

  const T& peek() const {
    rethrow_if_exception();
    if (!has_value()) throw std::logic_error("connectors: the result was already taken or never set");
    return std::get<1>(state_);
  }

 private:
  void rethrow_if_exception() const {
    if (has_exception()) std::rethrow_exception(std::get<2>(state_));
  }

  std::variant<std::monostate, T, std::exception_ptr> state_;
};

template <>
class Result<void> {
 public:
  void set_value() noexcept { state_ = State::value; }
  void set_exception(std::exception_ptr error) noexcept {
    error_ = std::move(error);
    state_ = State::error;
  }

  bool has_value() const noexcept { return state_ == State::value; }
  bool has_exception() const noexcept { return state_ == State::error; }
  bool empty() const noexcept { return state_ == State::empty; }
  std::exception_ptr exception() const noexcept { return error_; }

  void take() { peek(); }
  void peek() const {
    if (state_ == State::error) std::rethrow_exception(error_);
    if (state_ == State::empty) throw std::logic_error("connectors: the result was never set");
  }

 private:
  enum class State : unsigned char { empty, value, error };
  State state_ = State::empty;
  std::exception_ptr error_;
};

// Runs `function` and stores what it returned or threw.
template <class T, class F>
void capture_into(Result<T>& result, F&& function) noexcept {
  try {
    if constexpr (std::is_void_v<T>) {
      std::forward<F>(function)();
      result.set_value();
    } else {
      result.set_value(std::forward<F>(function)());
    }
  } catch (...) {
    result.set_exception(std::current_exception());
  }
}

}  // namespace connectors::detail
