#include "stimuli/set_writer.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>

#include "common/error.hpp"

namespace lrm::stimuli {

void write_stimulus_set(const std::filesystem::path& path, const ImageTable& table,
                        const io::Provenance& provenance) {
  const size_t n = table.ids.size();
  if (table.shape.empty() || table.shape[0] != n || table.categories.size() != n)
    throw InputError("internal: stimulus table for " + path.string() + " has inconsistent lengths");
  io::ResultFile out(path, provenance);
  auto root = out.root();
  h5::write_coordinate(root, "stimulus", table.ids);
  std::vector<std::string> dims{"stimulus", "y", "x"};
  if (table.shape.size() == 4) dims.insert(dims.begin() + 1, "channel");
  std::vector<std::string> coords{"category"};
  h5::write_aux_coordinate(root, "category", "stimulus", table.categories);
  if (!table.labels.empty()) {
    h5::write_aux_coordinate(root, "label", "stimulus", table.labels);
    coords.push_back("label");
  }
  if (!table.split.empty()) {
    h5::write_aux_coordinate(root, "split", "stimulus", table.split);
    coords.push_back("split");
  }
  h5::write_array(root, "images", table.pixels, table.shape, dims, {coords, true, {}});
  for (const auto& [k, v] : table.attributes) root.set_attr(k, v);
  out.commit();
}

std::vector<std::string> stratified_split(const std::vector<std::string>& categories,
                                          double test_fraction, std::uint64_t seed) {
  std::map<std::string, std::vector<size_t>> members;
  for (size_t i = 0; i < categories.size(); ++i) members[categories[i]].push_back(i);
  const auto total_test = static_cast<size_t>(std::llround(test_fraction * categories.size()));
  // Largest-remainder allotment so the test split has exactly total_test stimuli.
  std::vector<std::pair<double, std::string>> remainders;
  std::map<std::string, size_t> quota;
  size_t allotted = 0;
  for (const auto& [cat, rows] : members) {
    const double exact = test_fraction * rows.size();
    quota[cat] = static_cast<size_t>(std::floor(exact));
    allotted += quota[cat];
    remainders.emplace_back(exact - std::floor(exact), cat);
  }
  std::stable_sort(remainders.begin(), remainders.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t k = 0; allotted < total_test && k < remainders.size(); ++k, ++allotted)
    ++quota[remainders[k].second];
  std::vector<std::string> split(categories.size(), "train");
  std::mt19937_64 rng(seed);
  for (auto& [cat, rows] : members) {
    std::shuffle(rows.begin(), rows.end(), rng);
    for (size_t k = 0; k < quota[cat]; ++k) split[rows[k]] = "test";
  }
  return split;
}

}  // namespace lrm::stimuli
