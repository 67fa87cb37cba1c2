#include "compare/compare_file.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "common/mpi.hpp"
#include "common/progress.hpp"
#include "compare/model_share.hpp"
#include "compare/rank_results.hpp"
#include "compare/rsa.hpp"
#include "compare/streamed_layer.hpp"
#include "io/assembly.hpp"
#include "io/mat.hpp"
#include "io/neural_responses.hpp"
#include "io/nifti.hpp"

namespace lrm::compare {
namespace {

struct LoadedLayer {
  RowMatrixXf features;
  std::vector<std::string> ids, categories;
};

LoadedLayer load_layer(const io::ActivationFile& file, const LayerPass& lp) {
  auto a = file.read(lp);
  const std::string what = file.path().string() + ":" + lp.label();
  LoadedLayer l;
  l.features = Eigen::Map<RowMatrixXf>(a.data.data(), a.rows, a.cols);
  for (Eigen::Index i = 0; i < l.features.size(); ++i)
    if (!std::isfinite(l.features.data()[i]))
      throw InputError(what + " has NaN or infinite activations (stimulus row " +
                       std::to_string(i / a.cols) + ")");
  l.ids = file.stimulus_ids(lp.layer);
  if (static_cast<Eigen::Index>(l.ids.size()) != a.rows)
    throw InputError(file.path().string() + ":" + io::layer_path(lp.layer) + "/stimulus has " +
                     std::to_string(l.ids.size()) + " ids for " + std::to_string(a.rows) + " rows");
  l.categories = file.categories(lp.layer);
  return l;
}

// The .mat spec is "file.mat" or "file.mat:variable".
std::pair<std::filesystem::path, std::string> split_mat_spec(const std::string& spec) {
  const auto pos = spec.find(".mat:");
  if (pos == std::string::npos) return {spec, ""};
  return {spec.substr(0, pos + 4), spec.substr(pos + 5)};
}

Eigen::MatrixXd row_major_square(const std::vector<double>& v, std::uint64_t n) {
  return Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
      v.data(), static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(n));
}

Eigen::MatrixXd rdm_of(RowMatrixXf features, RdmMethod method, const std::string& what) {
  if (method == RdmMethod::correlation) return rdm_correlation(features, what);
  if (method == RdmMethod::euclidean) return rdm_euclidean(features);
  throw InputError(
      what +
      ": cross-validated distances need repeated measurements (use them for brain responses)");
}

BrainRdms rdms_from_responses(const io::Assembly& a, const BrainRdmOptions& options) {
  const RdmMethod method = options.method;
  const auto r = io::group_responses(a);
  BrainRdms b;
  b.source = a.source;
  b.stimulus_ids = r.stimulus_ids;
  b.names = {"responses"};
  if (method == RdmMethod::crossnobis) {
    b.rdms = {crossnobis_from_responses(a, r, options.run_coord, options.noise, b.note)};
    return b;
  }
  if (method == RdmMethod::crossvalidated) {
    std::vector<Rows> per_stimulus(r.stimulus_ids.size());
    for (std::size_t p = 0; p < r.stimulus_of.size(); ++p)
      per_stimulus[static_cast<std::size_t>(r.stimulus_of[p])].push_back(
          static_cast<Eigen::Index>(p));
    const std::size_t k = per_stimulus.at(0).size();
    for (const auto& s : per_stimulus)
      if (s.size() != k || k < 2)
        throw InputError(a.source +
                         ": cross-validated distances need the same number (>= 2) of repetitions "
                         "of every stimulus");
    std::vector<Eigen::MatrixXd> reps(
        k, Eigen::MatrixXd(static_cast<Eigen::Index>(per_stimulus.size()), r.presentations.cols()));
    for (std::size_t s = 0; s < per_stimulus.size(); ++s)
      for (std::size_t i = 0; i < k; ++i)
        reps[i].row(static_cast<Eigen::Index>(s)) = r.presentations.row(per_stimulus[s][i]);
    b.rdms = {rdm_crossvalidated(reps)};
    b.note = "cross-validated Euclidean RDM from " + std::to_string(k) + " repetitions";
    return b;
  }
  if (!r.mean.allFinite())
    throw InputError(a.source +
                     ": a stimulus has no valid repetition for some neuroid; cannot form an RDM");
  RowMatrixXf mean = r.mean.cast<float>();
  b.rdms = {rdm_of(mean, method, a.source)};
  b.note = std::string(rdm_method_name(method)) + " RDM of responses averaged over repetitions (" +
           std::to_string(r.missing) + " NaN entries skipped)";
  return b;
}

void write_vector(const h5::Group& g, const std::string& name, const Eigen::VectorXd& v,
                  const std::string& dim) {
  h5::write_array(g, name, v.data(), {static_cast<std::uint64_t>(v.size())}, {dim});
}

void write_matrix(const h5::Group& g, const std::string& name, const Eigen::MatrixXd& m,
                  const std::vector<std::string>& dims) {
  const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rm = m;
  h5::write_array(g, name, rm.data(),
                  {static_cast<std::uint64_t>(m.rows()), static_cast<std::uint64_t>(m.cols())},
                  dims);
}

}  // namespace

