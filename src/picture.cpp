// connectors::to_dot and write_svg: a network as Graphviz draws it
// (docs/observability.md, "The picture").
#include <connectors/detail/node_inspector.hpp>
#include <connectors/detail/observer.hpp>
#include <connectors/detail/operation.hpp>
#include <connectors/detail/type_name.hpp>
#include <connectors/errors.hpp>
#include <connectors/executor.hpp>
#include <connectors/picture.hpp>

#include "owner_identity.hpp"

#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>
#include <vector>

extern char** environ;

namespace connectors::detail {

namespace {

const char* laziness_name(Laziness laziness) {
  switch (laziness) {
    case Laziness::ON_REQUEST:
      return "ON_REQUEST";
    case Laziness::ON_NOTIFY:
      return "ON_NOTIFY";
    case Laziness::ON_ANNOUNCE:
      return "ON_ANNOUNCE";
    case Laziness::ON_CONNECT:
      return "ON_CONNECT";
  }
  return "?";
}

const char* parallelization_name(Parallelization parallelization) {
  switch (parallelization) {
    case Parallelization::SEQUENTIAL:
      return "SEQUENTIAL";
    case Parallelization::THREAD:
      return "THREAD";
    case Parallelization::PROCESS:
      return "PROCESS";
  }
  return "?";
}

std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '\n') {
      out += "\\n";  // a line break in a Graphviz label
      continue;
    }
    if (c == '\0') {
      // A DOT file cannot hold a NUL byte (`dot` read the rest of the
      // string as source): shown as \0.
      out += "\\\\0";
      continue;
    }
    if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\r') {
      // `dot` copies other control bytes into the SVG, where XML forbids
      // them (the file would not open): shown as \x01 and the like.
      static constexpr char hex[] = "0123456789abcdef";
      out += "\\\\x";
      out += hex[(c >> 4) & 0xf];
      out += hex[c & 0xf];
      continue;
    }
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + '"';
}

// Every connector reachable from `start`; a multi-output's key items stand
// for their parent.
std::vector<const NodeBase*> reachable(const NodeBase& start) {
  std::unordered_set<const NodeBase*> seen{&start};
  std::vector<const NodeBase*> order{&start};
  std::pair walk{&seen, &order};
  for (std::size_t next = 0; next < order.size(); ++next) {
    order[next]->for_each_neighbour(
        [](const NodeBase& neighbour, void* raw) {
          auto& walk =
              *static_cast<std::pair<std::unordered_set<const NodeBase*>*, std::vector<const NodeBase*>*>*>(raw);
          if (walk.first->insert(&neighbour).second) walk.second->push_back(&neighbour);
        },
        &walk);
  }
  return order;
}

std::string executor_label(const NodeBase& node) {
  const Executor* executor = NodeInspector::own_executor(node);
  if (executor == nullptr) return {};
  std::string name = demangle(typeid(*executor).name());
  if (name.rfind("connectors::", 0) == 0) name.erase(0, std::strlen("connectors::"));
  return "\n" + name;
}

}  // namespace

