#include "localizer/localizer.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <set>
#include <utility>

#include "common/error.hpp"
#include "common/interrupt.hpp"

namespace lrm::localizer {
namespace {

std::string joined(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

// One unordered pair of categories: t of (first − second) and its FDR correction. T vs O and O vs T
// share p-values and so their adjusted p; only the sign of t differs.
struct PairTest {
  std::vector<double> t, df;
  stats::FdrResult fdr;
};

}  // namespace

LayerResult localize(const float* activations, std::int64_t n_stimuli, std::int64_t n_units,
                     const std::vector<std::string>& category, const Options& options,
                     const std::string& what) {
  if (static_cast<std::int64_t>(category.size()) != n_stimuli)
    throw InputError(what + ": " + std::to_string(category.size()) + " category labels for " +
                     std::to_string(n_stimuli) + " stimuli");
  if (n_units < 1) throw InputError(what + ": the layer has no units");
  if (!(options.q > 0.0 && options.q < 1.0))
    throw InputError("--q " + std::to_string(options.q) + " must lie in (0, 1)");
  if (options.ratio && !(*options.ratio > 0.0))
    throw InputError("--ratio " + std::to_string(*options.ratio) + " must be positive");

  LayerResult result;
  const std::set<std::string> unique(category.begin(), category.end());
  result.categories.assign(unique.begin(), unique.end());
  auto index_of = [&](const std::string& name) -> int {
    const auto it = std::lower_bound(result.categories.begin(), result.categories.end(), name);
    if (it == result.categories.end() || *it != name) return -1;
    return static_cast<int>(it - result.categories.begin());
  };
  result.n_images.assign(result.categories.size(), 0);
  for (const auto& c : category) ++result.n_images[index_of(c)];

  const auto targets = options.targets.empty() ? result.categories : options.targets;
  std::vector<std::pair<int, std::vector<int>>> plan;  // target, its comparison categories
  std::vector<std::uint8_t> involved(result.categories.size(), 0);
  for (const auto& target : targets) {
    const int ti = index_of(target);
    if (ti < 0)
      throw InputError(what + ": target category '" + target + "' is not among its categories (" +
                       joined(result.categories) + ")");
    std::vector<int> others;
    for (const auto& other : options.others.empty() ? result.categories : options.others) {
      const int oi = index_of(other);
      if (oi < 0)
        throw InputError(what + ": comparison category '" + other +
                         "' is not among its categories (" + joined(result.categories) + ")");
      if (oi != ti) others.push_back(oi);
    }
    if (others.empty())
      throw InputError(what + ": no category to compare '" + target +
                       "' with (categories: " + joined(result.categories) + ")");
    involved[ti] = 1;
    for (int o : others) involved[o] = 1;
    plan.emplace_back(ti, std::move(others));
  }
  for (std::size_t c = 0; c < result.categories.size(); ++c)
    if (involved[c] && result.n_images[c] < 2)
      throw InputError(what + ": category '" + result.categories[c] + "' has " +
                       std::to_string(result.n_images[c]) +
                       " image(s); a t-test needs at least 2 per category");

  std::vector<int> group(n_stimuli);
  for (std::int64_t r = 0; r < n_stimuli; ++r) {
    const int c = index_of(category[r]);
    group[r] = involved[c] ? c : -1;
  }
  const auto moments = stats::group_moments(activations, n_stimuli, n_units, group,
                                            static_cast<int>(result.categories.size()));
  result.nonfinite = moments.nonfinite;
  for (auto v : moments.nonfinite) {
    result.n_nonfinite += v;
    result.n_units_nonfinite += v > 0;
  }

  // A pair is kept until both of its directions have been reported.
  std::map<std::pair<int, int>, int> uses;
  for (const auto& [ti, others] : plan)
    for (int oi : others) ++uses[{std::min(ti, oi), std::max(ti, oi)}];
  std::map<std::pair<int, int>, std::unique_ptr<PairTest>> pairs;

  for (const auto& [ti, others] : plan) {
    TargetResult tr;
    tr.target = result.categories[ti];
    tr.n_units = n_units;
    tr.n_images = result.n_images[ti];
    const auto n_comparisons = static_cast<std::int64_t>(others.size());
    const std::size_t cells = static_cast<std::size_t>(n_comparisons) * n_units;
    tr.t.resize(cells);
    tr.p_adjusted.resize(cells);
    tr.rejected.resize(cells);
    if (options.ratio) tr.ratio.resize(cells);
    tr.selective.assign(n_units, 1);
    std::vector<std::uint8_t> ratio_pass(options.ratio ? n_units : 0, 1);
    tr.mean_t.assign(n_units, 0.0);
    tr.mean_p_adjusted.assign(n_units, 0.0);
    for (std::int64_t c = 0; c < n_comparisons; ++c) {
      check_interrupt();
      const int oi = others[c];
      tr.others.push_back(result.categories[oi]);
      const std::pair<int, int> key{std::min(ti, oi), std::max(ti, oi)};
      auto& pair = pairs[key];
      if (!pair) {
        pair = std::make_unique<PairTest>();
        pair->t.resize(n_units);
        pair->df.resize(n_units);
        stats::t_statistics(moments, key.first, key.second, options.test, pair->t.data(),
                            pair->df.data());
        pair->fdr =
            stats::fdr_of_t(pair->t.data(), pair->df.data(), n_units, options.fdr, options.q);
      }
      const double sign = ti == key.first ? 1.0 : -1.0;
      double* t = tr.t.data() + c * n_units;
      double* p_adjusted = tr.p_adjusted.data() + c * n_units;
      std::uint8_t* rejected = tr.rejected.data() + c * n_units;
      std::int64_t positive = 0, undefined = 0;
      for (std::int64_t u = 0; u < n_units; ++u) {
        t[u] = sign * pair->t[u];
        p_adjusted[u] = pair->fdr.p_adjusted[u];
        rejected[u] = pair->fdr.rejected[u];
        const bool selective_here = rejected[u] && t[u] > 0.0;
        positive += selective_here;
        undefined += std::isnan(t[u]);
        tr.selective[u] &= selective_here;
        tr.mean_t[u] += t[u];
        tr.mean_p_adjusted[u] += p_adjusted[u];
      }
      tr.n_positive_rejected.push_back(positive);
      tr.n_undefined.push_back(undefined);
      if (options.ratio) {
        const double* mean_t = moments.mean.data() + moments.at(ti, 0);
        const double* mean_o = moments.mean.data() + moments.at(oi, 0);
        double* ratio = tr.ratio.data() + c * n_units;
        for (std::int64_t u = 0; u < n_units; ++u) {
          ratio[u] = mean_t[u] / mean_o[u];
          ratio_pass[u] &= mean_t[u] > 0.0 && mean_t[u] >= *options.ratio * mean_o[u];
        }
      }
      if (--uses[key] == 0) pairs.erase(key);
    }
    for (std::int64_t u = 0; u < n_units; ++u) {
      tr.mean_t[u] /= static_cast<double>(n_comparisons);
      tr.mean_p_adjusted[u] /= static_cast<double>(n_comparisons);
      tr.n_selective_ttest += tr.selective[u];
      if (options.ratio) tr.selective[u] &= ratio_pass[u];
      tr.n_selective += tr.selective[u];
    }
    result.targets.push_back(std::move(tr));
  }
  return result;
}

}  // namespace lrm::localizer