void write_models(const h5::Group& g, const std::vector<LayerPass>& models) {
  std::vector<std::string> labels, layers;
  std::vector<std::int64_t> passes;
  for (const auto& m : models) {
    labels.push_back(m.label());
    layers.push_back(m.layer);
    passes.push_back(m.pass);
  }
  h5::write_coordinate(g, "model", labels);
  h5::write_aux_coordinate(g, "layer", "model", layers);
  h5::write_aux_coordinate(g, "pass", "model", passes);
}

namespace {

h5::ArrayOptions model_coords() { return {{"layer", "pass"}, true, {}}; }
// Correlations, their CIs and ceiled scores are dimensionless.
h5::ArrayOptions correlations() { return {{"layer", "pass"}, true, {{"units", "1"}}}; }

}  // namespace

BrainRdms load_brain_rdms(const std::string& spec, const BrainRdmOptions& options) {
  if (spec.find(".mat") != std::string::npos && spec.find(".mat:/") == std::string::npos) {
    auto [file, variable] = split_mat_spec(spec);
    const auto m = io::read_mat_rdms(file, variable);
    BrainRdms b;
    b.source = m.source;
    const auto& d = m.struct_dims;
    if (options.average_sessions && d.size() == 3 && d[2] > 1) {
      // rsatoolbox's 92-image layout: 1 x subjects x sessions; average each subject's sessions.
      const std::uint64_t subjects = d[0] * d[1], sessions = d[2];
      for (std::uint64_t s = 0; s < subjects; ++s) {
        Eigen::MatrixXd sum = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(m.n_conditions),
                                                    static_cast<Eigen::Index>(m.n_conditions));
        for (std::uint64_t k = 0; k < sessions; ++k)
          sum += row_major_square(m.rdms[s + subjects * k], m.n_conditions);
        b.rdms.push_back(sum / static_cast<double>(sessions));
        std::string name = m.names[s];
        const auto cut = name.find(" | Session");
        b.names.push_back(cut == std::string::npos ? name : name.substr(0, cut));
      }
      b.note = "sessions averaged: " + std::to_string(subjects) + " subjects x " +
               std::to_string(sessions) + " sessions";
    } else {
      for (std::size_t i = 0; i < m.rdms.size(); ++i) {
        b.rdms.push_back(row_major_square(m.rdms[i], m.n_conditions));
        b.names.push_back(m.names[i]);
      }
      b.note = "RDMs as stored";
    }
    return b;
  }
  const auto a = io::read_assembly_spec(spec);
  const auto& s = a.shape;
  const bool stack = s.size() == 3 && s[1] == s[2];
  const bool single = s.size() == 2 && s[0] == s[1] && !a.has("stimulus_id") && !a.has("image_id");
  if (!stack && !single) return rdms_from_responses(a, options);
  BrainRdms b;
  b.source = a.source;
  const std::uint64_t n = s.back(), k = stack ? s[0] : 1;
  for (std::uint64_t r = 0; r < k; ++r) {
    Eigen::MatrixXd m(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(n));
    for (std::uint64_t i = 0; i < n; ++i)
      for (std::uint64_t j = 0; j < n; ++j)
        m(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = a.data[(r * n + i) * n + j];
    if (!m.allFinite())
      throw InputError(a.source + ": RDM " + std::to_string(r) + " has NaN or infinite entries");
    b.rdms.push_back(m);
  }
  const std::string& rdm_dim = a.dims[0];
  const std::string& stim_dim = a.dims.back();
  for (const auto& [name, c] : a.coords) {
    if (stack && c.dim == rdm_dim && b.names.empty()) b.names = c.text;
    if (c.dim == stim_dim && b.stimulus_ids.empty()) b.stimulus_ids = c.text;
  }
  if (b.names.empty())
    for (std::uint64_t r = 0; r < k; ++r) b.names.push_back("rdm" + std::to_string(r));
  b.note = "RDMs as stored";
  return b;
}

