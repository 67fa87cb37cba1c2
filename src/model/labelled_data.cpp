#include "model/labelled_data.hpp"

#include <algorithm>

#include "common/error.hpp"

namespace lrm::model {

LabelledData load_labelled(const stimuli::StimulusSet& set, const stimuli::Preprocess& p,
                           const std::vector<std::string>& classes) {
  if (set.size() == 0) throw InputError("stimulus set " + set.source() + " is empty");
  LabelledData d;
  d.classes = classes;
  for (const auto& c : set.categories()) {
    auto it = std::find(classes.begin(), classes.end(), c);
    if (it == classes.end())
      throw InputError("stimulus set " + set.source() + " has category '" + c +
                       "', which the model does not know");
    d.labels.push_back(it - classes.begin());
  }
  d.images = set.load_batch(0, set.size(), p, d.shape);
  return d;
}

}  // namespace lrm::model
