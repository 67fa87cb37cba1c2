#include "compare/inference.hpp"

#include <algorithm>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "compare/compare_file.hpp"
#include "compare/rdm.hpp"
#include "compare/resampling.hpp"
#include "stats/fdr.hpp"

namespace lrm::compare {
namespace {

using stats::Correlation;
constexpr double nan = std::numeric_limits<double>::quiet_NaN();

}  // namespace

std::vector<Eigen::Index> argsort(const Eigen::VectorXd& x) {
  std::vector<Eigen::Index> order(static_cast<std::size_t>(x.size()));
  std::iota(order.begin(), order.end(), Eigen::Index{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](Eigen::Index a, Eigen::Index b) { return x[a] < x[b]; });
  return order;
}

namespace {

bool rank_based(Correlation c) { return c == Correlation::spearman || c == Correlation::rho_a; }

void check_supported(Correlation c) {
  if (c == Correlation::kendall_tau_a || c == Correlation::kendall_tau_b)
    throw SettingError("comparison",
                       "model inference supports pearson, spearman, rho_a and cosine, not " +
                           std::string(stats::correlation_name(c)));
}

// Average ranks 1..W over the multiset in which x_k occurs w_k times.
Eigen::VectorXd weighted_ranks(const Eigen::VectorXd& x, const std::vector<Eigen::Index>& order,
                               const Eigen::VectorXd& w) {
  Eigen::VectorXd r(x.size());
  double before = 0;
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    double group = 0;
    while (j < order.size() && x[order[j]] == x[order[i]]) group += w[order[j++]];
    for (std::size_t k = i; k < j; ++k) r[order[k]] = before + (group + 1) / 2;
    before += group;
    i = j;
  }
  return r;
}

double weighted_pearson(const Eigen::VectorXd& x, const Eigen::VectorXd& y,
                        const Eigen::VectorXd& w) {
  const double total = w.sum();
  const double mx = w.dot(x) / total, my = w.dot(y) / total;
  const Eigen::ArrayXd dx = x.array() - mx, dy = y.array() - my;
  const double sxx = (w.array() * dx * dx).sum(), syy = (w.array() * dy * dy).sum();
  return sxx > 0 && syy > 0 ? (w.array() * dx * dy).sum() / std::sqrt(sxx * syy) : nan;
}

// A vector as the comparison sees it: weighted ranks for rank comparisons, else its values.
Eigen::VectorXd prepare(Correlation c, const Eigen::VectorXd& x,
                        const std::vector<Eigen::Index>& order, const Eigen::VectorXd& w) {
  return rank_based(c) ? weighted_ranks(x, order, w) : x;
}
Eigen::VectorXd prepare(Correlation c, const Eigen::VectorXd& x, const Eigen::VectorXd& w) {
  return rank_based(c) ? weighted_ranks(x, argsort(x), w) : x;
}

double compare_prepared(Correlation c, const Eigen::VectorXd& x, const Eigen::VectorXd& y,
                        const Eigen::VectorXd& w) {
  if (c == Correlation::cosine) {
    const double xx = w.dot(x.cwiseProduct(x)), yy = w.dot(y.cwiseProduct(y));
    return xx > 0 && yy > 0 ? w.dot(x.cwiseProduct(y)) / std::sqrt(xx * yy) : nan;
  }
  if (c == Correlation::rho_a) {
    const double n = w.sum(), m = (n + 1) / 2;
    return 12 * (w.array() * (x.array() - m) * (y.array() - m)).sum() / (n * n * n - n);
  }
  return weighted_pearson(x, y, w);
}

// pool_rdm's transform of a resampled RDM (see pool_transform), over the multiset.
Eigen::VectorXd weighted_pool(Correlation c, const Eigen::VectorXd& x,
                              const std::vector<Eigen::Index>& order, const Eigen::VectorXd& w) {
  const double total = w.sum();
  if (rank_based(c) || c == Correlation::kendall_tau_a || c == Correlation::kendall_tau_b)
    return weighted_ranks(x, order, w);
  if (c == Correlation::cosine) return x / std::sqrt(w.dot(x.cwiseProduct(x)) / total);
  const Eigen::VectorXd centred = x.array() - w.dot(x) / total;
  return centred / std::sqrt(w.dot(centred.cwiseProduct(centred)) / total);
}

struct Data {
  std::vector<Eigen::VectorXd> models, subjects;
  std::vector<std::vector<Eigen::Index>> model_order, subject_order;
  Eigen::Index stimuli = 0;
};

// One resample's values: each model's mean score over subjects, then the lower and upper noise
// ceiling; `stimulus_count` and `subject_count` are how often each was drawn.
Eigen::VectorXd evaluate(const Data& d, const Eigen::VectorXd& stimulus_count,
                         const Eigen::VectorXd& subject_count, const InferenceOptions& o) {
  const auto n_models = static_cast<Eigen::Index>(d.models.size());
  Eigen::VectorXd out = Eigen::VectorXd::Constant(n_models + 2, nan);
  if ((stimulus_count.array() > 0).count() < 3) return out;
  Eigen::VectorXd w(d.stimuli * (d.stimuli - 1) / 2);
  for (Eigen::Index i = 0, k = 0; i < d.stimuli; ++i)
    for (Eigen::Index j = i + 1; j < d.stimuli; ++j) w[k++] = stimulus_count[i] * stimulus_count[j];
  const auto c = o.comparison;
  auto score = [&](double r) { return o.squared ? r * r : r; };
  const double total = subject_count.sum();
  std::vector<Eigen::VectorXd> subject(d.subjects.size()), pooled(d.subjects.size());
  Eigen::VectorXd all = Eigen::VectorXd::Zero(w.size());
  for (std::size_t s = 0; s < d.subjects.size(); ++s) {
    if (subject_count[static_cast<Eigen::Index>(s)] == 0) continue;
    subject[s] = prepare(c, d.subjects[s], d.subject_order[s], w);
    pooled[s] = o.pool == CeilingPool::pooled
                    ? weighted_pool(c, d.subjects[s], d.subject_order[s], w)
                    : d.subjects[s];
    all += subject_count[static_cast<Eigen::Index>(s)] * pooled[s];
  }
  for (Eigen::Index m = 0; m < n_models; ++m) {
    const Eigen::VectorXd model = prepare(c, d.models[m], d.model_order[m], w);
    double sum = 0;
    for (std::size_t s = 0; s < subject.size(); ++s)
      if (subject_count[static_cast<Eigen::Index>(s)] > 0)
        sum += subject_count[static_cast<Eigen::Index>(s)] *
               score(compare_prepared(c, model, subject[s], w));
    out[m] = sum / total;
  }
  const Eigen::VectorXd upper_pool = prepare(c, all / total, w);
  double lower = 0, upper = 0;
  for (std::size_t s = 0; s < subject.size(); ++s) {
    const double count = subject_count[static_cast<Eigen::Index>(s)];
    if (count == 0) continue;
    if (total == count) return out;  // one distinct subject: no ceiling
    const Eigen::VectorXd others = prepare(c, (all - count * pooled[s]) / (total - count), w);
    lower += count * score(compare_prepared(c, subject[s], others, w));
    upper += count * score(compare_prepared(c, subject[s], upper_pool, w));
  }
  out[n_models] = lower / total;
  out[n_models + 1] = upper / total;
  return out;
}

// Values of `resamples` resamples drawing stimuli, subjects or both (one row each).
Eigen::MatrixXd bootstrap(const Data& d, bool stimuli, bool subjects, const InferenceOptions& o,
                          Resampler& rng) {
  const auto n_subjects = static_cast<Eigen::Index>(d.subjects.size());
  std::vector<Eigen::VectorXd> stim(static_cast<std::size_t>(o.resamples)),
      subj(static_cast<std::size_t>(o.resamples));
  for (std::size_t b = 0; b < stim.size(); ++b) {
    stim[b] = Eigen::VectorXd::Constant(d.stimuli, stimuli ? 0.0 : 1.0);
    subj[b] = Eigen::VectorXd::Constant(n_subjects, subjects ? 0.0 : 1.0);
    if (stimuli)
      for (auto i : rng.with_replacement(d.stimuli)) stim[b][i] += 1;
    if (subjects)
      for (auto i : rng.with_replacement(n_subjects)) subj[b][i] += 1;
  }
  Eigen::MatrixXd out(o.resamples, static_cast<Eigen::Index>(d.models.size()) + 2);
  // Batches of resamples, with Ctrl-C honoured between them.
  for (int first = 0; first < o.resamples; first += 64) {
    check_interrupt();
    const int last = std::min(o.resamples, first + 64);
#pragma omp parallel for schedule(dynamic)
    for (int b = first; b < last; ++b)
      out.row(b) =
          evaluate(d, stim[static_cast<std::size_t>(b)], subj[static_cast<std::size_t>(b)], o)
              .transpose();
  }
  return out;
}

// Covariance of the columns over the rows whose first `checked` columns are finite.
Eigen::MatrixXd covariance(const Eigen::MatrixXd& samples, Eigen::Index checked, int& valid) {
  std::vector<Eigen::Index> rows;
  for (Eigen::Index b = 0; b < samples.rows(); ++b)
    if (samples.row(b).head(checked).allFinite()) rows.push_back(b);
  valid = static_cast<int>(rows.size());
  if (rows.size() < 2) return Eigen::MatrixXd::Constant(samples.cols(), samples.cols(), nan);
  Eigen::MatrixXd x(static_cast<Eigen::Index>(rows.size()), samples.cols());
  for (std::size_t i = 0; i < rows.size(); ++i)
    x.row(static_cast<Eigen::Index>(i)) = samples.row(rows[i]);
  x.rowwise() -= x.colwise().mean();
  return x.transpose() * x / static_cast<double>(x.rows() - 1);
}

}  // namespace

