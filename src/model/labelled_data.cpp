#include "model/labelled_data.hpp"

#include <algorithm>

#include "common/error.hpp"
#include "stimuli/stimulus_set.hpp"

namespace lrm::model {

LabelledData load_labelled(const std::string& spec, const std::string& split,
                           const std::string& preprocess, std::vector<std::string> classes) {
  stimuli::OpenOptions open;
  open.split = split;
  auto set = stimuli::open_stimulus_set(spec, open);
  if (set->size() == 0)
    throw InputError("stimulus set " + spec + (split.empty() ? "" : " (split " + split + ")") +
                     " is empty");
  LabelledData d;
  if (classes.empty()) {
    classes = set->category_names();
    // Digit and other numeric names sort by value, others alphabetically.
    std::sort(classes.begin(), classes.end(), [](const std::string& a, const std::string& b) {
      return a.size() != b.size() ? a.size() < b.size() : a < b;
    });
  }
  d.classes = classes;
  for (const auto& c : set->categories()) {
    auto it = std::find(classes.begin(), classes.end(), c);
    if (it == classes.end())
      throw InputError("stimulus set " + spec + " has category '" + c +
                       "', which the model does not know");
    d.labels.push_back(it - classes.begin());
  }
  d.images = set->load_batch(0, set->size(), stimuli::Preprocess::preset(preprocess), d.shape);
  d.ids = set->ids();
  return d;
}

}  // namespace lrm::model
