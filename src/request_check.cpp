#include "request_check.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace connectors::detail {

namespace {

std::uint64_t key[2] = {0, 0};

constexpr std::uint64_t rotate(std::uint64_t x, int bits) noexcept { return (x << bits) | (x >> (64 - bits)); }

struct SipState {
  std::uint64_t v0, v1, v2, v3;

  void round() noexcept {
    v0 += v1;
    v1 = rotate(v1, 13);
    v1 ^= v0;
    v0 = rotate(v0, 32);
    v2 += v3;
    v3 = rotate(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = rotate(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = rotate(v1, 17);
    v1 ^= v2;
    v2 = rotate(v2, 32);
  }
  void absorb(std::uint64_t word) noexcept {
    v3 ^= word;
    round();
    round();
    v0 ^= word;
  }
};

// SipHash-2-4 of `prefix` (eight bytes) followed by `data`.
std::uint64_t sip_hash(std::uint64_t prefix, const char* data, std::size_t size) noexcept {
  SipState state{key[0] ^ 0x736f6d6570736575ULL, key[1] ^ 0x646f72616e646f6dULL, key[0] ^ 0x6c7967656e657261ULL,
                 key[1] ^ 0x7465646279746573ULL};
  state.absorb(prefix);
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, data + i, 8);
    state.absorb(word);
  }
  std::uint64_t last = static_cast<std::uint64_t>(size + 8) << 56;
  for (std::size_t j = 0; i + j < size; ++j)
    last |= static_cast<std::uint64_t>(static_cast<unsigned char>(data[i + j])) << (8 * j);
  state.absorb(last);
  state.v2 ^= 0xff;
  for (int r = 0; r < 4; ++r) state.round();
  return state.v0 ^ state.v1 ^ state.v2 ^ state.v3;
}

}  // namespace

void make_request_key() {
  std::size_t got = 0;
  while (got < sizeof key) {
    const ssize_t n = ::getrandom(reinterpret_cast<char*>(key) + got, sizeof key - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::system_error(errno, std::generic_category(), "connectors::init: getrandom");
    got += static_cast<std::size_t>(n);
  }
}

std::uint64_t request_check(std::uint64_t call_id, const char* code, std::size_t code_size) noexcept {
  return sip_hash(call_id, code, code_size);
}

}  // namespace connectors::detail
