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
// Qualified `&`: called on the owner, an lvalue, as any other.
template <class R, class C, class... A>
struct member_owner<R (C::*)(A...)&> {
  using type = C;
};
template <class R, class C, class... A>
struct member_owner<R (C::*)(A...) const&> {
  using type = C;
};
template <class R, class C, class... A>
struct member_owner<R (C::*)(A...)& noexcept> {
  using type = C;
};
template <class R, class C, class... A>
struct member_owner<R (C::*)(A...) const& noexcept> {
  using type = C;
};
// Qualified `&&`: only an rvalue could call it, and the owner outlives every
// call. A readable error instead of a failed conversion of the arguments.
template <class Member>
constexpr bool rvalue_member = false;
template <class R, class C, class... A>
struct member_owner<R (C::*)(A...) &&> {
  static_assert(rvalue_member<R (C::*)(A...) &&>,
                "connectors: a method qualified && cannot be a connector's method: the owner it runs on is an lvalue");
  using type = C;
};
template <class R, class C, class... A>
struct member_owner<R (C::*)(A...) const&&> {
  static_assert(rvalue_member<R (C::*)(A...) const&&>,
                "connectors: a method qualified && cannot be a connector's method: the owner it runs on is an lvalue");
  using type = C;
};
template <class R, class C, class... A>
struct member_owner<R (C::*)(A...)&& noexcept> {
  static_assert(rvalue_member<R (C::*)(A...) && noexcept>,
                "connectors: a method qualified && cannot be a connector's method: the owner it runs on is an lvalue");
  using type = C;
};
template <class R, class C, class... A>
struct member_owner<R (C::*)(A...) const&& noexcept> {
  static_assert(rvalue_member<R (C::*)(A...) const&& noexcept>,
                "connectors: a method qualified && cannot be a connector's method: the owner it runs on is an lvalue");
  using type = C;
};

}  // namespace connectors::detail
