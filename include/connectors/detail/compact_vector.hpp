#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <type_traits>

namespace connectors::detail {

// A vector of trivially copyable elements that keeps one element inline.
// Connectors almost always have exactly one connection, observer or observed
// input, so a network needs no heap block per link; this is what keeps a
// block within a few hundred bytes.
template <class T>
class CompactVector {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);

 public:
  CompactVector() = default;
  CompactVector(const CompactVector&) = delete;
  CompactVector& operator=(const CompactVector&) = delete;
  ~CompactVector() {
    if (capacity_ > 1) ::operator delete(storage_.heap);
  }

  T* begin() noexcept { return data(); }
  T* end() noexcept { return data() + size_; }
  const T* begin() const noexcept { return data(); }
  const T* end() const noexcept { return data() + size_; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  T& operator[](std::size_t index) noexcept { return data()[index]; }
  const T& operator[](std::size_t index) const noexcept { return data()[index]; }

  void push_back(const T& value) {
    if (size_ == capacity_) grow();
    data()[size_++] = value;
  }

  // Removes every element for which `predicate` holds, keeping the order.
  template <class Predicate>
  void erase_if(Predicate predicate) noexcept {
    // By hand rather than std::remove_if: <algorithm> would cost every file
    // that declares a connector (docs/design.md#light-headers).
    T* const first = data();
    std::uint32_t kept = 0;
    for (std::uint32_t i = 0; i < size_; ++i) {
      if (!predicate(first[i])) first[kept++] = first[i];
    }
    size_ = kept;
  }

  void pop_back() noexcept { --size_; }
  void clear() noexcept { size_ = 0; }

 private:
  T* data() noexcept { return capacity_ > 1 ? storage_.heap : &storage_.inline_element; }
  const T* data() const noexcept { return capacity_ > 1 ? storage_.heap : &storage_.inline_element; }

  void grow() {
    const std::uint32_t capacity = capacity_ * 2;
    // T may be a pointer to a struct: its size is the element size meant here.
    T* heap = static_cast<T*>(::operator new(capacity * sizeof(T)));   // NOLINT(bugprone-sizeof-expression)
    std::memcpy(static_cast<void*>(heap), data(), size_ * sizeof(T));  // NOLINT(bugprone-sizeof-expression)
    if (capacity_ > 1) ::operator delete(storage_.heap);
    storage_.heap = heap;
    capacity_ = capacity;
  }

  union Storage {
    T inline_element;
    T* heap;
    Storage() noexcept : heap(nullptr) {}
  } storage_;
  std::uint32_t size_ = 0;
  std::uint32_t capacity_ = 1;
};

}  // namespace connectors::detail
