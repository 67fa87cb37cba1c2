#pragma once
// Stimulus sets stored in HDF5: uint8/float32 images (N×H×W, N×C×H×W, or channels last N×H×W×C
// as NSD's stimulus brick) with ids and labels, as `lrm stimuli import` writes them, or already
// preprocessed float32 tensors given as file.h5:/path. Images are read in runs of stored rows, so
// memory is bounded by the batch.
#include <filesystem>
#include <string>
#include <vector>

#include "io/h5.hpp"
#include "stimuli/stimulus_set.hpp"

namespace lrm::stimuli {

class H5StimulusSet : public StimulusSet {
 public:
  // `dataset` empty: the suite's layout (/images). Sibling datasets `stimulus`, `category`,
  // `label` and `split` in the dataset's group give ids, categories and splits when present.
  H5StimulusSet(const std::filesystem::path& file, const std::string& dataset,
                const OpenOptions& options);
  bool preprocessed() const override { return preprocessed_; }
  Image load(std::size_t i) const override;
  std::string checksum() const override;
  const std::vector<std::int64_t>& labels() const { return labels_; }

 protected:
  std::vector<Image> load_block(std::size_t first, std::size_t n) const override;
  void keep_rows(const std::vector<std::size_t>& rows) override;

 private:
  Image image_at(const float* values) const;
  std::filesystem::path file_;
  std::string dataset_;
  std::vector<std::size_t> rows_;  // stored row of each stimulus
  std::vector<std::int64_t> labels_;
  int channels_ = 1, height_ = 0, width_ = 0;
  bool preprocessed_ = false;
  bool channels_last_ = false;  // stored N×H×W×C (C = 1 or 3, the second axis not)
  float scale_ = 1.0f;          // 1/255 for uint8 pixels
};

}  // namespace lrm::stimuli
