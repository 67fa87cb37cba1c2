#include "stimuli/h5_set.hpp"

#include "common/error.hpp"
#include "io/results.hpp"

namespace lrm::stimuli {

H5StimulusSet::H5StimulusSet(const std::filesystem::path& file, const std::string& dataset,
                             const OpenOptions& options)
    : file_(file), dataset_(dataset.empty() ? "/images" : dataset) {
  source_ = file.string() + ":" + dataset_;
  h5::File f(file, h5::File::Mode::read);
  if (!h5::exists(f, dataset_))
    throw InputError("stimulus set " + source_ + " does not exist (no dataset " + dataset_ +
                     " in " + file.string() + ")");
  const auto shape = h5::dataset_shape(f, dataset_);
  if (shape.size() == 3) {
    height_ = static_cast<int>(shape[1]);
    width_ = static_cast<int>(shape[2]);
  } else if (shape.size() == 4 && (shape[1] == 1 || shape[1] == 3)) {
    channels_ = static_cast<int>(shape[1]);
    height_ = static_cast<int>(shape[2]);
    width_ = static_cast<int>(shape[3]);
  } else if (shape.size() == 4 && (shape[3] == 1 || shape[3] == 3)) {
    // Channels last (NSD's imgBrick): read as stored, reordered per image.
    channels_last_ = true;
    height_ = static_cast<int>(shape[1]);
    width_ = static_cast<int>(shape[2]);
    channels_ = static_cast<int>(shape[3]);
  } else {
    throw InputError("stimulus set " + source_ +
                     " must be N×H×W, N×C×H×W or N×H×W×C with C = 1 or 3");
  }
  const bool is_u8 = h5::is_uint8_dataset(f, dataset_);
  scale_ = is_u8 ? 1.0f / 255.0f : 1.0f;
  // Float tensors named explicitly are taken as already preprocessed, unless marked otherwise.
  const auto marked = h5::dataset_attr_string(f, dataset_, "preprocessed");
  preprocessed_ = !is_u8 && !dataset.empty() && marked.value_or("1") != "0";

  const std::string group = dataset_.substr(0, dataset_.find_last_of('/'));
  auto sibling = [&](const std::string& name) -> std::string {
    const std::string p = group + "/" + name;
    if (!h5::exists(f, p)) return "";
    const auto s = h5::dataset_shape(f, p);
    if (s.size() != 1 || s[0] != shape[0])  // ids or categories that do not match the images
      throw InputError("stimulus set " + file.string() + ": " + p +
                       " is not one value per image (" + std::to_string(shape[0]) + " images)");
    return p;
  };
  const size_t n = shape[0];
  if (auto p = sibling("stimulus"); !p.empty()) {
    ids_ = h5::read_strings(f, p);
  } else {
    for (size_t i = 0; i < n; ++i) ids_.push_back(std::to_string(i));
  }
  if (auto p = sibling("label"); !p.empty()) labels_ = h5::read_array<std::int64_t>(f, p).data;
  if (auto p = sibling("category"); !p.empty()) {
    categories_ = h5::read_strings(f, p);
  } else if (!labels_.empty()) {
    for (auto l : labels_) categories_.push_back(std::to_string(l));
  } else {
    categories_.assign(n, "");
  }
  rows_.resize(n);
  for (size_t i = 0; i < n; ++i) rows_[i] = i;
  if (!options.split.empty()) {
    const auto p = sibling("split");
    if (p.empty())
      throw InputError("stimulus set " + source_ + " has no split dataset to select '" +
                       options.split + "' from");
    const auto split = h5::read_strings(f, p);
    std::vector<size_t> keep;
    for (size_t i = 0; i < n; ++i)
      if (split[i] == options.split) keep.push_back(i);
    if (keep.empty())
      throw InputError("stimulus set " + source_ + " has no stimuli in split '" + options.split +
                       "'");
    keep_rows(keep);
  }
}

void H5StimulusSet::keep_rows(const std::vector<std::size_t>& rows) {
  std::vector<std::size_t> stored;
  std::vector<std::string> ids, categories;
  std::vector<std::int64_t> labels;
  for (auto r : rows) {
    stored.push_back(rows_[r]);
    ids.push_back(ids_[r]);
    categories.push_back(categories_[r]);
    if (!labels_.empty()) labels.push_back(labels_[r]);
  }
  rows_.swap(stored);
  ids_.swap(ids);
  categories_.swap(categories);
  labels_.swap(labels);
}

Image H5StimulusSet::image_at(const float* values) const {
  Image img;
  img.channels = channels_;
  img.height = height_;
  img.width = width_;
  const auto plane = static_cast<size_t>(height_) * width_;
  if (channels_last_) {
    img.data.resize(plane * channels_);
    for (size_t p = 0; p < plane; ++p)
      for (int c = 0; c < channels_; ++c) img.data[c * plane + p] = values[p * channels_ + c];
  } else {
    img.data.assign(values, values + plane * channels_);
  }
  if (scale_ != 1.0f)
    for (auto& v : img.data) v *= scale_;
  return img;
}

Image H5StimulusSet::load(std::size_t i) const { return load_block(i, 1).front(); }

std::vector<Image> H5StimulusSet::load_block(std::size_t first, std::size_t n) const {
  // HDF5 is not thread-safe: read contiguous stored rows in one go, then split.
  h5::File f(file_, h5::File::Mode::read);
  std::vector<Image> images;
  images.reserve(n);
  size_t k = 0;
  while (k < n) {
    size_t run = 1;
    while (k + run < n && rows_[first + k + run] == rows_[first + k] + run) ++run;
    const auto block = h5::read_rows<float>(f, dataset_, rows_[first + k], run);
    const size_t stride = block.row_size();
    for (size_t j = 0; j < run; ++j) images.push_back(image_at(block.data.data() + j * stride));
    k += run;
  }
  return images;
}

std::string H5StimulusSet::checksum() const { return io::sha256_file(file_); }

}  // namespace lrm::stimuli