std::string network_dot(const NodeBase& start) {
  ConfigurationLock lock{start, "drawing a network"};
  std::vector<const NodeBase*> nodes = reachable(start);
  // Items are drawn as their parent: only the others get a node.
  std::vector<const NodeBase*> drawn;
  for (const NodeBase* node : nodes) {
    if (NodeInspector::as_key_item(*node) == nullptr) drawn.push_back(node);
  }
  // Declaration order within an owner is address order (members).
  std::sort(drawn.begin(), drawn.end());
  std::unordered_map<const NodeBase*, std::string> ids;
  for (std::size_t index = 0; index < drawn.size(); ++index) ids[drawn[index]] = "c" + std::to_string(index);
  auto id_of = [&](const NodeBase& node) -> const std::string& {
    if (const auto* item = NodeInspector::as_key_item(node)) return ids.at(&item->parent());
    return ids.at(&node);
  };

  // An owner is an object: the connectors a block declares and those its
  // base classes declare are one cluster, but a block's first member block,
  // at the same address, is another object.
  struct Owner {
    const void* address;
    const OwnerType* type;  // the most derived of the types seen there
    std::vector<const NodeBase*> members;
  };
  std::vector<Owner> owners;
  std::unordered_map<const void*, std::vector<std::size_t>> owners_at;
  // One object at one address, as the registry of owners' networks tells.
  auto class_of = [](const OwnerType* type) { return type != nullptr ? &type->type : nullptr; };
  for (const NodeBase* node : drawn) {
    const OwnerType* type = node->owner_record();
    Owner* found = nullptr;
    for (const std::size_t index : owners_at[node->owner()]) {
      Owner& owner = owners[index];
      if (!is_class_of(class_of(owner.type), class_of(type))) continue;
      if (more_derived(class_of(owner.type), class_of(type)) != class_of(owner.type)) owner.type = type;
      found = &owner;
      break;
    }
    if (found == nullptr) {
      owners_at[node->owner()].push_back(owners.size());
      found = &owners.emplace_back(Owner{node->owner(), type, {}});
    }
    found->members.push_back(node);
  }

  std::ostringstream out;
  out << "digraph network {\n"
         "  rankdir=LR;\n"
         "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10];\n"
         "  edge [fontname=\"Helvetica\", fontsize=9];\n";
  std::size_t cluster = 0;
  for (const Owner& owner : owners) {
    const auto& members = owner.members;
    // Any of the owner's connectors may carry its name, one its base class
    // declares too; the most derived type names the object's type.
    std::string type_label;
    std::string name;
    for (const NodeBase* node : members) {
      if (type_label.empty() && node->owner_record() == owner.type) type_label = owner_type_label(*node);
      std::string given = owner_name(*node);
      if (given.size() > name.size()) name = std::move(given);
    }
    const std::string title = name.empty() ? type_label : type_label + ' ' + name;
    out << "  subgraph cluster_" << cluster++ << " {\n    label=" << quoted(title)
        << ";\n    style=rounded; color=gray40; fontname=\"Helvetica\";\n";
    // The same default name twice in one owner: numbered.
    std::map<std::string, int> counts;
    for (const NodeBase* node : members) ++counts[connector_label(*node)];
    std::map<std::string, int> numbers;
    for (const NodeBase* node : members) {
      std::string name = connector_label(*node);
      if (counts[name] > 1) name += " #" + std::to_string(++numbers[name]);
      std::string label;
      std::string fill;
      if (const auto* output = dynamic_cast<const OutputNode*>(node)) {
        std::string state;
        if (NodeInspector::announced(*output)) {
          state = "stale, announced";  // an input it observes has a change coming
          fill = "lightsalmon";
        } else if (output->valid()) {
          state = "valid";
          fill = "palegreen";
        } else {
          state = "stale";
          fill = "lightsalmon";
        }
        if (!output->caching()) state += ", no cache";
        label = name + "\n" + state + "\n" + parallelization_name(output->parallelization());
      } else if (const auto* input = dynamic_cast<const InputNode*>(node)) {
        std::string state = NodeInspector::announcing(*input) ? "announced" : "settled";
        if (NodeInspector::holds_value(*input)) state += ", value waiting";
        fill = NodeInspector::announcing(*input) ? "khaki" : "white";
        label = name + "\n" + state + "\n" + laziness_name(input->laziness()) + ", " +
                parallelization_name(input->parallelization());
      }
      label += executor_label(*node);
      const bool is_input = dynamic_cast<const InputNode*>(node) != nullptr;
      out << "    " << ids[node] << " [label=" << quoted(label) << ", fillcolor=" << fill
          << (is_input ? ", shape=cds, style=filled" : "") << "];\n";
    }
    out << "  }\n";
  }
  // Connections, then the dependencies within owners (input -> observers).
  for (const NodeBase* node : nodes) {
    if (const auto* output = dynamic_cast<const OutputNode*>(node)) {
      for (const OutputNode::Connection& connection : output->connections()) {
        std::string label = output->connection_label(*connection.input);
        const std::string id = connection.input->connection_label(*output);
        if (!id.empty()) label += (label.empty() ? "" : " → ") + id;
        out << "  " << id_of(*output) << " -> " << id_of(*connection.input);
        if (!label.empty()) out << " [label=" << quoted(label) << "]";
        out << ";\n";
      }
    }
    if (const auto* input = dynamic_cast<const InputNode*>(node)) {
      for (const OutputNode* observer : input->observers()) {
        out << "  " << id_of(*input) << " -> " << id_of(*observer) << " [style=dotted, color=gray50];\n";
      }
    }
  }
  out << "}\n";
  return out.str();
}

