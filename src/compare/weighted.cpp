#include "compare/weighted.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
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

Eigen::VectorXd fit_positive_weights(const Eigen::MatrixXd& x, const Eigen::MatrixXd& y,
                                     stats::Correlation c) {
  if (c != stats::Correlation::pearson && c != stats::Correlation::cosine)
    throw SettingError("comparison",
                       "the optimize fit maximises pearson or cosine (rank comparisons are "
                       "piecewise constant in the weights); use the nnls fit for " +
                           stats::correlation_names.name(c));
  const bool centre = c == stats::Correlation::pearson;
  Eigen::MatrixXd xs = x, ys = y;
  if (centre) {
    xs.rowwise() -= x.colwise().mean();
    ys.rowwise() -= y.colwise().mean();
  }
  Eigen::VectorXd target = Eigen::VectorXd::Zero(ys.rows());
  for (Eigen::Index s = 0; s < ys.cols(); ++s) {
    const double norm = ys.col(s).norm();
    if (!(norm > 0)) throw InputError("weighted RSA: a brain RDM is constant over the stimuli");
    target += ys.col(s) / norm;
  }
  Eigen::VectorXd w = nnls(xs, target);
  if (!(w.norm() > 0)) {
    // No non-negative combination agrees positively (b <= 0): the maximum of w'b / |w|_S is then
    // that of |w|_S, a convex function, over the polytope {w >= 0, -b'w = 1}, so at a vertex: the
    // best single component.
    Eigen::Index best = 0;
    double value = -std::numeric_limits<double>::infinity();
    for (Eigen::Index k = 0; k < x.cols(); ++k) {
      const double v = xs.col(k).dot(target) / xs.col(k).norm();
      if (v > value) value = v, best = k;
    }
    w.setZero();
    w[best] = 1;
  }
  return w / w.norm();
}

double mean_comparison(const Eigen::MatrixXd& x, const Eigen::MatrixXd& y, const Eigen::VectorXd& w,
                       stats::Correlation c) {
  const Eigen::VectorXd prediction = x * w;
  double sum = 0;
  for (Eigen::Index s = 0; s < y.cols(); ++s) sum += stats::correlate(c, prediction, y.col(s));
  return sum / static_cast<double>(y.cols());
}

std::vector<std::vector<Eigen::Index>> fold_groups(const std::vector<Eigen::Index>& order, int k) {
  const std::size_t n = order.size(), size = n / static_cast<std::size_t>(k);
  std::vector<std::vector<Eigen::Index>> groups(static_cast<std::size_t>(k));
  for (std::size_t g = 0; g < groups.size(); ++g) {
    for (std::size_t i = g * size; i < (g + 1) * size; ++i) groups[g].push_back(order[i]);
    if (g < n % static_cast<std::size_t>(k)) groups[g].push_back(order[n - g - 1]);
  }
  return groups;
}

namespace {

struct Fitted {
  Eigen::VectorXd weights;
  double intercept = 0;
};

Fitted fit_weights(const Eigen::MatrixXd& x, const Eigen::MatrixXd& y,
                   const WeightedRsaOptions& o) {
  if (o.fit == WeightFit::optimize) return {fit_positive_weights(x, y, o.comparison), 0};
  const auto [w, b] = fit(x, y.rowwise().mean());
  return {w, b};
}

double score_of(const Fitted& f, const Eigen::MatrixXd& x, const Eigen::MatrixXd& y,
                stats::Correlation c) {
  const Eigen::VectorXd prediction = (x * f.weights).array() + f.intercept;
  double sum = 0;
  for (Eigen::Index s = 0; s < y.cols(); ++s) sum += stats::correlate(c, prediction, y.col(s));
  return sum / static_cast<double>(y.cols());
}

std::vector<Eigen::Index> shuffled(Eigen::Index n, bool shuffle, Resampler& rng) {
  std::vector<Eigen::Index> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), Eigen::Index{0});
  if (shuffle) rng.shuffle(order);
  return order;
}

