#pragma once
// Steering vectors, which replace the kept output of the steered source layer before the
// modulated passes (kept ← w·v + (1−w)·kept, gains α on σ− and σ+): one-hot, instance (the model's
// output for an image alone), category prototypes (mean output over a category's exemplars),
// vectors from a file (e.g. language-derived prototypes, one row per category) and discriminative
// differences.
#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/names.hpp"
#include "io/h5.hpp"
#include "io/results.hpp"
#include "model/checkpoint.hpp"
#include "model/lrm_net.hpp"
#include "stimuli/stimulus_set.hpp"

namespace lrm::steering {

enum class VectorKind { one_hot, instance, prototype, file, discriminative };
inline const Names<VectorKind> vector_kind_names{{"one-hot", VectorKind::one_hot},
                                                 {"instance", VectorKind::instance},
                                                 {"prototype", VectorKind::prototype},
                                                 {"file", VectorKind::file},
                                                 {"discriminative", VectorKind::discriminative}};
// A steering vector type by name; a SettingError of `types` names the valid ones.
VectorKind parse_vector_kind(const std::string& text);

// Category names of the model's outputs, by output index.
struct ClassList {
  std::vector<std::string> names;
  std::string origin;  // where the names come from, e.g. "the given class names"
  // InputError naming the category and the class list when it is not a class of the model.
  std::int64_t index_of(const std::string& category) const;
};
// "a,b,c" or "@file.txt" (one name per line); empty: the sorted distinct categories of the set
// (what `lrm train` uses). InputError when there are more classes than `outputs`.
ClassList parse_classes(const std::string& text, const std::vector<std::string>& set_categories,
                        std::int64_t outputs);

// One vector per category, shaped like the steering source layer's output.
struct CategoryVectors {
  std::vector<std::string> categories;
  torch::Tensor vectors;                  // category × D, float32
  std::vector<std::int64_t> n_exemplars;  // prototypes: images averaged per category
  std::string layer;                      // source layer they describe ("" if unknown)
  int pass = -1;                          // pass they were taken from (−1: not from the model)
  std::string origin;                     // file or stimulus set
  // The row of a category; InputError naming it and `origin` when it has none.
  torch::Tensor row(const std::string& category) const;
  bool has(const std::string& category) const;
};

torch::Tensor one_hot(std::int64_t index, std::int64_t width);

// Image `row` of the set, preprocessed: C×H×W float32.
torch::Tensor load_image(const stimuli::StimulusSet& set, std::int64_t row,
                         const stimuli::Preprocess& p);

// Output of `layer` in pass `pass` (unsteered) for rows `images` of the set, preprocessed with
// `p`, `batch_size` images per forward call (loaded ahead on a thread): images × units.
torch::Tensor layer_outputs(model::LrmNetImpl& net, const stimuli::StimulusSet& set,
                            const std::vector<std::int64_t>& images, const stimuli::Preprocess& p,
                            const std::string& layer, int pass, int batch_size,
                            const std::string& label = "outputs");

// Mean output of `layer` in `pass` over every exemplar of each category in `categories` (distinct;
// empty: all categories of the set, in order of first appearance), streamed category by category
// in batches of up to `batch_size` of its exemplars in the set's order, so that a category's
// prototype does not depend on which others are asked for. InputError naming a category with no
// exemplars.
CategoryVectors compute_prototypes(model::LrmNetImpl& net, const stimuli::StimulusSet& set,
                                   const stimuli::Preprocess& p, const std::string& layer, int pass,
                                   std::vector<std::string> categories, int batch_size);

// /prototypes layout (README): vectors (category, unit), category, n_exemplars; attrs layer, pass.
void write_prototypes(const h5::Group& group, const CategoryVectors& v);
// `file.h5` (the /prototypes group written by `lrm prototypes`) or `file.h5:/dataset` (category ×
// D; rows labelled by a string coordinate on the first dimension, otherwise in the order of
// `classes`). InputError naming the file when its width is not `width`.
CategoryVectors read_category_vectors(const std::string& spec, const ClassList& classes,
                                      std::int64_t width);

// Provenance of a run of `model` (loaded from `weights`) on `set`, with `extra` inputs.
io::Provenance run_provenance(const model::LoadedModel& model, const std::string& weights,
                              const stimuli::StimulusSet& set, std::uint64_t seed,
                              std::map<std::string, std::string> extra = {});

// One element of the steer-strength setting: `a` (α− = α+ = a) or `a-:a+`; returns {α−, α+}.
// SettingError of steer-strength when it is not one or two numbers.
std::pair<double, double> parse_gain(const std::string& text);
// The gains of a steer-strength list: α+ of each element, and α− of each only when some element
// has α− ≠ α+ (empty otherwise: α− = α+ everywhere).
struct Gains {
  std::vector<double> positive, negative;
};
Gains parse_gains(const std::vector<std::string>& elements);

// SettingError of `setting` when `bytes` (what it makes the run hold: `what`) exceed this machine's
// memory, before any work starts.
void check_memory(double bytes, const std::string& setting, const std::string& what);
// The first row (over dimension `row_dim`) of `t` holding a NaN or infinity, or −1.
std::int64_t first_nonfinite_row(const torch::Tensor& t, std::int64_t row_dim);

// α must be finite and > 0 (it multiplies σ− and σ+); SettingError of `setting` otherwise.
void check_alphas(const std::vector<double>& alphas, const std::string& setting);

}  // namespace lrm::steering