namespace {

// The brain RDMs, checked for one size of at least 3 conditions.
BrainRdms load_checked_brain(const RsaOptions& o) {
  BrainRdms brain = load_brain_rdms(o.brain, o.brain_options);
  const Eigen::Index n = brain.rdms.at(0).rows();
  for (const auto& r : brain.rdms)
    if (r.rows() != n) throw InputError(brain.source + ": RDMs of different sizes");
  if (n < 3) throw InputError(brain.source + ": RDMs need at least 3 conditions");
  return brain;
}

void write_rsa_settings(const h5::Group& g, const RsaOptions& o, const BrainRdms& brain) {
  g.set_attr("brain", o.brain);
  g.set_attr("brain_source", brain.source);
  g.set_attr("brain_note", brain.note);
  g.set_attr("comparison", std::string(stats::correlation_name(o.comparison)));
  g.set_attr("model_rdm", std::string(rdm_method_name(o.model_rdm)));
  g.set_attr("squared", static_cast<std::int64_t>(o.squared));
  g.set_attr("ceiling_pool", ceiling_pool_names.name(o.ceiling_pool));
  g.set_attr("bootstrap_resamples", static_cast<std::int64_t>(o.bootstrap));
  h5::write_coordinate(g, "brain_rdm", brain.names);
}

// Computes and writes the noise ceiling; returns its summary line.
std::string write_noise_ceiling(const h5::Group& g, const RsaOptions& o, const BrainRdms& brain) {
  const auto nc = noise_ceiling(brain.rdms, o.comparison, o.squared, o.ceiling_pool);
  h5::write_scalar(g, "noise_ceiling_upper", nc.upper);
  h5::write_scalar(g, "noise_ceiling_lower", nc.lower);
  write_vector(g, "noise_ceiling_upper_per_rdm", nc.upper_per_subject, "brain_rdm");
  write_vector(g, "noise_ceiling_lower_per_rdm", nc.lower_per_subject, "brain_rdm");
  char line[200];
  std::snprintf(line, sizeof line,
                "noise ceiling (%s%s, %s RDMs pooled, %lld RDMs): lower %.4f, upper %.4f",
                stats::correlation_name(o.comparison), o.squared ? ", squared" : "",
                ceiling_pool_names.name(o.ceiling_pool).c_str(),
                static_cast<long long>(brain.rdms.size()), nc.lower, nc.upper);
  return line;
}

}  // namespace

ModelRdm model_rdm(const io::ActivationFile& file, const UnitSet& set, const BrainRdms& brain,
                   RdmMethod method, std::int64_t memory) {
  const LayerPass& lp = set.lp;
  const auto ids = layer_stimulus_ids(file, lp);
  const std::string what = file.path().string() + ":" + lp.label();
  const Eigen::Index n = brain.rdms[0].rows();
  ModelRdm out;
  Rows rows;
  if (brain.stimulus_ids.empty()) {
    if (static_cast<Eigen::Index>(ids.size()) != n)
      throw InputError(brain.source + " has " + std::to_string(n) +
                       " conditions without stimulus ids, but " + what + " has " +
                       std::to_string(ids.size()) + " stimuli (conditions are matched by order)");
    rows = all_rows(n);
    out.condition_ids = ids;
  } else {
    const auto join = io::join_stimuli(ids, file.path().string(), brain.stimulus_ids, brain.source);
    rows = join.model_rows;
    out.condition_ids = join.ids;
    out.matched_by = join.matched_by;
  }
  out.rdm = layer_rdm(file, lp, rows, method, memory, set.units);
  return out;
}