std::vector<bool> membership(const std::vector<Eigen::Index>& group, Eigen::Index n) {
  std::vector<bool> in(static_cast<std::size_t>(n), false);
  for (auto i : group) in[static_cast<std::size_t>(i)] = true;
  return in;
}

// The columns of y whose subjects are `in` (or not).
Eigen::MatrixXd subjects_of(const Eigen::MatrixXd& y, const std::vector<bool>& in, bool want) {
  std::vector<Eigen::Index> cols;
  for (Eigen::Index s = 0; s < y.cols(); ++s)
    if (in[static_cast<std::size_t>(s)] == want) cols.push_back(s);
  Eigen::MatrixXd out(y.rows(), static_cast<Eigen::Index>(cols.size()));
  for (std::size_t c = 0; c < cols.size(); ++c)
    out.col(static_cast<Eigen::Index>(c)) = y.col(cols[c]);
  return out;
}

int default_subject_folds(Eigen::Index subjects) {
  if (subjects < 2) return 1;
  return subjects < 6 ? 2 : subjects < 12 ? 3 : subjects < 20 ? 4 : 5;
}

}  // namespace

WeightedRsa weighted_rsa(const std::vector<Eigen::MatrixXd>& components,
                         const std::vector<Eigen::MatrixXd>& subjects,
                         const WeightedRsaOptions& o) {
  if (components.empty() || subjects.empty())
    throw InputError("weighted RSA needs component RDMs and brain RDMs");
  const Eigen::Index n = subjects[0].rows();
  if (o.folds < 2 || n < 3 * o.folds)
    throw SettingError("folds", std::to_string(n) + " stimuli are too few for " +
                                    std::to_string(o.folds) + " folds of at least 3");
  const auto n_subjects = static_cast<Eigen::Index>(subjects.size());
  const int k_subjects = o.subject_folds > 0 ? o.subject_folds : default_subject_folds(n_subjects);
  if (k_subjects > n_subjects)
    throw SettingError("subject-folds", std::to_string(k_subjects) + " folds of " +
                                            std::to_string(n_subjects) + " subjects");
  const Eigen::MatrixXd x = columns(components, n, "component RDM");
  const Eigen::MatrixXd y = columns(subjects, n, "brain RDM");
  WeightedRsa r;
  const Fitted all = fit_weights(x, y, o);
  r.weights = all.weights;
  r.intercept = all.intercept;
  r.objective = score_of(all, x, y, o.comparison);
  r.subject_folds = k_subjects;
  Resampler rng(o.seed);
  const auto subject_groups = fold_groups(shuffled(n_subjects, o.shuffle, rng), k_subjects);
  std::vector<double> scores, objectives;
  for (const auto& subject_group : subject_groups) {
    const auto held = membership(subject_group, n_subjects);
    const Eigen::MatrixXd y_test = subjects_of(y, held, true);
    const Eigen::MatrixXd y_train = k_subjects == 1 ? y_test : subjects_of(y, held, false);
    for (const auto& group : fold_groups(shuffled(n, o.shuffle, rng), o.folds)) {
      check_interrupt();
      const auto test = membership(group, n);
      std::vector<bool> train(test.size());
      for (std::size_t i = 0; i < test.size(); ++i) train[i] = !test[i];
      const auto train_rows = pairs_within(train), test_rows = pairs_within(test);
      const Eigen::MatrixXd x_train = take(x, train_rows), yt = take(y_train, train_rows);
      const Fitted f = fit_weights(x_train, yt, o);
      objectives.push_back(score_of(f, x_train, yt, o.comparison));
      scores.push_back(score_of(f, take(x, test_rows), take(y_test, test_rows), o.comparison));
    }
  }
  r.fold_score = stats::as_vector(scores);
  r.fold_objective = stats::as_vector(objectives);
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

// An activation file given whole (lrm extract's), rather than RDMs at a dataset path.
bool is_activation_file(const std::string& spec) {
  if (spec.find(":/") != std::string::npos) return false;
  const std::filesystem::path path(spec);
  if ((path.extension() != ".h5" && path.extension() != ".hdf5") ||
      !std::filesystem::is_regular_file(path))
    return false;
  return h5::File(path, h5::File::Mode::read).root().has_group(io::activations_group);
}

// One --components input and the names of its components: an activation file with its chosen
// layers x passes (their RDMs made later, within the memory budget), or a file's RDMs.
struct ComponentInput {
  std::string spec;
  std::optional<io::ActivationFile> activations;
  std::vector<UnitSet> sets;          // of an activation file
  std::vector<Eigen::MatrixXd> rdms;  // of a file of RDMs, over the brain's stimuli
  std::vector<std::string> names;
};

bool from_activations(const ComponentInput& in) { return in.activations.has_value(); }

// The component RDMs of `spec` over the brain's stimuli (by id when both have ids, else by order),
// named by `spec` (and the RDM's name when the file holds several).
void load_components(ComponentInput& in, const BrainRdms& brain) {
  const std::string& spec = in.spec;
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
  for (std::size_t k = 0; k < c.rdms.size(); ++k) {
    Eigen::MatrixXd m(n, n);
    for (Eigen::Index i = 0; i < n; ++i)
      for (Eigen::Index j = 0; j < n; ++j)
        m(i, j) = c.rdms[k](rows[static_cast<std::size_t>(i)], rows[static_cast<std::size_t>(j)]);
    in.rdms.push_back(m);
    in.names.push_back(c.rdms.size() == 1 ? spec : spec + "#" + c.names[k]);
  }
}

// Every input opened, its components named: an activation file's chosen layers x passes as
// <layer>/pass<k>, qualified by the file (<file>#<layer>/pass<k>) when several activation files
// would otherwise give the same names.
std::vector<ComponentInput> open_inputs(const WeightedRunOptions& o, const BrainRdms& brain) {
  std::vector<ComponentInput> inputs;
  for (const auto& spec : o.components) {
    ComponentInput& in = inputs.emplace_back();
    in.spec = spec;
    if (!is_activation_file(spec)) {
      load_components(in, brain);
      continue;
    }
    in.sets = unit_sets({}, in.activations.emplace(spec, o.allow_partial), o.layers, o.passes,
                        o.fit.seed);
  }
  const auto files = std::count_if(inputs.begin(), inputs.end(), from_activations);
  if (files == 0 && !(o.layers.empty() && o.passes.empty()))
    throw SettingError(o.layers.empty() ? "passes" : "layers",
                       "applies to activation files among --components only");
  for (auto& in : inputs)
    for (const auto& set : in.sets)
      in.names.push_back((files > 1 ? in.spec + "#" : std::string()) + set.model.label());
  return inputs;
}

// A component given twice (the same input twice, say) is refused: its weight is not identified,
// and its two entries could not be told apart in the result.
void check_unique_names(const std::vector<ComponentInput>& inputs) {
  std::map<std::string, const std::string*> seen;  // component name -> its input
  for (const auto& in : inputs)
    for (const auto& name : in.names)
      if (const auto [at, added] = seen.emplace(name, &in.spec); !added)
        throw SettingError("components", "'" + *at->second + "' and '" + in.spec +
                                             "' both give the component '" + name +
                                             "'; give each component once");
}

// The inputs' component RDMs in order, those of activation files made as compare rsa's model RDMs.
std::vector<Eigen::MatrixXd> component_rdms(std::vector<ComponentInput>& inputs,
                                            const WeightedRunOptions& o, const BrainRdms& brain) {
  std::vector<Eigen::MatrixXd> out;
  for (auto& in : inputs) {
    for (auto& m : in.rdms) out.push_back(std::move(m));
    for (const auto& set : in.sets) {
      check_interrupt();
      out.push_back(model_rdm(*in.activations, set, brain, o.model_rdm, o.memory).rdm);
    }
  }
  return out;
}

// The partial activation file read to the fewest rows records them (nothing when none is partial).
void record_partial_rows(const std::vector<ComponentInput>& inputs, const h5::Group& g) {
  const io::ActivationFile* fewest = nullptr;
  for (const auto& in : inputs)
    if (in.activations && in.activations->partial_rows() &&
        (!fewest || *in.activations->partial_rows() < *fewest->partial_rows()))
      fewest = &*in.activations;
  if (fewest) fewest->record_partial_rows(g);
}

void write_vector(const h5::Group& g, const std::string& name, const Eigen::VectorXd& v,
                  const std::string& dim) {
  h5::write_array(g, name, v.data(), {static_cast<std::uint64_t>(v.size())}, {dim});
}

}  // namespace

