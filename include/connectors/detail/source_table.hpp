#pragma once

#include <cstddef>
#include <unordered_map>
#include <utility>
#include <vector>

namespace connectors::detail {

class OutputNode;

// The sources of a multi-input, found by their output in constant time: a
// multi-input with 10^5 sources must not pay a linear search per value,
// announcement or disconnect (docs/multi-inputs.md, Wide networks). Few
// sources are searched linearly, which costs less than hashing; the index is
// built once there are more. Removal moves the last entry into the hole:
// the order of the entries is not connection order (nothing depends on it:
// the order of first values is kept by PendingValues).
template <class Source>
class SourceTable {
 public:
  using iterator = typename std::vector<Source>::iterator;
  using const_iterator = typename std::vector<Source>::const_iterator;

  Source* find(const OutputNode& node) noexcept { return find_address(&node); }
  const Source* find(const OutputNode& node) const noexcept { return const_cast<SourceTable*>(this)->find(node); }
  // By address only: `node` may be a connector that is gone.
  Source* find_address(const OutputNode* node) noexcept {
    if (index_.empty()) {
      for (Source& source : sources_) {
        if (source.node == node) return &source;
      }
      return nullptr;
    }
    auto found = index_.find(node);
    return found == index_.end() ? nullptr : &sources_[found->second];
  }
  const Source* find_address(const OutputNode* node) const noexcept {
    return const_cast<SourceTable*>(this)->find_address(node);
  }
  // The same, looking first at `hint`, where the entry was seen before: no
  // hash lookup while nothing has moved it (a source's entry moves only when
  // another source is removed).
  Source* find(const OutputNode& node, std::size_t hint) noexcept {
    if (hint < sources_.size() && sources_[hint].node == &node) return &sources_[hint];
    return find(node);
  }

  // Where `source`, an entry of this table, is now.
  std::size_t position(const Source& source) const noexcept {
    return static_cast<std::size_t>(&source - sources_.data());
  }

  // Strong guarantee: on an exception nothing was added.
  Source& push_back(Source source) {
    sources_.push_back(std::move(source));
    try {
      if (!index_.empty()) {
        index_.emplace(sources_.back().node, sources_.size() - 1);
      } else if (sources_.size() > linear_limit) {
        for (std::size_t position = 0; position < sources_.size(); ++position) {
          index_.emplace(sources_[position].node, position);
        }
      }
    } catch (...) {
      index_.clear();
      sources_.pop_back();
      throw;
    }
    return sources_.back();
  }

  void erase(const OutputNode& node) noexcept {
    Source* source = find(node);
    if (source == nullptr) return;
    const auto position = static_cast<std::size_t>(source - sources_.data());
    if (position + 1 != sources_.size()) {
      *source = std::move(sources_.back());
      if (!index_.empty()) index_[source->node] = position;  // the key exists: no allocation
    }
    if (!index_.empty()) index_.erase(&node);
    sources_.pop_back();
  }

  void clear() noexcept {
    sources_.clear();
    index_.clear();
  }
  bool empty() const noexcept { return sources_.empty(); }
  std::size_t size() const noexcept { return sources_.size(); }
  iterator begin() noexcept { return sources_.begin(); }
  iterator end() noexcept { return sources_.end(); }
  const_iterator begin() const noexcept { return sources_.begin(); }
  const_iterator end() const noexcept { return sources_.end(); }

 private:
  static constexpr std::size_t linear_limit = 16;

  std::vector<Source> sources_;
  std::unordered_map<const OutputNode*, std::size_t> index_;  // empty while few
};

}  // namespace connectors::detail
