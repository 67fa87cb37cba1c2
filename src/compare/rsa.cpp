#include "compare/rsa.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "common/error.hpp"
#include "compare/inference.hpp"
#include "compare/pair_weights.hpp"
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

StimulusBootstrap bootstrap_stimuli_values(const std::vector<Eigen::MatrixXd>& models,
                                           const Eigen::MatrixXd& brain, stats::Correlation c,
                                           std::uint64_t seed, int begin, int end) {
  for (const auto& m : models) check_same_size(m, brain);
  const Eigen::Index n = brain.rows(), n_models = static_cast<Eigen::Index>(models.size());
  StimulusBootstrap values =
      StimulusBootstrap::Constant(std::max(end - begin, 0), n_models, std::nan(""));
  const bool kendall = kendall_comparison(c), ranks = rank_comparison(c);
  // Drawing stimulus a c_a times repeats the pair (a, b) c_a c_b times: a weighted comparison over
  // the original pairs, each RDM sorted once and the brain RDM ranked once per resample for all
  // models (the taus resample explicitly).
  std::vector<Eigen::VectorXd> x_all;
  std::vector<std::vector<Eigen::Index>> x_order;
  for (const auto& m : models) {
    x_all.push_back(upper_triangle(m));
    x_order.push_back(kendall ? std::vector<Eigen::Index>{} : argsort(x_all.back()));
  }
  const Eigen::VectorXd y_all = upper_triangle(brain);
  const auto y_order = kendall ? std::vector<Eigen::Index>{} : argsort(y_all);
#pragma omp parallel for schedule(dynamic)
  for (int b = begin; b < end; ++b) {
    const auto idx = Resampler::for_resample(seed, static_cast<std::uint64_t>(b))
                         .with_replacement(static_cast<std::int64_t>(n));
    auto row = values.row(b - begin);
    if (!kendall) {
      Eigen::VectorXd count = Eigen::VectorXd::Zero(n);
      for (auto i : idx) count[i] += 1;
      Eigen::VectorXd w(y_all.size());
      for (Eigen::Index i = 0, k = 0; i < n; ++i)
        for (Eigen::Index j = i + 1; j < n; ++j) w[k++] = count[i] * count[j];
      if (w.sum() < 3) continue;
      if (!ranks) {
        for (Eigen::Index m = 0; m < n_models; ++m)
          row[m] = weighted_score(c, x_all[static_cast<std::size_t>(m)], y_all, w);
        continue;
      }
      Eigen::VectorXd rx(y_all.size()), ry(y_all.size());
      weighted_ranks(y_all, y_order, w, ry);
      for (Eigen::Index m = 0; m < n_models; ++m) {
        const auto k = static_cast<std::size_t>(m);
        weighted_ranks(x_all[k], x_order[k], w, rx);
        row[m] = weighted_score(c, rx, ry, w);
      }
      continue;
    }
    std::vector<double> y;
    std::vector<std::pair<Eigen::Index, Eigen::Index>> pairs;
    for (Eigen::Index i = 0; i < n; ++i)
      for (Eigen::Index j = i + 1; j < n; ++j)
        if (idx[i] != idx[j]) {
          pairs.emplace_back(idx[i], idx[j]);
          y.push_back(brain(idx[i], idx[j]));
        }
    if (y.size() < 3) continue;
    std::vector<double> x(y.size());
    for (Eigen::Index m = 0; m < n_models; ++m) {
      for (std::size_t k = 0; k < pairs.size(); ++k)
        x[k] = models[static_cast<std::size_t>(m)](pairs[k].first, pairs[k].second);
      row[m] = stats::correlate(c, stats::as_vector(x), stats::as_vector(y));
    }
  }
  return values;
}

BootstrapInterval summarise_bootstrap(const Eigen::Ref<const Eigen::VectorXd>& values,
                                      double level) {
  std::vector<double> finite;
  for (double v : values)
    if (std::isfinite(v)) finite.push_back(v);
  return summarise(finite, static_cast<int>(values.size()), level);
}

BootstrapInterval bootstrap_stimuli(const Eigen::MatrixXd& model, const Eigen::MatrixXd& brain,
                                    stats::Correlation c, int resamples, std::uint64_t seed,
                                    double level) {
  return summarise_bootstrap(bootstrap_stimuli_values({model}, brain, c, seed, 0, resamples).col(0),
                             level);
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
  if (scoring.stimulus_bootstrap)
    s.stimuli =
        bootstrap_stimuli(model, brain_mean, scoring.comparison, scoring.bootstrap, scoring.seed);
  if (s.r.size() >= 2) {
    const Eigen::VectorXd per = scoring.squared ? Eigen::VectorXd(s.r.array().square()) : s.r;
    s.subjects = bootstrap_subjects(per, scoring.bootstrap, scoring.seed);
  }
  return s;
}

}  // namespace lrm::compare