namespace {

void write_model_rdm(const h5::Group& g, const LayerPass& lp, const ModelRdm& m) {
  auto rg = g.require_group("model_rdm/" + lp.layer);
  if (!rg.has("stimulus")) h5::write_coordinate(rg, "stimulus", m.condition_ids);
  write_matrix(rg, io::pass_dataset_name(lp.pass), m.rdm, {"stimulus", "stimulus_b"});
}

std::string rsa_line(const LayerPass& lp, const RsaOptions& o, const RdmScore& s) {
  char line[240];
  std::snprintf(line, sizeof line,
                "%-28s %s%s = %.4f (mean over %lld brain RDMs), %.4f with their mean RDM",
                lp.label().c_str(), stats::correlation_name(o.comparison), o.squared ? "^2" : "",
                s.mean, static_cast<long long>(s.r.size()), s.to_mean_rdm);
  return line;
}

// The (model, brain_rdm) correlations and the per-model scores and intervals.
void write_rsa_scores(const h5::Group& g, const std::vector<LayerPass>& models,
                      const std::vector<RdmScore>& scores, const RsaOptions& o) {
  const auto n_models = static_cast<Eigen::Index>(scores.size());
  const Eigen::Index n_rdm = scores.at(0).r.size();
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> r(n_models, n_rdm);
  Eigen::VectorXd mean(n_models), to_mean(n_models), stim_low(n_models), stim_high(n_models),
      subj_low(n_models), subj_high(n_models);
  for (Eigen::Index m = 0; m < n_models; ++m) {
    const auto& s = scores[static_cast<std::size_t>(m)];
    r.row(m) = s.r.transpose();
    mean[m] = s.mean, to_mean[m] = s.to_mean_rdm;
    stim_low[m] = s.stimuli.low, stim_high[m] = s.stimuli.high;
    subj_low[m] = s.subjects.low, subj_high[m] = s.subjects.high;
  }
  write_models(g, models);
  h5::write_array(g, "r", r.data(),
                  {static_cast<std::uint64_t>(n_models), static_cast<std::uint64_t>(n_rdm)},
                  {"model", "brain_rdm"}, model_coords());
  auto per_model = [&](const char* name, const Eigen::VectorXd& v) {
    h5::write_array(g, name, v.data(), {static_cast<std::uint64_t>(v.size())}, {"model"},
                    correlations());
  };
  per_model("r_mean", mean);
  per_model("r_to_mean_rdm", to_mean);
  if (o.bootstrap > 0) {
    per_model("ci_stimuli_low", stim_low);
    per_model("ci_stimuli_high", stim_high);
    if (n_rdm >= 2) {
      per_model("ci_subjects_low", subj_low);
      per_model("ci_subjects_high", subj_high);
    }
  }
}

// Rank 0's RDMs on every rank (under mpirun), so that the resamples each rank scores are those of
// the RDMs rank 0 summarises with. Called by every rank.
void broadcast_rdms(std::vector<Eigen::MatrixXd>& rdms) {
  if (!mpi::active()) return;
  mpi::Packer p;
  p.put(static_cast<std::uint64_t>(rdms.size()));
  for (const auto& m : rdms) pack(p, m);
  const std::string bytes = mpi::broadcast(mpi::rank() == 0 ? p.bytes() : std::string());
  mpi::Unpacker u(bytes);
  rdms.resize(u.get<std::uint64_t>());
  for (auto& m : rdms) m = unpack_matrix(u);
}

// The stimulus bootstrap of every model against the mean brain RDM: each rank computes a
// contiguous share of the resamples for all models, and rank 0 gathers the values in resample
// order and summarises them as one process does. Called by every rank with rank 0's model RDMs.
void add_stimulus_intervals(const std::vector<Eigen::MatrixXd>& model_rdms,
                            const Eigen::MatrixXd& brain_mean, const RsaOptions& o,
                            std::vector<RdmScore>& scores) {
  const auto share = mpi::share(static_cast<std::size_t>(o.bootstrap));
  const StimulusBootstrap mine =
      bootstrap_stimuli_values(model_rdms, brain_mean, o.comparison, o.seed,
                               static_cast<int>(share.begin), static_cast<int>(share.end));
  const auto all = mpi::gather(std::vector<double>(mine.data(), mine.data() + mine.size()));
  if (mpi::rank() != 0) return;
  const Eigen::Map<const StimulusBootstrap> values(all.data(), o.bootstrap,
                                                   static_cast<Eigen::Index>(model_rdms.size()));
  for (std::size_t m = 0; m < scores.size(); ++m)
    scores[m].stimuli = summarise_bootstrap(values.col(static_cast<Eigen::Index>(m)));
}

// --inference's settings (its resamples: --bootstrap's, 1000 by default).
InferenceOptions inference_options(const RsaOptions& o) {
  return {o.comparison,
          o.ceiling_pool,
          o.squared,
          *o.inference,
          o.bootstrap > 0 ? o.bootstrap : 1000,
          o.seed,
          0.95};
}

// The model inference, its resamples shared as the stimulus bootstrap's are: each rank scores a
// contiguous share of the draws, and rank 0 stacks the rows in draw order and summarises them as
// one process does (nothing elsewhere). Called by every rank with rank 0's RDMs.
std::optional<Inference> infer_shared(const std::vector<Eigen::MatrixXd>& model_rdms,
                                      const std::vector<Eigen::MatrixXd>& brain_rdms,
                                      const InferenceOptions& io) {
  using Rows = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const auto share = mpi::share(static_cast<std::size_t>(io.resamples));
  const auto prepared = prepare_inference(model_rdms, brain_rdms, io);
  std::vector<Eigen::MatrixXd> rows;
  for (const Rows mine : score_resamples(*prepared, share.begin, share.end)) {
    // Row-major, so that the ranks' arrays concatenate into the rows of all draws.
    const auto all = mpi::gather(std::vector<double>(mine.data(), mine.data() + mine.size()));
    if (mpi::rank() == 0)
      rows.emplace_back(Eigen::Map<const Rows>(all.data(), io.resamples, mine.cols()));
  }
  if (mpi::rank() != 0) return std::nullopt;
  return summarise_resamples(*prepared, std::move(rows));
}

}  // namespace

