#pragma once
// Marks the process machinery as included (tests/test_light_headers.cpp).
#define CONNECTORS_DETAIL_PROCESS_CALL_HPP

#include <connectors/detail/byte_streams.hpp>
#include <connectors/detail/code_address.hpp>
#include <connectors/detail/method_probe.hpp>
#include <connectors/detail/process_backend.hpp>
#include <connectors/errors.hpp>
#include <connectors/event_loop.hpp>
#include <connectors/process_traits.hpp>

#include <cereal/archives/binary.hpp>

#include <algorithm>
#include <array>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <istream>
#include <new>
#include <ostream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace connectors::detail {

// The first byte of a reply. `worker_error` is a failure where the call ran
// (a serving MPI rank's worker crashed or timed out): its message becomes the
// caller's WorkerError as it is.
enum class ReplyStatus : std::uint8_t { value = 0, exception = 1, failure = 2, worker_error = 3 };

// What a worker calls for one request: it reads the callable, the owner's
// state and the arguments from `in` and writes the result to `out`.
using WorkerInvoker = void (*)(cereal::BinaryInputArchive& in, cereal::BinaryOutputArchive& out);

// Itanium C++ ABI: a pointer to member function is {ptr, adj}. ptr is the
// function's address, or for a virtual function 1 + its vtable offset; on ARM
// the virtual flag is the low bit of adj instead.
inline bool is_virtual_member_function(const std::array<std::ptrdiff_t, 2>& words) noexcept {
#if defined(__arm__) || defined(__aarch64__)
  return (words[1] & 1) != 0;
#else
  return (words[0] & 1) != 0;
#endif
}

template <class Function>
const void* function_address(Function* function) noexcept {
  const void* address = nullptr;
  static_assert(sizeof(function) == sizeof(address));
  std::memcpy(&address, &function, sizeof address);
  return address;
}

// Writes `callable` so that load_callable can rebuild it in another process
// running the same binary: code addresses become CodeAddress (module, offset),
// vtable offsets and data member offsets travel as they are.
template <class Callable>
void save_callable(cereal::BinaryOutputArchive& out, const Callable& callable) {
  if constexpr (std::is_member_function_pointer_v<Callable>) {
    static_assert(sizeof(Callable) == 2 * sizeof(std::ptrdiff_t), "unexpected pointer-to-member-function layout");
    std::array<std::ptrdiff_t, 2> words{};
    std::memcpy(words.data(), &callable, sizeof callable);
    const bool is_virtual = is_virtual_member_function(words);
    out(is_virtual);
    if (is_virtual) {
      out(static_cast<std::int64_t>(words[0]));
    } else {
      out(locate_code(reinterpret_cast<const void*>(words[0])));
    }
    out(static_cast<std::int64_t>(words[1]));
  } else if constexpr (std::is_member_object_pointer_v<Callable>) {
    std::array<unsigned char, sizeof(Callable)> bytes{};
    std::memcpy(bytes.data(), &callable, sizeof callable);
    out(bytes);
  } else if constexpr (std::is_pointer_v<Callable>) {
    out(locate_code(function_address(callable)));
  }
  // A stateless callable needs nothing: the worker default-constructs one.
}

template <class Callable>
Callable load_callable(cereal::BinaryInputArchive& in) {
  if constexpr (std::is_member_function_pointer_v<Callable>) {
    bool is_virtual = false;
    in(is_virtual);
    std::array<std::ptrdiff_t, 2> words{};
    if (is_virtual) {
      std::int64_t vtable_entry = 0;
      in(vtable_entry);
      words[0] = static_cast<std::ptrdiff_t>(vtable_entry);
    } else {
      CodeAddress address;
      in(address);
      words[0] = reinterpret_cast<std::ptrdiff_t>(resolve_code(address));
    }
    std::int64_t adjustment = 0;
    in(adjustment);
    words[1] = static_cast<std::ptrdiff_t>(adjustment);
    Callable callable;
    std::memcpy(&callable, words.data(), sizeof callable);
    return callable;
  } else if constexpr (std::is_member_object_pointer_v<Callable>) {
    std::array<unsigned char, sizeof(Callable)> bytes{};
    in(bytes);
    Callable callable;
    std::memcpy(&callable, bytes.data(), sizeof callable);
    return callable;
  } else if constexpr (std::is_pointer_v<Callable>) {
    CodeAddress address;
    in(address);
    void* code = resolve_code(address);
    Callable callable;
    std::memcpy(&callable, &code, sizeof callable);
    return callable;
  } else {
    return Callable{};
  }
}

