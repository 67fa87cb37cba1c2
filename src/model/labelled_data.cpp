#include "model/labelled_data.hpp"

#include <algorithm>
#include <map>

#include "common/error.hpp"

namespace lrm::model {

std::vector<std::int64_t> class_labels(const stimuli::StimulusSet& set,
                                       const std::vector<std::string>& classes) {
  if (set.size() == 0) throw InputError("stimulus set " + set.source() + " is empty");
  std::map<std::string, std::int64_t> index;
  for (std::size_t k = 0; k < classes.size(); ++k)
    index.emplace(classes[k], static_cast<std::int64_t>(k));
  std::vector<std::int64_t> labels;
  labels.reserve(set.size());
  for (const auto& c : set.categories()) {
    auto it = index.find(c);
    if (it == index.end())
      throw InputError("stimulus set " + set.source() + " has category '" + c +
                       "', which the model does not know");
    labels.push_back(it->second);
  }
  return labels;
}

}  // namespace lrm::model
