#pragma once

#include <stdexcept>
#include <string>
#include <utility>

namespace connectors {

/// Base of every runtime error the library throws. Argument errors are
/// std::invalid_argument and misuse is std::logic_error instead. The error
/// types are plain exception values (copyable, what() const), as
/// std::runtime_error.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A connect that would close a dependency cycle; nothing was changed.
class CycleError : public Error {
 public:
  using Error::Error;
};

/// Disconnecting what is not connected, or a second source for a single input.
class ConnectionError : public Error {
 public:
  using Error::Error;
};

/// A worker process died or stopped answering while running a method.
class WorkerError : public Error {
 public:
  using Error::Error;
};

/// A method threw inside a worker process.
class RemoteError : public Error {
 public:
  /// An error named `type_name` with `message` (as the worker reported it);
  /// what() is "type_name: message".
  RemoteError(std::string type_name, const std::string& message)
      : Error(type_name + ": " + message), type_name_(std::move(type_name)), message_(message) {}

  /// The (demangled) type of the exception thrown in the worker.
  const std::string& type_name() const noexcept { return type_name_; }
  /// The what() of the exception thrown in the worker.
  const std::string& message() const noexcept { return message_; }

 private:
  std::string type_name_;
  std::string message_;
};

}  // namespace connectors
