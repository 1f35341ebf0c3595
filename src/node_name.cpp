// Names of connectors and owners, for pictures and timelines
// (docs/observability.md, "Names").
#include <connectors/detail/multi_output_node.hpp>
#include <connectors/detail/node.hpp>
#include <connectors/detail/observer.hpp>
#include <connectors/detail/operation.hpp>
#include <connectors/detail/type_name.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <typeindex>
#include <unordered_map>
#include <utility>

namespace connectors::detail {

namespace {

// "connectors::Output<double>" -> "Output<double>": every connector is one;
// "(anonymous namespace)::Block" -> "Block": says nothing in a picture.
std::string without_namespace(std::string name) {
  for (const std::string prefix : {"connectors::", "(anonymous namespace)::"}) {
    std::string::size_type at = 0;
    while ((at = name.find(prefix, at)) != std::string::npos) name.erase(at, prefix.size());
  }
  return name;
}

// Demangling is slow and a trace labels every method: each type once.
// Never destroyed, like the names table below: a block with static storage
// may be destroyed after it, and its destructor may run a recorded method.
const std::string& readable(const std::type_info& type) {
  static std::mutex mutex;
  static auto* names = new std::unordered_map<std::type_index, std::string>;
  std::lock_guard lock{mutex};
  auto found = names->find(type);
  if (found == names->end()) found = names->emplace(type, without_namespace(demangle(type.name()))).first;
  return found->second;
}

// A multi-output's key items are drawn and recorded as their parent.
const NodeBase& labelled(const NodeBase& node) {
  if (const auto* item = dynamic_cast<const MultiOutputKeyNode*>(&node)) return item->parent();
  return node;
}

// The names given, by connector: a table rather than a member, so that
// unnamed connectors pay nothing for names.
std::mutex names_mutex;
std::unordered_map<const NodeBase*, std::string>& names() {
  // Never destroyed: connectors with static storage may be destroyed later.
  static auto* table = new std::unordered_map<const NodeBase*, std::string>;
  return *table;
}

}  // namespace

void NodeBase::set_name(std::string name) {
  NetworkLock lock{*this, true};  // also from a helper of a method computing it
  std::lock_guard names_lock{names_mutex};
  names()[this] = std::move(name);
  names_in_use.store(true, std::memory_order_relaxed);
}

std::optional<std::string> NodeBase::name() const {
  std::lock_guard lock{names_mutex};
  auto found = names().find(this);
  if (found == names().end()) return std::nullopt;
  return found->second;
}

void forget_name(const NodeBase& node) noexcept {
  std::lock_guard lock{names_mutex};
  names().erase(&node);
}

std::string NodeBase::connection_label(const NodeBase&) const { return {}; }

std::string owner_type_label(const NodeBase& node) {
  const NodeBase& named = labelled(node);
  return named.owner_type() != nullptr ? readable(*named.owner_type()) : "?";
}

std::string owner_name(const NodeBase& node) {
  if (const std::optional<std::string> name = labelled(node).name()) {
    if (auto dot = name->find('.'); dot != std::string::npos) return name->substr(0, dot);
  }
  return {};
}

std::string owner_label(const NodeBase& node) {
  std::string label = owner_type_label(node);
  if (std::string name = owner_name(node); !name.empty()) {
    label += ' ';
    label += name;
  }
  return label;
}

std::string connector_label(const NodeBase& node) {
  const NodeBase& named = labelled(node);
  if (const std::optional<std::string> name = named.name()) {
    auto dot = name->find('.');
    return dot == std::string::npos ? *name : name->substr(dot + 1);
  }
  return readable(typeid(named));
}

}  // namespace connectors::detail