std::vector<std::string> run_weighted(const WeightedRunOptions& o, const h5::Group& root) {
  const BrainRdms brain = load_brain_rdms(o.brain, {});
  std::vector<ComponentInput> inputs = open_inputs(o, brain);
  check_unique_names(inputs);
  std::vector<std::string> names;
  for (const auto& in : inputs) names.insert(names.end(), in.names.begin(), in.names.end());
  const bool activations = std::any_of(inputs.begin(), inputs.end(), from_activations);
  const std::vector<Eigen::MatrixXd> components = component_rdms(inputs, o, brain);
  if (o.partition && (components.size() < 2 || components.size() > 3))
    throw SettingError("vpa", "variance partitioning takes 2 or 3 component RDMs, got " +
                                  std::to_string(components.size()));
  const WeightedRsa r = weighted_rsa(components, brain.rdms, o.fit);
  auto g = root.require_group("weighted");
  g.set_attr("brain", o.brain);
  if (activations) g.set_attr("model_rdm", std::string(rdm_method_name(o.model_rdm)));
  record_partial_rows(inputs, g);
  g.set_attr("comparison", std::string(stats::correlation_name(o.fit.comparison)));
  g.set_attr("folds", static_cast<std::int64_t>(o.fit.folds));
  g.set_attr("subject_folds", static_cast<std::int64_t>(r.subject_folds));
  g.set_attr("fit", weight_fit_names.name(o.fit.fit));
  g.set_attr("fit_description",
             std::string(o.fit.fit == WeightFit::optimize
                             ? "unit-norm non-negative weights maximising the mean comparison "
                               "with the subjects (rsatoolbox fit_optimize_positive), no intercept"
                             : "non-negative least squares of the mean RDM with an intercept"));
  h5::write_coordinate(g, "component", names);
  write_vector(g, "weights", r.weights, "component");
  h5::write_scalar(g, "intercept", r.intercept);
  h5::write_scalar(g, "objective", r.objective);
  h5::write_scalar(g, "score_cv", r.score);
  write_vector(g, "fold_score", r.fold_score, "fold");
  write_vector(g, "fold_objective", r.fold_objective, "fold");
  std::vector<std::string> lines;
  char line[240];
  std::snprintf(line, sizeof line,
                "weighted RSA of %zu components (%s): %s %.4f fitted, cross-validated %.4f "
                "(%d stimulus x %d subject folds)",
                components.size(), weight_fit_names.name(o.fit.fit).c_str(),
                stats::correlation_name(o.fit.comparison), r.objective, r.score, o.fit.folds,
                r.subject_folds);
  lines.emplace_back(line);
  for (std::size_t k = 0; k < names.size(); ++k) {
    std::snprintf(line, sizeof line, "  weight %-40s %.4f", names[k].c_str(),
                  r.weights[static_cast<Eigen::Index>(k)]);
    lines.emplace_back(line);
  }
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
