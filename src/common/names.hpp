#pragma once
// Names of enumeration values: one table per enumeration gives parsing, printing and the list of
// valid names for errors, so a value's spelling is decided in one place.
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "common/error.hpp"

namespace lrm {

template <class E>
class Names {
 public:
  struct Entry {
    std::string name;
    E value;
    bool alias = false;  // accepted when parsing, but neither printed nor listed (old spellings)
  };

  Names(std::initializer_list<Entry> entries) : entries_(entries) {}

  // The value named `text`; an unknown name is a SettingError of `setting` listing the valid ones.
  E parse(const std::string& text, const std::string& setting) const {
    for (const auto& e : entries_)
      if (e.name == text) return e.value;
    throw SettingError(setting, "unknown value '" + text + "' (use " + list() + ")");
  }

  // The canonical (first non-alias) name of `value`.
  const std::string& name(E value) const {
    for (const auto& e : entries_)
      if (!e.alias && e.value == value) return e.name;
    throw InternalError("an enumeration value has no name");
  }

  // "a, b or c": the canonical names, for help texts and errors.
  std::string list() const {
    std::vector<const std::string*> names;
    for (const auto& e : entries_)
      if (!e.alias) names.push_back(&e.name);
    std::string out;
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
      out += *names[i];
    }
    return out;
  }

  std::vector<std::string> canonical() const {
    std::vector<std::string> out;
    for (const auto& e : entries_)
      if (!e.alias) out.push_back(e.name);
    return out;
  }

 private:
  std::vector<Entry> entries_;
};

}  // namespace lrm
