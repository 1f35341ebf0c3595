#pragma once

#include <cstring>
#include <type_traits>

namespace connectors::detail {

// Holds a pointer to a member function of some owner class without the class
// in its type. Member pointers are trivially copyable and, on the Itanium ABI,
// at most two words.
class ErasedMember {
 public:
  ErasedMember() = default;
  template <class Member>
  explicit ErasedMember(Member member) noexcept {
    static_assert(std::is_member_function_pointer_v<Member>, "connectors: expected &Owner::method");
    static_assert(sizeof(Member) <= sizeof(storage_) && std::is_trivially_copyable_v<Member>);
    std::memcpy(storage_, &member, sizeof(Member));
  }
  template <class Member>
  Member get() const noexcept {
    Member member;
    std::memcpy(&member, storage_, sizeof(Member));
    return member;
  }

 private:
  alignas(void*) unsigned char storage_[2 * sizeof(void*)] = {};
};

// The class a member function belongs to.
template <class Member>
struct member_owner;
template <class R, class C, class... A>
struct member_owner<R (C::*)(A...)> {
  using type = C;
};
template <class R, class C, class... A>
struct member_owner<R (C::*)(A...) const> {
  using type = C;
};
template <class R, class C, class... A>
struct member_owner<R (C::*)(A...) noexcept> {
  using type = C;
};
template <class R, class C, class... A>
struct member_owner<R (C::*)(A...) const noexcept> {
  using type = C;
};

}  // namespace connectors::detail