double weighted_correlation(stats::Correlation c, const Eigen::VectorXd& x,
                            const Eigen::VectorXd& y, const Eigen::VectorXd& w) {
  check_supported(c);
  return compare_prepared(c, prepare(c, x, w), prepare(c, y, w), w);
}

double weighted_correlation(stats::Correlation c, const Eigen::VectorXd& x,
                            const std::vector<Eigen::Index>& order_x, const Eigen::VectorXd& y,
                            const std::vector<Eigen::Index>& order_y, const Eigen::VectorXd& w) {
  check_supported(c);
  return compare_prepared(c, prepare(c, x, order_x, w), prepare(c, y, order_y, w), w);
}

namespace {

Data prepare_data(const std::vector<Eigen::MatrixXd>& models,
                  const std::vector<Eigen::MatrixXd>& subjects) {
  Data d;
  d.stimuli = subjects.at(0).rows();
  auto add = [&](const Eigen::MatrixXd& rdm, std::vector<Eigen::VectorXd>& to,
                 std::vector<std::vector<Eigen::Index>>& order) {
    if (rdm.rows() != d.stimuli || rdm.cols() != d.stimuli)
      throw InputError("model inference: RDMs of different sizes (" + std::to_string(rdm.rows()) +
                       " and " + std::to_string(d.stimuli) + " stimuli)");
    to.push_back(upper_triangle(rdm));
    order.push_back(argsort(to.back()));
  };
  for (const auto& m : models) add(m, d.models, d.model_order);
  for (const auto& s : subjects) add(s, d.subjects, d.subject_order);
  return d;
}

// rsatoolbox's _dual_bootstrap small-sample formula: the variance from the variances of the
// bootstrap over both, over subjects only (rdm) and over stimuli only (pattern).
double dual_variance(double both, double rdm, double pattern, double n_rdm, double n_pattern) {
  const double a = n_rdm / (n_rdm - 1), b = n_pattern / (n_pattern - 1);
  double v = a * rdm + b * pattern - a * b * (both - rdm - pattern);
  v = std::max({v, a * rdm, b * pattern});
  return std::min(v, both);
}

}  // namespace