std::vector<std::string> run_rsa(const RsaOptions& o, const h5::Group& root) {
  const BrainRdms brain = load_checked_brain(o);
  if (o.inference) check_inference_input(brain.source, brain.rdms.size(), *o.inference);
  auto g = root.require_group("rsa");
  write_rsa_settings(g, o, brain);
  const Eigen::MatrixXd brain_mean = mean_rdm(brain.rdms);
  std::vector<std::string> lines;
  if (o.noise_ceiling) lines.push_back(write_noise_ceiling(g, o, brain));
  if (o.activations.empty()) {
    if (!o.noise_ceiling)
      throw InputError("nothing to do: give activations, a noise ceiling, or both");
    return lines;
  }
  const io::ActivationFile file(o.activations, o.allow_partial);
  const auto sets = unit_sets(o.units, file, o.layers, o.passes, o.seed);
  const auto models = set_models(sets);
  file.record_partial_rows(g);
  RdmScoring scoring{o.comparison, o.squared, o.bootstrap, o.seed};
  scoring.stimulus_bootstrap = false;
  std::vector<RdmScore> scores;
  std::vector<Eigen::MatrixXd> model_rdms;
  std::vector<std::string> condition_ids;
  std::string matched_by;
  Progress bar("rsa", static_cast<std::int64_t>(models.size()), "layers");
  // Under mpirun each rank makes and scores its share of the layers and passes; rank 0 writes them
  // all.
  const auto scored = mpi::compute_shared(
      sets.size(),
      [&](std::size_t i) {
        check_interrupt();
        const auto m = model_rdm(file, sets[i], brain, o.model_rdm, o.memory);
        mpi::Packer p;
        pack(p, score_rdm(m.rdm, brain.rdms, brain_mean, scoring,
                          o.activations.string() + ":" + sets[i].model.label()));
        pack(p, m.rdm);
        pack(p, m.condition_ids);
        p.put(m.matched_by);
        return p.bytes();
      },
      [&] { bar.advance(); });
  bar.finish();
  for (std::size_t i = 0; i < scored.size(); ++i) {
    const LayerPass& lp = sets[i].model;
    mpi::Unpacker u(scored[i]);
    scores.push_back(unpack_rdm_score(u));
    ModelRdm m;
    m.rdm = unpack_matrix(u);
    m.condition_ids = unpack_strings(u);
    m.matched_by = u.get_string();
    if (o.save_rdms) write_model_rdm(g, lp, m);
    model_rdms.push_back(std::move(m.rdm));
    condition_ids = std::move(m.condition_ids);
    matched_by = std::move(m.matched_by);
  }
  if (o.bootstrap > 0 || o.inference) broadcast_rdms(model_rdms);
  if (o.bootstrap > 0) add_stimulus_intervals(model_rdms, brain_mean, o, scores);
  std::optional<Inference> inference;
  if (o.inference) {
    std::vector<Eigen::MatrixXd> brain_rdms = brain.rdms;
    broadcast_rdms(brain_rdms);
    inference = infer_shared(model_rdms, brain_rdms, inference_options(o));
  }
  if (mpi::rank() != 0) return {};
  for (std::size_t i = 0; i < sets.size(); ++i)
    lines.push_back(rsa_line(sets[i].model, o, scores[i]));
  if (!matched_by.empty()) g.set_attr("stimulus_match", matched_by);
  h5::write_coordinate(g, "stimulus", condition_ids);
  write_matrix(g, "brain_rdm_mean", brain_mean, {"stimulus", "stimulus_b"});
  write_rsa_scores(g, models, scores, o);
  write_unit_sets(g, o.units, sets);
  if (inference)
    for (auto& l : write_inference(g, models, *inference, inference_options(o)))
      lines.push_back(std::move(l));
  return lines;
}

namespace {

// Per-model encoding scores, in model order.
struct EncodingTable {
  std::vector<double> r;  // (model, split, neuroid)
  std::vector<double> raw, error, ceiled, ceiled_squared, explained_variance;
  std::vector<std::int64_t> undefined, components;
  void add(const EncodingBenchmark::Result& result, bool pls) {
    const auto& p = result.predictivity;
    for (Eigen::Index s = 0; s < p.r.rows(); ++s)
      for (Eigen::Index j = 0; j < p.r.cols(); ++j) r.push_back(p.r(s, j));
    raw.push_back(result.score.raw);
    error.push_back(p.error);
    ceiled.push_back(result.score.ceiled);
    ceiled_squared.push_back(result.score.ceiled_squared);
    explained_variance.push_back(result.score.explained_variance_ceiled);
    undefined.push_back(p.undefined_neuroids);
    components.push_back(pls ? p.components_used : 0);
  }
};

// The responses averaged over repetitions; without categories of their own they take the
// activation file's, so that splits stay stratified.
io::NeuralResponses load_responses(const EncodeOptions& o, const io::ActivationFile& file,
                                   const LayerPass& first_model) {
  auto responses = io::group_responses(io::read_assembly_spec(o.brain), o.response_options);
  if (!responses.categories.empty()) return responses;
  const auto categories = file.categories(first_model.layer);
  if (categories.empty()) return responses;
  const auto ids = layer_stimulus_ids(file, first_model);
  const auto join =
      io::join_stimuli(ids, file.path().string(), responses.stimulus_ids, responses.source);
  for (auto row : join.model_rows) responses.categories.push_back(categories[row]);
  return responses;
}

// The value of the attribute `attr` of `path` in `file`, a number written as text.
double number_attr(const std::filesystem::path& file, const std::string& path,
                   const std::string& attr, const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size())
    throw InputError(file.string() + ":" + path + ": attribute " + attr + " is not a number ('" +
                     text.substr(0, 40) + "')");
  return v;
}

