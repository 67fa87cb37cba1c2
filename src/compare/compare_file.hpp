#pragma once
// The model-brain comparison stages as the CLI runs them: read an activation file (README
// "Activations") layer by layer and pass by pass, read brain data (.mat RDMs, brainio .nc
// assemblies, HDF5 RDMs or responses), join by stimulus id, and write results (README
// "Model-brain comparison") into an open result file.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "compare/brain_volume.hpp"
#include "compare/crossnobis.hpp"
#include "compare/encoding.hpp"
#include "compare/inference.hpp"
#include "compare/rdm.hpp"
#include "compare/rsa.hpp"
#include "compare/simulate.hpp"
#include "compare/unit_selection.hpp"
#include "io/activation_file.hpp"
#include "io/h5.hpp"
#include "stats/correlation.hpp"

namespace lrm::compare {

using io::LayerPass;

struct BrainRdms {
  std::string source;
  std::vector<std::string> names;  // one per RDM (subject, session, region, ...)
  std::vector<Eigen::MatrixXd> rdms;
  std::vector<std::string> stimulus_ids;  // empty: conditions are in the model's stimulus order
  std::string note;                       // how they were formed (sessions averaged, ...)
};

struct BrainRdmOptions {
  bool average_sessions = true;               // .mat struct arrays n x subjects x sessions
  RdmMethod method = RdmMethod::correlation;  // for RDMs computed from responses
  std::string run_coord;                      // crossnobis folds (default: run or session)
  NoisePrecision noise = NoisePrecision::measurements;  // crossnobis whitening
};
// `spec`: file.mat[:variable], file.nc[:/variable] (responses), file.h5:/path (RDMs: (n, n) or
// (rdm, n, n); anything else is read as responses).
BrainRdms load_brain_rdms(const std::string& spec, const BrainRdmOptions& options);

struct RsaOptions {
  std::filesystem::path activations;  // empty: brain-only (noise ceiling)
  std::vector<std::string> layers;
  std::vector<int> passes;
  bool allow_partial = false;  // read an unfinished activation file's complete rows
  std::string brain;
  BrainRdmOptions brain_options;
  stats::Correlation comparison = stats::Correlation::spearman;
  RdmMethod model_rdm = RdmMethod::correlation;
  bool noise_ceiling = false;
  CeilingPool ceiling_pool = CeilingPool::pooled;
  bool squared = false;
  int bootstrap = 0;                       // resamples (0: none)
  std::optional<BootstrapOver> inference;  // model comparison tests (/rsa/inference)
  std::uint64_t seed = 0;
  bool save_rdms = false;
  std::int64_t memory = std::int64_t{4} << 30;  // bytes of activations and products in memory
  UnitOptions units;                            // localizer units (and random controls) only
};
// The `model` coordinate (layer/passK labels) with its `layer` and `pass` auxiliaries.
void write_models(const h5::Group& g, const std::vector<LayerPass>& models);

struct ModelRdm {
  Eigen::MatrixXd rdm;
  std::vector<std::string> condition_ids;
  std::string matched_by;  // how the stimuli were joined ("" when matched by order)
};
// The RDM of one layer and pass (through its unit set) over the brain's conditions: joined by
// stimulus id (ids missing on either side are an InputError naming them), or in the model's
// stimulus order when the brain RDMs have no ids. compare rsa's model RDMs, and weighted RSA's
// components from an activation file.
ModelRdm model_rdm(const io::ActivationFile& file, const UnitSet& set, const BrainRdms& brain,
                   RdmMethod method, std::int64_t memory);

// Writes /rsa; returns one summary line per model (and the ceiling).
std::vector<std::string> run_rsa(const RsaOptions& options, const h5::Group& root);

struct EncodeOptions {
  std::filesystem::path activations;
  std::vector<std::string> layers;
  std::vector<int> passes;
  bool allow_partial = false;
  std::string brain;
  io::ResponseOptions response_options;
  BrainVolumeOptions volume;  // when brain is NIfTI betas
  std::string write_nifti;    // folder for per-voxel score maps (NIfTI betas only)
  PredictivityOptions metric;
  int halvings = 10;
  std::int64_t memory = std::int64_t{4} << 30;  // bytes of activations and products in memory
  UnitOptions units;                            // localizer units (and random controls) only
};
std::vector<std::string> run_encoding(const EncodeOptions& options, const h5::Group& root);

struct SimulateOptions {
  std::filesystem::path activations;
  std::string layer;
  int pass = 0;
  bool allow_partial = false;
  SimulationOptions simulation;
};
// Writes /responses (presentation, neuroid) with stimulus_id and repetition coordinates, labelled
// simulated, plus the true rates and true ceiling; returns a summary line.
std::string run_simulation(const SimulateOptions& options, const h5::Group& root);

}  // namespace lrm::compare
