#include "compare/cka.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

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

std::vector<std::string> run_cka(const CkaRunOptions& o, const h5::Group& root) {
  const io::ActivationFile file(o.activations, o.allow_partial);
  const auto models = file.select(o.layers, o.passes);
  const std::int64_t memory = o.memory > 0 ? o.memory : default_memory_budget();
  const auto ids = file.stimulus_ids(models[0].layer);
  std::vector<Eigen::Index> rows(ids.size());
  std::iota(rows.begin(), rows.end(), Eigen::Index{0});
  std::vector<Eigen::MatrixXd> centred;
  Progress bar("cka", static_cast<std::int64_t>(models.size()), "layers");
  for (const auto& lp : models) {
    check_interrupt();
    if (file.stimulus_ids(lp.layer) != ids)
      throw InputError(o.activations.string() + ": layer " + lp.layer +
                       " has other stimuli than layer " + models[0].layer);
    const FileRows source(file, lp, rows);
    const std::int64_t kept = std::int64_t{8} * static_cast<std::int64_t>(ids.size() * ids.size()) *
                              static_cast<std::int64_t>(centred.size() + 1);
    const auto gram = source.selection_order(streamed_gram(
        source, GramKind::shifted, memory, o.activations.string() + ":" + lp.label(), kept));
    centred.push_back(centred_kernel(gram, o.cka));
    bar.advance();
  }
  bar.finish();
  const Eigen::MatrixXd map = cka_matrix(centred);
  auto g = root.require_group("cka");
  g.set_attr("kernel", cka_kernel_names.name(o.cka.kernel));
  g.set_attr("debiased", static_cast<std::int64_t>(o.cka.debiased));
  g.set_attr("rbf_threshold", o.cka.rbf_threshold);
  g.set_attr("stimuli", static_cast<std::int64_t>(ids.size()));
  file.record_partial_rows(g);
  write_models(g, models);
  std::vector<std::string> labels;
  for (const auto& m : models) labels.push_back(m.label());
  h5::write_coordinate(g, "model_b", labels);
  const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rm = map;
  h5::write_array(g, "cka", rm.data(),
                  {static_cast<std::uint64_t>(map.rows()), static_cast<std::uint64_t>(map.cols())},
                  {"model", "model_b"}, {{"layer", "pass"}, true, {{"units", "1"}}});
  std::vector<std::string> lines;
  for (Eigen::Index i = 0; i + 1 < map.rows(); ++i) {
    char line[200];
    std::snprintf(line, sizeof line, "CKA %-24s vs %-24s %.4f", labels[i].c_str(),
                  labels[i + 1].c_str(), map(i, i + 1));
    lines.emplace_back(line);
  }
  return lines;
}

}  // namespace lrm::compare
