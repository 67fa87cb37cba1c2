#pragma once
// Neural responses (presentation x neuroid) from a brainio assembly or an HDF5 array, grouped by
// stimulus id: repetitions are averaged with NaN skipped (uneven repetitions are often padded with
// NaN) and the counts kept, so analyses can report them. Also the join of model rows and neural
// rows by stimulus id.
#include <Eigen/Dense>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "io/assembly.hpp"

namespace lrm::io {

struct NeuralResponses {
  std::string source;
  std::vector<std::string> stimulus_ids;  // unique, in order of first presentation
  std::vector<std::string> neuroid_ids;
  std::vector<std::string> categories;    // per stimulus; empty when no category coordinate
  Eigen::MatrixXd presentations;          // presentation x neuroid (NaN = missing)
  std::vector<Eigen::Index> stimulus_of;  // stimulus index of each presentation
  Eigen::MatrixXd mean;                   // stimulus x neuroid, NaN skipped
  Eigen::MatrixXi counts;                 // finite repetitions per stimulus and neuroid
  std::int64_t missing = 0;               // NaN entries skipped in the averages
  std::uint64_t time_bins_averaged = 1;
};

struct ResponseOptions {
  std::string stimulus_coord;  // default: stimulus_id, image_id or stimulus, whichever exists
  std::string category_coord;  // optional; default: category or object_name when present
};

NeuralResponses group_responses(const Assembly& a, const ResponseOptions& options = {});

// Reads `spec`: "file.nc" (brainio), "file.nc:/variable", or "file.h5:/path".
Assembly read_assembly_spec(const std::string& spec);

// Single trials x voxels from HDF5 as h5py or xarray users write them (fMRI betas): a 2-D
// dataset `betas`, `responses` or `data` (or the one named, file.h5:/path) with, beside it in its
// group, one stimulus id per trial in `stimulus_id`, `stimulus`, `image_id`, `nsd_id` or
// `73k_id` (strings or integers), optionally a session per trial in `session` or `sessions`
// and an id per voxel in `voxel_id`, `voxel` or `neuroid_id`.
struct TrialResponses {
  std::string source;
  Eigen::MatrixXd values;                           // trial x voxel
  std::vector<std::string> stimulus_ids, sessions;  // per trial (sessions empty when absent)
  std::vector<std::string> voxel_ids;
};
// The trials of `spec` (.h5, .hdf5 or .hdf) when its dataset is laid out so: no dimension scale on
// its rows (plain h5py) or a second dimension named voxel (xarray); nullopt for any other spec,
// which is read as an assembly. An InputError naming the file when a stimulus id dataset is
// missing or of another length.
std::optional<TrialResponses> read_h5_trials(const std::string& spec);

struct StimulusJoin {
  std::vector<Eigen::Index> model_rows;  // row of the model data for each joined stimulus
  std::vector<Eigen::Index> brain_rows;  // row of the brain data for the same stimulus
  std::vector<std::string> ids;          // the brain's ids
  std::string matched_by = "id";         // "id", or "file stem"; results record it
};

// The file stem of a stimulus id: without folders and extension ("v4/image0001.jpg" ->
// "image0001").
std::string file_stem(const std::string& id);

// Joins by id. When the id sets differ but the file stems of both sides are the same set and
// each stem names one stimulus on each side (a folder set's "v4/image0001.jpg" and a recording's
// "image0001"), joins by stem. Otherwise throws InputError naming the ids missing on each side.
StimulusJoin join_stimuli(const std::vector<std::string>& model_ids, const std::string& model_name,
                          const std::vector<std::string>& brain_ids, const std::string& brain_name);

}  // namespace lrm::io
