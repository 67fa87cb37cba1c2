#include "compare/encoding.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>

#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "compare/id_split.hpp"
#include "compare/model_share.hpp"
#include "compare/resampling.hpp"
#include "compare/ridge_cv.hpp"
#include "stats/correlation.hpp"

namespace lrm::compare {
namespace {

double nan_median(const Eigen::VectorXd& v) {
  std::vector<double> finite;
  for (double x : v)
    if (std::isfinite(x)) finite.push_back(x);
  return finite.empty() ? std::nan("") : percentile(finite, 50);
}

}  // namespace

std::vector<Split> stratified_shuffle_splits(Eigen::Index n,
                                             const std::vector<std::string>& categories,
                                             int n_splits, double test_fraction,
                                             std::uint64_t seed) {
  if (n_splits < 1) throw SettingError("splits", "must be at least 1");
  if (!(test_fraction > 0 && test_fraction < 1))
    throw SettingError("test-fraction", "must be in (0, 1)");
  if (!categories.empty() && static_cast<Eigen::Index>(categories.size()) != n)
    throw InputError("a category per stimulus is needed for stratified splits");
  std::map<std::string, Rows> groups;
  for (Eigen::Index i = 0; i < n; ++i) groups[categories.empty() ? "" : categories[i]].push_back(i);
  Resampler rng(seed);
  std::vector<Split> splits;
  for (int s = 0; s < n_splits; ++s) {
    Split split;
    for (auto& [name, members] : groups) {
      Rows shuffled = members;
      rng.shuffle(shuffled);
      auto n_test = static_cast<std::size_t>(
          std::llround(test_fraction * static_cast<double>(members.size())));
      if (members.size() >= 2)
        n_test = std::clamp<std::size_t>(n_test, 1, members.size() - 1);
      else
        n_test = 0;
      split.test.insert(split.test.end(), shuffled.begin(),
                        shuffled.begin() + static_cast<std::ptrdiff_t>(n_test));
      split.train.insert(split.train.end(), shuffled.begin() + static_cast<std::ptrdiff_t>(n_test),
                         shuffled.end());
    }
    std::sort(split.train.begin(), split.train.end());
    std::sort(split.test.begin(), split.test.end());
    if (split.test.size() < 3)
      throw InputError("a test split needs at least 3 stimuli; there are too few stimuli (" +
                       std::to_string(n) + ")");
    splits.push_back(std::move(split));
  }
  return splits;
}

namespace {

// One split's held-out predictions and the penalties its regression chose for them.
struct SplitFit {
  Eigen::MatrixXd prediction;
  Eigen::MatrixXd penalty;  // kept as Penalties says: 1 x neuroid, or group x neuroid
};
using SplitFitter =
    std::function<SplitFit(std::size_t s, const Split& split, const Eigen::MatrixXd& y_train)>;

// Which penalties a metric reports: none, ridgecv's per neuroid, or banded's per group and neuroid.
enum class Penalties { none, per_neuroid, per_group };

void check_responses(const ResponseRows& responses, Eigen::Index n) {
  if (responses.rows() != n) throw InputError("responses and model rows differ in stimuli");
  if (!responses.all_finite())
    throw InputError(
        "neural responses contain NaN after averaging repetitions (a stimulus without any valid "
        "repetition for some neuroid)");
}

std::vector<Split> splits_of(Eigen::Index n, const std::vector<std::string>& categories,
                             const PredictivityOptions& o) {
  return o.fixed_splits.empty()
             ? stratified_shuffle_splits(n, categories, o.splits, o.test_fraction, o.seed)
             : o.fixed_splits;
}

bool fits_split(const PredictivityOptions& o, std::size_t s) {
  return static_cast<int>(s % static_cast<std::size_t>(o.split_ranks)) == o.split_rank;
}

// Each of this rank's splits fitted on its neuroids: Pearson r per split and neuroid of the
// held-out predictions, the penalties kept, and (when this rank fits everything) their summary.
Predictivity cross_validate(const ResponseRows& responses, const std::vector<Split>& splits,
                            const PredictivityOptions& o, Penalties kept, int components,
                            const SplitFitter& fit) {
  const auto n_splits = static_cast<Eigen::Index>(splits.size());
  Predictivity out;
  out.r = Eigen::MatrixXd::Constant(n_splits, responses.cols(), std::nan(""));
  out.components_used = components;
  if (kept == Penalties::per_neuroid)
    out.penalty = Eigen::MatrixXd::Constant(n_splits, responses.cols(), std::nan(""));
  if (kept == Penalties::per_group) out.group_penalty.resize(splits.size());
  const auto cols = fitted_neuroids(o, responses.cols());
  const auto first = static_cast<Eigen::Index>(cols.begin),
             m = static_cast<Eigen::Index>(cols.size());
  for (std::size_t s = 0; s < splits.size(); ++s) {
    if (!fits_split(o, s) || m == 0) continue;  // m == 0: a rank left without neuroids
    check_interrupt();
    SplitFit f = fit(s, splits[s], responses.take(splits[s].train, first, m));
    const auto row = static_cast<Eigen::Index>(s);
    out.r.row(row).segment(first, m) =
        stats::pearson_columns(f.prediction, responses.take(splits[s].test, first, m)).transpose();
    if (kept == Penalties::per_neuroid) out.penalty.row(row).segment(first, m) = f.penalty;
    if (kept == Penalties::per_group) out.group_penalty[s] = std::move(f.penalty);
  }
  if (o.split_ranks == 1 && o.neuroid_ranks == 1) summarise_predictivity(out);
  return out;
}

std::vector<double> alphas_or_default(const std::vector<double>& alphas) {
  return alphas.empty() ? default_alphas() : alphas;
}

}  // namespace

void summarise_predictivity(Predictivity& out) {
  out.median_per_split.resize(out.r.rows());
  for (Eigen::Index s = 0; s < out.r.rows(); ++s)
    out.median_per_split[s] = nan_median(out.r.row(s).transpose());
  out.undefined_neuroids = 0;
  for (Eigen::Index j = 0; j < out.r.cols(); ++j)
    if (!out.r.col(j).allFinite()) ++out.undefined_neuroids;
  if (!out.median_per_split.allFinite())
    throw InputError(
        "no neuroid has a defined held-out correlation (constant responses or predictions)");
  const auto k = static_cast<double>(out.r.rows());
  out.score = out.median_per_split.mean();
  out.error =
      std::sqrt((out.median_per_split.array() - out.score).square().sum() / k) / std::sqrt(k);
}

Predictivity neural_predictivity(const FeatureMatrix& x, const Rows& model_rows,
                                 const ResponseRows& responses,
                                 const std::vector<std::string>& categories,
                                 const PredictivityOptions& options) {
  const auto n = static_cast<Eigen::Index>(model_rows.size());
  check_responses(responses, n);
  int components = options.pls_components;
  if (options.regression == Regression::pls && x.cols() < components)
    throw SettingError("pls-components", "the layer has " + std::to_string(x.cols()) +
                                             " features, fewer than the " +
                                             std::to_string(components) + " PLS components");
  const auto splits = splits_of(n, categories, options);
  const auto model = [&](const Rows& stimuli) {
    Rows rows;
    for (auto i : stimuli) rows.push_back(model_rows[i]);
    return rows;
  };
  if (options.regression != Regression::pls) {
    const bool cv = options.regression == Regression::ridgecv;
    return cross_validate(
        responses, splits, options, cv ? Penalties::per_neuroid : Penalties::none, components,
        [&](std::size_t, const Split& split, const Eigen::MatrixXd& y_train) {
          if (cv) {
            auto fit = ridge_cv_predict(x, model(split.train), model(split.test), y_train,
                                        alphas_or_default(options.alphas));
            return SplitFit{std::move(fit.prediction), fit.penalty.transpose()};
          }
          const auto fit =
              fit_regression(options.regression, x, model(split.train), y_train, components);
          return SplitFit{fit.predict(x, model(split.test)), {}};
        });
  }
  std::vector<Split> mine;  // this rank's splits, in order
  for (std::size_t s = 0; s < splits.size(); ++s)
    if (fits_split(options, s)) mine.push_back(splits[s]);
  PlsCrossValidation pls;
  if (!mine.empty())
    pls = cross_validate_pls(x, model_rows, responses.matrix(), mine, {components, 500, 1e-6});
  for (int used : pls.components_used) components = std::min(components, used);
  return cross_validate(
      responses, splits, options, Penalties::none, components,
      [&](std::size_t s, const Split&, const Eigen::MatrixXd&) {
        return SplitFit{
            std::move(pls.prediction[s / static_cast<std::size_t>(options.split_ranks)]), {}};
      });
}

Predictivity neural_predictivity_gram(const Eigen::MatrixXd& gram, const ResponseRows& responses,
                                      const std::vector<std::string>& categories,
                                      const PredictivityOptions& options) {
  check_responses(responses, gram.rows());
  const bool cv = options.regression == Regression::ridgecv;
  return cross_validate(
      responses, splits_of(gram.rows(), categories, options), options,
      cv ? Penalties::per_neuroid : Penalties::none, options.pls_components,
      [&](std::size_t, const Split& split, const Eigen::MatrixXd& y_train) {
        if (!cv)
          return SplitFit{
              kernel_predict(options.regression, gram, split.train, split.test, y_train), {}};
        auto fit = ridge_cv_kernel(gram, split.train, split.test, y_train,
                                   alphas_or_default(options.alphas));
        return SplitFit{std::move(fit.prediction), fit.penalty.transpose()};
      });
}

Predictivity neural_predictivity_banded(const std::vector<Eigen::MatrixXd>& grams,
                                        const ResponseRows& responses,
                                        const std::vector<std::string>& categories,
                                        const PredictivityOptions& options) {
  check_responses(responses, grams.at(0).rows());
  BandedRidgeOptions banded;
  banded.alphas = alphas_or_default(options.alphas);
  banded.n_iter = options.n_iter;
  banded.seed = options.seed;
  return cross_validate(
      responses, splits_of(grams[0].rows(), categories, options), options, Penalties::per_group, 0,
      [&](std::size_t, const Split& split, const Eigen::MatrixXd& y_train) {
        auto fit = banded_ridge_kernel(grams, split.train, split.test, y_train, banded);
        return SplitFit{std::move(fit.prediction), std::move(fit.penalty)};
      });
}

InternalConsistency internal_consistency(const io::NeuralResponses& responses, int halvings,
                                         std::uint64_t seed) {
  const auto n_stim = static_cast<Eigen::Index>(responses.stimulus_ids.size());
  const Eigen::Index n_neur = responses.presentations.cols();
  std::vector<Rows> presentations(static_cast<std::size_t>(n_stim));
  for (std::size_t p = 0; p < responses.stimulus_of.size(); ++p)
    presentations[static_cast<std::size_t>(responses.stimulus_of[p])].push_back(
        static_cast<Eigen::Index>(p));
  std::size_t repeated = 0;
  for (const auto& p : presentations) repeated += p.size() >= 2;
  if (repeated < 3)
    throw InputError(
        responses.source +
        ": the internal-consistency ceiling needs repeated presentations of at least 3 stimuli");
  if (halvings < 1) throw SettingError("halvings", "must be at least 1");
  Resampler rng(seed);
  InternalConsistency ic;
  ic.halvings = halvings;
  ic.per_halving.resize(halvings);
  Eigen::MatrixXd per(halvings, n_neur);
  // Neuroids in blocks: the halves of all neuroids at once would be two stimulus x neuroid
  // matrices (4.3 GB at NSD's 9,000 stimuli x 30,000 voxels).
  constexpr Eigen::Index block = 1024;
  for (int h = 0; h < halvings; ++h) {
    std::vector<Rows> order = presentations;
    for (auto& o : order) rng.shuffle(o);
    for (Eigen::Index first = 0; first < n_neur; first += block) {
      const Eigen::Index width = std::min(block, n_neur - first);
      Eigen::MatrixXd half_a = Eigen::MatrixXd::Constant(n_stim, width, std::nan(""));
      Eigen::MatrixXd half_b = half_a;
      for (Eigen::Index s = 0; s < n_stim; ++s) {
        const Rows& o = order[static_cast<std::size_t>(s)];
        const std::size_t half = o.size() / 2;
        for (Eigen::Index j = 0; j < width; ++j) {
          double sa = 0, sb = 0;
          int ca = 0, cb = 0;
          for (std::size_t i = 0; i < o.size(); ++i) {
            const double v = responses.presentations(o[i], first + j);
            if (!std::isfinite(v)) continue;
            if (i < half)
              sa += v, ++ca;
            else
              sb += v, ++cb;
          }
          if (ca) half_a(s, j) = sa / ca;
          if (cb) half_b(s, j) = sb / cb;
        }
      }
      for (Eigen::Index j = 0; j < width; ++j) {
        std::vector<double> a, b;
        for (Eigen::Index s = 0; s < n_stim; ++s)
          if (std::isfinite(half_a(s, j)) && std::isfinite(half_b(s, j)))
            a.push_back(half_a(s, j)), b.push_back(half_b(s, j));
        const double r =
            a.size() >= 3 ? stats::pearson(stats::as_vector(a), stats::as_vector(b)) : std::nan("");
        per(h, first + j) = 2 * r / (1 + r);
      }
    }
    ic.per_halving[h] = nan_median(per.row(h).transpose());
  }
  ic.per_neuroid = per.colwise().mean().transpose();
  for (Eigen::Index j = 0; j < n_neur; ++j)
    if (!std::isfinite(ic.per_neuroid[j])) ++ic.undefined_neuroids;
  if (!ic.per_halving.allFinite())
    throw InputError(responses.source +
                     ": no neuroid has a defined split-half consistency (constant responses?)");
  ic.ceiling = ic.per_halving.mean();
  return ic;
}

CeiledScore ceil_score(double raw, double ceiling) {
  CeiledScore s;
  s.raw = raw;
  s.ceiling = ceiling;
  s.ceiled = raw / ceiling;
  s.ceiled_squared = s.ceiled * s.ceiled;
  s.explained_variance_ceiled = raw * raw / ceiling;
  return s;
}

EncodingBenchmark::EncodingBenchmark(io::NeuralResponses responses, PredictivityOptions metric,
                                     int halvings)
    : responses_(std::move(responses)), metric_(metric) {
  ceiling_ = internal_consistency(responses_, halvings, metric_.seed);
  // The ceiling was the single presentations' last use (2.4 GB of NSD-size betas).
  responses_.presentations.resize(0, 0);
}

io::StimulusJoin EncodingBenchmark::join(const std::vector<std::string>& model_ids,
                                         const std::string& model_name) const {
  return io::join_stimuli(model_ids, model_name, responses_.stimulus_ids, responses_.source);
}

PredictivityOptions EncodingBenchmark::metric_for(const io::StimulusJoin& join) const {
  PredictivityOptions metric = metric_;
  if (!metric.test_ids.empty())
    metric.fixed_splits = {split_by_ids(join.ids, metric.test_ids, "test ids")};
  return metric;
}

EncodingBenchmark::Joined EncodingBenchmark::joined(const io::StimulusJoin& join) const {
  Joined j{ResponseRows(responses_.mean, join.brain_rows), {}};
  if (!responses_.categories.empty())
    for (const auto row : join.brain_rows) j.categories.push_back(responses_.categories[row]);
  return j;
}

EncodingBenchmark::Result EncodingBenchmark::scored(const io::StimulusJoin& join,
                                                    const JoinedPredictivity& predictivity) const {
  const auto j = joined(join);
  Result r;
  r.predictivity = predictivity(j, metric_for(join));
  r.score = ceil_score(r.predictivity.score, ceiling_.ceiling);
  return r;
}

EncodingBenchmark::Result EncodingBenchmark::score(const FeatureMatrix& x,
                                                   const std::vector<std::string>& model_ids,
                                                   const std::string& model_name) const {
  const auto stimuli = join(model_ids, model_name);
  return scored(stimuli, [&](const Joined& j, const PredictivityOptions& metric) {
    return neural_predictivity(x, stimuli.model_rows, j.y, j.categories, metric);
  });
}

EncodingBenchmark::Result EncodingBenchmark::score_gram(const Eigen::MatrixXd& gram,
                                                        const io::StimulusJoin& stimuli) const {
  return scored(stimuli, [&](const Joined& j, const PredictivityOptions& metric) {
    return neural_predictivity_gram(gram, j.y, j.categories, metric);
  });
}

EncodingBenchmark::Result EncodingBenchmark::score_banded(const std::vector<Eigen::MatrixXd>& grams,
                                                          const io::StimulusJoin& stimuli) const {
  return scored(stimuli, [&](const Joined& j, const PredictivityOptions& metric) {
    return neural_predictivity_banded(grams, j.y, j.categories, metric);
  });
}

}  // namespace lrm::compare
