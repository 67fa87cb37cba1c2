#pragma once
// Two-sample t-tests as scipy.stats.ttest_ind computes them (two-sided), vectorised over units:
// the moments of every group for every unit come from one pass over a stimuli × units matrix; and
// the paired t-test of scipy.stats.ttest_rel.
#include <cstdint>
#include <functional>
#include <vector>

#include "common/huge_pages.hpp"

namespace lrm::stats {

enum class TTestKind { student, welch };

// Count, mean and sum of squared deviations of each group for each unit, over finite values only.
struct GroupMoments {
  std::int64_t n_groups = 0, n_units = 0;
  HugePageVector<std::int32_t> count;      // (group, unit)
  HugePageVector<double> mean;             // (group, unit)
  HugePageVector<double> sum_sq_dev;       // (group, unit)
  HugePageVector<std::int64_t> nonfinite;  // (unit) NaN/inf values left out of that unit's tests
  std::int64_t at(int g, std::int64_t unit) const { return g * n_units + unit; }
};

// Accumulates GroupMoments over batches of rows, so a stimuli × units matrix can stream from a file
// through reused buffers. Within a batch each cache-sized block of units is read twice (means,
// then squared deviations, as numpy's var); batches merge with Chan et al.'s pairwise update, which
// keeps the variance as accurate. Parallel over unit blocks.
class MomentAccumulator {
 public:
  MomentAccumulator(std::int64_t n_units, int n_groups);
  // `group[r]` is the group of row r of this batch, or −1 to leave the row out.
  void add(const float* rows, std::int64_t n_rows, const int* group);
  void add(const double* rows, std::int64_t n_rows, const int* group);
  // Reads `n_rows` rows batch by batch with `read(first, count, out)` into alternating buffers of
  // `batch` rows, `out` pointing at row `first`'s place. Each batch is read in pieces of `piece`
  // rows (0: the whole batch at once) that all threads claim, several at a time, while they sum
  // the previous batch: `read` must be safe to call concurrently for different rows. `group`
  // labels all `n_rows` rows; an exception from `read` is rethrown.
  using BatchReader = std::function<void(std::int64_t first, std::int64_t count, float* out)>;
  void add_streamed(std::int64_t n_rows, std::int64_t batch, const int* group, float* buffer0,
                    float* buffer1, const BatchReader& read, std::int64_t piece = 0);
  // A group without finite values in a unit has mean and squared deviations NaN.
  const GroupMoments& moments();
  GroupMoments take();

 private:
  template <typename T>
  void add_batch(const T* rows, std::int64_t n_rows, const int* group);
  // Sets mean and squared deviations where a group has no values: NaN when handed out, 0 while
  // accumulating (so that merging needs no special case and vectorises).
  void set_empty(double value);
  GroupMoments m_;
  bool handed_out_ = false;
};

// The moments of a whole matrix (one batch of the accumulator).
GroupMoments group_moments(const float* data, std::int64_t n_rows, std::int64_t n_units,
                           const std::vector<int>& group, int n_groups);
GroupMoments group_moments(const double* data, std::int64_t n_rows, std::int64_t n_units,
                           const std::vector<int>& group, int n_groups);

struct TStatistic {
  double t, df;
};

// t of group 1 vs group 2 from their moments, with scipy's formulas and edge cases: fewer than two
// values in a group or no variance and equal means → t = NaN; unequal means without variance →
// ±inf.
TStatistic t_statistic(std::int64_t n1, double mean1, double sum_sq_dev1, std::int64_t n2,
                       double mean2, double sum_sq_dev2, TTestKind kind);

// Two-sided p = 2·sf(|t|) of Student's t with df degrees of freedom (Boost.Math, computed in the
// complement for precision). NaN t → NaN; infinite t → 0.
double t_pvalue(double t, double df);
// The |t| whose two-sided p is `p`, with df degrees of freedom.
double t_critical(double p, double df);

// t and df of group a vs group b for every unit.
void t_statistics(const GroupMoments& m, int a, int b, TTestKind kind, double* t, double* df);

struct TTestResult {
  std::vector<double> t, df, p;
};
// Group a vs group b for every unit, p-values included (parallel over units).
TTestResult ttest_ind(const GroupMoments& m, int a, int b, TTestKind kind);

struct TTest {
  double t, df, p;
};
// Two samples; NaN/inf values are left out.
TTest ttest_ind(const std::vector<double>& a, const std::vector<double>& b, TTestKind kind);

// The hypothesis tested against: mean difference ≠ 0, < 0 or > 0 (scipy's `alternative`).
enum class Alternative { two_sided, less, greater };
// Pairs holding a NaN: make the result NaN, or are left out (scipy's `nan_policy`).
enum class NanPolicy { propagate, omit };

// Paired t-test of a − b (equal lengths) as scipy.stats.ttest_rel: t = mean(d)/(sd(d)/√n) with
// df = n − 1. No variance gives t = NaN for a zero mean difference and ±inf otherwise (p = 0 or 1);
// fewer than two pairs give NaN.
TTest ttest_rel(const std::vector<double>& a, const std::vector<double>& b,
                Alternative alternative = Alternative::two_sided,
                NanPolicy nan_policy = NanPolicy::propagate);

}  // namespace lrm::stats
