#pragma once

#include <cstddef>
#include <ios>
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

 protected:
  std::streamsize xsgetn(char* data, std::streamsize count) override {
    const std::streamsize available = egptr() - gptr();
    const std::streamsize taken = count < available ? count : available;
    traits_type::copy(data, gptr(), static_cast<std::size_t>(taken));
    setg(eback(), gptr() + taken, egptr());
    return taken;
  }
};

}  // namespace connectors::detail