Inference infer(const std::vector<Eigen::MatrixXd>& models,
                const std::vector<Eigen::MatrixXd>& subjects, const InferenceOptions& o) {
  check_supported(o.comparison);
  const auto n_subjects = static_cast<Eigen::Index>(subjects.size());
  const bool over_stimuli = o.over != BootstrapOver::subjects;
  const bool over_subjects = o.over != BootstrapOver::stimuli;
  if (over_subjects && n_subjects < 3)
    throw InputError("a bootstrap over subjects needs the RDMs of at least 3 subjects, got " +
                     std::to_string(n_subjects));
  if (models.empty() || subjects.empty()) throw InputError("model inference: no RDMs");
  const Data d = prepare_data(models, subjects);
  const auto n_models = static_cast<Eigen::Index>(models.size());
  const Eigen::Index checked = n_models + (n_subjects >= 2 ? 2 : 0);
  Inference r;
  const Eigen::VectorXd point =
      evaluate(d, Eigen::VectorXd::Ones(d.stimuli), Eigen::VectorXd::Ones(n_subjects), o);
  Resampler rng(o.seed);
  r.samples = bootstrap(d, over_stimuli, over_subjects, o, rng);
  const Eigen::MatrixXd cov = covariance(r.samples, checked, r.valid_resamples);
  Eigen::MatrixXd cov_rdm, cov_pattern;
  if (o.over == BootstrapOver::both) {
    int unused = 0;
    cov_rdm = covariance(bootstrap(d, false, true, o, rng), checked, unused);
    cov_pattern = covariance(bootstrap(d, true, false, o, rng), checked, unused);
  }
  auto variance = [&](const Eigen::VectorXd& a) {
    const double v = a.dot(cov * a);
    if (o.over != BootstrapOver::both) return v;
    return dual_variance(v, a.dot(cov_rdm * a), a.dot(cov_pattern * a),
                         static_cast<double>(n_subjects), static_cast<double>(d.stimuli));
  };
  r.dof = static_cast<int>(o.over == BootstrapOver::both      ? std::min(n_subjects, d.stimuli) - 1
                           : o.over == BootstrapOver::stimuli ? d.stimuli - 1
                                                              : n_subjects - 1);
  const boost::math::students_t t_dist(std::max(r.dof, 1));
  const double q = boost::math::quantile(t_dist, (1 + o.level) / 2);
  const double eps = std::numeric_limits<double>::epsilon();
  auto unit = [&](std::initializer_list<std::pair<Eigen::Index, double>> terms) {
    Eigen::VectorXd a = Eigen::VectorXd::Zero(n_models + 2);
    for (auto [i, v] : terms) a[i] += v;
    return a;
  };
  auto two_sided = [&](double t) {
    return std::isfinite(t) ? 2 * boost::math::cdf(boost::math::complement(t_dist, std::abs(t)))
                            : nan;
  };
  auto one_sided = [&](double t) {
    return std::isfinite(t) ? boost::math::cdf(boost::math::complement(t_dist, t)) : nan;
  };
  r.evaluation = point.head(n_models);
  r.evaluation_sd.resize(n_models);
  r.p_vs_zero.resize(n_models);
  r.p_vs_lower_ceiling.resize(n_models);
  for (Eigen::Index m = 0; m < n_models; ++m) {
    r.evaluation_sd[m] = std::sqrt(variance(unit({{m, 1}})));
    r.p_vs_zero[m] = one_sided(point[m] / std::max(r.evaluation_sd[m], std::sqrt(eps)));
    const double v = variance(unit({{m, 1}, {n_models, -1}}));
    r.p_vs_lower_ceiling[m] =
        n_subjects >= 2 ? two_sided((point[m] - point[n_models]) / std::sqrt(std::max(v, eps)))
                        : nan;
  }
  r.evaluation_low = r.evaluation - q * r.evaluation_sd;
  r.evaluation_high = r.evaluation + q * r.evaluation_sd;
  r.difference = r.difference_low = r.difference_high = r.p_pairwise = r.p_pairwise_fdr =
      Eigen::MatrixXd::Constant(n_models, n_models, nan);
  std::vector<double> pairs;
  for (Eigen::Index i = 0; i < n_models; ++i)
    for (Eigen::Index j = 0; j < n_models; ++j) {
      if (i == j) continue;
      const double diff = point[i] - point[j];
      const double sd = std::sqrt(std::max(variance(unit({{i, 1}, {j, -1}})), eps));
      r.difference(i, j) = diff;
      r.difference_low(i, j) = diff - q * sd;
      r.difference_high(i, j) = diff + q * sd;
      r.p_pairwise(i, j) = two_sided(diff / sd);
      if (i < j) pairs.push_back(r.p_pairwise(i, j));
    }
  if (!pairs.empty()) {
    const auto adjusted = stats::fdr(pairs, stats::FdrMethod::bh, 0.05).p_adjusted;
    std::size_t k = 0;
    for (Eigen::Index i = 0; i < n_models; ++i)
      for (Eigen::Index j = i + 1; j < n_models; ++j)
        r.p_pairwise_fdr(i, j) = r.p_pairwise_fdr(j, i) = adjusted[k++];
  }
  r.ceiling_lower = point[n_models];
  r.ceiling_upper = point[n_models + 1];
  r.ceiling_lower_sd = std::sqrt(variance(unit({{n_models, 1}})));
  r.p_ceiling_vs_chance =
      n_subjects >= 2 ? one_sided(r.ceiling_lower / std::max(r.ceiling_lower_sd, std::sqrt(eps)))
                      : nan;
  return r;
}

