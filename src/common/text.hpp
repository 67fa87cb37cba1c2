#pragma once
// Lists of names in messages and provenance.
#include <string>
#include <vector>

namespace lrm {

inline std::string join(const std::vector<std::string>& items, const std::string& sep = ", ") {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
  return out;
}

}  // namespace lrm