void write_encoding_settings(const h5::Group& g, const EncodeOptions& o,
                             const io::NeuralResponses& resp, const std::string& matched_by,
                             bool stratified) {
  g.set_attr("brain", o.brain);
  g.set_attr("brain_source", resp.source);
  g.set_attr("stimulus_match", matched_by);
  g.set_attr("regression", std::string(regression_name(o.metric.regression)));
  g.set_attr("pls_components", static_cast<std::int64_t>(o.metric.pls_components));
  g.set_attr("splits", static_cast<std::int64_t>(o.metric.splits));
  g.set_attr("test_fraction", o.metric.test_fraction);
  g.set_attr("stratified", static_cast<std::int64_t>(stratified));
  g.set_attr("halvings", static_cast<std::int64_t>(o.halvings));
  g.set_attr("missing_responses", resp.missing);
  g.set_attr("time_bins_averaged", static_cast<std::int64_t>(resp.time_bins_averaged));
  g.set_attr("error_rule", std::string("std over splits (ddof 0) / sqrt(splits)"));
  // Simulated recordings carry their label and true ceiling into every result.
  auto [file, path] = h5::split_dataset_spec(o.brain);
  if (!path.empty() && file.extension() != ".nc") {
    h5::File f(file, h5::File::Mode::read);
    if (auto sim = h5::dataset_attr_string(f, path, "simulated")) g.set_attr("simulated", *sim);
    if (auto truth = h5::dataset_attr_string(f, path, "true_ceiling"))
      g.set_attr("true_ceiling", number_attr(file, path, "true_ceiling", *truth));
  }
}

void write_encoding_scores(const h5::Group& g, const std::vector<LayerPass>& models,
                           const EncodingTable& t, int splits,
                           const std::vector<std::string>& neuroids) {
  write_models(g, models);
  h5::write_coordinate(g, "neuroid", neuroids);
  std::vector<std::int64_t> split_index(static_cast<std::size_t>(splits));
  for (std::size_t i = 0; i < split_index.size(); ++i)
    split_index[i] = static_cast<std::int64_t>(i);
  h5::write_coordinate(g, "split", split_index);
  h5::write_array(g, "r", t.r, {models.size(), split_index.size(), neuroids.size()},
                  {"model", "split", "neuroid"}, model_coords());
  auto per_model = [&](const char* name, const std::vector<double>& v) {
    h5::write_array(g, name, v, {v.size()}, {"model"}, correlations());
  };
  per_model("score_raw", t.raw);
  per_model("score_error", t.error);
  per_model("score_ceiled", t.ceiled);
  per_model("score_ceiled_squared", t.ceiled_squared);
  per_model("explained_variance_ceiled", t.explained_variance);
  h5::write_array(g, "undefined_neuroids", t.undefined, {t.undefined.size()}, {"model"},
                  model_coords());
  h5::write_array(g, "pls_components_used", t.components, {t.components.size()}, {"model"},
                  model_coords());
}

void write_ceiling(const h5::Group& g, const EncodingBenchmark& bench) {
  const auto& resp = bench.responses();
  h5::write_scalar(g, "ceiling", bench.ceiling().ceiling);
  write_vector(g, "ceiling_per_neuroid", bench.ceiling().per_neuroid, "neuroid");
  write_vector(g, "ceiling_per_halving", bench.ceiling().per_halving, "halving");
  h5::write_coordinate(g, "stimulus", resp.stimulus_ids);
  const Eigen::Matrix<std::int32_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> counts =
      resp.counts;
  h5::write_array(
      g, "repetitions", counts.data(),
      {static_cast<std::uint64_t>(counts.rows()), static_cast<std::uint64_t>(counts.cols())},
      {"stimulus", "neuroid"});
}