void check_inference_input(const std::string& source, std::size_t subjects, BootstrapOver over) {
  if (over != BootstrapOver::stimuli && subjects < 3)
    throw InputError(source +
                     ": a bootstrap over subjects needs the RDMs of at least 3 subjects, got " +
                     std::to_string(subjects));
}

namespace {

void write_matrix(const h5::Group& g, const std::string& name, const Eigen::MatrixXd& m,
                  const std::vector<std::string>& dims) {
  const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rm = m;
  h5::write_array(g, name, rm.data(),
                  {static_cast<std::uint64_t>(m.rows()), static_cast<std::uint64_t>(m.cols())},
                  dims, {{}, true, {{"units", "1"}}});
}

}  // namespace

std::vector<std::string> write_inference(const h5::Group& rsa,
                                         const std::vector<io::LayerPass>& models,
                                         const std::vector<Eigen::MatrixXd>& model_rdms,
                                         const std::vector<Eigen::MatrixXd>& subjects,
                                         const InferenceOptions& o) {
  const Inference r = infer(model_rdms, subjects, o);
  auto g = rsa.require_group("inference");
  g.set_attr("bootstrap_over", bootstrap_over_names.name(o.over));
  g.set_attr("resamples", static_cast<std::int64_t>(o.resamples));
  g.set_attr("valid_resamples", static_cast<std::int64_t>(r.valid_resamples));
  g.set_attr("dof", static_cast<std::int64_t>(r.dof));
  g.set_attr("level", o.level);
  g.set_attr("fdr", std::string("bh over model pairs"));
  g.set_attr("variance",
             std::string(o.over == BootstrapOver::both
                             ? "dual bootstrap, corrected (rsatoolbox's small-sample formula)"
                             : "bootstrap"));
  write_models(g, models);
  std::vector<std::string> labels;
  for (const auto& m : models) labels.push_back(m.label());
  h5::write_coordinate(g, "model_b", labels);
  auto per_model = [&](const char* name, const Eigen::VectorXd& v) {
    h5::write_array(g, name, v.data(), {static_cast<std::uint64_t>(v.size())}, {"model"},
                    {{"layer", "pass"}, true, {{"units", "1"}}});
  };
  per_model("evaluation", r.evaluation);
  per_model("evaluation_sd", r.evaluation_sd);
  per_model("evaluation_ci_low", r.evaluation_low);
  per_model("evaluation_ci_high", r.evaluation_high);
  per_model("p_vs_zero", r.p_vs_zero);
  per_model("p_vs_lower_ceiling", r.p_vs_lower_ceiling);
  const std::vector<std::string> pair = {"model", "model_b"};
  write_matrix(g, "difference", r.difference, pair);
  write_matrix(g, "difference_ci_low", r.difference_low, pair);
  write_matrix(g, "difference_ci_high", r.difference_high, pair);
  write_matrix(g, "p_pairwise", r.p_pairwise, pair);
  write_matrix(g, "p_pairwise_fdr", r.p_pairwise_fdr, pair);
  h5::write_scalar(g, "noise_ceiling_lower", r.ceiling_lower);
  h5::write_scalar(g, "noise_ceiling_upper", r.ceiling_upper);
  h5::write_scalar(g, "noise_ceiling_lower_sd", r.ceiling_lower_sd);
  h5::write_scalar(g, "p_ceiling_vs_chance", r.p_ceiling_vs_chance);
  write_matrix(g, "bootstrap_samples", r.samples, {"resample", "model_or_ceiling"});
  std::vector<std::string> lines;
  char line[240];
  std::snprintf(line, sizeof line,
                "inference (bootstrap over %s, %d of %d resamples, dof %d): lower ceiling %.4f vs "
                "chance p = %.3g",
                bootstrap_over_names.name(o.over).c_str(), r.valid_resamples, o.resamples, r.dof,
                r.ceiling_lower, r.p_ceiling_vs_chance);
  lines.emplace_back(line);
  return lines;
}

}  // namespace lrm::compare
