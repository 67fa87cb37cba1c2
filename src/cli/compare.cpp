// lrm compare: model-brain comparison. `rsa` (RDMs, comparisons, noise ceilings, bootstrap CIs),
// `encode` (Brain-Score-style neural predictivity with internal-consistency ceilings) and
// `simulate` (simulated recordings with a known ceiling, for checking the encoding analysis).
#include <cstdio>
#include <filesystem>
#include <memory>

#include "cli/command.hpp"
#include "cli/deprecation.hpp"
#include "cli/option_checks.hpp"
#include "common/error.hpp"
#include "common/mpi.hpp"
#include "compare/banded_encoding.hpp"
#include "compare/cka.hpp"
#include "compare/compare_file.hpp"
#include "compare/gram.hpp"
#include "compare/id_split.hpp"
#include "compare/regression.hpp"
#include "compare/ridge_cv.hpp"
#include "compare/weighted.hpp"
#include "io/output_path.hpp"
#include "io/results.hpp"

namespace lrm::cli {
namespace {

// What the comparisons read of activation files: layers, passes, the rows of an unfinished file,
// and the memory for making their products.
struct Reading {
  std::vector<std::string> layers, passes;
  bool allow_partial = false;
  std::string memory;
};

// The activation file of rsa, cka and encode, and what they read of it.
struct Selection {
  std::string activations;
  Reading read;
};

// --units and --units-control of rsa and encode.
struct UnitArgs {
  std::string units, control;
};

struct RsaArgs {
  Selection in;
  std::string brain, out, comparison = "spearman", model_rdm = "correlation",
                          brain_rdm = "correlation", sessions = "average", ceiling_pool = "pooled",
                          run_coord, noise_precision = "measurements", inference;
  bool noise_ceiling = false, squared = false, save_rdms = false;
  int bootstrap = 0;
  UnitArgs units;
};

struct CkaArgs {
  Selection in;
  std::string out, kernel = "linear", brain, stimulus_coord;
  bool debiased = false;
  double rbf_threshold = 1.0;
};

struct WeightedArgs {
  std::string brain, out, comparison = "pearson", fit = "optimize", model_rdm = "correlation";
  std::vector<std::string> components;
  Reading read;  // of the activation files among the components
  int folds = 5, subject_folds = 0, bootstrap = 0;
  bool vpa = false;
};

struct EncodeArgs {
  Selection in;
  std::string brain, out, regression = "pls", stimulus_coord, category_coord, alphas, test_ids;
  compare::BrainVolumeOptions volume;
  std::string zscore_by, write_nifti;
  int pls_components = 25, splits = 10, halvings = 10;
  int n_iter = 0;  // banded only (0: not given; 100)
  double test_fraction = 0.1;
  UnitArgs units;
};

struct SimulateArgs {
  std::string activations, layer, out;
  int pass = 1;
  bool allow_partial = false;
  compare::SimulationOptions sim;
};

// Sets the layers, passes, partial rows and memory of the options of a comparison.
template <class Options>
void set_reading(Options& o, const Reading& r) {
  o.layers = r.layers;
  for (const auto& p : r.passes) o.passes.push_back(io::parse_pass_index(p, "passes"));
  o.allow_partial = r.allow_partial;
  o.memory = r.memory.empty() ? compare::default_memory_budget() : compare::parse_memory(r.memory);
}

// Sets the activation file and what to read of it of RsaOptions, CkaRunOptions or EncodeOptions.
template <class Options>
void select(Options& o, const Selection& in) {
  o.activations = in.activations;
  set_reading(o, in.read);
}

compare::UnitOptions unit_options(const UnitArgs& a) {
  compare::UnitOptions o;
  o.spec = a.units;
  if (!a.control.empty()) o.random_draws = compare::parse_units_control(a.control);
  return o;
}

// An input's SHA-256 for provenance; under mpirun only rank 0, which writes the result, reads the
// whole file.
std::string input_digest(const std::string& path) {
  return mpi::rank() == 0 ? io::sha256_file(path) : std::string();
}

// Writes `out` atomically; `run` fills its root and returns the summary lines the CLI prints.
template <class Run>
void write_result(const std::string& out, const io::Provenance& provenance, const Globals& g,
                  Run run) {
  // Under mpirun rank 0 writes `out`; the other ranks' parts of it go to a scratch file.
  const bool writer = mpi::rank() == 0;
  const std::filesystem::path path =
      writer ? std::filesystem::path(out) : mpi::scratch_path("compare");
  io::ResultFile file(path, provenance);
  const std::vector<std::string> lines = run(file.root());
  file.commit();
  if (!writer) std::filesystem::remove(path);
  if (g.quiet || !writer) return;
  for (const auto& l : lines) std::printf("%s\n", l.c_str());
  std::printf("wrote %s\n", out.c_str());
}

void rsa(const RsaArgs& a, const Globals& g) {
  io::check_output_is_not_an_input(a.out, {a.in.activations, a.brain, a.units.units});
  compare::RsaOptions o;
  select(o, a.in);
  o.brain = a.brain;
  if (a.sessions != "average" && a.sessions != "separate")
    throw SettingError("sessions", "use average or separate, not '" + a.sessions + "'");
  o.brain_options.average_sessions = a.sessions == "average";
  o.brain_options.method = compare::rdm_method_names.parse(a.brain_rdm, "brain-rdm");
  o.brain_options.run_coord = a.run_coord;
  o.brain_options.noise =
      compare::noise_precision_names.parse(a.noise_precision, "noise-precision");
  o.comparison = stats::parse_correlation(a.comparison, "comparison");
  o.model_rdm = compare::rdm_method_names.parse(a.model_rdm, "model-rdm");
  o.noise_ceiling = a.noise_ceiling;
  o.ceiling_pool = compare::ceiling_pool_names.parse(a.ceiling_pool, "ceiling-pool");
  o.squared = a.squared;
  o.bootstrap = a.bootstrap;
  if (!a.inference.empty())
    o.inference = compare::bootstrap_over_names.parse(a.inference, "inference");
  o.seed = g.seed;
  o.save_rdms = a.save_rdms;
  o.units = unit_options(a.units);
  auto provenance = io::current_provenance(g.seed);
  provenance.inputs["brain"] = a.brain;
  if (!a.in.activations.empty())
    provenance.inputs["activations_sha256"] = input_digest(a.in.activations);
  write_result(a.out, provenance, g,
               [&](const h5::Group& root) { return compare::run_rsa(o, root); });
}

void cka(const CkaArgs& a, const Globals& g) {
  io::check_output_is_not_an_input(a.out, {a.in.activations, a.brain});
  compare::CkaRunOptions o;
  select(o, a.in);
  o.cka.kernel = compare::cka_kernel_names.parse(a.kernel, "kernel");
  o.cka.debiased = a.debiased;
  o.cka.rbf_threshold = a.rbf_threshold;
  o.brain = a.brain;
  o.response_options.stimulus_coord = a.stimulus_coord;
  auto provenance = io::current_provenance(g.seed);
  if (!a.brain.empty()) provenance.inputs["brain"] = a.brain;
  provenance.inputs["activations_sha256"] = input_digest(a.in.activations);
  write_result(a.out, provenance, g,
               [&](const h5::Group& root) { return compare::run_cka(o, root); });
}

void weighted(const WeightedArgs& a, const Globals& g) {
  std::vector<std::string> inputs = a.components;
  inputs.push_back(a.brain);
  io::check_output_is_not_an_input(a.out, inputs);
  compare::WeightedRunOptions o;
  o.brain = a.brain;
  o.components = a.components;
  set_reading(o, a.read);
  o.model_rdm = compare::rdm_method_names.parse(a.model_rdm, "model-rdm");
  o.fit.comparison = stats::parse_correlation(a.comparison, "comparison");
  o.fit.folds = a.folds;
  o.fit.subject_folds = a.subject_folds;
  o.fit.fit = compare::weight_fit_names.parse(a.fit, "fit");
  o.fit.seed = g.seed;
  o.partition = a.vpa;
  o.resamples = a.bootstrap;
  auto provenance = io::current_provenance(g.seed);
  provenance.inputs["brain"] = a.brain;
  write_result(a.out, provenance, g,
               [&](const h5::Group& root) { return compare::run_weighted(o, root); });
}

void encode(const EncodeArgs& a, const Globals& g) {
  io::check_output_is_not_an_input(a.out, {a.in.activations, a.brain, a.units.units});
  compare::EncodeOptions o;
  select(o, a.in);
  o.brain = a.brain;
  o.volume = a.volume;
  o.volume.betas = a.brain;
  if (!a.zscore_by.empty() && a.zscore_by != "session")
    throw SettingError("zscore-by", "only 'session' is known, not '" + a.zscore_by + "'");
  o.volume.zscore_by_session = !a.zscore_by.empty();
  o.write_nifti = a.write_nifti;
  o.response_options.stimulus_coord = a.stimulus_coord;
  o.response_options.category_coord = a.category_coord;
  o.metric.regression = compare::regression_names.parse(a.regression, "regression");
  const bool banded = o.metric.regression == compare::Regression::banded;
  if (a.n_iter && !banded) throw SettingError("n-iter", "applies to --regression banded only");
  if (a.n_iter) o.metric.n_iter = a.n_iter;
  o.metric.pls_components = a.pls_components;
  o.metric.splits = a.splits;
  o.metric.test_fraction = a.test_fraction;
  o.metric.seed = g.seed;
  if (!a.alphas.empty() && !banded && o.metric.regression != compare::Regression::ridgecv)
    throw SettingError("alphas", "applies to --regression ridgecv or banded only");
  if (!a.alphas.empty()) o.metric.alphas = compare::parse_alphas(a.alphas);
  if (!a.test_ids.empty()) {
    o.metric.test_ids = compare::read_id_list(a.test_ids);
    o.metric.splits = 1;
  }
  o.halvings = a.halvings;
  o.units = unit_options(a.units);
  auto provenance = io::current_provenance(g.seed);
  provenance.inputs["brain"] = a.brain;
  provenance.inputs["activations_sha256"] = input_digest(a.in.activations);
  write_result(a.out, provenance, g, [&](const h5::Group& root) {
    return banded ? compare::run_banded_encoding(o, root) : compare::run_encoding(o, root);
  });
}

void simulate(const SimulateArgs& a, const Globals& g) {
  io::check_output_is_not_an_input(a.out, {a.activations});
  compare::SimulateOptions o;
  o.activations = a.activations;
  o.layer = a.layer;
  o.pass = a.pass;
  o.allow_partial = a.allow_partial;
  o.simulation = a.sim;
  o.simulation.seed = g.seed;
  auto provenance = io::current_provenance(g.seed);
  provenance.inputs["activations_sha256"] = input_digest(a.activations);
  write_result(a.out, provenance, g, [&](const h5::Group& root) {
    return std::vector<std::string>{compare::run_simulation(o, root)};
  });
}

void add_allow_partial(CLI::App* c, bool& allow_partial) {
  c->add_flag("--allow-partial", allow_partial,
              "Accept an activation file not marked complete (an interrupted extract) and use only "
              "its complete rows; the result records how many");
}

// --allow-partial and --memory: how activation files are read.
void add_reading_limits(CLI::App* c, Reading& r) {
  add_allow_partial(c, r.allow_partial);
  c->add_option("--memory", r.memory,
                "Memory for activations and their products, e.g. 4G or 512M: larger layers "
                "stream through it in blocks (default: a quarter of this machine's memory)");
}

// --activations, --layers and --passes (comma lists, repeatable; --layer and --pass are their old
// spellings), --allow-partial and --memory.
void add_selection(CLI::App* c, Selection& in, const std::string& activations_help) {
  c->add_option("--activations", in.activations, activations_help);
  c->add_option("--layers", in.read.layers,
                "Layers to compare, e.g. conv,fc (repeatable; default: every layer in the file)")
      ->delimiter(',');
  c->add_option("--passes", in.read.passes, "Passes to compare, e.g. 0,1 (default: every pass)")
      ->delimiter(',');
  add_deprecated_alias(c, "--layer", in.read.layers);
  add_deprecated_alias(c, "--pass", in.read.passes);
  add_reading_limits(c, in.read);
}

void add_unit_options(CLI::App* c, UnitArgs& u) {
  c->add_option("--units", u.units,
                "Only the units a localizer found selective, localizer.h5:<layer>/pass<k>/<target> "
                "(lrm localize's result): that layer's passes are compared through them, as "
                "<layer>:<target>/pass<k>");
  c->add_option("--units-control", u.control,
                "With --units: random or random:N size-matched random unit sets (seeded by --seed; "
                "the same sets in every pass), each scored as <layer>:random<d>/pass<k>");
}

// Runs `run` on the parsed arguments, after a note for each old spelling used.
template <class Args>
void on_parsed(CLI::App* c, std::shared_ptr<Args> args, const Globals& g,
               void (*run)(const Args&, const Globals&)) {
  c->callback([c, args, &g, run] {
    note_deprecated(c, "--layer", "--layer", "--layers", g);
    note_deprecated(c, "--pass", "--pass", "--passes", g);
    run(*args, g);
  });
}

void add_rsa(CLI::App* cmd, const Globals& g) {
  auto r = std::make_shared<RsaArgs>();
  auto* rc = cmd->add_subcommand("rsa",
                                 "Representational similarity analysis per layer and pass: model "
                                 "RDMs vs brain RDMs, noise ceiling over "
                                 "subjects, bootstrap CIs. Brain data: file.mat[:variable] (struct "
                                 "array of RDMs, n x n x k stack or "
                                 "upper-triangle vectors), file.h5:/path ((n, n) or (rdm, n, n) "
                                 "RDMs, else responses), or a brainio .nc "
                                 "assembly (responses; the RDM is computed). RDMs without stimulus "
                                 "ids match the model's stimuli by order.");
  add_selection(rc, r->in,
                "Activation file from lrm extract (omit for brain-only, e.g. --noise-ceiling)");
  rc->add_option("--brain", r->brain, "Brain RDMs or responses (see above)")->required();
  rc->add_option("--out", r->out, "Result file (HDF5, written atomically)")->required();
  rc->add_option("--comparison", r->comparison,
                 "spearman, pearson, kendall_tau_a, kendall_tau_b, rho_a or cosine")
      ->capture_default_str();
  rc->add_option(
        "--model-rdm", r->model_rdm,
        "Model RDM distance: correlation (1 - Pearson) or euclidean (squared / n_features)")
      ->capture_default_str();
  rc->add_option(
        "--brain-rdm", r->brain_rdm,
        "RDM from brain responses: correlation, euclidean, crossvalidated-euclidean (needs "
        "repetitions) or crossnobis (noise-whitened, cross-validated over runs)")
      ->capture_default_str();
  rc->add_option("--run-coord", r->run_coord,
                 "Run coordinate of the responses for crossnobis folds (default: run or session)");
  rc->add_option("--noise-precision", r->noise_precision,
                 "Crossnobis noise whitening (shrinkage to the diagonal): measurements, residuals "
                 "(around condition x run means) or identity")
      ->capture_default_str();
  rc->add_option("--sessions", r->sessions,
                 ".mat struct arrays 1 x subjects x sessions: average or separate")
      ->capture_default_str();
  rc->add_flag("--noise-ceiling", r->noise_ceiling,
               "Noise ceiling over the brain RDMs as subjects (upper and lower bound)");
  rc->add_option("--ceiling-pool", r->ceiling_pool,
                 "How the ceiling averages subjects' RDMs: pooled (rsatoolbox's pool_rdm: ranks "
                 "for rank comparisons, z-scores for pearson, unit RMS for cosine) or mean (plain "
                 "mean, as Net2Brain and Algonauts)")
      ->capture_default_str();
  rc->add_flag("--squared", r->squared, "Square per-subject correlations (ceiling and mean score)");
  rc->add_option("--bootstrap", r->bootstrap,
                 "Bootstrap resamples over stimuli and subjects for 95% CIs (0: none)")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  rc->add_option("--inference", r->inference,
                 "Compare the layers x passes with each other and the ceiling (/rsa/inference): "
                 "bootstrap over stimuli, subjects or both (rsatoolbox's corrected dual "
                 "bootstrap), --bootstrap resamples (default 1000); pairwise t-tests with FDR, "
                 "each model vs 0 and vs the lower ceiling, the ceiling vs chance");
  rc->add_flag("--save-rdms", r->save_rdms, "Also store every model RDM");
  add_unit_options(rc, r->units);
  on_parsed(rc, r, g, rsa);
}

void add_cka(CLI::App* cmd, const Globals& g) {
  auto c = std::make_shared<CkaArgs>();
  auto* cc = cmd->add_subcommand("cka",
                                 "Centred kernel alignment between every pair of layers x passes "
                                 "of an activation file (Kornblith et al. 2019): the map of how "
                                 "feedback passes change representations; with --brain, each "
                                 "layer x pass against brain responses too.");
  add_selection(cc, c->in, "Activation file from lrm extract");
  cc->get_option("--activations")->required();
  cc->add_option("--out", c->out, "Result file (HDF5, written atomically)")->required();
  cc->add_option("--kernel", c->kernel, "linear or rbf")->capture_default_str();
  cc->add_flag("--debiased", c->debiased, "Unbiased HSIC (Song et al. 2012; Nguyen et al. 2021)");
  cc->add_option("--brain", c->brain,
                 "Neural responses (as compare encode --brain: file.nc[:/variable] or "
                 "file.h5:/path), repetitions averaged, joined to the model by stimulus id");
  cc->add_option("--stimulus-coord", c->stimulus_coord,
                 "Stimulus coordinate of --brain (default: stimulus_id, image_id or stimulus)");
  cc->add_option("--rbf-threshold", c->rbf_threshold,
                 "RBF bandwidth: sigma^2 = threshold^2 x the median squared distance")
      ->check(finite_positive() & CLI::Range(1e-6, 1e6))
      ->capture_default_str();
  on_parsed(cc, c, g, cka);
}

void add_weighted(CLI::App* cmd, const Globals& g) {
  auto w = std::make_shared<WeightedArgs>();
  auto* wc =
      cmd->add_subcommand("weighted",
                          "Weighted RSA: non-negative weights of component RDMs fitted to "
                          "the brain RDMs, cross-validated over stimuli and subjects "
                          "(rsatoolbox's ModelWeighted, fit_optimize_positive, sets_k_fold); "
                          "with "
                          "--vpa, variance partitioning of 2-3 components (Net2Brain's VPA).");
  wc->add_option("--brain", w->brain, "Brain RDMs (as compare rsa --brain)")->required();
  wc->add_option("--components", w->components,
                 "Files of component RDMs (as --brain; e.g. model RDMs saved by compare rsa "
                 "--save-rdms as file.h5:/rsa/model_rdm/<layer>/pass<k>), or an activation file "
                 "from lrm extract (file.h5, no dataset path): each of its --layers x --passes "
                 "one component named <layer>/pass<k> (<file>#<layer>/pass<k> with several "
                 "activation files), its RDM as compare rsa's model RDM; repeatable, each "
                 "component once")
      ->required();
  wc->add_option("--layers", w->read.layers,
                 "Layers of the activation files among --components, e.g. conv,fc (default: "
                 "every layer)")
      ->delimiter(',');
  wc->add_option("--passes", w->read.passes,
                 "Passes of the activation files among --components (default: every pass)")
      ->delimiter(',');
  add_reading_limits(wc, w->read);
  wc->add_option("--model-rdm", w->model_rdm,
                 "RDM distance of activation-file components: correlation or euclidean (as "
                 "compare rsa --model-rdm)")
      ->capture_default_str();
  wc->add_option("--out", w->out, "Result file (HDF5, written atomically)")->required();
  wc->add_option("--comparison", w->comparison, "How held-out predictions are scored")
      ->capture_default_str();
  wc->add_option("--folds", w->folds, "Stimulus folds of the cross-validation")
      ->check(CLI::Range(2, 1000))
      ->capture_default_str();
  wc->add_option("--subject-folds", w->subject_folds,
                 "Subject folds (0: rsatoolbox's default, 2 below 6 subjects; 1: none)")
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  wc->add_option("--fit", w->fit,
                 "optimize: weights maximising the mean pearson or cosine with the subjects "
                 "(rsatoolbox fit_optimize_positive, solved exactly); nnls: least squares of the "
                 "mean RDM with an intercept")
      ->capture_default_str();
  wc->add_flag("--vpa", w->vpa, "Also partition the explained variance between the components");
  wc->add_option("--bootstrap", w->bootstrap, "Stimulus resamples for the partition's 95% CIs")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  wc->callback([w, &g] { weighted(*w, g); });
}

const char* regression_help(compare::Regression r) {
  switch (r) {
    case compare::Regression::pls:
      return "sklearn PLSRegression, scale=False";
    case compare::Regression::ridge:
      return "per-target LOO penalty";
    case compare::Regression::ols:
      return "minimum-norm least squares";
    case compare::Regression::ridgecv:
      return "sklearn RidgeCV(alphas, alpha_per_target=True): a penalty per target from --alphas "
             "by leave-one-out";
    case compare::Regression::banded:
      return "himalaya's BandedRidgeCV: each selected layer x pass a feature group with its own "
             "penalty per target, by random search over group ratios and 5-fold CV; results in "
             "/banded";
  }
  throw InternalError("a regression without help");
}

// Every regression of the names table, each with what it is.
std::string regressions_help() {
  std::string out;
  for (const auto& name : compare::regression_names.canonical())
    out += (out.empty() ? "" : ", ") + name + " (" +
           regression_help(compare::regression_names.parse(name, "regression")) + ")";
  return out;
}

void add_encode(CLI::App* cmd, const Globals& g) {
  auto e = std::make_shared<EncodeArgs>();
  auto* ec = cmd->add_subcommand("encode",
                                 "Neural predictivity per layer and pass (Brain-Score style): "
                                 "regression from features to responses averaged "
                                 "over repetitions, stratified shuffle splits, held-out Pearson r "
                                 "per neuroid, median over neuroids; with the "
                                 "internal-consistency ceiling and raw, ceiled (r/c), ceiled "
                                 "squared ((r/c)^2) and r^2/c scores side by side.");
  add_selection(ec, e->in, "Activation file from lrm extract");
  ec->get_option("--activations")->required();
  ec->add_option("--brain", e->brain,
                 "Responses: brainio .nc assembly, file.h5:/path (presentation x neuroid), "
                 "NIfTI betas with --trials, or HDF5 trials x voxels (betas.h5: betas with "
                 "stimulus_id beside it)")
      ->required();
  ec->add_option("--out", e->out, "Result file (HDF5, written atomically)")->required();
  ec->add_option("--regression", e->regression, regressions_help())->capture_default_str();
  ec->add_option("--alphas", e->alphas,
                 "ridgecv and banded penalties: lo:hi:n (log-spaced) or a comma list (default "
                 "1e-2:1e6:20)");
  ec->add_option(
        "--n-iter", e->n_iter,
        "banded: group ratios tried, drawn from a Dirichlet seeded by --seed (default 100)")
      ->check(CLI::Range(1, 1000000));
  ec->add_option("--trials", e->volume.trials,
                 "NIfTI betas: CSV with a row per volume in order, columns stimulus_id and "
                 "optionally session (repeats are averaged per stimulus for the fit)");
  ec->add_option("--roi", e->volume.rois,
                 "NIfTI betas: ROI mask.nii.gz (nonzero voxels) or labels.nii.gz:NAME (repeatable; "
                 "the union is fitted and each ROI scored as roi_score; default: every voxel)");
  ec->add_option("--roi-labels", e->volume.roi_labels, "CSV label,name for --roi file:NAME");
  ec->add_option("--zscore-by", e->zscore_by, "session: z-score each voxel within each session");
  ec->add_option(
      "--ncsnr-min", e->volume.ncsnr_min,
      "Keep voxels whose noise-ceiling SNR (NSD's ncsnr, from repeats) is at least this");
  ec->add_option("--write-nifti", e->write_nifti,
                 "Folder for per-voxel r maps (mean over splits) as NIfTI in the betas' grid");
  ec->add_option("--test-ids", e->test_ids,
                 "File of stimulus ids (one a line) held out as the one fixed test set, the rest "
                 "training (instead of --splits shuffle splits)");
  ec->add_option("--pls-components", e->pls_components, "PLS components")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  ec->add_option("--splits", e->splits, "Stratified shuffle splits")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  ec->add_option("--test-fraction", e->test_fraction, "Held-out fraction per split")
      ->check(CLI::Range(0.01, 0.99))
      ->capture_default_str();
  ec->add_option("--halvings", e->halvings, "Random split-halves of repetitions for the ceiling")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  ec->add_option("--stimulus-coord", e->stimulus_coord,
                 "Stimulus id coordinate (default: stimulus_id, image_id or stimulus)");
  ec->add_option("--category-coord", e->category_coord,
                 "Category coordinate to stratify splits (default: category or object_name; else "
                 "the activations' categories)");
  add_unit_options(ec, e->units);
  on_parsed(ec, e, g, encode);
}

void add_simulate(CLI::App* cmd, const Globals& g) {
  auto s = std::make_shared<SimulateArgs>();
  auto* sc = cmd->add_subcommand("simulate",
                                 "SIMULATED recordings for checking encoding analyses: a held-out "
                                 "random linear-nonlinear network on one "
                                 "layer's features gives firing rates; repetitions are Poisson "
                                 "counts; the true ceiling is stored.");
  sc->add_option("--activations", s->activations, "Activation file from lrm extract")->required();
  sc->add_option("--layer", s->layer, "Layer whose features drive the simulated neuroids")
      ->required();
  sc->add_option("--pass", s->pass, "Pass of that layer")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  add_allow_partial(sc, s->allow_partial);
  sc->add_option("--out", s->out, "Output HDF5 (read it with --brain out.h5:/responses)")
      ->required();
  sc->add_option("--neuroids", s->sim.neuroids, "Simulated neuroids")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sc->add_option("--repetitions", s->sim.repetitions, "Repetitions per stimulus")
      ->check(CLI::Range(2, 1000))
      ->capture_default_str();
  sc->add_option("--mean-rate", s->sim.mean_rate, "Mean spike count per presentation")
      ->check(finite_positive() & CLI::Range(0.0, 1e6))
      ->capture_default_str();
  sc->add_option("--gain", s->sim.gain, "Slope of the softplus on the standardised drive")
      ->check(finite_positive() & CLI::Range(0.0, 1e6))
      ->capture_default_str();
  sc->add_option("--features-used", s->sim.features_used,
                 "Random subset of features that drives the network (0: all)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sc->callback([s, &g] { simulate(*s, g); });
}

}  // namespace

void add_compare_command(CLI::App& app, const Globals& g) {
  auto* cmd = app.add_subcommand(
      "compare", "Compare model activations with brain data (RSA, encoding models)");
  cmd->require_subcommand(1);
  add_rsa(cmd, g);
  add_cka(cmd, g);
  add_weighted(cmd, g);
  add_encode(cmd, g);
  add_simulate(cmd, g);
}

}  // namespace lrm::cli
