#include "localizer/localizer.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <set>
#include <utility>

#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "common/text.hpp"

namespace lrm::localizer {
namespace {

// One thread's working memory for testing pairs.
struct Scratch {
  HugePageVector<double> df;
  stats::FdrScratch fdr;
};

// The t-tests and FDR corrections of a design's unordered category pairs (T vs O and O vs T share
// p-values and so their adjusted p; t only changes sign), handed out to threads one pair at a time
// in the order the targets need them.
class PairQueue {
 public:
  PairQueue(const stats::GroupMoments& moments, const Design& design, const Options& options)
      : moments_(moments), options_(options) {
    for (const auto& [ti, others] : design.comparisons) {
      for (int oi : others) {
        const std::pair<int, int> key{std::min(ti, oi), std::max(ti, oi)};
        if (slot_.emplace(key, keys_.size()).second) keys_.push_back(key);
      }
      needed_.push_back(keys_.size());
    }
    const std::size_t cells = keys_.size() * static_cast<std::size_t>(moments.n_units);
    t_.resize(cells);
    p_adjusted_.resize(cells);
    rejected_.resize(cells);
    done_.assign(keys_.size(), 0);
  }
  std::size_t size() const { return keys_.size(); }
  // t of min(a, b) vs max(a, b), adjusted p and rejections of the pair, for every unit.
  const double* t(int a, int b) const { return t_.data() + offset(a, b); }
  const double* p_adjusted(int a, int b) const { return p_adjusted_.data() + offset(a, b); }
  const std::uint8_t* rejected(int a, int b) const { return rejected_.data() + offset(a, b); }

  // Tests the next untested pair; false when none is left or a thread has failed.
  bool test_next(Scratch& scratch) {
    std::size_t i;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (error_ || next_ == keys_.size()) return false;
      i = next_++;
    }
    try {
      const auto [a, b] = keys_[i];
      const auto n = moments_.n_units;
      const auto at = i * static_cast<std::size_t>(n);
      scratch.df.resize(n);
      stats::t_statistics(moments_, a, b, options_.test, t_.data() + at, scratch.df.data());
      stats::fdr_of_t(t_.data() + at, scratch.df.data(), n, options_.fdr, options_.q,
                      p_adjusted_.data() + at, rejected_.data() + at, scratch.fdr);
    } catch (...) {
      fail(std::current_exception());
      return false;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_[i] = 1;
    }
    changed_.notify_all();
    return true;
  }

  // Waits until every pair of the design's k-th target is tested, testing pairs meanwhile; false
  // when a thread has failed.
  bool wait_for_target(std::size_t k, Scratch& scratch) {
    const auto ready = [&] {
      return std::all_of(done_.begin(), done_.begin() + needed_[k], [](auto d) { return d != 0; });
    };
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (error_) return false;
        if (ready()) return true;
      }
      if (!test_next(scratch)) {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock, [&] { return error_ || ready(); });
        return !error_;
      }
    }
  }

  // Marks the targets done, or waits for that (or a failure) asleep rather than spinning at the
  // end of the parallel region while the calling thread writes.
  void finish() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      finished_ = true;
    }
    changed_.notify_all();
  }
  void wait_until_finished() {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return finished_ || error_; });
  }

  void fail(std::exception_ptr e) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = e;
    }
    changed_.notify_all();
  }
  void rethrow() const {
    if (error_) std::rethrow_exception(error_);
  }

 private:
  std::size_t offset(int a, int b) const {
    return slot_.at({std::min(a, b), std::max(a, b)}) * static_cast<std::size_t>(moments_.n_units);
  }
  const stats::GroupMoments& moments_;
  const Options& options_;
  std::vector<std::pair<int, int>> keys_;
  std::map<std::pair<int, int>, std::size_t> slot_;
  std::vector<std::size_t> needed_;        // per target: pairs [0, needed) cover it
  HugePageVector<double> t_, p_adjusted_;  // (pair, unit)
  HugePageVector<std::uint8_t> rejected_;  // (pair, unit)
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::uint8_t> done_;
  std::size_t next_ = 0;
  bool finished_ = false;
  std::exception_ptr error_;
};

// Target `ti` against `others` from the tests of its pairs; `ratio_pass` is scratch space.
void assemble_target(const stats::GroupMoments& moments, const Design& design, int ti,
                     const std::vector<int>& others, const Options& options, const PairQueue& pairs,
                     TargetResult& tr, std::vector<std::uint8_t>& ratio_pass) {
  const std::int64_t n_units = moments.n_units;
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
    const double sign = ti < oi ? 1.0 : -1.0;
    const double* pair_t = pairs.t(ti, oi);
    const double* pair_p_adjusted = pairs.p_adjusted(ti, oi);
    const std::uint8_t* pair_rejected = pairs.rejected(ti, oi);
    double* t = tr.t.data() + c * n_units;
    double* p_adjusted = tr.p_adjusted.data() + c * n_units;
    std::uint8_t* rejected = tr.rejected.data() + c * n_units;
    std::int64_t positive = 0, undefined = 0;
    for (std::int64_t u = 0; u < n_units; ++u) {
      t[u] = sign * pair_t[u];
      p_adjusted[u] = pair_p_adjusted[u];
      rejected[u] = pair_rejected[u];
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
}

}  // namespace

Design make_design(const std::vector<std::string>& category, const Options& options,
                   const std::string& what) {
  if (!(options.q > 0.0 && options.q < 1.0))
    throw SettingError("q", "must lie in (0, 1), not " + std::to_string(options.q));
  if (options.ratio && !(*options.ratio > 0.0))
    throw SettingError("ratio", "must be positive, not " + std::to_string(*options.ratio));
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
                       join(d.categories) + ")");
    std::vector<int> others;
    for (const auto& other : options.others.empty() ? d.categories : options.others) {
      const int oi = index_of(other);
      if (oi < 0)
        throw InputError(what + ": comparison category '" + other +
                         "' is not among its categories (" + join(d.categories) + ")");
      if (oi != ti) others.push_back(oi);
    }
    if (others.empty())
      throw InputError(what + ": no category to compare '" + target +
                       "' with (categories: " + join(d.categories) + ")");
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
  check_interrupt();
  PairQueue pairs(moments, design, options);
  // Thread 0 hands each target to `sink` (which writes it) as soon as its pairs are tested, while
  // the other threads test the remaining pairs; with a single pair its kernels use the threads.
#pragma omp parallel if (pairs.size() > 1)
  {
    Scratch scratch;
    if (omp_get_thread_num() != 0) {
      while (pairs.test_next(scratch)) {
      }
      pairs.wait_until_finished();
    } else {
      try {
        TargetResult tr;
        std::vector<std::uint8_t> ratio_pass;
        for (std::size_t k = 0; k < design.comparisons.size(); ++k) {
          check_interrupt();
          if (!pairs.wait_for_target(k, scratch)) break;
          const auto& [ti, others] = design.comparisons[k];
          assemble_target(moments, design, ti, others, options, pairs, tr, ratio_pass);
          sink(tr);
        }
        pairs.finish();
      } catch (...) {
        pairs.fail(std::current_exception());
      }
    }
  }
  pairs.rethrow();
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
  result.nonfinite.assign(moments.nonfinite.begin(), moments.nonfinite.end());
  for (auto v : moments.nonfinite) {
    result.n_nonfinite += v;
    result.n_units_nonfinite += v > 0;
  }
  localize_moments(moments, design, options,
                   [&](const TargetResult& r) { result.targets.push_back(r); });
  return result;
}

}  // namespace lrm::localizer