// The same object, but the optimiser no longer knows which one. A pointer to
// member function rebuilt from bytes might, as far as g++ can tell, be virtual,
// and g++ -O3 then warns that reading a vtable pointer from a non-polymorphic
// owner is out of bounds (-Warray-bounds, -Wrestrict false positives).
template <class T>
T& opaque(T& object) noexcept {
  T* pointer = &object;
  asm("" : "+r"(pointer));
  return *pointer;
}

// The worker side of one method signature. Its own address identifies it in
// the request (see CodeAddress), so nothing has to be registered.
template <class Callable, class Owner, class R, class... Args>
void invoke_in_worker(cereal::BinaryInputArchive& in, cereal::BinaryOutputArchive& out) {
  Callable callable = load_callable<Callable>(in);
  Owner owner;
  in(owner);
  std::tuple<Args...> args;
  std::apply([&](Args&... arg) { (in(arg), ...); }, args);
  if constexpr (std::is_void_v<R>) {
    std::apply([&](Args&... arg) { std::invoke(callable, opaque(owner), std::move(arg)...); }, args);
    out(static_cast<std::uint8_t>(ReplyStatus::value));
  } else {
    R result =
        std::apply([&](Args&... arg) -> R { return std::invoke(callable, opaque(owner), std::move(arg)...); }, args);
    out(static_cast<std::uint8_t>(ReplyStatus::value));
    out(result);
  }
}

// What a request names (issue 11, item 4): not a bare code address, which
// would let a request run any code of any loaded module, but an entry that
// only an instantiation of invoke_in_worker has. It points to itself, so no
// other bytes of a module pass for one, and the worker calls nothing but an
// entry's invoker (docs/processes.md, "How a function is identified").
struct InvokerEntry {
  const InvokerEntry* self;
  WorkerInvoker invoke;
  std::uint64_t tag;
};
inline constexpr std::uint64_t invoker_entry_tag = 0x636f6e6e6563746fULL;

template <class Callable, class Owner, class R, class... Args>
inline constexpr InvokerEntry invoker_entry{&invoker_entry<Callable, Owner, R, Args...>,
                                            &invoke_in_worker<Callable, Owner, R, Args...>, invoker_entry_tag};

template <class Callable, class Owner, class R, class... Args>
const CodeAddress& invoker_address() {
  static const CodeAddress address = locate_data(&invoker_entry<Callable, std::remove_cv_t<Owner>, R, Args...>);
  return address;
}

// The request for one call: which invoker, the callable, the owner's current
// state, the arguments. The first `code_size` bytes name code; the request's
// check value covers them (see docs/processes.md).
struct ProcessRequest {
  std::string bytes;
  std::size_t code_size = 0;
};

template <class R, class Callable, class Owner, class... Args>
ProcessRequest make_request(const Callable& callable, Owner& owner, const Args&... args) {
  if constexpr (std::is_member_pointer_v<Callable>) {
    if (callable == nullptr) throw std::invalid_argument("Executor::run_method: null pointer to member");
  } else if constexpr (std::is_pointer_v<Callable>) {
    if (callable == nullptr) throw std::invalid_argument("Executor::run_method: null function pointer");
  }
  ProcessRequest request;
  StringSink sink{request.bytes};
  std::ostream stream{&sink};
  cereal::BinaryOutputArchive out{stream};
  out(invoker_address<Callable, Owner, R, Args...>());
  save_callable(out, callable);
  request.code_size = request.bytes.size();
  out(owner);
  (out(args), ...);
  return request;
}

// A std::vector of numbers: cereal stores it as a size and the raw elements.
template <class T>
inline constexpr bool is_number_vector_v = false;
template <class T>
inline constexpr bool is_number_vector_v<std::vector<T, std::allocator<T>>> =
    std::is_arithmetic_v<T> && !std::is_same_v<T, bool>;

// Loads a vector of numbers as cereal's own load does, except that its fresh
// storage is advised to use huge pages before anything touches it: faulting
// in a large vector 4 KiB at a time is the dominant cost of a large result
// (measured: 34 ms for 64 MiB, against 8 ms in 2 MiB pages). The memory is the
// vector's alone, so the advice changes its page size and nothing else.
template <class T>
void load_number_vector(cereal::BinaryInputArchive& in, ReplyReader& source, std::vector<T>& vector) {
  cereal::size_type count = 0;
  in(cereal::make_size_tag(count));
  if (count > source.available() / sizeof(T)) {
    throw cereal::Exception("the reply holds fewer elements than its vector's size of " + std::to_string(count));
  }
  const auto size = static_cast<std::size_t>(count) * sizeof(T);
  vector.reserve(static_cast<std::size_t>(count));
  advise_huge_pages(vector.data(), size);
  // The reply's bytes are all there (a stream's are only announced, so its
  // pages come with them): all of the vector's pages at once.
  if (!source.streamed()) populate_pages(vector.data(), size);
  // One pass: copied straight from the reply (in chunks from a reply file),
  // not zero-filled first.
  const std::size_t chunk = std::max(source.chunk_limit() / sizeof(T), std::size_t{1}) * sizeof(T);
  for (std::size_t done = 0; done < size;) {
    const std::size_t part = std::min(chunk, size - done);
    const char* bytes = source.take(part);
    vector.insert(vector.end(), UnalignedElements<T>{bytes}, UnalignedElements<T>{bytes + part});
    done += part;
  }
}

