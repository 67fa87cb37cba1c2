#include "compare/weighted.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <tuple>

#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "compare/compare_file.hpp"
#include "compare/rdm.hpp"
#include "compare/resampling.hpp"

namespace lrm::compare {
namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

// Upper triangles as columns; every RDM must have `n` stimuli.
Eigen::MatrixXd columns(const std::vector<Eigen::MatrixXd>& rdms, Eigen::Index n,
                        const std::string& what) {
  Eigen::MatrixXd out(n * (n - 1) / 2, static_cast<Eigen::Index>(rdms.size()));
  for (std::size_t k = 0; k < rdms.size(); ++k) {
    if (rdms[k].rows() != n || rdms[k].cols() != n)
      throw InputError(what + " " + std::to_string(k + 1) + " has " +
                       std::to_string(rdms[k].rows()) + " stimuli, the brain RDMs " +
                       std::to_string(n));
    out.col(static_cast<Eigen::Index>(k)) = upper_triangle(rdms[k]);
  }
  return out;
}

// The pairs (rows of upper triangles) whose two stimuli are both in `in`.
std::vector<Eigen::Index> pairs_within(const std::vector<bool>& in) {
  std::vector<Eigen::Index> rows;
  const auto n = static_cast<Eigen::Index>(in.size());
  for (Eigen::Index i = 0, k = 0; i < n; ++i)
    for (Eigen::Index j = i + 1; j < n; ++j, ++k)
      if (in[static_cast<std::size_t>(i)] && in[static_cast<std::size_t>(j)]) rows.push_back(k);
  return rows;
}

Eigen::MatrixXd take(const Eigen::MatrixXd& m, const std::vector<Eigen::Index>& rows) {
  Eigen::MatrixXd out(static_cast<Eigen::Index>(rows.size()), m.cols());
  for (std::size_t i = 0; i < rows.size(); ++i)
    out.row(static_cast<Eigen::Index>(i)) = m.row(rows[i]);
  return out;
}

// Non-negative weights and a free intercept: the intercept is removed by centring.
std::pair<Eigen::VectorXd, double> fit(const Eigen::MatrixXd& x, const Eigen::VectorXd& y) {
  const Eigen::RowVectorXd mx = x.colwise().mean();
  const double my = y.mean();
  const Eigen::VectorXd w = nnls(x.rowwise() - mx, y.array() - my);
  return {w, my - mx.dot(w)};
}

// R^2 of the weighted least-squares fit of y on the columns of x with an intercept.
double r_squared(const Eigen::MatrixXd& x, const Eigen::VectorXd& y, const Eigen::VectorXd& w) {
  const double total = w.sum();
  const Eigen::RowVectorXd mx = (w.transpose() * x) / total;
  const double my = w.dot(y) / total;
  const Eigen::MatrixXd xc = x.rowwise() - mx;
  const Eigen::VectorXd yc = y.array() - my;
  const Eigen::VectorXd sw = w.cwiseSqrt();
  const Eigen::MatrixXd a = sw.asDiagonal() * xc;
  const Eigen::VectorXd beta = a.colPivHouseholderQr().solve(sw.cwiseProduct(yc));
  const double ss = w.dot(yc.cwiseProduct(yc));
  const Eigen::VectorXd resid = yc - xc * beta;
  return ss > 0 ? 1 - w.dot(resid.cwiseProduct(resid)) / ss : nan;
}

// Unique and shared parts from the R^2 of each subset (bitmask order 1..2^k-1).
Eigen::VectorXd parts_of(const Eigen::VectorXd& r) {
  auto R = [&](int mask) { return r[mask - 1]; };
  if (r.size() == 3)
    return (Eigen::VectorXd(3) << R(3) - R(2), R(3) - R(1), R(1) + R(2) - R(3)).finished();
  Eigen::VectorXd p(7);
  p << R(7) - R(6), R(7) - R(5), R(7) - R(3), R(5) + R(6) - R(4) - R(7), R(3) + R(6) - R(2) - R(7),
      R(3) + R(5) - R(1) - R(7), R(1) + R(2) + R(4) - R(3) - R(5) - R(6) + R(7);
  return p;
}

Eigen::VectorXd subset_r2(const Eigen::MatrixXd& x, const Eigen::VectorXd& y,
                          const Eigen::VectorXd& w) {
  const int k = static_cast<int>(x.cols());
  Eigen::VectorXd r((1 << k) - 1);
  for (int mask = 1; mask < (1 << k); ++mask) {
    std::vector<Eigen::Index> cols;
    for (int j = 0; j < k; ++j)
      if (mask & (1 << j)) cols.push_back(j);
    Eigen::MatrixXd sub(x.rows(), static_cast<Eigen::Index>(cols.size()));
    for (std::size_t c = 0; c < cols.size(); ++c)
      sub.col(static_cast<Eigen::Index>(c)) = x.col(cols[c]);
    r[mask - 1] = r_squared(sub, y, w);
  }
  return r;
}

}  // namespace

