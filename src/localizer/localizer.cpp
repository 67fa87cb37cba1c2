#include "localizer/localizer.hpp"

#include <algorithm>
#include <cmath>
#include <map>
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
  std::vector<double> t;
  stats::FdrResult fdr;
};

void run_pair(const stats::GroupMoments& moments, std::pair<int, int> key, const Options& options,
              PairTest& pair) {
  const auto n = moments.n_units;
  std::vector<double> df(n);
  pair.t.resize(n);
  stats::t_statistics(moments, key.first, key.second, options.test, pair.t.data(), df.data());
  pair.fdr = stats::fdr_of_t(pair.t.data(), df.data(), n, options.fdr, options.q);
}

}  // namespace

Design make_design(const std::vector<std::string>& category, const Options& options,
                   const std::string& what) {
  if (!(options.q > 0.0 && options.q < 1.0))
    throw InputError("--q " + std::to_string(options.q) + " must lie in (0, 1)");
  if (options.ratio && !(*options.ratio > 0.0))
    throw InputError("--ratio " + std::to_string(*options.ratio) + " must be positive");
  Design d;
  const std::set<std::string> unique(category.begin(), category.end());
  d.categories.assign(unique.begin(), unique.end());
  auto index_of = [&](const std::string& name) -> int {
    const auto it = std::lower_bound(d.categories.begin(), d.categories.end(), name);
    if (it == d.categories.end() || *it != name) return -1;
    return static_cast<int>(it - d.categories.begin());
  };
  d.n_images.assign(d.categories.size(), 0);
  for (const auto& c : category) ++d.n_images[index_of(c)];

  std::vector<std::uint8_t> involved(d.categories.size(), 0);
  for (const auto& target : options.targets.empty() ? d.categories : options.targets) {
    const int ti = index_of(target);
    if (ti < 0)
      throw InputError(what + ": target category '" + target + "' is not among its categories (" +
                       joined(d.categories) + ")");
    std::vector<int> others;
    for (const auto& other : options.others.empty() ? d.categories : options.others) {
      const int oi = index_of(other);
      if (oi < 0)
        throw InputError(what + ": comparison category '" + other +
                         "' is not among its categories (" + joined(d.categories) + ")");
      if (oi != ti) others.push_back(oi);
    }
    if (others.empty())
      throw InputError(what + ": no category to compare '" + target +
                       "' with (categories: " + joined(d.categories) + ")");
    involved[ti] = 1;
    for (int o : others) involved[o] = 1;
    d.comparisons.emplace_back(ti, std::move(others));
  }
  for (std::size_t c = 0; c < d.categories.size(); ++c)
    if (involved[c] && d.n_images[c] < 2)
      throw InputError(what + ": category '" + d.categories[c] + "' has " +
                       std::to_string(d.n_images[c]) +
                       " image(s); a t-test needs at least 2 per category");
  for (const auto& c : category) {
    const int g = index_of(c);
    d.group.push_back(involved[g] ? g : -1);
  }
  return d;
}

void localize_moments(const stats::GroupMoments& moments, const Design& design,
                      const Options& options,
                      const std::function<void(const TargetResult&)>& sink) {
  const std::int64_t n_units = moments.n_units;
  std::map<std::pair<int, int>, PairTest> pairs;
  for (const auto& [ti, others] : design.comparisons)
    for (int oi : others) pairs[{std::min(ti, oi), std::max(ti, oi)}];
  std::vector<std::pair<const std::pair<int, int>, PairTest>*> work;
  for (auto& entry : pairs) work.push_back(&entry);
  check_interrupt();
  // One pair per thread; with a single pair its kernels use the threads instead.
  const auto n_pairs = static_cast<std::int64_t>(work.size());
#pragma omp parallel for schedule(dynamic, 1) if (n_pairs > 1)
  for (std::int64_t i = 0; i < n_pairs; ++i)
    run_pair(moments, work[i]->first, options, work[i]->second);
  check_interrupt();

  TargetResult tr;
  std::vector<std::uint8_t> ratio_pass;
  for (const auto& [ti, others] : design.comparisons) {
    tr.target = design.categories[ti];
    tr.others.clear();
    tr.n_units = n_units;
    tr.n_images = design.n_images[ti];
    const auto n_comparisons = static_cast<std::int64_t>(others.size());
    const std::size_t cells = static_cast<std::size_t>(n_comparisons) * n_units;
    tr.t.resize(cells);
    tr.p_adjusted.resize(cells);
    tr.rejected.resize(cells);
    tr.ratio.resize(options.ratio ? cells : 0);
    tr.selective.assign(n_units, 1);
    ratio_pass.assign(options.ratio ? n_units : 0, 1);
    tr.mean_t.assign(n_units, 0.0);
    tr.mean_p_adjusted.assign(n_units, 0.0);
    tr.n_positive_rejected.clear();
    tr.n_undefined.clear();
    tr.n_selective = tr.n_selective_ttest = 0;
    for (std::int64_t c = 0; c < n_comparisons; ++c) {
      const int oi = others[c];
      tr.others.push_back(design.categories[oi]);
      const std::pair<int, int> key{std::min(ti, oi), std::max(ti, oi)};
      const auto& pair = pairs.at(key);
      const double sign = ti == key.first ? 1.0 : -1.0;
      double* t = tr.t.data() + c * n_units;
      double* p_adjusted = tr.p_adjusted.data() + c * n_units;
      std::uint8_t* rejected = tr.rejected.data() + c * n_units;
      std::int64_t positive = 0, undefined = 0;
      for (std::int64_t u = 0; u < n_units; ++u) {
        t[u] = sign * pair.t[u];
        p_adjusted[u] = pair.fdr.p_adjusted[u];
        rejected[u] = pair.fdr.rejected[u];
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
    }
    for (std::int64_t u = 0; u < n_units; ++u) {
      tr.mean_t[u] /= static_cast<double>(n_comparisons);
      tr.mean_p_adjusted[u] /= static_cast<double>(n_comparisons);
      tr.n_selective_ttest += tr.selective[u];
      if (options.ratio) tr.selective[u] &= ratio_pass[u];
      tr.n_selective += tr.selective[u];
    }
    sink(tr);
  }
}

LayerResult localize(const float* activations, std::int64_t n_stimuli, std::int64_t n_units,
                     const std::vector<std::string>& category, const Options& options,
                     const std::string& what) {
  if (static_cast<std::int64_t>(category.size()) != n_stimuli)
    throw InputError(what + ": " + std::to_string(category.size()) + " category labels for " +
                     std::to_string(n_stimuli) + " stimuli");
  if (n_units < 1) throw InputError(what + ": the layer has no units");
  const auto design = make_design(category, options, what);
  const auto moments = stats::group_moments(activations, n_stimuli, n_units, design.group,
                                            static_cast<int>(design.categories.size()));
  LayerResult result;
  result.categories = design.categories;
  result.n_images = design.n_images;
  result.nonfinite = moments.nonfinite;
  for (auto v : moments.nonfinite) {
    result.n_nonfinite += v;
    result.n_units_nonfinite += v > 0;
  }
  localize_moments(moments, design, options,
                   [&](const TargetResult& r) { result.targets.push_back(r); });
  return result;
}

}  // namespace lrm::localizer
