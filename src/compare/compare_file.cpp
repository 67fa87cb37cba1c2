#include "compare/compare_file.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "common/progress.hpp"
#include "compare/rsa.hpp"
#include "io/assembly.hpp"
#include "io/mat.hpp"
#include "io/neural_responses.hpp"

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

BrainRdms rdms_from_responses(const io::Assembly& a, RdmMethod method) {
  const auto r = io::group_responses(a);
  BrainRdms b;
  b.source = a.source;
  b.stimulus_ids = r.stimulus_ids;
  b.names = {"responses"};
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
  if (!stack && !single) return rdms_from_responses(a, options.method);
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

std::vector<std::string> run_rsa(const RsaOptions& o, const h5::Group& root) {
  const BrainRdms brain = load_brain_rdms(o.brain, o.brain_options);
  const auto n_rdm = static_cast<Eigen::Index>(brain.rdms.size());
  const Eigen::Index n = brain.rdms.at(0).rows();
  for (const auto& r : brain.rdms)
    if (r.rows() != n) throw InputError(brain.source + ": RDMs of different sizes");
  if (n < 3) throw InputError(brain.source + ": RDMs need at least 3 conditions");
  auto g = root.require_group("rsa");
  g.set_attr("brain", o.brain);
  g.set_attr("brain_source", brain.source);
  g.set_attr("brain_note", brain.note);
  g.set_attr("comparison", std::string(stats::correlation_name(o.comparison)));
  g.set_attr("model_rdm", std::string(rdm_method_name(o.model_rdm)));
  g.set_attr("squared", static_cast<std::int64_t>(o.squared));
  g.set_attr("bootstrap_resamples", static_cast<std::int64_t>(o.bootstrap));
  h5::write_coordinate(g, "brain_rdm", brain.names);
  const Eigen::MatrixXd brain_mean = mean_rdm(brain.rdms);
  std::vector<std::string> lines;
  if (o.noise_ceiling) {
    const auto nc = noise_ceiling(brain.rdms, o.comparison, o.squared);
    h5::write_scalar(g, "noise_ceiling_upper", nc.upper);
    h5::write_scalar(g, "noise_ceiling_lower", nc.lower);
    write_vector(g, "noise_ceiling_upper_per_rdm", nc.upper_per_subject, "brain_rdm");
    write_vector(g, "noise_ceiling_lower_per_rdm", nc.lower_per_subject, "brain_rdm");
    char line[200];
    std::snprintf(line, sizeof line, "noise ceiling (%s%s, %lld RDMs): lower %.4f, upper %.4f",
                  stats::correlation_name(o.comparison), o.squared ? ", squared" : "",
                  static_cast<long long>(n_rdm), nc.lower, nc.upper);
    lines.emplace_back(line);
  }
  if (o.activations.empty()) {
    if (!o.noise_ceiling)
      throw InputError("nothing to do: give --activations, --noise-ceiling, or both");
    return lines;
  }
  const io::ActivationFile file(o.activations);
  const auto models = file.select(o.layers, o.passes);
  Eigen::MatrixXd r(static_cast<Eigen::Index>(models.size()), n_rdm);
  Eigen::VectorXd r_mean(r.rows()), r_to_mean(r.rows()), stim_low(r.rows()), stim_high(r.rows()),
      subj_low(r.rows()), subj_high(r.rows());
  std::vector<std::string> condition_ids;
  Progress bar("rsa", static_cast<std::int64_t>(models.size()), "layers");
  for (std::size_t m = 0; m < models.size(); ++m) {
    check_interrupt();
    auto layer = load_layer(file, models[m]);
    const std::string what = o.activations.string() + ":" + models[m].label();
    Rows rows;
    if (brain.stimulus_ids.empty()) {
      if (static_cast<Eigen::Index>(layer.ids.size()) != n)
        throw InputError(brain.source + " has " + std::to_string(n) +
                         " conditions without stimulus ids, but " + what + " has " +
                         std::to_string(layer.ids.size()) +
                         " stimuli (conditions are matched by order)");
      rows = all_rows(n);
      condition_ids = layer.ids;
    } else {
      const auto join =
          io::join_stimuli(layer.ids, o.activations.string(), brain.stimulus_ids, brain.source);
      rows = join.model_rows;
      condition_ids = join.ids;
    }
    RowMatrixXf selected(n, layer.features.cols());
    for (Eigen::Index i = 0; i < n; ++i) selected.row(i) = layer.features.row(rows[i]);
    layer.features.resize(0, 0);
    const Eigen::MatrixXd model_rdm = rdm_of(std::move(selected), o.model_rdm, what);
    const auto mi = static_cast<Eigen::Index>(m);
    for (Eigen::Index s = 0; s < n_rdm; ++s)
      r(mi, s) = compare_rdms(model_rdm, brain.rdms[s], o.comparison);
    if (!r.row(mi).allFinite())
      throw InputError(what + ": the comparison is undefined (a constant RDM)");
    r_mean[mi] = o.squared ? r.row(mi).array().square().mean() : r.row(mi).mean();
    r_to_mean[mi] = compare_rdms(model_rdm, brain_mean, o.comparison);
    if (o.bootstrap > 0) {
      const auto ci = bootstrap_stimuli(model_rdm, brain_mean, o.comparison, o.bootstrap, o.seed);
      stim_low[mi] = ci.low, stim_high[mi] = ci.high;
      if (n_rdm >= 2) {
        Eigen::VectorXd per = r.row(mi).transpose();
        if (o.squared) per = per.array().square();
        const auto cs = bootstrap_subjects(per, o.bootstrap, o.seed);
        subj_low[mi] = cs.low, subj_high[mi] = cs.high;
      }
    }
    if (o.save_rdms) {
      auto rg = g.require_group("model_rdm/" + models[m].layer);
      if (!rg.has("stimulus")) h5::write_coordinate(rg, "stimulus", condition_ids);
      write_matrix(rg, io::pass_dataset_name(models[m].pass), model_rdm,
                   {"stimulus", "stimulus_b"});
    }
    char line[240];
    std::snprintf(line, sizeof line,
                  "%-28s %s%s = %.4f (mean over %lld brain RDMs), %.4f with their mean RDM",
                  models[m].label().c_str(), stats::correlation_name(o.comparison),
                  o.squared ? "^2" : "", r_mean[mi], static_cast<long long>(n_rdm), r_to_mean[mi]);
    lines.emplace_back(line);
    bar.advance();
  }
  bar.finish();
  h5::write_coordinate(g, "stimulus", condition_ids);
  write_matrix(g, "brain_rdm_mean", brain_mean, {"stimulus", "stimulus_b"});
  write_models(g, models);
  const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rr = r;
  h5::write_array(g, "r", rr.data(),
                  {static_cast<std::uint64_t>(r.rows()), static_cast<std::uint64_t>(r.cols())},
                  {"model", "brain_rdm"}, model_coords());
  auto per_model = [&](const char* name, const Eigen::VectorXd& v) {
    h5::write_array(g, name, v.data(), {static_cast<std::uint64_t>(v.size())}, {"model"},
                    correlations());
  };
  per_model("r_mean", r_mean);
  per_model("r_to_mean_rdm", r_to_mean);
  if (o.bootstrap > 0) {
    per_model("ci_stimuli_low", stim_low);
    per_model("ci_stimuli_high", stim_high);
    if (n_rdm >= 2) {
      per_model("ci_subjects_low", subj_low);
      per_model("ci_subjects_high", subj_high);
    }
  }
  return lines;
}

std::vector<std::string> run_encoding(const EncodeOptions& o, const h5::Group& root) {
  const auto assembly = io::read_assembly_spec(o.brain);
  auto responses = io::group_responses(assembly, o.response_options);
  const io::ActivationFile file(o.activations);
  const auto models = file.select(o.layers, o.passes);
  if (responses.categories.empty()) {
    // Stratify by the activation file's categories when the neural data has none.
    const auto first = load_layer(file, models[0]);
    if (!first.categories.empty()) {
      const auto join = io::join_stimuli(first.ids, o.activations.string(), responses.stimulus_ids,
                                         responses.source);
      for (auto row : join.model_rows) responses.categories.push_back(first.categories[row]);
    }
  }
  const bool stratified = !responses.categories.empty();
  const EncodingBenchmark bench(std::move(responses), o.metric, o.halvings);
  const auto& resp = bench.responses();
  const auto n_models = static_cast<Eigen::Index>(models.size());
  const Eigen::Index n_neur = resp.mean.cols();
  std::vector<double> r_all;
  Eigen::VectorXd raw(n_models), error(n_models), ceiled(n_models), ceiled_sq(n_models),
      ev(n_models);
  std::vector<std::int64_t> undefined, components;
  std::vector<std::string> lines;
  Progress bar("encode", n_models, "layers");
  for (Eigen::Index m = 0; m < n_models; ++m) {
    check_interrupt();
    const auto layer = load_layer(file, models[m]);
    FeatureMatrix x(layer.features.data(), layer.features.rows(), layer.features.cols());
    const auto result = bench.score(x, layer.ids, o.activations.string() + ":" + models[m].label());
    const auto& p = result.predictivity;
    for (Eigen::Index s = 0; s < p.r.rows(); ++s)
      for (Eigen::Index j = 0; j < n_neur; ++j) r_all.push_back(p.r(s, j));
    raw[m] = result.score.raw, error[m] = p.error, ceiled[m] = result.score.ceiled;
    ceiled_sq[m] = result.score.ceiled_squared, ev[m] = result.score.explained_variance_ceiled;
    undefined.push_back(p.undefined_neuroids);
    components.push_back(o.metric.regression == Regression::pls ? p.components_used : 0);
    char line[240];
    std::snprintf(
        line, sizeof line, "%-28s r = %.4f ± %.4f, ceiling %.4f, r/c = %.4f%s",
        models[m].label().c_str(), raw[m], error[m], result.score.ceiling, ceiled[m],
        p.undefined_neuroids
            ? (" (" + std::to_string(p.undefined_neuroids) + " neuroids undefined)").c_str()
            : "");
    lines.emplace_back(line);
    bar.advance();
  }
  bar.finish();
  auto g = root.require_group("encoding");
  g.set_attr("brain", o.brain);
  g.set_attr("brain_source", resp.source);
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
  {
    auto [file, path] = h5::split_dataset_spec(o.brain);
    if (!path.empty() && file.extension() != ".nc") {
      h5::File f(file, h5::File::Mode::read);
      if (auto sim = h5::dataset_attr_string(f, path, "simulated")) g.set_attr("simulated", *sim);
      if (auto truth = h5::dataset_attr_string(f, path, "true_ceiling"))
        g.set_attr("true_ceiling", std::stod(*truth));
    }
  }
  write_models(g, models);
  h5::write_coordinate(g, "neuroid", resp.neuroid_ids);
  std::vector<std::int64_t> split_index(static_cast<std::size_t>(o.metric.splits));
  for (std::size_t i = 0; i < split_index.size(); ++i)
    split_index[i] = static_cast<std::int64_t>(i);
  h5::write_coordinate(g, "split", split_index);
  h5::write_array(g, "r", r_all,
                  {static_cast<std::uint64_t>(n_models), split_index.size(),
                   static_cast<std::uint64_t>(n_neur)},
                  {"model", "split", "neuroid"}, model_coords());
  auto per_model = [&](const char* name, const Eigen::VectorXd& v) {
    h5::write_array(g, name, v.data(), {static_cast<std::uint64_t>(v.size())}, {"model"},
                    correlations());
  };
  per_model("score_raw", raw);
  per_model("score_error", error);
  per_model("score_ceiled", ceiled);
  per_model("score_ceiled_squared", ceiled_sq);
  per_model("explained_variance_ceiled", ev);
  h5::write_array(g, "undefined_neuroids", undefined, {undefined.size()}, {"model"},
                  model_coords());
  h5::write_array(g, "pls_components_used", components, {components.size()}, {"model"},
                  model_coords());
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
  char line[200];
  std::snprintf(line, sizeof line,
                "internal-consistency ceiling %.4f (%d halvings, %d neuroids undefined, %lld NaN "
                "responses skipped)",
                bench.ceiling().ceiling, bench.ceiling().halvings,
                bench.ceiling().undefined_neuroids, static_cast<long long>(resp.missing));
  lines.emplace_back(line);
  return lines;
}

std::string run_simulation(const SimulateOptions& o, const h5::Group& root) {
  const io::ActivationFile file(o.activations);
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
