#pragma once
// Stimulus sets of image files: a folder of category folders (fLoc layout) and a CSV manifest.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "stimuli/stimulus_set.hpp"

namespace lrm::stimuli {

// Base for sets whose stimuli are image files on disk.
class ImageFileSet : public StimulusSet {
 public:
  Image load(std::size_t i) const override { return decode_image(paths_[i]); }
  std::string checksum() const override;
  const std::vector<std::filesystem::path>& paths() const { return paths_; }

 protected:
  void keep_rows(const std::vector<std::size_t>& rows) override;
  // Adds a stimulus after checking it (see OpenOptions); with skip_bad a bad file is listed
  // instead.
  void add(const std::filesystem::path& path, std::string id, std::string category,
           const OpenOptions& options);
  std::vector<std::filesystem::path> paths_;
};

class FolderStimulusSet : public ImageFileSet {
 public:
  FolderStimulusSet(const std::filesystem::path& root, const OpenOptions& options);
};

class ManifestStimulusSet : public ImageFileSet {
 public:
  ManifestStimulusSet(const std::filesystem::path& csv, const OpenOptions& options);
  // Extra columns of the manifest, by column name, one value per stimulus.
  const std::map<std::string, std::vector<std::string>>& extra_columns() const { return extra_; }

 protected:
  void keep_rows(const std::vector<std::size_t>& rows) override;

 private:
  std::map<std::string, std::vector<std::string>> extra_;
};

// The fLoc subcategory → domain mapping (adult+child → faces, body+limb → bodies, ...).
std::map<std::string, std::string> floc_category_map();
// Parses "adult=faces,child=faces" or the name of a preset ("floc").
std::map<std::string, std::string> parse_category_map(const std::string& text);
bool has_image_extension(const std::filesystem::path& path);

}  // namespace lrm::stimuli
