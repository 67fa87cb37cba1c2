#pragma once
// Stimulus sets: a folder of category folders (fLoc layout), a CSV manifest, an HDF5 image
// array, or an HDF5 array of already preprocessed float32 tensors.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "stimuli/image.hpp"

namespace lrm::stimuli {

struct OpenOptions {
  // Subcategory folder → category (e.g. adult → faces, child → faces); empty: folder names.
  std::map<std::string, std::string> category_map;
  bool skip_bad = false;  // skip undecodable files (listed in skipped()) instead of failing
  // Decode every image when the set is opened, not only its header: a check costs a full decode,
  // so it is done only where asked (stimuli info) or needed to skip (skip_bad); otherwise a bad
  // file is an error naming it when the loader decodes it.
  bool decode_all = false;
  std::string split;  // HDF5 sets: keep only rows whose /split equals this ("train", "test")
  std::vector<std::string> categories;  // keep only these categories (empty: all)
  // File of stimuli to keep, one a line, in its order: a stimulus id of the set, else a row
  // number (from 0) of the set as selected above. Empty: all.
  std::string indices;
};

class StimulusSet {
 public:
  virtual ~StimulusSet() = default;
  std::size_t size() const { return ids_.size(); }
  const std::vector<std::string>& ids() const { return ids_; }
  const std::vector<std::string>& categories() const { return categories_; }
  // Distinct categories in order of first appearance.
  std::vector<std::string> category_names() const;
  const std::vector<std::string>& skipped() const { return skipped_; }
  const std::string& source() const { return source_; }
  // True for sets of tensors that are already preprocessed (used as they are).
  virtual bool preprocessed() const { return false; }
  // Image i: decoded values in [0, 1] or, for preprocessed sets, the stored tensor.
  virtual Image load(std::size_t i) const = 0;
  // Image i ready for a model: preprocess(load(i)) unless the set is already preprocessed.
  Image load_preprocessed(std::size_t i, const Preprocess& p) const;
  // Images [first, first + n) preprocessed into one contiguous N×C×H×W buffer (threads over
  // images).
  std::vector<float> load_batch(std::size_t first, std::size_t n, const Preprocess& p,
                                std::vector<std::int64_t>& shape) const;
  // Checksum of the files behind the set, for provenance.
  virtual std::string checksum() const = 0;
  // Restricts the set to the given categories (error naming any that is absent).
  void keep_categories(const std::vector<std::string>& wanted);
  // Restricts the set to the stimuli listed in `path` (see OpenOptions::indices), in that order;
  // an InputError naming the file and line for a row out of range, an unknown id, a stimulus
  // listed twice, or a file that lists none.
  void keep_listed(const std::string& path);

 protected:
  // Images [first, first + n) as load() gives them; file sets decode in parallel.
  virtual std::vector<Image> load_block(std::size_t first, std::size_t n) const;
  // Keeps only these rows, in this order (subclasses map rows to their storage).
  virtual void keep_rows(const std::vector<std::size_t>& rows) = 0;
  std::vector<std::string> ids_, categories_, skipped_;
  std::string source_;
};

// Opens `spec`: a folder, a .csv manifest, `file.h5` (an image set written by the suite) or
// `file.h5:/path` (a dataset of images or of preprocessed float32 N×3×H×W tensors).
std::unique_ptr<StimulusSet> open_stimulus_set(const std::string& spec,
                                               const OpenOptions& options = {});

}  // namespace lrm::stimuli
