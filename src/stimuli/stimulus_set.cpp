#include "stimuli/stimulus_set.hpp"

#include <omp.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <unordered_map>

#include "common/error.hpp"
#include "stimuli/file_sets.hpp"
#include "stimuli/h5_set.hpp"

namespace lrm::stimuli {

std::vector<std::string> StimulusSet::category_names() const {
  std::vector<std::string> names;
  std::set<std::string> seen;
  for (const auto& c : categories_)
    if (seen.insert(c).second) names.push_back(c);
  return names;
}

Image StimulusSet::load_preprocessed(std::size_t i, const Preprocess& p) const {
  return preprocessed() ? load(i) : preprocess(load(i), p);
}

std::vector<Image> StimulusSet::load_block(std::size_t first, std::size_t n) const {
  std::vector<Image> images(n);
  std::string error;
#pragma omp parallel for schedule(dynamic)
  for (std::ptrdiff_t k = 0; k < static_cast<std::ptrdiff_t>(n); ++k) {
    try {
      images[k] = load(first + k);
    } catch (const std::exception& e) {
#pragma omp critical
      error = e.what();
    }
  }
  if (!error.empty()) throw InputError(error);
  return images;
}

std::vector<float> StimulusSet::load_batch(std::size_t first, std::size_t n, const Preprocess& p,
                                           std::vector<std::int64_t>& shape) const {
  if (first + n > size())
    throw InputError("stimulus rows " + std::to_string(first) + ".." + std::to_string(first + n) +
                     " are outside " + source_ + " (" + std::to_string(size()) + " stimuli)");
  std::vector<Image> images = load_block(first, n);
  if (!preprocessed()) {
    std::string error;
#pragma omp parallel for schedule(dynamic)
    for (std::ptrdiff_t k = 0; k < static_cast<std::ptrdiff_t>(n); ++k) {
      try {
        images[k] = preprocess(images[k], p);
      } catch (const std::exception& e) {
#pragma omp critical
        error = ids_[first + k] + ": " + e.what();
      }
    }
    if (!error.empty()) throw InputError(error);
  }
  shape.clear();
  if (n == 0) return {};
  const Image& first_image = images.front();
  shape = {static_cast<std::int64_t>(n), first_image.channels, first_image.height,
           first_image.width};
  std::vector<float> batch;
  batch.reserve(n * first_image.data.size());
  for (std::size_t k = 0; k < n; ++k) {
    const Image& img = images[k];
    if (img.channels != first_image.channels || img.height != first_image.height ||
        img.width != first_image.width)
      throw InputError("stimulus " + ids_[first + k] + " has size " + std::to_string(img.channels) +
                       "x" + std::to_string(img.height) + "x" + std::to_string(img.width) +
                       " after preprocessing, but " + ids_[first] + " has " +
                       std::to_string(first_image.channels) + "x" +
                       std::to_string(first_image.height) + "x" +
                       std::to_string(first_image.width) + " (set --resize/--crop)");
    batch.insert(batch.end(), img.data.begin(), img.data.end());
  }
  return batch;
}

void StimulusSet::keep_categories(const std::vector<std::string>& wanted) {
  if (wanted.empty()) return;
  const auto present = category_names();
  for (const auto& w : wanted)
    if (std::find(present.begin(), present.end(), w) == present.end())
      throw InputError("category '" + w + "' is not in " + source_);
  std::vector<std::size_t> rows;
  for (std::size_t i = 0; i < size(); ++i)
    if (std::find(wanted.begin(), wanted.end(), categories_[i]) != wanted.end()) rows.push_back(i);
  keep_rows(rows);
}

namespace {

// The row a line of an index file names: the stimulus with that id, else the row of that number.
std::size_t listed_row(const std::string& entry,
                       const std::unordered_map<std::string, std::size_t>& by_id, std::size_t size,
                       const std::string& where, const std::string& source) {
  if (auto it = by_id.find(entry); it != by_id.end()) return it->second;
  const bool digits = entry.find_first_not_of("0123456789") == std::string::npos;
  if (!digits)
    throw InputError(where + ": '" + entry + "' is neither a stimulus id of " + source +
                     " nor a row number");
  if (entry.size() > 18 || std::stoull(entry) >= size)
    throw InputError(where + ": row " + entry + " is outside " + source + " (" +
                     std::to_string(size) + " stimuli, rows 0.." + std::to_string(size - 1) + ")");
  return std::stoull(entry);
}

}  // namespace

void StimulusSet::keep_listed(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot read the list of stimuli");
  std::unordered_map<std::string, std::size_t> by_id;
  for (std::size_t i = 0; i < size(); ++i) by_id.emplace(ids_[i], i);
  std::vector<std::size_t> rows;
  std::unordered_map<std::size_t, std::size_t> line_of;  // row -> the line that listed it first
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    const auto a = line.find_first_not_of(" \t\r");
    if (a == std::string::npos) continue;
    const std::string entry = line.substr(a, line.find_last_not_of(" \t\r") - a + 1);
    const std::string where = path + ":" + std::to_string(number);
    const std::size_t row = listed_row(entry, by_id, size(), where, source_);
    if (auto [it, fresh] = line_of.emplace(row, number); !fresh)
      throw InputError(where + ": stimulus " + ids_[row] + " is listed twice (also on line " +
                       std::to_string(it->second) + ")");
    rows.push_back(row);
  }
  if (rows.empty()) throw InputError(path + ": lists no stimulus");
  keep_rows(rows);
}

std::unique_ptr<StimulusSet> open_stimulus_set(const std::string& spec,
                                               const OpenOptions& options) {
  namespace fs = std::filesystem;
  std::unique_ptr<StimulusSet> set;
  const auto [file, dataset] = h5::split_dataset_spec(spec);
  const std::string ext = fs::path(file).extension().string();
  if (!dataset.empty() || ext == ".h5" || ext == ".hdf5" || ext == ".hdf") {
    set = std::make_unique<H5StimulusSet>(file, dataset, options);
  } else if (ext == ".csv") {
    set = std::make_unique<ManifestStimulusSet>(file, options);
  } else if (fs::is_directory(file)) {
    set = std::make_unique<FolderStimulusSet>(file, options);
  } else if (!fs::exists(file)) {
    throw InputError("stimulus set " + spec + " does not exist");
  } else {
    throw InputError("stimulus set " + spec +
                     " is neither a folder, a .csv manifest nor an HDF5 file (.h5)");
  }
  set->keep_categories(options.categories);
  if (set->size() == 0) throw InputError("stimulus set " + spec + " has no stimuli");
  if (!options.indices.empty()) set->keep_listed(options.indices);
  return set;
}

}  // namespace lrm::stimuli