Eigen::VectorXd nnls(const Eigen::MatrixXd& a, const Eigen::VectorXd& b) {
  const Eigen::Index n = a.cols();
  Eigen::VectorXd x = Eigen::VectorXd::Zero(n);
  std::vector<bool> passive(static_cast<std::size_t>(n), false);
  const double tol = 1e-12 * std::max(1.0, a.cwiseAbs().maxCoeff() * b.cwiseAbs().maxCoeff());
  for (int iteration = 0; iteration < 3 * n + 30; ++iteration) {
    const Eigen::VectorXd gradient = a.transpose() * (b - a * x);
    Eigen::Index best = -1;
    for (Eigen::Index j = 0; j < n; ++j)
      if (!passive[static_cast<std::size_t>(j)] && gradient[j] > tol &&
          (best < 0 || gradient[j] > gradient[best]))
        best = j;
    if (best < 0) break;
    passive[static_cast<std::size_t>(best)] = true;
    for (;;) {
      std::vector<Eigen::Index> p;
      for (Eigen::Index j = 0; j < n; ++j)
        if (passive[static_cast<std::size_t>(j)]) p.push_back(j);
      if (p.empty()) break;
      Eigen::MatrixXd ap(a.rows(), static_cast<Eigen::Index>(p.size()));
      for (std::size_t c = 0; c < p.size(); ++c) ap.col(static_cast<Eigen::Index>(c)) = a.col(p[c]);
      const Eigen::VectorXd z = ap.colPivHouseholderQr().solve(b);
      if (z.minCoeff() > 0) {
        x.setZero();
        for (std::size_t c = 0; c < p.size(); ++c) x[p[c]] = z[static_cast<Eigen::Index>(c)];
        break;
      }
      // Step towards z until a weight reaches 0, then drop it from the passive set.
      double alpha = 1;
      for (std::size_t c = 0; c < p.size(); ++c)
        if (z[static_cast<Eigen::Index>(c)] <= 0)
          alpha = std::min(alpha, x[p[c]] / (x[p[c]] - z[static_cast<Eigen::Index>(c)]));
      for (std::size_t c = 0; c < p.size(); ++c)
        x[p[c]] += alpha * (z[static_cast<Eigen::Index>(c)] - x[p[c]]);
      for (std::size_t c = 0; c < p.size(); ++c)
        if (x[p[c]] <= tol) passive[static_cast<std::size_t>(p[c])] = false, x[p[c]] = 0;
    }
  }
  return x;
}

