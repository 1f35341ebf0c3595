// Running one request where it arrived: resolve its invoker, call it, write
// the reply. Shared by whatever process serves requests (a worker of the
// local pool today; see docs/processes.md, "Backends").

#include "request_handler.hpp"

#include <connectors/detail/byte_streams.hpp>
#include <connectors/detail/process_call.hpp>
#include <connectors/detail/type_name.hpp>

#include <cxxabi.h>

#include <cstdint>
#include <exception>
#include <istream>
#include <ostream>
#include <stdexcept>
#include <string>
#include <typeinfo>

namespace connectors::detail {

namespace {

std::string current_exception_type() {
  const std::type_info* type = abi::__cxa_current_exception_type();
  return type != nullptr ? demangle(type->name()) : std::string{"unknown exception"};
}

// The invoker a request names, if it is one of the library's own (see
// InvokerEntry): nothing else in the worker's modules may be called.
WorkerInvoker resolve_invoker(const CodeAddress& address) {
  const auto* entry = static_cast<const InvokerEntry*>(resolve_data(address, sizeof(InvokerEntry)));
  if (reinterpret_cast<std::uintptr_t>(entry) % alignof(InvokerEntry) != 0 || entry->self != entry ||
      entry->tag != invoker_entry_tag) {
    throw std::runtime_error("the request does not name one of the library's invokers");
  }
  // An entry's invoker is code of a loaded module (locate_code throws if not).
  locate_code(function_address(entry->invoke));
  return entry->invoke;
}

}  // namespace

void write_error(ReplySink& reply, ReplyStatus status, const std::string& first, const std::string* second) {
  reply.clear();
  std::ostream stream{&reply};
  cereal::BinaryOutputArchive out{stream};
  out(static_cast<std::uint8_t>(status), first);
  if (second != nullptr) out(*second);
}

void run_request(const std::string& request, ReplySink& reply) {
  reply.clear();
  try {
    ByteSource source{request.data(), request.size()};
    std::istream in_stream{&source};
    cereal::BinaryInputArchive in{in_stream};
    WorkerInvoker invoker = nullptr;
    try {
      CodeAddress invoker_address;
      in(invoker_address);
      invoker = resolve_invoker(invoker_address);
    } catch (const std::exception& error) {
      write_error(reply, ReplyStatus::failure, error.what(), nullptr);
      return;
    }
    std::ostream out_stream{&reply};
    out_stream.exceptions(std::ios::badbit);
    cereal::BinaryOutputArchive out{out_stream};
    invoker(in, out);
    reply.complete();
  } catch (const std::exception& error) {
    const std::string message = error.what();
    write_error(reply, ReplyStatus::exception, current_exception_type(), &message);
  } catch (...) {
    const std::string message;
    write_error(reply, ReplyStatus::exception, current_exception_type(), &message);
  }
}

}  // namespace connectors::detail
