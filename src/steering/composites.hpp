#pragma once
// Composite images for steering experiments: seeded triplets of three distinct categories (two
// shown together, one absent), overlays (0.5·A + 0.5·B of the normalised tensors) and
// side-by-side images (A left of B).
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/names.hpp"

namespace lrm::steering {

// Images 1 and 2 form the composite (both targets present); image 3's category is absent from it
// and is the target of false-alarm trials (its image gives the absent instance vector).
struct Triplet {
  std::int64_t image1, image2, absent_image;  // rows of the stimulus set
};

struct TripletOptions {
  std::int64_t count = 500;
  std::uint64_t seed = 0;
  // Overlays are symmetric: with this, a composite whose unordered image pair was drawn before
  // is dropped and drawn again.
  bool unique_pairs = false;
};

// Draws `count` triplets: three distinct categories uniformly, then one image of each. InputError
// (naming `source`) when the set has fewer than 3 categories or not enough distinct pairs.
std::vector<Triplet> draw_triplets(const std::vector<std::string>& image_categories,
                                   const TripletOptions& options, const std::string& source);

enum class CompositeKind { overlay, side_by_side };
inline const Names<CompositeKind> composite_kind_names{
    {"overlay", CompositeKind::overlay}, {"side-by-side", CompositeKind::side_by_side}};
// A composite kind by name; a SettingError of `composite` names the valid ones.
CompositeKind parse_composite_kind(const std::string& text);

// One composite of two C×H×W (or batched B×C×H×W) normalised tensors. Overlays need equal sizes,
// side-by-side images equal heights and channels; InputError naming `a_name` and `b_name`.
torch::Tensor make_composite(const torch::Tensor& a, const torch::Tensor& b, CompositeKind kind,
                             const std::string& a_name = "image 1",
                             const std::string& b_name = "image 2");

}  // namespace lrm::steering