std::string encoding_line(const LayerPass& lp, const EncodingBenchmark::Result& result) {
  const auto& p = result.predictivity;
  const std::string undefined =
      p.undefined_neuroids ? " (" + std::to_string(p.undefined_neuroids) + " neuroids undefined)"
                           : "";
  char line[240];
  std::snprintf(line, sizeof line, "%-28s r = %.4f ± %.4f, ceiling %.4f, r/c = %.4f%s",
                lp.label().c_str(), result.score.raw, p.error, result.score.ceiling,
                result.score.ceiled, undefined.c_str());
  return line;
}

std::string ceiling_line(const EncodingBenchmark& bench) {
  char line[200];
  std::snprintf(line, sizeof line,
                "internal-consistency ceiling %.4f (%d halvings, %d neuroids undefined, %lld NaN "
                "responses skipped)",
                bench.ceiling().ceiling, bench.ceiling().halvings,
                bench.ceiling().undefined_neuroids,
                static_cast<long long>(bench.responses().missing));
  return line;
}

}  // namespace

std::vector<std::string> run_encoding(const EncodeOptions& o, const h5::Group& root) {
  const io::ActivationFile file(o.activations, o.allow_partial);
  const auto sets = unit_sets(o.units, file, o.layers, o.passes, o.metric.seed);
  const auto models = set_models(sets);
  std::optional<BrainVolume> volume;
  if (io::is_nifti_path(o.brain))
    volume = load_brain_volume(o.volume);
  else if (auto trials = io::read_h5_trials(o.brain))
    volume = trial_volume(std::move(*trials), o.volume);
  if (!o.write_nifti.empty() && (!volume || volume->shape[0] == 0))
    throw SettingError("write-nifti", "needs NIfTI betas as the brain data");
  if (!volume && (!o.volume.trials.empty() || !o.volume.rois.empty()))
    throw SettingError(o.volume.trials.empty() ? "roi" : "trials",
                       "applies to NIfTI betas (.nii, .nii.gz) as the brain data only");
  // Moved: the volume keeps its grid and ROIs, not a second copy of the responses (5.6 GB at NSD's
  // size).
  auto responses = volume ? std::move(volume->responses) : load_responses(o, file, sets[0].lp);
  std::vector<std::string> map_names;
  std::vector<Eigen::VectorXd> maps;  // per model: r per voxel, mean over splits
  std::vector<double> roi_table;      // model x ROI
  const bool stratified = !responses.categories.empty();
  const auto share = choose_model_share(sets.size(), o.metric, responses.mean.cols(), mpi::size());
  const EncodingBenchmark bench(std::move(responses),
                                rank_metric(o.metric, share, mpi::rank(), mpi::size()), o.halvings);
  EncodingTable table;
  std::vector<std::string> lines;
  std::string matched_by;
  Progress bar("encode", static_cast<std::int64_t>(models.size()), "layers");
  const auto score = [&](std::size_t i) {
    check_interrupt();
    const auto& set = sets[i];
    return pack(score_layer(bench, file, set.lp, o.memory,
                            o.activations.string() + ":" + set.model.label(), set.units));
  };
  // Under mpirun rank 0 gets every model's result and writes them all.
  std::vector<std::string> scored;
  if (share != ModelShare::models) {
    for (std::size_t i = 0; i < sets.size(); ++i) {
      const auto parts = mpi::gather(score(i));
      if (mpi::rank() == 0)
        scored.push_back(pack(join_shares(parts, bench.metric(), bench.ceiling().ceiling)));
      bar.advance();
    }
  } else {
    scored = mpi::compute_shared(sets.size(), score, [&] { bar.advance(); });
  }
  bar.finish();
  if (mpi::rank() != 0) return {};
  for (std::size_t i = 0; i < sets.size(); ++i) {
    const auto& set = sets[i];
    const LayerPass& lp = set.model;
    // The benchmark joins the stimuli the same way for every layer of the file.
    if (matched_by.empty())
      matched_by = bench.join(layer_stimulus_ids(file, set.lp), file.path().string()).matched_by;
    const auto result = unpack_encoding(scored[i]);
    table.add(result, o.metric.regression == Regression::pls);
    lines.push_back(encoding_line(lp, result));
    if (volume) {
      const auto scores = roi_scores(result.predictivity.r, volume->roi_neuroids);
      roi_table.insert(roi_table.end(), scores.begin(), scores.end());
      for (std::size_t k = 0; k < scores.size(); ++k)
        lines.push_back("  ROI " + volume->roi_names[k] + ": " + std::to_string(scores[k]));
    }
    map_names.push_back(map_stem(lp) + "_r");
    maps.push_back(result.predictivity.r.colwise().mean().transpose());
    if (result.predictivity.penalty.size()) {  // geometric mean over splits
      map_names.push_back(map_stem(lp) + "_penalty");
      maps.push_back(result.predictivity.penalty.array().log().colwise().mean().exp().transpose());
    }
  }
  auto g = root.require_group("encoding");
  file.record_partial_rows(g);
  write_encoding_settings(g, o, bench.responses(), matched_by, stratified);
  write_encoding_scores(g, models, table, o.metric.splits, bench.responses().neuroid_ids);
  write_unit_sets(g, o.units, sets);
  write_ceiling(g, bench);
  lines.push_back(ceiling_line(bench));
  if (volume) {
    write_grid(g, *volume);
    g.set_attr("roi_voxels", volume->roi_voxels);
    g.set_attr("bad_voxels", volume->bad_voxels);
    g.set_attr("below_ncsnr", volume->below_ncsnr);
    if (!volume->roi_names.empty()) {
      h5::write_coordinate(g, "roi", volume->roi_names);
      h5::write_array(g, "roi_score", roi_table, {models.size(), volume->roi_names.size()},
                      {"model", "roi"}, model_coords());
    }
    lines.push_back(std::to_string(volume->voxel.size()) + " voxels of " +
                    std::to_string(volume->roi_voxels) + " in the ROIs (" +
                    std::to_string(volume->bad_voxels) + " NaN or constant, " +
                    std::to_string(volume->below_ncsnr) + " below the ncsnr threshold)");
  }
  if (!o.write_nifti.empty()) write_voxel_maps(o.write_nifti, *volume, map_names, maps);
  return lines;
}