WeightedRsa weighted_rsa(const std::vector<Eigen::MatrixXd>& components,
                         const std::vector<Eigen::MatrixXd>& subjects,
                         const WeightedRsaOptions& o) {
  if (components.empty() || subjects.empty())
    throw InputError("weighted RSA needs component RDMs and brain RDMs");
  const Eigen::Index n = subjects[0].rows();
  if (n < 2 * o.folds || o.folds < 2)
    throw InputError("weighted RSA: " + std::to_string(n) + " stimuli are too few for " +
                     std::to_string(o.folds) + " folds of at least 2");
  const Eigen::MatrixXd x = columns(components, n, "component RDM");
  const Eigen::MatrixXd y = columns(subjects, n, "brain RDM");
  WeightedRsa r;
  std::tie(r.weights, r.intercept) = fit(x, y.rowwise().mean());
  std::vector<Eigen::Index> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), Eigen::Index{0});
  Resampler rng(o.seed);
  rng.shuffle(order);
  const auto n_subjects = static_cast<Eigen::Index>(subjects.size());
  r.subject_folds = static_cast<int>(n_subjects);  // leave one subject out (none with one)
  std::vector<double> scores;
  for (Eigen::Index s = 0; s < n_subjects; ++s)
    for (int f = 0; f < o.folds; ++f) {
      check_interrupt();
      std::vector<bool> test(static_cast<std::size_t>(n), false);
      for (std::size_t i = static_cast<std::size_t>(f); i < order.size();
           i += static_cast<std::size_t>(o.folds))
        test[static_cast<std::size_t>(order[i])] = true;
      std::vector<bool> train(test.size());
      for (std::size_t i = 0; i < test.size(); ++i) train[i] = !test[i];
      const auto train_rows = pairs_within(train), test_rows = pairs_within(test);
      Eigen::VectorXd target = Eigen::VectorXd::Zero(y.rows());
      for (Eigen::Index t = 0; t < n_subjects; ++t)
        if (t != s || n_subjects == 1) target += y.col(t);
      target /= static_cast<double>(n_subjects == 1 ? 1 : n_subjects - 1);
      const auto [w, b] = fit(take(x, train_rows), take(target, train_rows));
      const Eigen::VectorXd prediction = (take(x, test_rows) * w).array() + b;
      const Eigen::VectorXd held_out = take(y.col(s), test_rows);
      scores.push_back(stats::correlate(o.comparison, prediction, held_out));
    }
  r.fold_score = stats::as_vector(scores);
  r.score = r.fold_score.mean();
  return r;
}

VariancePartition partition_variance(const std::vector<Eigen::MatrixXd>& predictors,
                                     const Eigen::MatrixXd& target, int resamples,
                                     std::uint64_t seed) {
  const auto k = static_cast<int>(predictors.size());
  if (k < 2 || k > 3)
    throw InputError("variance partitioning takes 2 or 3 predictor RDMs, got " + std::to_string(k));
  const Eigen::Index n = target.rows();
  const Eigen::MatrixXd x = columns(predictors, n, "predictor RDM");
  const Eigen::VectorXd y = upper_triangle(target);
  VariancePartition v;
  v.parts = k == 2
                ? std::vector<std::string>{"unique 1", "unique 2", "shared 1+2"}
                : std::vector<std::string>{"unique 1",   "unique 2",   "unique 3",    "shared 1+2",
                                           "shared 1+3", "shared 2+3", "shared 1+2+3"};
  v.r2 = subset_r2(x, y, Eigen::VectorXd::Ones(y.size()));
  v.value = parts_of(v.r2);
  v.resamples = resamples;
  v.low = v.high = Eigen::VectorXd::Constant(v.value.size(), nan);
  if (resamples <= 0) return v;
  Resampler rng(seed);
  std::vector<std::vector<double>> draws(static_cast<std::size_t>(v.value.size()));
  for (int b = 0; b < resamples; ++b) {
    check_interrupt();
    Eigen::VectorXd count = Eigen::VectorXd::Zero(n);
    for (auto i : rng.with_replacement(n)) count[i] += 1;
    Eigen::VectorXd w(y.size());
    for (Eigen::Index i = 0, p = 0; i < n; ++i)
      for (Eigen::Index j = i + 1; j < n; ++j) w[p++] = count[i] * count[j];
    const Eigen::VectorXd parts = parts_of(subset_r2(x, y, w));
    if (parts.allFinite())
      for (Eigen::Index p = 0; p < parts.size(); ++p)
        draws[static_cast<std::size_t>(p)].push_back(parts[p]);
  }
  for (Eigen::Index p = 0; p < v.value.size(); ++p) {
    v.low[p] = percentile(draws[static_cast<std::size_t>(p)], 2.5);
    v.high[p] = percentile(draws[static_cast<std::size_t>(p)], 97.5);
  }
  return v;
}

