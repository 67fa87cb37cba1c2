#include "compare/rsa.hpp"

#include <cmath>
#include <string>

#include "common/error.hpp"
#include "compare/inference.hpp"
#include "compare/rdm.hpp"
#include "compare/resampling.hpp"

namespace lrm::compare {
namespace {

void check_same_size(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  if (a.rows() != b.rows() || a.rows() != a.cols() || b.rows() != b.cols())
    throw InputError("RDMs of different sizes (" + std::to_string(a.rows()) + "x" +
                     std::to_string(a.cols()) + " and " + std::to_string(b.rows()) + "x" +
                     std::to_string(b.cols()) + ")");
  if (a.rows() < 3)
    throw InputError("RDMs need at least 3 conditions, got " + std::to_string(a.rows()));
}

BootstrapInterval summarise(const std::vector<double>& values, int resamples, double level) {
  BootstrapInterval ci;
  ci.resamples = resamples;
  ci.undefined = resamples - static_cast<int>(values.size());
  if (values.empty()) {
    ci.low = ci.high = ci.std = std::nan("");
    return ci;
  }
  const double tail = (1 - level) / 2 * 100;
  ci.low = percentile(values, tail);
  ci.high = percentile(values, 100 - tail);
  double mean = 0;
  for (double v : values) mean += v;
  mean /= static_cast<double>(values.size());
  double ss = 0;
  for (double v : values) ss += (v - mean) * (v - mean);
  ci.std = values.size() > 1 ? std::sqrt(ss / static_cast<double>(values.size() - 1)) : 0.0;
  return ci;
}

}  // namespace

double compare_rdms(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b, stats::Correlation c) {
  check_same_size(a, b);
  return stats::correlate(c, upper_triangle(a), upper_triangle(b));
}

Eigen::MatrixXd mean_rdm(const std::vector<Eigen::MatrixXd>& rdms) {
  Eigen::MatrixXd m = Eigen::MatrixXd::Zero(rdms.at(0).rows(), rdms.at(0).cols());
  for (const auto& r : rdms) {
    check_same_size(m, r);
    m += r;
  }
  return m / static_cast<double>(rdms.size());
}

Eigen::VectorXd pool_transform(const Eigen::VectorXd& upper, stats::Correlation c) {
  using stats::Correlation;
  if (c == Correlation::pearson) {
    const Eigen::ArrayXd centred = upper.array() - upper.mean();
    const double sd = std::sqrt(centred.square().mean());
    return sd > 0 ? Eigen::VectorXd(centred / sd)
                  : Eigen::VectorXd::Constant(upper.size(), std::nan(""));
  }
  if (c == Correlation::cosine) {
    const double rms = std::sqrt(upper.array().square().mean());
    return rms > 0 ? Eigen::VectorXd(upper / rms)
                   : Eigen::VectorXd::Constant(upper.size(), std::nan(""));
  }
  return stats::average_ranks(upper);
}

NoiseCeiling noise_ceiling(const std::vector<Eigen::MatrixXd>& subjects, stats::Correlation c,
                           bool squared, CeilingPool pool) {
  const auto n = static_cast<Eigen::Index>(subjects.size());
  if (n < 2)
    throw InputError("a noise ceiling needs RDMs of at least 2 subjects, got " + std::to_string(n));
  const Eigen::Index conditions = subjects[0].rows();
  std::vector<Eigen::VectorXd> raw, pooled;
  Eigen::VectorXd all = Eigen::VectorXd::Zero(conditions * (conditions - 1) / 2);
  for (const auto& s : subjects) {
    check_same_size(subjects[0], s);
    raw.push_back(upper_triangle(s));
    pooled.push_back(pool == CeilingPool::pooled ? pool_transform(raw.back(), c) : raw.back());
    all += pooled.back();
  }
  all /= static_cast<double>(n);
  NoiseCeiling nc;
  nc.upper_per_subject.resize(n);
  nc.lower_per_subject.resize(n);
  for (Eigen::Index s = 0; s < n; ++s) {
    const Eigen::VectorXd others =
        (all * static_cast<double>(n) - pooled[s]) / static_cast<double>(n - 1);
    double up = stats::correlate(c, raw[s], all), lo = stats::correlate(c, raw[s], others);
    if (std::isnan(up) || std::isnan(lo))
      throw InputError("noise ceiling: subject RDM " + std::to_string(s + 1) +
                       " is constant, its correlation is undefined");
    if (squared) up *= up, lo *= lo;
    nc.upper_per_subject[s] = up;
    nc.lower_per_subject[s] = lo;
  }
  nc.upper = nc.upper_per_subject.mean();
  nc.lower = nc.lower_per_subject.mean();
  return nc;
}

BootstrapInterval bootstrap_stimuli(const Eigen::MatrixXd& model, const Eigen::MatrixXd& brain,
                                    stats::Correlation c, int resamples, std::uint64_t seed,
                                    double level) {
  check_same_size(model, brain);
  const Eigen::Index n = model.rows();
  Resampler rng(seed);
  std::vector<std::vector<std::int64_t>> draws;
  for (int b = 0; b < resamples; ++b) draws.push_back(rng.with_replacement(n));
  std::vector<double> r(static_cast<std::size_t>(resamples), std::nan(""));
  const bool kendall =
      c == stats::Correlation::kendall_tau_a || c == stats::Correlation::kendall_tau_b;
  // Drawing stimulus a c_a times repeats the pair (a, b) c_a c_b times: a weighted comparison over
  // the original pairs, with each RDM sorted once (the taus resample explicitly).
  const Eigen::VectorXd x_all = upper_triangle(model), y_all = upper_triangle(brain);
  const auto x_order = kendall ? std::vector<Eigen::Index>{} : argsort(x_all);
  const auto y_order = kendall ? std::vector<Eigen::Index>{} : argsort(y_all);
#pragma omp parallel for schedule(dynamic)
  for (int b = 0; b < resamples; ++b) {
    const auto& idx = draws[static_cast<std::size_t>(b)];
    if (!kendall) {
      Eigen::VectorXd count = Eigen::VectorXd::Zero(n);
      for (auto i : idx) count[i] += 1;
      Eigen::VectorXd w(x_all.size());
      for (Eigen::Index i = 0, k = 0; i < n; ++i)
        for (Eigen::Index j = i + 1; j < n; ++j) w[k++] = count[i] * count[j];
      if (w.sum() >= 3)
        r[static_cast<std::size_t>(b)] = weighted_correlation(c, x_all, x_order, y_all, y_order, w);
      continue;
    }
    std::vector<double> x, y;
    x.reserve(static_cast<std::size_t>(n * (n - 1) / 2));
    y.reserve(x.capacity());
    for (Eigen::Index i = 0; i < n; ++i)
      for (Eigen::Index j = i + 1; j < n; ++j)
        if (idx[i] != idx[j]) {
          x.push_back(model(idx[i], idx[j]));
          y.push_back(brain(idx[i], idx[j]));
        }
    if (x.size() >= 3)
      r[static_cast<std::size_t>(b)] =
          stats::correlate(c, stats::as_vector(x), stats::as_vector(y));
  }
  std::vector<double> finite;
  for (double v : r)
    if (std::isfinite(v)) finite.push_back(v);
  return summarise(finite, resamples, level);
}

BootstrapInterval bootstrap_subjects(const Eigen::VectorXd& per_subject, int resamples,
                                     std::uint64_t seed, double level) {
  const Eigen::Index n = per_subject.size();
  if (n < 2) throw InputError("a bootstrap over subjects needs at least 2 subjects");
  Resampler rng(seed);
  std::vector<double> means;
  for (int b = 0; b < resamples; ++b) {
    double s = 0;
    for (auto i : rng.with_replacement(n)) s += per_subject[i];
    means.push_back(s / static_cast<double>(n));
  }
  return summarise(means, resamples, level);
}

RdmScore score_rdm(const Eigen::MatrixXd& model, const std::vector<Eigen::MatrixXd>& brain,
                   const Eigen::MatrixXd& brain_mean, const RdmScoring& scoring,
                   const std::string& what) {
  RdmScore s;
  s.r.resize(static_cast<Eigen::Index>(brain.size()));
  for (Eigen::Index i = 0; i < s.r.size(); ++i)
    s.r[i] = compare_rdms(model, brain[static_cast<std::size_t>(i)], scoring.comparison);
  if (!s.r.allFinite()) throw InputError(what + ": the comparison is undefined (a constant RDM)");
  // Summed in order, first brain RDM to last, so the mean does not depend on vectorisation.
  for (Eigen::Index i = 0; i < s.r.size(); ++i)
    s.mean += scoring.squared ? s.r[i] * s.r[i] : s.r[i];
  s.mean /= static_cast<double>(s.r.size());
  s.to_mean_rdm = compare_rdms(model, brain_mean, scoring.comparison);
  if (scoring.bootstrap <= 0) return s;
  s.stimuli =
      bootstrap_stimuli(model, brain_mean, scoring.comparison, scoring.bootstrap, scoring.seed);
  if (s.r.size() >= 2) {
    const Eigen::VectorXd per = scoring.squared ? Eigen::VectorXd(s.r.array().square()) : s.r;
    s.subjects = bootstrap_subjects(per, scoring.bootstrap, scoring.seed);
  }
  return s;
}

}  // namespace lrm::compare
