#include "compare/inference.hpp"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <string>

#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "compare/compare_file.hpp"
#include "compare/pair_weights.hpp"
#include "compare/rdm.hpp"
#include "compare/resampling.hpp"
#include "stats/fdr.hpp"

namespace lrm::compare {
namespace {

using stats::Correlation;
constexpr double nan = std::numeric_limits<double>::quiet_NaN();

std::vector<PairIndex> to_pair_index(const std::vector<Eigen::Index>& order) {
  return {order.begin(), order.end()};
}

}  // namespace

std::vector<Eigen::Index> argsort(const Eigen::VectorXd& x) {
  std::vector<Eigen::Index> order(static_cast<std::size_t>(x.size()));
  std::iota(order.begin(), order.end(), Eigen::Index{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](Eigen::Index a, Eigen::Index b) { return x[a] < x[b]; });
  return order;
}

double weighted_correlation(stats::Correlation c, const Eigen::VectorXd& x,
                            const std::vector<Eigen::Index>& order_x, const Eigen::VectorXd& y,
                            const std::vector<Eigen::Index>& order_y, const Eigen::VectorXd& w) {
  if (kendall_comparison(c)) {
    const auto ox = to_pair_index(order_x), oy = to_pair_index(order_y);
    std::vector<PairIndex> dense(static_cast<std::size_t>(y.size()));
    PairIndex levels = 0;
    for (std::size_t p = 0; p < oy.size(); ++p) {
      if (p > 0 && y[oy[p]] != y[oy[p - 1]]) ++levels;
      dense[static_cast<std::size_t>(oy[p])] = levels;
    }
    std::vector<double> tree;
    return weighted_kendall(c, x, ox, dense, levels + 1, w, tree);
  }
  if (!rank_comparison(c)) return weighted_score(c, x, y, w);
  // Called once per resample and model by the plain bootstrap: buffers kept per thread.
  thread_local Eigen::VectorXd rx, ry;
  rx.resize(x.size());
  ry.resize(y.size());
  weighted_ranks(x, order_x, w, rx);
  weighted_ranks(y, order_y, w, ry);
  return weighted_score(c, rx, ry, w);
}

double weighted_correlation(stats::Correlation c, const Eigen::VectorXd& x,
                            const Eigen::VectorXd& y, const Eigen::VectorXd& w) {
  return weighted_correlation(c, x, argsort(x), y, argsort(y), w);
}

namespace {

// The settings and the RDM vectors, each sorted once.
struct Data {
  Correlation c = Correlation::spearman;
  CeilingPool pool = CeilingPool::pooled;
  bool squared = false;
  Eigen::Index stimuli = 0, pairs = 0;
  std::vector<PairIndex> pair_a, pair_b, all_pairs;
  std::vector<SortedVector> models, subjects;
  Eigen::VectorXd ones;
  Eigen::MatrixXd base_subjects, base_scores;  // stimuli not resampled
};

// The pairs one resample compares: every pair (stimuli not resampled) or, for a stimulus draw,
// those of two drawn stimuli, compacted, with their multiplicities `w`.
struct View {
  const std::vector<SortedVector>* models;
  const std::vector<SortedVector>* subjects;
  const Eigen::VectorXd* w;
  const std::vector<PairIndex>* all;  // 0 .. pairs - 1
};

// Per thread: buffers reused across resamples, and the ceilings of subject draws already seen
// with the stimuli not resampled (a pure function of the subject counts).
struct Workspace {
  Eigen::VectorXd w;
  std::vector<PairIndex> position, all;
  std::vector<SortedVector> models, subjects;
  Eigen::MatrixXd x, y;
  std::vector<double> tree;
  std::map<std::vector<double>, std::pair<double, double>> ceilings;
};

double score(const Data& d, double r) { return d.squared ? r * r : r; }

// `full` restricted to the pairs with a position (their order kept; the dense ranks, which only
// the taus use, when `dense`).
void compact(const SortedVector& full, const std::vector<PairIndex>& position,
             const std::vector<PairIndex>& kept, bool dense, SortedVector& out) {
  out.values.resize(static_cast<Eigen::Index>(kept.size()));
  for (std::size_t i = 0; i < kept.size(); ++i)
    out.values[static_cast<Eigen::Index>(i)] = full.values[kept[i]];
  out.dense.resize(dense ? kept.size() : 0);
  for (std::size_t i = 0; i < out.dense.size(); ++i)
    out.dense[i] = full.dense[static_cast<std::size_t>(kept[i])];
  out.levels = full.levels;
  // Branch-free: about half the pairs are dropped, at random.
  out.order.resize(kept.size() + 1);
  std::size_t n = 0;
  for (const PairIndex k : full.order) {
    const PairIndex p = position[static_cast<std::size_t>(k)];
    out.order[n] = p;
    n += p >= 0;
  }
  out.order.resize(n);
}

// Each vector as the comparison sees it (weighted ranks for rank comparisons), one column each.
void prepare(const Data& d, const std::vector<SortedVector>& v, const Eigen::VectorXd& w,
             Eigen::MatrixXd& out) {
  out.resize(w.size(), static_cast<Eigen::Index>(v.size()));
  for (std::size_t i = 0; i < v.size(); ++i) {
    const auto col = static_cast<Eigen::Index>(i);
    if (rank_comparison(d.c))
      weighted_ranks(v[i].values, v[i].order, w, out.col(col));
    else
      out.col(col) = v[i].values;
  }
}

// Model x subject comparisons (ws.x, ws.y: the prepared models and subjects of the view).
Eigen::MatrixXd model_scores(const Data& d, const View& v, Workspace& ws) {
  if (!kendall_comparison(d.c)) return weighted_scores(d.c, ws.x, ws.y, *v.w);
  const auto& models = *v.models;
  const auto& subjects = *v.subjects;
  Eigen::MatrixXd out(static_cast<Eigen::Index>(models.size()),
                      static_cast<Eigen::Index>(subjects.size()));
  for (std::size_t m = 0; m < models.size(); ++m)
    for (std::size_t s = 0; s < subjects.size(); ++s)
      out(static_cast<Eigen::Index>(m), static_cast<Eigen::Index>(s)) =
          weighted_kendall(d.c, models[m].values, models[m].order, subjects[s].dense,
                           subjects[s].levels, *v.w, ws.tree);
  return out;
}

// pool_rdm's transform of subject s over the multiset: ranks for rank comparisons and the taus,
// z-scores for pearson, unit root-mean-square for cosine; the plain values for a mean pool.
Eigen::VectorXd pool_column(const Data& d, const View& v, std::size_t s, const Workspace& ws) {
  const SortedVector& subject = (*v.subjects)[s];
  const Eigen::VectorXd& x = subject.values;
  const Eigen::VectorXd& w = *v.w;
  if (d.pool == CeilingPool::mean) return x;
  if (rank_comparison(d.c)) return ws.y.col(static_cast<Eigen::Index>(s));
  const double total = w.sum();
  if (kendall_comparison(d.c)) {
    Eigen::VectorXd r(x.size());
    weighted_ranks(x, subject.order, w, r);
    return r;
  }
  if (d.c == Correlation::cosine) return x / std::sqrt(w.dot(x.cwiseProduct(x)) / total);
  const Eigen::VectorXd centred = x.array() - w.dot(x) / total;
  return centred / std::sqrt(w.dot(centred.cwiseProduct(centred)) / total);
}

// A pooled vector as the comparison sees it: ranks (rank comparisons) or sorted (the taus).
struct Pooled {
  Eigen::VectorXd values;
  std::vector<PairIndex> order;
};

Pooled prepare_pooled(const Data& d, const View& v, const Eigen::VectorXd& pooled) {
  Pooled p{pooled, {}};
  if (!rank_comparison(d.c) && !kendall_comparison(d.c)) return p;
  sort_order(pooled, *v.all, p.order);
  if (rank_comparison(d.c)) weighted_ranks(pooled, p.order, *v.w, p.values);
  return p;
}

double compare_pooled(const Data& d, const View& v, std::size_t s, const Pooled& p, Workspace& ws) {
  const SortedVector& subject = (*v.subjects)[s];
  if (kendall_comparison(d.c))
    return weighted_kendall(d.c, p.values, p.order, subject.dense, subject.levels, *v.w, ws.tree);
  return weighted_score(d.c, p.values, ws.y.col(static_cast<Eigen::Index>(s)), *v.w);
}

// Lower and upper noise ceiling (boot_noise_ceiling): each distinct drawn subject against the pool
// of the others' copies and against the pool of all, averaged over distinct subjects. NaN for one
// distinct subject.
std::pair<double, double> ceiling(const Data& d, const View& v,
                                  const Eigen::VectorXd& subject_count, Workspace& ws) {
  if ((subject_count.array() > 0).count() < 2) return {nan, nan};
  const double total = subject_count.sum();
  const std::size_t n_subjects = v.subjects->size();
  std::vector<Eigen::VectorXd> pooled(n_subjects);
  Eigen::VectorXd all = Eigen::VectorXd::Zero(v.w->size());
  for (std::size_t s = 0; s < n_subjects; ++s) {
    const double count = subject_count[static_cast<Eigen::Index>(s)];
    if (count == 0) continue;
    pooled[s] = pool_column(d, v, s, ws);
    all += count * pooled[s];
  }
  // Ranks and taus see only the order of a pool: left undivided, rank pools stay multiples of
  // 1/2, whose low mantissa bits the radix sort skips.
  const bool ordinal = rank_comparison(d.c) || kendall_comparison(d.c);
  auto mean = [&](const Eigen::VectorXd& sum, double n) { return ordinal ? sum : sum / n; };
  const Pooled upper_pool = prepare_pooled(d, v, mean(all, total));
  double lower = 0, upper = 0, distinct = 0;
  for (std::size_t s = 0; s < n_subjects; ++s) {
    const double count = subject_count[static_cast<Eigen::Index>(s)];
    if (count == 0) continue;
    const Pooled others = prepare_pooled(d, v, mean(all - count * pooled[s], total - count));
    lower += score(d, compare_pooled(d, v, s, others, ws));
    upper += score(d, compare_pooled(d, v, s, upper_pool, ws));
    distinct += 1;
  }
  return {lower / distinct, upper / distinct};
}

// The view of a stimulus draw: the pairs of two drawn stimuli, compacted into ws.
View stimulus_view(const Data& d, const Eigen::VectorXd& stimulus_count, Workspace& ws) {
  std::vector<PairIndex> kept;
  std::vector<double> weights;
  ws.position.assign(static_cast<std::size_t>(d.pairs), -1);
  for (std::size_t k = 0; k < static_cast<std::size_t>(d.pairs); ++k) {
    const double w = stimulus_count[d.pair_a[k]] * stimulus_count[d.pair_b[k]];
    if (w == 0) continue;
    ws.position[k] = static_cast<PairIndex>(kept.size());
    kept.push_back(static_cast<PairIndex>(k));
    weights.push_back(w);
  }
  ws.w =
      Eigen::Map<const Eigen::VectorXd>(weights.data(), static_cast<Eigen::Index>(weights.size()));
  ws.all.resize(kept.size());
  std::iota(ws.all.begin(), ws.all.end(), PairIndex{0});
  ws.models.resize(d.models.size());
  ws.subjects.resize(d.subjects.size());
  for (std::size_t m = 0; m < d.models.size(); ++m)
    compact(d.models[m], ws.position, kept, false, ws.models[m]);
  for (std::size_t s = 0; s < d.subjects.size(); ++s)
    compact(d.subjects[s], ws.position, kept, kendall_comparison(d.c), ws.subjects[s]);
  return {&ws.models, &ws.subjects, &ws.w, &ws.all};
}

// One resample's values: each model's mean score over the drawn subjects (copies counted), then
// the lower and upper ceiling. `stimulus_count` null: the stimuli are not resampled.
Eigen::VectorXd evaluate(const Data& d, const Eigen::VectorXd* stimulus_count,
                         const Eigen::VectorXd& subject_count, Workspace& ws) {
  const auto n_models = static_cast<Eigen::Index>(d.models.size());
  Eigen::VectorXd out = Eigen::VectorXd::Constant(n_models + 2, nan);
  const View full{&d.models, &d.subjects, &d.ones, &d.all_pairs};
  Eigen::MatrixXd scores;
  std::pair<double, double> nc;
  if (stimulus_count) {
    if ((stimulus_count->array() > 0).count() < 3) return out;
    const View v = stimulus_view(d, *stimulus_count, ws);
    if (!kendall_comparison(d.c)) {
      prepare(d, ws.models, ws.w, ws.x);
      prepare(d, ws.subjects, ws.w, ws.y);
    }
    scores = model_scores(d, v, ws);
    nc = ceiling(d, v, subject_count, ws);
  } else {
    scores = d.base_scores;
    const std::vector<double> key(subject_count.data(),
                                  subject_count.data() + subject_count.size());
    const auto found = ws.ceilings.find(key);
    if (found != ws.ceilings.end()) {
      nc = found->second;
    } else {
      ws.y = d.base_subjects;
      nc = ws.ceilings[key] = ceiling(d, full, subject_count, ws);
    }
  }
  const double total = subject_count.sum();
  for (Eigen::Index m = 0; m < n_models; ++m) {
    double sum = 0;
    for (Eigen::Index s = 0; s < subject_count.size(); ++s)
      if (subject_count[s] > 0) sum += subject_count[s] * score(d, scores(m, s));
    out[m] = sum / total;
  }
  out[n_models] = nc.first;
  out[n_models + 1] = nc.second;
  return out;
}

Data prepare_data(const std::vector<Eigen::MatrixXd>& models,
                  const std::vector<Eigen::MatrixXd>& subjects, const InferenceOptions& o) {
  Data d;
  d.c = o.comparison;
  d.pool = o.pool;
  d.squared = o.squared;
  d.stimuli = subjects.at(0).rows();
  auto add = [&](const Eigen::MatrixXd& rdm, std::vector<SortedVector>& to) {
    if (rdm.rows() != d.stimuli || rdm.cols() != d.stimuli)
      throw InputError("model inference: RDMs of different sizes (" + std::to_string(rdm.rows()) +
                       " and " + std::to_string(d.stimuli) + " stimuli)");
    to.push_back(sort_vector(upper_triangle(rdm)));
  };
  for (const auto& m : models) add(m, d.models);
  for (const auto& s : subjects) add(s, d.subjects);
  d.pairs = d.stimuli * (d.stimuli - 1) / 2;
  for (Eigen::Index a = 0; a < d.stimuli; ++a)
    for (Eigen::Index b = a + 1; b < d.stimuli; ++b) {
      d.pair_a.push_back(static_cast<PairIndex>(a));
      d.pair_b.push_back(static_cast<PairIndex>(b));
    }
  d.all_pairs.resize(static_cast<std::size_t>(d.pairs));
  std::iota(d.all_pairs.begin(), d.all_pairs.end(), PairIndex{0});
  d.ones = Eigen::VectorXd::Ones(d.pairs);
  Workspace ws;
  if (!kendall_comparison(d.c)) {
    prepare(d, d.models, d.ones, ws.x);
    prepare(d, d.subjects, d.ones, ws.y);
  }
  d.base_scores = model_scores(d, {&d.models, &d.subjects, &d.ones, &d.all_pairs}, ws);
  prepare(d, d.subjects, d.ones, d.base_subjects);
  return d;
}

enum Kind { kBoth, kSubjects, kStimuli };

// The values of every draw for the bootstrap `kind` (one row each), threads over draws.
std::vector<Eigen::MatrixXd> bootstrap(const Data& d, const std::vector<Draw>& draws,
                                       const std::vector<Kind>& kinds) {
  const auto rows = static_cast<Eigen::Index>(draws.size());
  const auto cols = static_cast<Eigen::Index>(d.models.size()) + 2;
  std::vector<Eigen::MatrixXd> out(kinds.size(), Eigen::MatrixXd(rows, cols));
  const auto n_subjects = static_cast<Eigen::Index>(d.subjects.size());
  auto counts = [](const std::vector<std::int64_t>& idx, Eigen::Index n) {
    Eigen::VectorXd c = Eigen::VectorXd::Constant(n, idx.empty() ? 1.0 : 0.0);
    for (auto i : idx) c[i] += 1;
    return c;
  };
  std::vector<Workspace> spaces(static_cast<std::size_t>(std::max(1, omp_get_max_threads())));
  // One parallel loop (no barriers between batches); Ctrl-C skips the remaining draws and is
  // raised after the loop, as exceptions may not leave it.
  std::atomic<bool> stop{false};
#pragma omp parallel for schedule(dynamic)
  for (Eigen::Index b = 0; b < rows; ++b) {
    if (stop) continue;
    try {
      check_interrupt();
    } catch (const Interrupted&) {
      stop = true;
      continue;
    }
    Workspace& ws = spaces[static_cast<std::size_t>(omp_get_thread_num())];
    const Draw& draw = draws[static_cast<std::size_t>(b)];
    const Eigen::VectorXd stim = counts(draw.stimuli, d.stimuli);
    const Eigen::VectorXd subj = counts(draw.subjects, n_subjects);
    const Eigen::VectorXd all_subjects = Eigen::VectorXd::Ones(n_subjects);
    const bool stimuli_drawn = !draw.stimuli.empty();
    for (std::size_t t = 0; t < kinds.size(); ++t) {
      const bool use_stimuli = stimuli_drawn && kinds[t] != kSubjects;
      const Eigen::VectorXd& use_subjects = kinds[t] == kStimuli ? all_subjects : subj;
      out[t].row(b) = evaluate(d, use_stimuli ? &stim : nullptr, use_subjects, ws).transpose();
    }
  }
  if (stop) throw Interrupted();
  return out;
}

// Mean and covariance of the columns over the rows `valid` (explicit sums: the same rounding
// whatever the BLAS threads).
void moments(const Eigen::MatrixXd& samples, const std::vector<Eigen::Index>& valid,
             Eigen::VectorXd& mean, Eigen::MatrixXd& cov) {
  Eigen::MatrixXd x(static_cast<Eigen::Index>(valid.size()), samples.cols());
  for (std::size_t i = 0; i < valid.size(); ++i)
    x.row(static_cast<Eigen::Index>(i)) = samples.row(valid[i]);
  mean = x.colwise().mean().transpose();
  x.rowwise() -= mean.transpose();
  cov.resize(x.cols(), x.cols());
  for (Eigen::Index i = 0; i < x.cols(); ++i)
    for (Eigen::Index j = 0; j < x.cols(); ++j)
      cov(i, j) = x.col(i).dot(x.col(j)) / static_cast<double>(x.rows() - 1);
}

// rsatoolbox's _dual_bootstrap small-sample formula: the variance from the variances of the
// bootstrap over both, over subjects only (rdm) and over stimuli only (pattern).
double dual_variance(double both, double rdm, double pattern, double n_rdm, double n_pattern) {
  const double a = n_rdm / (n_rdm - 1), b = n_pattern / (n_pattern - 1);
  double v = a * rdm + b * pattern - a * b * (both - rdm - pattern);
  v = std::max({v, a * rdm, b * pattern});
  return std::min(v, both);
}

// Means and variances of contrasts of the bootstrap columns, as rsatoolbox's Result computes them.
struct Moments {
  Eigen::VectorXd mean;
  std::vector<Eigen::MatrixXd> cov;  // per bootstrap kind
  BootstrapOver over = BootstrapOver::both;
  double n_subjects = 0, n_stimuli = 0;

