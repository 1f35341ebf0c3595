#pragma once

// The values of a MultiInputData in insertion order: what the tests' storing
// classes return from their getters and what the helper tests compare.

#include <connectors/multi_input_data.hpp>

#include <vector>

namespace connectors::testing {

template <class V, class Id>
std::vector<V> values_of(const MultiInputData<V, Id>& data) {
  std::vector<V> result;
  for (const auto& [id, value] : data) result.push_back(value);
  return result;
}

}  // namespace connectors::testing
