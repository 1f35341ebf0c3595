#pragma once

// A small dynamic value for the ported tests, which pass None, numbers,
// booleans, strings, tuples and object identities through the same connectors
// (docs/design.md#test-helpers).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <ostream>
#include <sstream>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

namespace connectors::testing {

class Value {
 public:
  using List = std::vector<Value>;

  Value() = default;
  Value(std::nullptr_t) {}  // NOLINT(google-explicit-constructor): reads like Python's None
  Value(bool value) : data_(value) {}
  Value(double value) : data_(value) {}
  Value(int value) : data_(static_cast<double>(value)) {}
  Value(const char* value) : data_(std::string(value)) {}
  Value(std::string value) : data_(std::move(value)) {}
  Value(List value) : data_(std::move(value)) {}
  template <class T>
  requires std::is_class_v<T>
  static Value object(const T& object) {
    Value value;
    value.data_ = static_cast<const void*>(&object);
    return value;
  }

  bool is_none() const { return std::holds_alternative<std::monostate>(data_); }
  // Python's truthiness.
  explicit operator bool() const {
    return std::visit(
        [](const auto& held) -> bool {
          using T = std::decay_t<decltype(held)>;
          if constexpr (std::is_same_v<T, std::monostate>) {
            return false;
          } else if constexpr (std::is_same_v<T, bool>) {
            return held;
          } else if constexpr (std::is_same_v<T, double>) {
            return held != 0.0;
          } else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, List>) {
            return !held.empty();
          } else {
            return held != nullptr;
          }
        },
        data_);
  }
  double as_double() const { return std::get<double>(data_); }
  const List& as_list() const { return std::get<List>(data_); }

  friend bool operator==(const Value& a, const Value& b) { return a.data_ == b.data_; }

  // Values travel to worker processes (cereal). An object identity travels as
  // its address: it is only compared, never dereferenced.
  template <class Archive>
  void save(Archive& archive) const {
    const auto index = static_cast<unsigned>(data_.index());
    archive(index);
    switch (index) {
      case 1:
        archive(std::get<bool>(data_));
        break;
      case 2:
        archive(std::get<double>(data_));
        break;
      case 3:
        archive(std::get<std::string>(data_));
        break;
      case 4:
        archive(std::get<List>(data_));
        break;
      case 5:
        archive(reinterpret_cast<std::uintptr_t>(std::get<const void*>(data_)));
        break;
      default:
        break;
    }
  }
  template <class Archive>
  void load(Archive& archive) {
    unsigned index = 0;
    archive(index);
    switch (index) {
      case 1: {
        bool v = false;
        archive(v);
        data_ = v;
        break;
      }
      case 2: {
        double v = 0;
        archive(v);
        data_ = v;
        break;
      }
      case 3: {
        std::string v;
        archive(v);
        data_ = std::move(v);
        break;
      }
      case 4: {
        List v;
        archive(v);
        data_ = std::move(v);
        break;
      }
      case 5: {
        std::uintptr_t v = 0;
        archive(v);
        data_ = reinterpret_cast<const void*>(v);
        break;
      }
      default:
        data_ = std::monostate{};
        break;
    }
  }

  friend std::ostream& operator<<(std::ostream& out, const Value& value) {
    std::visit(
        [&](const auto& held) {
          using T = std::decay_t<decltype(held)>;
          if constexpr (std::is_same_v<T, std::monostate>) {
            out << "None";
          } else if constexpr (std::is_same_v<T, bool>) {
            out << (held ? "True" : "False");
          } else if constexpr (std::is_same_v<T, double>) {
            out << held;
          } else if constexpr (std::is_same_v<T, std::string>) {
            out << '"' << held << '"';
          } else if constexpr (std::is_same_v<T, List>) {
            out << '(';
            for (std::size_t i = 0; i < held.size(); ++i) out << (i ? ", " : "") << held[i];
            out << ')';
          } else {
            out << "<object " << held << '>';
          }
        },
        value.data_);
    return out;
  }

 private:
  std::variant<std::monostate, bool, double, std::string, List, const void*> data_;
};

inline Value None;

}  // namespace connectors::testing

// Values serve as data ids and keys (strings, numbers and tuples mixed, as in
// the original tests); equal values print alike.
template <>
struct std::hash<connectors::testing::Value> {
  std::size_t operator()(const connectors::testing::Value& value) const {
    std::ostringstream text;
    text << value;
    return std::hash<std::string>{}(text.str());
  }
};
