#include "model/metadata.hpp"

#include <algorithm>
#include <sstream>

#include "common/error.hpp"

namespace lrm::model {

std::vector<std::string> training_class_order(std::vector<std::string> categories) {
  std::sort(categories.begin(), categories.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;
  });
  categories.erase(std::unique(categories.begin(), categories.end()), categories.end());
  return categories;
}

namespace {

std::vector<std::string> default_class_names(const LoadedModel& model,
                                             const stimuli::StimulusSet& set) {
  if (auto it = model.meta.find(kClassesKey); it != model.meta.end())
    return split_class_names(it->second);
  const auto categories = set.category_names();
  if (model.architecture.backbone == "mnist" && model.architecture.num_classes == 0) {
    std::vector<std::string> digits;
    for (char d = '0'; d <= '9'; ++d) digits.emplace_back(1, d);
    const bool covered = std::all_of(categories.begin(), categories.end(), [&](const auto& c) {
      return std::find(digits.begin(), digits.end(), c) != digits.end();
    });
    if (covered) return digits;
  }
  return training_class_order(categories);
}

}  // namespace

std::vector<std::string> class_names(const LoadedModel& model, const stimuli::StimulusSet& set) {
  auto names = default_class_names(model, set);
  const auto& arch = model.architecture;
  const auto outputs = arch.num_classes > 0 ? arch.num_classes : default_num_classes(arch.backbone);
  if (static_cast<std::int64_t>(names.size()) > outputs)
    throw InputError("model " + model.description + " has " + std::to_string(outputs) +
                     " outputs, fewer than the " + std::to_string(names.size()) +
                     " categories of stimulus set " + set.source() + "; it cannot label them");
  return names;
}

std::string backbone_preprocess(const std::string& backbone) {
  return backbone == "mnist" ? "mnist" : "imagenet";
}

std::string preprocess_preset(const LoadedModel& model) {
  if (auto it = model.meta.find(kPreprocessKey); it != model.meta.end()) return it->second;
  return backbone_preprocess(model.architecture.backbone);
}

std::string join_class_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& c : names) out += (out.empty() ? "" : "\t") + c;
  return out;
}

std::vector<std::string> split_class_names(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string c;
  while (std::getline(in, c, '\t')) out.push_back(c);
  return out;
}

}  // namespace lrm::model
