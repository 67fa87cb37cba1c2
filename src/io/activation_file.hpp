#pragma once
// The layout of the suite's activation files (README "Activations"), decided here once. lrm extract
// writes and localize and compare read:
//   /activations/<layer>/pass<k>               (stimulus, unit) float32, one dataset per pass
//   /activations/<layer>/pass<k>/steer-<name>  the same per named steering condition (pass<k> is
//                                              then a group)
//   /activations/<layer>/stimulus              stimulus ids (dimension coordinate)
//   /activations/<layer>/category              category per stimulus (auxiliary coordinate)
//   /activations/<layer>/unit, channel, y, x   unit index and its position (C order over C x H x W)
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "io/chunk_reader.hpp"
#include "io/h5.hpp"

namespace lrm::io {

inline constexpr const char* activations_group = "activations";
inline constexpr const char* condition_prefix = "steer-";

// "pass<k>": the dataset (or, with steering conditions, the group) of pass k.
std::string pass_dataset_name(int pass);
// k for "pass<k>" (digits only after "pass"); nullopt for any other name.
std::optional<int> parse_pass_dataset_name(const std::string& name);
// A pass index as users write it, "1" or "pass1"; anything else is a SettingError of `setting`.
int parse_pass_index(const std::string& text, const std::string& setting);
// "pass<k>", or "pass<k>/steer-<condition>" for a named steering condition.
std::string activation_dataset_name(int pass, const std::string& condition = "");
// "/activations/<layer>".
std::string layer_path(const std::string& layer);

struct LayerPass {
  std::string layer;
  int pass = 0;
  std::string label() const { return layer + "/" + pass_dataset_name(pass); }
};

struct ActivationShape {
  std::int64_t stimuli = 0, units = 0;
};

// A row-major block of activations: rows x cols float32.
struct ActivationBlock {
  std::int64_t rows = 0, cols = 0;
  std::vector<float> data;
};

// An activation file opened for reading. Every question about the layout goes through here, so
// its names and checks live in one place; bad or missing parts are InputErrors naming the file.
class ActivationFile {
 public:
  // InputError when the file has no /activations group. A file the suite marked unfinished (root
  // attribute complete = 0: an interrupted or running extract) is a SettingError of
  // "allow-partial" unless `allow_partial`; then only the rows it recorded as written
  // (/activations attribute rows_complete) are read. Files without the mark (users' own) are read
  // whole.
  explicit ActivationFile(const std::filesystem::path& path, bool allow_partial = false);

  const std::filesystem::path& path() const { return file_.path(); }
  const h5::File& h5() const { return file_; }
  // A root attribute (provenance written by lrm extract); nullopt when absent.
  std::optional<std::string> attr(const std::string& key) const;
  // True when the root carries complete = 1 (io::ResultFile's mark of a finished file).
  bool complete() const;
  // The rows read from an unfinished file (see the constructor); nullopt when rows are not limited.
  std::optional<std::int64_t> partial_rows() const { return partial_rows_; }
  // Records partial_rows() on a result group as the attribute activations_partial_rows, so that a
  // result over part of the stimuli says so (nothing for files read whole).
  void record_partial_rows(const h5::Group& g) const;

  // Layer groups, in the file's order.
  std::vector<std::string> layers() const;
  // Passes with a pass<k> dataset in `layer`, ascending.
  std::vector<int> passes(const std::string& layer) const;
  // The (layer, pass) pairs for the chosen layer names and pass indices (empty: all), layer by
  // layer. An unknown layer, a pass a layer lacks, or an empty choice is an InputError.
  std::vector<LayerPass> select(const std::vector<std::string>& layers,
                                const std::vector<int>& passes) const;

  // The layer's stimulus ids; an InputError when absent.
  std::vector<std::string> stimulus_ids(const std::string& layer) const;
  bool has_categories(const std::string& layer) const;
  // The layer's category per stimulus; empty when the layer has none.
  std::vector<std::string> categories(const std::string& layer) const;
  // Whether the layer has the unit coordinate `name` (unit, channel, y, x); one that is present but
  // not one number per unit is an InputError.
  bool has_unit_coordinate(const std::string& layer, const std::string& name,
                           std::int64_t n_units) const;

  std::string dataset_path(const LayerPass& lp) const;
  // (stimulus, unit) shape; an InputError unless the dataset is 2-D.
  ActivationShape shape(const LayerPass& lp) const;
  // Rows per storage chunk (1 for unchunked datasets): batches that end on chunk boundaries decode
  // no chunk twice.
  std::int64_t chunk_rows(const LayerPass& lp) const;
  // A reader of the pass's stored rows, for many reads or reads from several threads at once.
  ChunkReader reader(const LayerPass& lp) const { return ChunkReader(file_, dataset_path(lp)); }
  // Every row. Reads decode on all threads when called outside a parallel region.
  ActivationBlock read(const LayerPass& lp) const;
  // Rows [first, first + count) into `out` (count x units floats).
  void read_rows(const LayerPass& lp, std::int64_t first, std::int64_t count, float* out) const;
  // Unit columns [first, first + count) of every stimulus: stimuli x count.
  ActivationBlock read_units(const LayerPass& lp, std::int64_t first, std::int64_t count) const;

 private:
  std::string where(const std::string& path) const { return path_string_ + ":" + path; }
  // The stimulus rows read: all `stored` rows, or the complete ones of an unfinished file.
  std::int64_t rows(std::int64_t stored) const {
    return partial_rows_ ? std::min(stored, *partial_rows_) : stored;
  }
  h5::File file_;
  std::string path_string_;
  std::optional<std::int64_t> partial_rows_;
};

}  // namespace lrm::io