std::string run_simulation(const SimulateOptions& o, const h5::Group& root) {
  const io::ActivationFile file(o.activations, o.allow_partial);
  const auto lp = file.select({o.layer}, {o.pass}).at(0);
  const auto layer = load_layer(file, lp);
  FeatureMatrix x(layer.features.data(), layer.features.rows(), layer.features.cols());
  const auto sim = simulate_recordings(x, o.simulation);
  const auto n_pres = static_cast<std::uint64_t>(sim.presentations.rows());
  const auto n_neur = static_cast<std::uint64_t>(sim.presentations.cols());
  std::vector<std::string> stimulus_id, neuroid_id;
  for (auto s : sim.stimulus_of) stimulus_id.push_back(layer.ids[static_cast<std::size_t>(s)]);
  for (std::uint64_t j = 0; j < n_neur; ++j) {
    char id[32];
    std::snprintf(id, sizeof id, "simulated%04llu", static_cast<unsigned long long>(j));
    neuroid_id.emplace_back(id);
  }
  char truth[32];
  std::snprintf(truth, sizeof truth, "%.17g", sim.true_ceiling);
  root.set_attr("simulated", std::string("1"));
  file.record_partial_rows(root);
  root.set_attr("description",
                std::string("SIMULATED recordings: softplus of a held-out random linear map of ") +
                    lp.label() + " features, Poisson spike counts per repetition");
  h5::write_dimension(root, "presentation", n_pres);
  h5::write_aux_coordinate(root, "stimulus_id", "presentation", stimulus_id);
  h5::write_aux_coordinate(root, "repetition", "presentation", sim.repetition);
  if (!layer.categories.empty()) {
    std::vector<std::string> cats;
    for (auto s : sim.stimulus_of) cats.push_back(layer.categories[static_cast<std::size_t>(s)]);
    h5::write_aux_coordinate(root, "category", "presentation", cats);
  }
  h5::write_coordinate(root, "neuroid", neuroid_id);
  h5::ArrayOptions options;
  options.coordinates = {"stimulus_id", "repetition"};
  if (!layer.categories.empty()) options.coordinates.push_back("category");
  options.attrs = {
      {"simulated", "1"}, {"true_ceiling", truth}, {"units", "spike counts (simulated)"}};
  const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> counts =
      sim.presentations;
  h5::write_array(root, "responses", counts.data(), {n_pres, n_neur}, {"presentation", "neuroid"},
                  options);
  h5::write_coordinate(root, "stimulus", layer.ids);
  write_matrix(root, "true_rate", sim.rate, {"stimulus", "neuroid"});
  write_vector(root, "true_ceiling_per_neuroid", sim.true_ceiling_per_neuroid, "neuroid");
  h5::write_scalar(root, "true_ceiling", sim.true_ceiling);
  char line[240];
  std::snprintf(line, sizeof line,
                "SIMULATED recordings from %s: %llu neuroids x %llu stimuli x %d repetitions; true "
                "ceiling %.4f",
                lp.label().c_str(), static_cast<unsigned long long>(n_neur),
                static_cast<unsigned long long>(layer.ids.size()), o.simulation.repetitions,
                sim.true_ceiling);
  return line;
}

}  // namespace lrm::compare
