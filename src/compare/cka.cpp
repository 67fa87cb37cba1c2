#include "compare/cka.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>

#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "common/progress.hpp"
#include "compare/compare_file.hpp"
#include "compare/gram.hpp"
#include "io/activation_file.hpp"

namespace lrm::compare {
namespace {

Eigen::MatrixXd rbf_kernel(const Eigen::MatrixXd& gram, double threshold) {
  const Eigen::VectorXd d = gram.diagonal();
  Eigen::MatrixXd sq = ((-2 * gram).colwise() + d).rowwise() + d.transpose();
  sq = sq.cwiseMax(0.0);
  sq.diagonal().setZero();
  // numpy.median over every entry, the zero diagonal included.
  std::vector<double> all(sq.data(), sq.data() + sq.size());
  const std::size_t half = all.size() / 2;
  std::nth_element(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(half), all.end());
  double median = all[half];
  if (all.size() % 2 == 0)
    median =
        (median + *std::max_element(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(half))) /
        2;
  if (!(median > 0))
    throw InputError("RBF kernel: the median squared distance is 0 (most stimuli identical)");
  return (-sq / (2 * threshold * threshold * median)).array().exp().matrix();
}

}  // namespace

Eigen::MatrixXd centred_kernel(const Eigen::MatrixXd& gram, const CkaOptions& o) {
  Eigen::MatrixXd k = o.kernel == CkaKernel::rbf ? rbf_kernel(gram, o.rbf_threshold) : gram;
  const auto n = static_cast<double>(k.rows());
  if (o.debiased) {
    if (k.rows() < 4) throw InputError("debiased CKA needs at least 4 stimuli");
    k.diagonal().setZero();
    Eigen::VectorXd means = k.colwise().sum().transpose() / (n - 2);
    means.array() -= means.sum() / (2 * (n - 1));
    k = (k.colwise() - means).rowwise() - means.transpose();
    k.diagonal().setZero();
    return k;
  }
  Eigen::VectorXd means = k.colwise().mean().transpose();
  means.array() -= means.mean() / 2;
  return (k.colwise() - means).rowwise() - means.transpose();
}

double cka(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  if (a.rows() != b.rows()) throw InputError("CKA of representations of different stimuli");
  const double norms = a.norm() * b.norm();
  return norms > 0 ? a.cwiseProduct(b).sum() / norms : std::numeric_limits<double>::quiet_NaN();
}

Eigen::MatrixXd cka_matrix(const std::vector<Eigen::MatrixXd>& centred) {
  const auto m = static_cast<Eigen::Index>(centred.size());
  Eigen::VectorXd norm(m);
  for (Eigen::Index i = 0; i < m; ++i) norm[i] = centred[static_cast<std::size_t>(i)].norm();
  Eigen::MatrixXd out(m, m);
#pragma omp parallel for schedule(dynamic)
  for (Eigen::Index i = 0; i < m; ++i)
    for (Eigen::Index j = i; j < m; ++j) {
      const double dot = centred[static_cast<std::size_t>(i)]
                             .cwiseProduct(centred[static_cast<std::size_t>(j)])
                             .sum();
      out(i, j) = out(j, i) = norm[i] > 0 && norm[j] > 0 ? dot / (norm[i] * norm[j])
                                                         : std::numeric_limits<double>::quiet_NaN();
    }
  return out;
}

Eigen::MatrixXd response_gram(const io::NeuralResponses& r) {
  for (Eigen::Index j = 0; j < r.mean.cols(); ++j)
    for (Eigen::Index i = 0; i < r.mean.rows(); ++i)
      if (!std::isfinite(r.mean(i, j)))
        throw InputError(r.source + ": neuroid " + r.neuroid_ids[static_cast<std::size_t>(j)] +
                         " has no response to stimulus " +
                         r.stimulus_ids[static_cast<std::size_t>(i)]);
  const Eigen::MatrixXd centred = r.mean.rowwise() - r.mean.colwise().mean();
  Eigen::MatrixXd gram = Eigen::MatrixXd::Zero(centred.rows(), centred.rows());
  gram.selfadjointView<Eigen::Lower>().rankUpdate(centred);
  return gram.selfadjointView<Eigen::Lower>();
}

namespace {

// The stimuli every layer x pass is read on: the brain's (joined by id) or the first layer's.
struct CkaStimuli {
  std::vector<std::string> ids;
  const io::NeuralResponses* brain = nullptr;
  std::string matched_by;
};

// The rows of `lp` holding the chosen stimuli, in their order.
std::vector<Eigen::Index> rows_of(const io::ActivationFile& file, const LayerPass& lp,
                                  CkaStimuli& s, const std::string& first_layer) {
  const auto ids = file.stimulus_ids(lp.layer);
  if (s.brain) {
    const auto join =
        io::join_stimuli(ids, file.path().string(), s.brain->stimulus_ids, s.brain->source);
    s.matched_by = join.matched_by;
    return join.model_rows;
  }
  if (ids != s.ids)
    throw InputError(file.path().string() + ": layer " + lp.layer +
                     " has other stimuli than layer " + first_layer);
  std::vector<Eigen::Index> rows(ids.size());
  std::iota(rows.begin(), rows.end(), Eigen::Index{0});
  return rows;
}

std::vector<Eigen::MatrixXd> centred_kernels(const CkaRunOptions& o, const io::ActivationFile& file,
                                             const std::vector<LayerPass>& models,
                                             CkaStimuli& stimuli) {
  const std::int64_t memory = o.memory > 0 ? o.memory : default_memory_budget();
  const auto n = static_cast<std::int64_t>(stimuli.ids.size());
  std::vector<Eigen::MatrixXd> centred;
  Progress bar("cka", static_cast<std::int64_t>(models.size()), "layers");
  for (const auto& lp : models) {
    check_interrupt();
    const FileRows source(file, lp, rows_of(file, lp, stimuli, models[0].layer));
    const std::int64_t kept =
        std::int64_t{8} * n * n * static_cast<std::int64_t>(centred.size() + 2);
    const auto gram = source.selection_order(streamed_gram(
        source, GramKind::shifted, memory, o.activations.string() + ":" + lp.label(), kept));
    centred.push_back(centred_kernel(gram, o.cka));
    bar.advance();
  }
  bar.finish();
  return centred;
}

void write_matrix(const h5::Group& g, const std::string& name, const Eigen::MatrixXd& m,
                  const std::vector<std::string>& dims) {
  const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rm = m;
  std::vector<std::uint64_t> shape{static_cast<std::uint64_t>(m.rows())};
  if (dims.size() == 2) shape.push_back(static_cast<std::uint64_t>(m.cols()));
  h5::write_array(g, name, rm.data(), shape, dims, {{"layer", "pass"}, true, {{"units", "1"}}});
}

std::vector<std::string> summary(const std::vector<std::string>& labels, const Eigen::MatrixXd& map,
                                 const Eigen::VectorXd& brain) {
  std::vector<std::string> lines;
  char line[200];
  for (Eigen::Index i = 0; i + 1 < map.rows(); ++i) {
    std::snprintf(line, sizeof line, "CKA %-24s vs %-24s %.4f", labels[i].c_str(),
                  labels[i + 1].c_str(), map(i, i + 1));
    lines.emplace_back(line);
  }
  for (Eigen::Index i = 0; i < brain.size(); ++i) {
    std::snprintf(line, sizeof line, "CKA %-24s vs brain %.4f", labels[i].c_str(), brain[i]);
    lines.emplace_back(line);
  }
  return lines;
}

}  // namespace

std::vector<std::string> run_cka(const CkaRunOptions& o, const h5::Group& root) {
  const io::ActivationFile file(o.activations, o.allow_partial);
  const auto models = file.select(o.layers, o.passes);
  std::optional<io::NeuralResponses> responses;
  CkaStimuli stimuli;
  if (!o.brain.empty()) {
    responses = io::group_responses(io::read_assembly_spec(o.brain), o.response_options);
    stimuli.brain = &*responses;
    stimuli.ids = responses->stimulus_ids;
  } else {
    stimuli.ids = file.stimulus_ids(models[0].layer);
  }
  const auto centred = centred_kernels(o, file, models, stimuli);
  const Eigen::MatrixXd map = cka_matrix(centred);
  Eigen::VectorXd brain(0);
  if (responses) {
    const Eigen::MatrixXd kb = centred_kernel(response_gram(*responses), o.cka);
    brain.resize(static_cast<Eigen::Index>(centred.size()));
    for (std::size_t i = 0; i < centred.size(); ++i)
      brain[static_cast<Eigen::Index>(i)] = cka(centred[i], kb);
  }
  auto g = root.require_group("cka");
  g.set_attr("kernel", cka_kernel_names.name(o.cka.kernel));
  g.set_attr("debiased", static_cast<std::int64_t>(o.cka.debiased));
  g.set_attr("rbf_threshold", o.cka.rbf_threshold);
  g.set_attr("stimuli", static_cast<std::int64_t>(stimuli.ids.size()));
  file.record_partial_rows(g);
  write_models(g, models);
  std::vector<std::string> labels;
  for (const auto& m : models) labels.push_back(m.label());
  h5::write_coordinate(g, "model_b", labels);
  write_matrix(g, "cka", map, {"model", "model_b"});
  if (responses) {
    g.set_attr("brain", o.brain);
    g.set_attr("brain_source", responses->source);
    g.set_attr("stimulus_match", stimuli.matched_by);
    g.set_attr("neuroids", static_cast<std::int64_t>(responses->mean.cols()));
    write_matrix(g, "cka_brain", brain, {"model"});
  }
  return summary(labels, map, brain);
}

}  // namespace lrm::compare
