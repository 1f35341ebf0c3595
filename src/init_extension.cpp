#include <connectors/detail/init_extension.hpp>

#include <atomic>
#include <stdexcept>

namespace connectors::detail {

namespace {

// Set during static initialisation, read by init on the main thread.
std::atomic<InitExtension> registered{nullptr};

}  // namespace

bool register_init_extension(InitExtension extension) {
  InitExtension expected = nullptr;
  if (!registered.compare_exchange_strong(expected, extension) && expected != extension) {
    throw std::logic_error("connectors: two transports registered an extension of connectors::init");
  }
  return true;
}

void run_init_extension(int argc, char** argv) {
  if (const InitExtension extension = registered.load()) extension(argc, argv);
}

}  // namespace connectors::detail
