#pragma once

#include <cstddef>
#include <cstring>
#include <ios>
#include <iterator>
#include <streambuf>
#include <string>

namespace connectors::detail {

// Appends whatever cereal writes to a std::string; no copy at the end, unlike
// an ostringstream.
class StringSink final : public std::streambuf {
 public:
  explicit StringSink(std::string& target) noexcept : target_(target) {}

 protected:
  std::streamsize xsputn(const char* data, std::streamsize count) override {
    target_.append(data, static_cast<std::size_t>(count));
    return count;
  }
  int_type overflow(int_type character) override {
    if (!traits_type::eq_int_type(character, traits_type::eof()))
      target_.push_back(traits_type::to_char_type(character));
    return traits_type::not_eof(character);
  }

 private:
  std::string& target_;
};

// Lets cereal read from bytes in memory without copying them into a stream.
class ByteSource final : public std::streambuf {
 public:
  ByteSource(const char* data, std::size_t size) noexcept {
    char* begin = const_cast<char*>(data);  // streambuf's interface is not const; nothing writes
    setg(begin, begin, begin + size);
  }

  std::size_t consumed() const noexcept { return static_cast<std::size_t>(gptr() - eback()); }
  std::size_t available() const noexcept { return static_cast<std::size_t>(egptr() - gptr()); }

  // The next `size` bytes in place, skipping them; at most available().
  const char* take(std::size_t size) noexcept {
    char* taken = gptr();
    setg(eback(), taken + size, egptr());
    return taken;
  }

 protected:
  std::streamsize xsgetn(char* data, std::streamsize count) override {
    const std::streamsize available = egptr() - gptr();
    const std::streamsize taken = count < available ? count : available;
    traits_type::copy(data, gptr(), static_cast<std::size_t>(taken));
    setg(eback(), gptr() + taken, egptr());
    return taken;
  }
};

// The elements of T stored one after the other at any alignment, as cereal's
// binary archives store arrays of numbers: lets a container copy them in one
// pass without forming a misaligned T*.
template <class T>
class UnalignedElements {
 public:
  using iterator_category = std::forward_iterator_tag;
  using value_type = T;
  using difference_type = std::ptrdiff_t;
  using pointer = const T*;
  using reference = T;

  UnalignedElements() noexcept = default;
  explicit UnalignedElements(const char* bytes) noexcept : bytes_(bytes) {}

  T operator*() const noexcept {
    T value;
    std::memcpy(&value, bytes_, sizeof value);
    return value;
  }
  UnalignedElements& operator++() noexcept {
    bytes_ += sizeof(T);
    return *this;
  }
  UnalignedElements operator++(int) noexcept {
    UnalignedElements before = *this;
    bytes_ += sizeof(T);
    return before;
  }
  friend difference_type operator-(UnalignedElements last, UnalignedElements first) noexcept {
    return (last.bytes_ - first.bytes_) / static_cast<difference_type>(sizeof(T));
  }
  friend bool operator==(UnalignedElements, UnalignedElements) noexcept = default;

 private:
  const char* bytes_ = nullptr;
};

}  // namespace connectors::detail