void render_svg(const std::string& path, const std::string& dot) {
  if (path.empty()) throw std::invalid_argument("connectors::write_svg: empty path");
  char source[] = "/tmp/connectors-network-XXXXXX";
  const int fd = ::mkstemp(source);
  if (fd < 0)
    throw Error(std::string("connectors::write_svg: cannot create a temporary file: ") + std::strerror(errno));
  ::close(fd);
  struct Remove {
    const char* path;
    ~Remove() { ::unlink(path); }
  } remove{source};
  {
    std::ofstream file{source};
    file << dot;
    if (!file.flush()) throw Error("connectors::write_svg: cannot write the temporary file " + std::string(source));
  }
  // `dot` writes beside the target, which is replaced only once the picture
  // is whole: a failure leaves the file there as it was. The name is made
  // by mkstemp and given back, so that `dot` creates the file with the
  // program's usual permissions.
  std::string rendered = path + ".XXXXXX";
  const int reserved = ::mkstemp(rendered.data());
  if (reserved < 0) {
    throw Error("connectors::write_svg: cannot write beside " + path + ": " + std::strerror(errno));
  }
  ::close(reserved);
  ::unlink(rendered.c_str());
  struct RemoveRendered {
    const std::string& path;
    bool kept = false;
    ~RemoveRendered() {
      if (!kept) ::unlink(path.c_str());
    }
  } remove_rendered{rendered};
  std::string program = "dot";
  std::string format = "-Tsvg";
  // One argument with its flag: `dot` would read a separate path that
  // begins with '-' as another option. (An empty path was refused above:
  // a bare -o makes `dot` complain and exit 0.)
  std::string target = "-o" + rendered;
  char* argv[] = {program.data(), format.data(), target.data(), source, nullptr};
  pid_t pid = 0;
  const int spawned = ::posix_spawnp(&pid, "dot", nullptr, nullptr, argv, environ);
  if (spawned == ENOENT) {
    throw Error(
        "connectors::write_svg: Graphviz's `dot` program was not found on PATH; install it (Debian: apt-get install "
        "graphviz) or render connectors::to_dot's text yourself");
  }
  if (spawned != 0) throw Error(std::string("connectors::write_svg: cannot run `dot`: ") + std::strerror(spawned));
  int status = 0;
  bool status_known = true;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno == ECHILD) {
      // The program ignores SIGCHLD: the kernel reaped `dot` and its exit
      // status is gone. Its output tells instead.
      status_known = false;
      break;
    }
    if (errno != EINTR) throw Error("connectors::write_svg: lost the `dot` process");
  }
  struct stat written {};
  const bool wrote = ::stat(rendered.c_str(), &written) == 0 && written.st_size > 0;
  if (status_known ? !WIFEXITED(status) || WEXITSTATUS(status) != 0 : !wrote) {
    throw Error("connectors::write_svg: `dot` failed to render " + path);
  }
  if (::rename(rendered.c_str(), path.c_str()) != 0) {
    throw Error("connectors::write_svg: cannot replace " + path + ": " + std::strerror(errno));
  }
  remove_rendered.kept = true;
}

}  // namespace connectors::detail