namespace {

// The component RDMs of `spec` over the brain's stimuli (by id when both have ids, else by order).
std::vector<Eigen::MatrixXd> load_components(const std::string& spec, const BrainRdms& brain,
                                             std::vector<std::string>& names) {
  const BrainRdms c = load_brain_rdms(spec, {});
  const Eigen::Index n = brain.rdms[0].rows();
  std::vector<Eigen::Index> rows(static_cast<std::size_t>(n));
  std::iota(rows.begin(), rows.end(), Eigen::Index{0});
  if (!brain.stimulus_ids.empty() && !c.stimulus_ids.empty()) {
    for (Eigen::Index i = 0; i < n; ++i) {
      const auto& id = brain.stimulus_ids[static_cast<std::size_t>(i)];
      const auto at = std::find(c.stimulus_ids.begin(), c.stimulus_ids.end(), id);
      if (at == c.stimulus_ids.end())
        throw InputError(c.source + ": component RDMs of other stimuli (no '" + id + "' of " +
                         brain.source + ")");
      rows[static_cast<std::size_t>(i)] = at - c.stimulus_ids.begin();
    }
  } else if (c.rdms[0].rows() != n) {
    throw InputError(c.source + ": component RDMs of other stimuli (" +
                     std::to_string(c.rdms[0].rows()) + " stimuli, " + brain.source + " has " +
                     std::to_string(n) + ")");
  }
  std::vector<Eigen::MatrixXd> out;
  for (std::size_t k = 0; k < c.rdms.size(); ++k) {
    Eigen::MatrixXd m(n, n);
    for (Eigen::Index i = 0; i < n; ++i)
      for (Eigen::Index j = 0; j < n; ++j)
        m(i, j) = c.rdms[k](rows[static_cast<std::size_t>(i)], rows[static_cast<std::size_t>(j)]);
    out.push_back(m);
    names.push_back(c.rdms.size() == 1 ? spec : spec + "#" + c.names[k]);
  }
  return out;
}

void write_vector(const h5::Group& g, const std::string& name, const Eigen::VectorXd& v,
                  const std::string& dim) {
  h5::write_array(g, name, v.data(), {static_cast<std::uint64_t>(v.size())}, {dim});
}

}  // namespace

std::vector<std::string> run_weighted(const WeightedRunOptions& o, const h5::Group& root) {
  const BrainRdms brain = load_brain_rdms(o.brain, {});
  std::vector<Eigen::MatrixXd> components;
  std::vector<std::string> names;
  for (const auto& spec : o.components)
    for (auto& m : load_components(spec, brain, names)) components.push_back(std::move(m));
  if (o.partition && (components.size() < 2 || components.size() > 3))
    throw SettingError("vpa", "variance partitioning takes 2 or 3 component RDMs, got " +
                                  std::to_string(components.size()));
  const WeightedRsa r = weighted_rsa(components, brain.rdms, o.fit);
  auto g = root.require_group("weighted");
  g.set_attr("brain", o.brain);
  g.set_attr("comparison", std::string(stats::correlation_name(o.fit.comparison)));
  g.set_attr("folds", static_cast<std::int64_t>(o.fit.folds));
  g.set_attr("fit", std::string("non-negative least squares with an intercept"));
  h5::write_coordinate(g, "component", names);
  write_vector(g, "weights", r.weights, "component");
  h5::write_scalar(g, "intercept", r.intercept);
  h5::write_scalar(g, "score_cv", r.score);
  write_vector(g, "fold_score", r.fold_score, "fold");
  std::vector<std::string> lines;
  char line[240];
  std::snprintf(line, sizeof line, "weighted RSA of %zu components: cross-validated %s %.4f",
                components.size(), stats::correlation_name(o.fit.comparison), r.score);
  lines.emplace_back(line);
  if (!o.partition) return lines;
  const auto v = partition_variance(components, mean_rdm(brain.rdms), o.resamples, o.fit.seed);
  auto vg = g.require_group("vpa");
  h5::write_coordinate(vg, "part", v.parts);
  write_vector(vg, "explained_variance", v.value, "part");
  write_vector(vg, "ci_low", v.low, "part");
  write_vector(vg, "ci_high", v.high, "part");
  write_vector(vg, "r2_subset", v.r2, "subset");
  vg.set_attr("resamples", static_cast<std::int64_t>(v.resamples));
  for (std::size_t p = 0; p < v.parts.size(); ++p) {
    std::snprintf(line, sizeof line, "  %-14s R^2 %.4f [%.4f, %.4f]", v.parts[p].c_str(),
                  v.value[static_cast<Eigen::Index>(p)], v.low[static_cast<Eigen::Index>(p)],
                  v.high[static_cast<Eigen::Index>(p)]);
    lines.emplace_back(line);
  }
  return lines;
}

}  // namespace lrm::compare
