#pragma once

#include <connectors/detail/node.hpp>

#include <vector>

namespace connectors::detail {

class MultiOutputKeyNode;

// The untyped part of a multi-output (docs/design.md#multi-output). As an output node it holds
// the announcements of the observed inputs and the connections of the whole
// multi-output (to multi-inputs). Each key that has single connections gets an
// item node of its own: the announcer identity towards those connections.
//
// Per-key validity: a key's cached value is valid when the node is valid and
// the key has a cached value. An announcement invalidates all keys at once, a
// notification drops all cached values, and a full cancellation re-validates
// the cached keys: the per-key validity rules of docs/design.md#multi-output with O(1)
// bookkeeping.
class MultiOutputNode : public OutputNode {
 public:
  const std::vector<MultiOutputKeyNode*>& items() const noexcept { return items_; }

  void for_each_downstream(Visit visit, void* context) const override;

 protected:
  MultiOutputNode() noexcept : OutputNode(Kind::multi) {}
  ~MultiOutputNode() = default;
  // The destructor's detach, on a thread that may unlink (leave_network):
  // the items and this node leave the network in one critical section, with
  // `take_items(context)`, which forgets the typed part's items, run inside
  // it first. Another thread's operation that ran between an item leaving
  // the keys and leaving its connections would find a key connected to
  // inputs that no computation pushes to any more, and wait for ever
  // (docs/design.md#lifetime). The items' own destructors then have nothing
  // left to do. `noted`: as detach_here's.
  void detach_with_items(bool noted, void (*take_items)(void* context) noexcept, void* context) noexcept;
  // Unlists `unused` items, which have no connections and which no
  // operation can be using (the caller holds the network lock from outside
  // any computation of it): one pass over the list, and their destructors
  // then have nothing left to do.
  void forget_items(std::vector<MultiOutputKeyNode*>& unused) noexcept;
  // The same for one item, under the lock the caller holds (which may be a
  // helper's, nested in a computation: the item's destructor, run after the
  // lock is released, would wait for the computation's root).
  void forget_item(MultiOutputKeyNode& unused) noexcept;

 private:
  friend class MultiOutputKeyNode;
  std::vector<MultiOutputKeyNode*> items_;  // the keys' items that exist
};

// A multi-output's item for one key: an output node whose connections are the
// single connections of that key (`mo[key]`). Its announcements are its
// parent's; a request asks the parent for the key.
class MultiOutputKeyNode : public OutputNode {
 public:
  MultiOutputNode& parent() const noexcept { return parent_; }

  void for_each_upstream(Visit visit, void* context) const override { visit(parent_, context); }

 protected:
  explicit MultiOutputKeyNode(MultiOutputNode& parent);
  ~MultiOutputKeyNode() = default;
  // Leaves the parent's keys, then the network (OutputNode::detach): the
  // most-derived destructor calls it first.
  void detach_key() noexcept;

  void drop_cache() noexcept override {}

 private:
  friend class MultiOutputNode;
  MultiOutputNode& parent_;
  bool left_ = false;  // left with its parent (detach_with_items): detach_key has nothing to do
};

}  // namespace connectors::detail