  double variance(const Eigen::VectorXd& a) const {
    auto quadratic = [&](const Eigen::MatrixXd& c) {
      double v = 0;
      for (Eigen::Index i = 0; i < a.size(); ++i)
        for (Eigen::Index j = 0; j < a.size(); ++j) v += a[i] * c(i, j) * a[j];
      return v;
    };
    if (over == BootstrapOver::both)
      return dual_variance(quadratic(cov[0]), quadratic(cov[1]), quadratic(cov[2]), n_subjects,
                           n_stimuli);
    const double n = over == BootstrapOver::stimuli ? n_stimuli : n_subjects;
    return n / (n - 1) * quadratic(cov[0]);
  }
};

Moments moments_of(const std::vector<Eigen::MatrixXd>& samples, Eigen::Index checked,
                   BootstrapOver over, const Data& d, int& valid_rows) {
  std::vector<Eigen::Index> valid;
  for (Eigen::Index b = 0; b < samples[0].rows(); ++b) {
    bool ok = true;
    for (const auto& s : samples) ok = ok && s.row(b).head(checked).allFinite();
    if (ok) valid.push_back(b);
  }
  valid_rows = static_cast<int>(valid.size());
  if (valid.size() < 2)
    throw InputError(
        "model inference: fewer than 2 resamples could be scored (each needs 3 "
        "distinct stimuli and, for the ceiling, 2 distinct subjects)");
  Moments m;
  m.over = over;
  m.n_subjects = static_cast<double>(d.subjects.size());
  m.n_stimuli = static_cast<double>(d.stimuli);
  m.mean = Eigen::VectorXd::Zero(samples[0].cols());
  for (const auto& s : samples) {
    Eigen::VectorXd mean;
    m.cov.emplace_back();
    moments(s, valid, mean, m.cov.back());
    m.mean += mean / static_cast<double>(samples.size());
  }
  return m;
}

// The t-tests, CIs and FDR of rsatoolbox's Result from the bootstrap moments.
void test(const Moments& mo, Eigen::Index n_models, bool with_ceiling, const InferenceOptions& o,
          Inference& r) {
  const boost::math::students_t t_dist(std::max(r.dof, 1));
  const double q = boost::math::quantile(t_dist, (1 + o.level) / 2);
  const double eps = std::numeric_limits<double>::epsilon();
  auto contrast = [&](Eigen::Index i, Eigen::Index j) {
    Eigen::VectorXd a = Eigen::VectorXd::Zero(n_models + 2);
    a[i] += 1;
    if (j >= 0) a[j] -= 1;
    return a;
  };
  auto t_of = [&](double value, double variance) {
    return value / std::sqrt(std::max(variance, eps));
  };
  auto two_sided = [&](double t) {
    return std::isfinite(t) ? 2 * boost::math::cdf(boost::math::complement(t_dist, std::abs(t)))
                            : nan;
  };
  auto one_sided = [&](double t) {
    return std::isfinite(t) ? boost::math::cdf(boost::math::complement(t_dist, t)) : nan;
  };
  const double lower = mo.mean[n_models];
  r.evaluation_mean = mo.mean.head(n_models);
  r.evaluation_sd.resize(n_models);
  r.p_vs_zero.resize(n_models);
  r.p_vs_lower_ceiling = Eigen::VectorXd::Constant(n_models, nan);
  for (Eigen::Index m = 0; m < n_models; ++m) {
    const double v = mo.variance(contrast(m, -1));
    r.evaluation_sd[m] = std::sqrt(std::max(v, 0.0));
    r.p_vs_zero[m] = one_sided(t_of(mo.mean[m], v));
    if (with_ceiling)
      r.p_vs_lower_ceiling[m] =
          two_sided(t_of(mo.mean[m] - lower, mo.variance(contrast(m, n_models))));
  }
  r.evaluation_low = r.evaluation_mean - q * r.evaluation_sd;
  r.evaluation_high = r.evaluation_mean + q * r.evaluation_sd;
  r.difference = r.difference_low = r.difference_high = r.p_pairwise = r.p_pairwise_fdr =
      Eigen::MatrixXd::Constant(n_models, n_models, nan);
  std::vector<double> pairs;
  for (Eigen::Index i = 0; i < n_models; ++i)
    for (Eigen::Index j = 0; j < n_models; ++j) {
      if (i == j) continue;
      const double diff = mo.mean[i] - mo.mean[j], v = mo.variance(contrast(i, j));
      const double sd = std::sqrt(std::max(v, 0.0));
      r.difference(i, j) = diff;
      r.difference_low(i, j) = diff - q * sd;
      r.difference_high(i, j) = diff + q * sd;
      r.p_pairwise(i, j) = two_sided(t_of(diff, v));
      if (i < j) pairs.push_back(r.p_pairwise(i, j));
    }
  if (!pairs.empty()) {
    const auto adjusted = stats::fdr(pairs, stats::FdrMethod::bh, 0.05).p_adjusted;
    std::size_t k = 0;
    for (Eigen::Index i = 0; i < n_models; ++i)
      for (Eigen::Index j = i + 1; j < n_models; ++j)
        r.p_pairwise_fdr(i, j) = r.p_pairwise_fdr(j, i) = adjusted[k++];
  }
  r.ceiling_lower_mean = with_ceiling ? lower : nan;
  const double v = mo.variance(contrast(n_models, -1));
  r.ceiling_lower_sd = with_ceiling ? std::sqrt(std::max(v, 0.0)) : nan;
  r.p_ceiling_vs_chance = with_ceiling ? one_sided(t_of(lower, v)) : nan;
}

}  // namespace

namespace {

// Resamples [begin, end) of draw_resamples.
std::vector<Draw> draws_in(std::int64_t stimuli, std::int64_t subjects, BootstrapOver over,
                           std::uint64_t seed, std::size_t begin, std::size_t end) {
  std::vector<Draw> draws(end > begin ? end - begin : 0);
  for (std::size_t i = 0; i < draws.size(); ++i) {
    auto rng = Resampler::for_resample(seed, begin + i);
    if (over != BootstrapOver::stimuli) draws[i].subjects = rng.with_replacement(subjects);
    if (over != BootstrapOver::subjects) draws[i].stimuli = rng.with_replacement(stimuli);
  }
  return draws;
}

// The bootstraps each draw is scored by (the main one first).
std::vector<Kind> kinds_of(BootstrapOver over) {
  if (over == BootstrapOver::both) return {kBoth, kSubjects, kStimuli};
  return {over == BootstrapOver::subjects ? kSubjects : kStimuli};
}

// The checks of infer, before any work (`draws`: how many resamples the inference has in all).
Data checked_data(const std::vector<Eigen::MatrixXd>& models,
                  const std::vector<Eigen::MatrixXd>& subjects, const InferenceOptions& o,
                  std::size_t draws) {
  if (models.empty() || subjects.empty()) throw InputError("model inference: no RDMs");
  check_inference_input("model inference", subjects.size(), o.over);
  if (draws < 2) throw SettingError("bootstrap", "model inference needs at least 2 resamples");
  return prepare_data(models, subjects, o);
}

Inference summarise(const Data& d, const InferenceOptions& o, std::vector<Eigen::MatrixXd> rows) {
  const auto n_models = static_cast<Eigen::Index>(d.models.size());
  const auto n_subjects = static_cast<Eigen::Index>(d.subjects.size());
  const bool with_ceiling = n_subjects >= 2;
  Inference r;
  Workspace ws;
  const Eigen::VectorXd point = evaluate(d, nullptr, Eigen::VectorXd::Ones(n_subjects), ws);
  r.evaluation = point.head(n_models);
  r.ceiling_lower = point[n_models];
  r.ceiling_upper = point[n_models + 1];
  const Moments mo =
      moments_of(rows, n_models + (with_ceiling ? 2 : 0), o.over, d, r.valid_resamples);
  r.dof = static_cast<int>(o.over == BootstrapOver::both      ? std::min(n_subjects, d.stimuli) - 1
                           : o.over == BootstrapOver::stimuli ? d.stimuli - 1
                                                              : n_subjects - 1);
  test(mo, n_models, with_ceiling, o, r);
  r.samples = std::move(rows[0]);
  if (rows.size() == 3)
    r.samples_subjects = std::move(rows[1]), r.samples_stimuli = std::move(rows[2]);
  return r;
}

}  // namespace

std::vector<Draw> draw_resamples(std::int64_t stimuli, std::int64_t subjects, BootstrapOver over,
                                 int resamples, std::uint64_t seed) {
  return draws_in(stimuli, subjects, over, seed, 0,
                  static_cast<std::size_t>(std::max(resamples, 0)));
}

void check_inference_input(const std::string& source, std::size_t subjects, BootstrapOver over) {
  if (over != BootstrapOver::stimuli && subjects < 3)
    throw InputError(source +
                     ": a bootstrap over subjects needs the RDMs of at least 3 subjects, got " +
                     std::to_string(subjects));
}

Inference infer(const std::vector<Eigen::MatrixXd>& models,
                const std::vector<Eigen::MatrixXd>& subjects, const InferenceOptions& o) {
  const std::int64_t n = subjects.empty() ? 0 : subjects[0].rows();
  return infer(
      models, subjects, o,
      draw_resamples(n, static_cast<std::int64_t>(subjects.size()), o.over, o.resamples, o.seed));
}

Inference infer(const std::vector<Eigen::MatrixXd>& models,
                const std::vector<Eigen::MatrixXd>& subjects, const InferenceOptions& o,
                const std::vector<Draw>& draws) {
  const Data d = checked_data(models, subjects, o, draws.size());
  return summarise(d, o, bootstrap(d, draws, kinds_of(o.over)));
}

struct PreparedInference {
  InferenceOptions options;
  Data data;
};

std::shared_ptr<const PreparedInference> prepare_inference(
    const std::vector<Eigen::MatrixXd>& models, const std::vector<Eigen::MatrixXd>& subjects,
    const InferenceOptions& o) {
  return std::make_shared<const PreparedInference>(PreparedInference{
      o, checked_data(models, subjects, o, static_cast<std::size_t>(std::max(o.resamples, 0)))});
}

std::vector<Eigen::MatrixXd> score_resamples(const PreparedInference& p, std::size_t begin,
                                             std::size_t end) {
  const Data& d = p.data;
  const InferenceOptions& o = p.options;
  const auto n_subjects = static_cast<std::int64_t>(d.subjects.size());
  return bootstrap(d, draws_in(d.stimuli, n_subjects, o.over, o.seed, begin, end),
                   kinds_of(o.over));
}

Inference summarise_resamples(const PreparedInference& p, std::vector<Eigen::MatrixXd> rows) {
  return summarise(p.data, p.options, std::move(rows));
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
                                         const Inference& r, const InferenceOptions& o) {
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
                             : "bootstrap covariance x n / (n - 1) (rsatoolbox)"));
  g.set_attr("centre", std::string("tests, CIs and differences are centred on the mean over "
                                   "resamples (evaluation_bootstrap_mean), as rsatoolbox's are; "
                                   "evaluation is the score on all data"));
  write_models(g, models);
  std::vector<std::string> labels;
  for (const auto& m : models) labels.push_back(m.label());
  h5::write_coordinate(g, "model_b", labels);
  auto per_model = [&](const char* name, const Eigen::VectorXd& v) {
    h5::write_array(g, name, v.data(), {static_cast<std::uint64_t>(v.size())}, {"model"},
                    {{"layer", "pass"}, true, {{"units", "1"}}});
  };
  per_model("evaluation", r.evaluation);
  per_model("evaluation_bootstrap_mean", r.evaluation_mean);
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
  h5::write_scalar(g, "noise_ceiling_lower_bootstrap_mean", r.ceiling_lower_mean);
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
