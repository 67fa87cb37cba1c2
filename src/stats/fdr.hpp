#pragma once
// False discovery rate control exactly as statsmodels' multipletests computes it: p-values sorted
// ascending (NaN last) with ranks r = 1..n; BH factor r/n, BY factor (r/n)/c_n with c_n = Σ 1/k;
// adjusted p = running minimum of p/factor from the largest rank down, capped at 1; ranks 1..k are
// rejected, k the largest r with p ≤ α·factor.
#include <cstdint>
#include <utility>
#include <vector>

#include "common/huge_pages.hpp"
#include "common/names.hpp"

namespace lrm::stats {

enum class FdrMethod { bh, by };  // Benjamini–Hochberg; Benjamini–Yekutieli (any dependence)
inline const Names<FdrMethod> fdr_method_names{{"bh", FdrMethod::bh}, {"by", FdrMethod::by}};

struct FdrResult {
  std::vector<double> p_adjusted;
  std::vector<std::uint8_t> rejected;
};

// Σ_{k=1..n} 1/k, summed from the smallest term up so no term is lost.
double harmonic_number(std::int64_t n);

// statsmodels' rules: NaN counts in n, sorts last and is never rejected, and (numpy's running
// minimum propagating it) makes every adjusted value NaN.
FdrResult fdr(const std::vector<double>& p, FdrMethod method, double alpha);

// The same correction for the two-sided p-values of t statistics, with p evaluated only where an
// adjusted value can fall below 1. For BY every unit with p ≥ 1/c_n has adjusted p = 1, and since
// the t tail grows as df falls, |t| ≤ t* (the critical value for the largest df) implies p ≥ 1/c_n:
// only units beyond t* need the incomplete beta function. With one df for every unit (Student's
// test without missing values) p follows |t|, and only the ranks up to the last one whose p can
// give an adjusted p below 1 need it, for BH too. Undefined t (NaN: a constant unit) counts in n as
// p = 1 — no evidence — so it is never rejected and leaves the others' adjusted p exact
// (statsmodels would turn them all NaN); its own adjusted p is NaN.
FdrResult fdr_of_t(const double* t, const double* df, std::int64_t n, FdrMethod method,
                   double alpha);
// Working memory of fdr_of_t, kept between calls of one thread (fresh memory costs page faults).
struct FdrScratch {
  HugePageVector<std::pair<double, std::int64_t>> sorted, spare;
};
// The same into the caller's arrays of n values.
void fdr_of_t(const double* t, const double* df, std::int64_t n, FdrMethod method, double alpha,
              double* p_adjusted, std::uint8_t* rejected, FdrScratch& scratch);

}  // namespace lrm::stats