// Decodes one reply from `source`: the call's result or exception.
template <class R>
R decode_from(ReplyReader& source) {
  std::istream stream{&source};
  cereal::BinaryInputArchive in{stream};
  std::uint8_t status = 0;
  in(status);
  switch (static_cast<ReplyStatus>(status)) {
    case ReplyStatus::value:
      if constexpr (std::is_void_v<R>) {
        source.finish();
        return;
      } else {
        R result;
        try {
          if constexpr (is_number_vector_v<R>) {
            load_number_vector(in, source, result);
          } else {
            in(result);
          }
        } catch (const cereal::Exception& error) {
          // The bytes are not what a worker's invoker writes for R: the
          // reply is the worker's fault, as one it should not have sent
          // (docs/processes.md, Errors).
          throw WorkerError("connectors: could not load the result (" + type_name<R>() +
                            ") of a worker process: " + error.what());
        } catch (const std::bad_alloc&) {
          // A stream announces its sizes before its bytes arrive (the
          // reservation is address space; pages come with the bytes).
          if (!source.streamed()) throw;
          throw WorkerError("connectors: a worker process announced a result (" + type_name<R>() +
                            ") larger than the caller could allocate");
        } catch (const std::length_error&) {
          if (!source.streamed()) throw;
          throw WorkerError("connectors: a worker process announced a result (" + type_name<R>() +
                            ") larger than the caller could allocate");
        }
        source.finish();
        return result;
      }
    case ReplyStatus::exception: {
      std::string exception_type;
      std::string message;
      in(exception_type, message);
      source.finish();
      throw RemoteError(std::move(exception_type), message);
    }
    case ReplyStatus::failure: {
      std::string message;
      in(message);
      source.finish();
      throw WorkerError("connectors: the worker process could not run the method: " + message);
    }
    case ReplyStatus::worker_error: {
      std::string message;
      in(message);
      source.finish();
      throw WorkerError(message);
    }
  }
  throw WorkerError("connectors: malformed reply from a worker process");
}

// Turns a worker's reply into the call's result or exception.
template <class R>
R decode_reply(const ByteBuffer& reply) {
  if (reply.size() == 0 && reply.stream() == nullptr)
    throw WorkerError("connectors: empty reply from a worker process");
  ReplyReader source{reply};
  // A stream's size is known only once it has been read (for traces,
  // docs/observability.md), whether the call succeeds or fails.
  struct NoteStreamedSize {
    const ReplyReader& source;
    ~NoteStreamedSize() {
      if (source.streamed()) note_streamed_reply(source.streamed_bytes());
    }
  } note{source};
  for (;;) {
    try {
      return decode_from<R>(source);
    } catch (const ReplyRestarted&) {
      // The worker's serialization failed half-way through a streamed
      // reply; the error reply it wrote instead follows.
    }
  }
}

// Awaitable that runs one request on a process backend and resumes the awaiting
// coroutine on its loop, like PoolCall does for threads: it lives in the
// coroutine frame and the loop does not end while it is in flight.
template <class R>
class ProcessCall final : public ProcessJob {
 public:
  ProcessCall(EventLoop& loop, ProcessBackend& backend, ProcessRequest request) noexcept
      : loop_(loop), backend_(backend) {
    this->request = std::move(request.bytes);
    this->code_size = request.code_size;
    this->accepts_stream = true;
  }
  ProcessCall(const ProcessCall&) = delete;
  ProcessCall& operator=(const ProcessCall&) = delete;

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> awaiting) noexcept {
    awaiting_ = awaiting;
    channel = &LoopAccess::channel(loop_);
    LoopAccess::begin_call(loop_);
    backend_.submit(*this);
  }
  R await_resume() {
    note_process_call(*this);
    if (failure) std::rethrow_exception(failure);
    // The reply goes as soon as it is decoded: a file it came in is the
    // worker's again (or freed, if the worker dropped it).
    const ByteBuffer taken = std::move(reply);
    return decode_reply<R>(taken);
  }

 private:
  void deliver() noexcept override {
    LoopAccess::end_call(loop_);
    awaiting_.resume();
  }
  void discard() noexcept override {}

  EventLoop& loop_;
  ProcessBackend& backend_;
  std::coroutine_handle<> awaiting_;
};

}  // namespace connectors::detail
