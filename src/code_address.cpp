#include <connectors/detail/code_address.hpp>

#include <dlfcn.h>
#include <link.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

namespace connectors::detail {

namespace {

// Where a module's first loadable segment starts: what dladdr reports as
// dli_fbase, computed from the program headers so both sides agree.
std::uintptr_t module_base(const dl_phdr_info& info) {
  const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  for (int i = 0; i < info.dlpi_phnum; ++i) {
    const ElfW(Phdr)& segment = info.dlpi_phdr[i];
    if (segment.p_type == PT_LOAD) return (info.dlpi_addr + segment.p_vaddr) & ~(page - 1);
  }
  return info.dlpi_addr;
}

// Whether [address, address + size) lies in one loadable segment with
// `permission` (PF_X for code, PF_R for data).
bool in_segment(const dl_phdr_info& info, std::uintptr_t address, std::size_t size, unsigned permission) {
  for (int i = 0; i < info.dlpi_phnum; ++i) {
    const ElfW(Phdr)& segment = info.dlpi_phdr[i];
    if (segment.p_type != PT_LOAD || (segment.p_flags & permission) == 0) continue;
    const std::uintptr_t start = info.dlpi_addr + segment.p_vaddr;
    if (address >= start && address - start < segment.p_memsz && size <= segment.p_memsz - (address - start))
      return true;
  }
  return false;
}

struct Search {
  // In: the address to locate, or the module and offset to resolve.
  std::uintptr_t address = 0;
  const CodeAddress* wanted = nullptr;
  std::size_t size = 1;
  unsigned permission = PF_X;
  // Out.
  bool found = false;
  bool module_seen = false;  // the wanted module is loaded here
  CodeAddress located;
  std::uintptr_t resolved = 0;
  bool first = true;
};

// The first module dl_iterate_phdr reports is the main program; its name is
// empty there (and argv[0]-like in dladdr), so it travels as "".
int visit(dl_phdr_info* info, std::size_t, void* data) {
  auto& search = *static_cast<Search*>(data);
  const bool main_program = search.first;
  search.first = false;
  const std::string name = main_program || info->dlpi_name == nullptr ? std::string{} : std::string{info->dlpi_name};
  if (search.wanted == nullptr) {
    if (!in_segment(*info, search.address, search.size, search.permission)) return 0;
    search.located = CodeAddress{name, search.address - module_base(*info)};
    search.found = true;
    return 1;
  }
  if (name != search.wanted->module) return 0;
  search.module_seen = true;
  const std::uintptr_t base = module_base(*info);
  if (search.wanted->offset > UINTPTR_MAX - base) return 0;
  const std::uintptr_t address = base + search.wanted->offset;
  if (!in_segment(*info, address, search.size, search.permission)) return 0;
  search.resolved = address;
  search.found = true;
  return 1;
}

std::string module_label(const CodeAddress& address) {
  return address.module.empty() ? std::string{"<main program>"} : address.module;
}

// The workers are forks of the fork server, made by connectors::init: a
// shared object the program loads after init (dlopen) is not in them.
[[noreturn]] void throw_module_missing(const CodeAddress& address) {
  throw std::runtime_error("connectors: the module '" + module_label(address) +
                           "' is not loaded in the worker process (workers are forks made by connectors::init: a "
                           "library loaded after init, with dlopen, is not in them; load it before init, or flag "
                           "its methods THREAD)");
}

}  // namespace

CodeAddress locate_code(const void* code) {
  Search search;
  search.address = reinterpret_cast<std::uintptr_t>(code);
  // dladdr finds the module quickly and catches addresses outside any.
  Dl_info info{};
  if (::dladdr(code, &info) == 0) {
    throw std::invalid_argument("connectors: the function to run in a worker process is not in any loaded module");
  }
  ::dl_iterate_phdr(visit, &search);
  if (!search.found) {
    throw std::invalid_argument("connectors: the function to run in a worker process is not in executable code");
  }
  return search.located;
}

void* resolve_code(const CodeAddress& address) {
  Search search;
  search.wanted = &address;
  ::dl_iterate_phdr(visit, &search);
  if (!search.module_seen) throw_module_missing(address);
  if (!search.found) {
    throw std::runtime_error("connectors: no code at offset " + std::to_string(address.offset) + " of module '" +
                             module_label(address) + "' in the worker process (is it running the same binary?)");
  }
  return reinterpret_cast<void*>(search.resolved);
}

}  // namespace connectors::detail

namespace connectors::detail {

CodeAddress locate_data(const void* data) {
  Search search;
  search.address = reinterpret_cast<std::uintptr_t>(data);
  search.permission = PF_R;
  ::dl_iterate_phdr(visit, &search);
  if (!search.found) throw std::invalid_argument("connectors: an invoker of a worker process is in no loaded module");
  return search.located;
}

const void* resolve_data(const CodeAddress& address, std::size_t size) {
  Search search;
  search.wanted = &address;
  search.size = size;
  search.permission = PF_R;
  ::dl_iterate_phdr(visit, &search);
  if (!search.module_seen) throw_module_missing(address);
  if (!search.found) {
    throw std::runtime_error("connectors: no data at offset " + std::to_string(address.offset) + " of module '" +
                             module_label(address) + "' in the worker process");
  }
  return reinterpret_cast<const void*>(search.resolved);
}

}  // namespace connectors::detail
