#include "steering/composites.hpp"

#include <map>
#include <random>
#include <set>
#include <utility>

#include "common/error.hpp"
#include "stats/bootstrap.hpp"

namespace lrm::steering {
namespace {

std::string shape_text(const torch::Tensor& t) {
  std::string out;
  for (auto s : t.sizes()) out += (out.empty() ? "" : "×") + std::to_string(s);
  return out;
}

}  // namespace

std::vector<Triplet> draw_triplets(const std::vector<std::string>& image_categories,
                                   const TripletOptions& o, const std::string& source) {
  if (o.count < 1) throw SettingError("composites", "must be at least 1");
  // Images by category, in order of first appearance so the draws do not depend on names.
  std::vector<std::string> names;
  std::map<std::string, std::vector<std::int64_t>> images;
  for (std::size_t i = 0; i < image_categories.size(); ++i) {
    auto& list = images[image_categories[i]];
    if (list.empty()) names.push_back(image_categories[i]);
    list.push_back(static_cast<std::int64_t>(i));
  }
  if (names.size() < 3)
    throw InputError("stimulus set " + source + " has " + std::to_string(names.size()) +
                     " categories; triplets need at least 3 distinct categories");

  std::mt19937_64 engine(o.seed);
  auto next = [](void* s) -> std::uint64_t { return (*static_cast<std::mt19937_64*>(s))(); };
  auto draw = [&](std::uint64_t n) {
    return static_cast<std::int64_t>(stats::uniform_index(n, next, &engine));
  };
  std::set<std::pair<std::int64_t, std::int64_t>> pairs;
  std::vector<Triplet> out;
  const std::int64_t max_attempts = 100 * o.count + 1000;
  for (std::int64_t attempt = 0; static_cast<std::int64_t>(out.size()) < o.count; ++attempt) {
    if (attempt >= max_attempts)
      throw InputError("stimulus set " + source +
                       " does not have enough distinct image pairs for " + std::to_string(o.count) +
                       " composites with unique pairs");
    const auto n = static_cast<std::uint64_t>(names.size());
    const auto c1 = draw(n);
    auto c2 = draw(n - 1);
    if (c2 >= c1) ++c2;
    std::int64_t c3;
    do c3 = draw(n);
    while (c3 == c1 || c3 == c2);
    const auto& l1 = images[names[c1]];
    const auto& l2 = images[names[c2]];
    const auto& l3 = images[names[c3]];
    Triplet t{l1[draw(l1.size())], l2[draw(l2.size())], l3[draw(l3.size())]};
    if (o.unique_pairs &&
        !pairs.insert({std::min(t.image1, t.image2), std::max(t.image1, t.image2)}).second)
      continue;
    out.push_back(t);
  }
  return out;
}

CompositeKind parse_composite_kind(const std::string& text) {
  return composite_kind_names.parse(text, "composite");
}

torch::Tensor make_composite(const torch::Tensor& a, const torch::Tensor& b, CompositeKind kind,
                             const std::string& a_name, const std::string& b_name) {
  if (a.dim() != b.dim() || a.dim() < 3)
    throw InputError("composite of " + a_name + " (" + shape_text(a) + ") and " + b_name + " (" +
                     shape_text(b) + "): images must be C×H×W tensors");
  if (kind == CompositeKind::overlay) {
    if (!a.sizes().equals(b.sizes()))
      throw InputError("overlay of " + a_name + " (" + shape_text(a) + ") and " + b_name + " (" +
                       shape_text(b) + "): images must have the same size");
    return 0.5 * a + 0.5 * b;
  }
  for (std::int64_t d = 0; d < a.dim() - 1; ++d)
    if (a.size(d) != b.size(d))
      throw InputError("side-by-side composite of " + a_name + " (" + shape_text(a) + ") and " +
                       b_name + " (" + shape_text(b) +
                       "): images must have the same height and channels");
  return torch::cat({a, b}, -1);
}

}  // namespace lrm::steering
