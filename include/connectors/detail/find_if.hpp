#pragma once

namespace connectors::detail {

// std::find_if without <algorithm>, whose weight every file that declares a
// multi-input would pay for four searches (docs/design.md#light-headers).
// A member function pointer is called directly for the same reason, instead
// of through std::invoke and <functional>.
template <class Iterator, class Predicate>
Iterator find_if(Iterator first, Iterator last, Predicate predicate) {
  for (; first != last; ++first) {
    if (predicate(*first)) break;
  }
  return first;
}

}  // namespace connectors::detail
