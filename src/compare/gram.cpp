#include "compare/gram.hpp"

#include <cblas.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <numeric>

#include "common/error.hpp"
#include "common/interrupt.hpp"

namespace lrm::compare {
namespace {

// Features per product: the order of every sum, fixed so that results do not depend on blocks;
// long enough that adding each product into the double Gram costs little beside it.
constexpr Eigen::Index feature_chunk = 4096;
// Rows whose mean is the shift of GramKind::shifted.
constexpr Eigen::Index shift_rows = 64;
// Stimuli per tile of the single-precision products: tiles start at multiples of it and blocks and
// batches hold whole tiles, so every product has the same shape (OpenBLAS picks its kernels, and
// so its rounding, by shape) and a correlation RDM does not depend on the budget. Smaller only
// when the budget cannot hold two such tiles.
constexpr Eigen::Index tile_rows = 256;

// Checks a row and, for correlations, centres and scales it in place (mean and norm in double).
void prepare_row(float* row, Eigen::Index p, GramKind kind, const RowSource& source, Eigen::Index i,
                 const std::string& what) {
  double sum = 0;
  for (Eigen::Index j = 0; j < p; ++j) sum += row[j];
  if (!std::isfinite(sum))
    for (Eigen::Index j = 0; j < p; ++j)
      if (!std::isfinite(row[j]))
        throw InputError(what + " has NaN or infinite activations (" + source.row_name(i) + ")");
  if (kind != GramKind::correlation) return;
  const double mean = sum / static_cast<double>(p);
  double ss = 0;
  for (Eigen::Index j = 0; j < p; ++j) ss += (row[j] - mean) * (row[j] - mean);
  if (!(ss > 0))
    throw InputError(what + ": " + source.row_name(i) +
                     " has constant features, so its correlation distance is undefined");
  const double scale = 1.0 / std::sqrt(ss);
  for (Eigen::Index j = 0; j < p; ++j) row[j] = static_cast<float>((row[j] - mean) * scale);
}

// Rows [first, first + count), prepared (parallel over rows): where they lie when the source
// lends them, else read into `buffer`.
float* load_rows(const RowSource& source, Eigen::Index first, Eigen::Index count, float* buffer,
                 GramKind kind, const std::string& what) {
  float* out = source.rows_in_place(first, count);
  if (!out) source.read(first, count, out = buffer);
  const Eigen::Index p = source.cols();
  std::exception_ptr error;
#pragma omp parallel for schedule(dynamic, 1)
  for (Eigen::Index i = 0; i < count; ++i) {
    try {
      prepare_row(out + i * p, p, kind, source, first + i, what);
    } catch (...) {
#pragma omp critical(lrm_gram_row_error)
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
  return out;
}

struct Block {
  const float* rows;
  Eigen::Index first, count;
};

// Scratch of one product: the chunk's single-precision product, or the chunk's shifted rows in
// double.
struct Scratch {
  std::vector<float> product;
  std::vector<double> a, b;
};

// The feature chunk [c0, c0 + f) of a block's rows minus the shift, in double (row-major, f wide).
// On this thread: it runs once per chunk between BLAS calls, where OpenMP threads left spinning
// after each region took the cores from BLAS's own threads (2.7x slower on 2 cores).
void shifted_chunk(const Block& x, Eigen::Index p, Eigen::Index c0, Eigen::Index f,
                   const Eigen::VectorXd& shift, std::vector<double>& out) {
  out.resize(static_cast<std::size_t>(x.count * f));
  for (Eigen::Index i = 0; i < x.count; ++i)
    for (Eigen::Index k = 0; k < f; ++k)
      out[i * f + k] = static_cast<double>(x.rows[i * p + c0 + k]) - shift[c0 + k];
}

// out (col-major, leading dimension ld) += the single-precision products of the ta rows at a with
// the tb rows at b over f features (row stride p); the upper triangle only when `triangle`.
void add_tile(const float* a, const float* b, int ta, int tb, int f, int p, bool triangle,
              double* out, int ld, std::vector<float>& product) {
  product.resize(static_cast<std::size_t>(ta) * tb);
  float* prod = product.data();
  if (triangle)
    cblas_ssyrk(CblasColMajor, CblasUpper, CblasTrans, ta, f, 1.0f, a, p, 0.0f, prod, ta);
  else
    cblas_sgemm(CblasColMajor, CblasTrans, CblasNoTrans, ta, tb, f, 1.0f, a, p, b, p, 0.0f, prod,
                ta);
  // On this thread: a tile's sums are little beside its product, and OpenMP threads spinning
  // between BLAS calls would take the cores from BLAS's own threads.
  for (int j = 0; j < tb; ++j) {
    double* col = out + static_cast<std::size_t>(j) * ld;
    const float* from = prod + static_cast<std::size_t>(j) * ta;
    const int end = triangle ? j + 1 : ta;
    for (int i = 0; i < end; ++i) col[i] += from[i];
  }
}

// g[a, b] += the products of a's rows with b's, chunk by chunk (a == b: the upper triangle);
// single-precision products tile by tile.
void add_products(const Block& a, const Block& b, Eigen::Index p, GramKind kind, Eigen::Index tile,
                  const Eigen::VectorXd& shift, Eigen::MatrixXd& g, Scratch& s) {
  const bool diagonal = a.rows == b.rows;
  const int ra = static_cast<int>(a.count), rb = static_cast<int>(b.count);
  const int ld = static_cast<int>(g.rows());
  for (Eigen::Index c0 = 0; c0 < p; c0 += feature_chunk) {
    check_interrupt();
    const Eigen::Index f = std::min(feature_chunk, p - c0);
    const int fi = static_cast<int>(f), pi = static_cast<int>(p);
    if (kind == GramKind::shifted) {
      double* out = &g(a.first, b.first);
      shifted_chunk(a, p, c0, f, shift, s.a);
      if (diagonal) {
        cblas_dsyrk(CblasColMajor, CblasUpper, CblasTrans, ra, fi, 1.0, s.a.data(), fi, 1.0, out,
                    ld);
        continue;
      }
      shifted_chunk(b, p, c0, f, shift, s.b);
      cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, ra, rb, fi, 1.0, s.a.data(), fi,
                  s.b.data(), fi, 1.0, out, ld);
      continue;
    }
    for (Eigen::Index i = 0; i < a.count; i += tile) {
      const int ti = static_cast<int>(std::min(tile, a.count - i));
      for (Eigen::Index j = diagonal ? i : 0; j < b.count; j += tile) {
        const int tj = static_cast<int>(std::min(tile, b.count - j));
        add_tile(a.rows + i * p + c0, b.rows + j * p + c0, ti, tj, fi, pi, diagonal && i == j,
                 &g(a.first + i, b.first + j), ld, s.product);
      }
    }
  }
}

// The mean of the first rows (read through `buffer` of `capacity` rows), summed in row order.
Eigen::VectorXd first_rows_mean(const RowSource& source, float* buffer, Eigen::Index capacity,
                                const std::string& what) {
  const Eigen::Index p = source.cols(), m = std::min(shift_rows, source.rows());
  Eigen::VectorXd sum = Eigen::VectorXd::Zero(p);
  for (Eigen::Index first = 0; first < m; first += capacity) {
    const Eigen::Index count = std::min(capacity, m - first);
    const float* rows = load_rows(source, first, count, buffer, GramKind::shifted, what);
    for (Eigen::Index i = 0; i < count; ++i)
      sum += Eigen::Map<const Eigen::VectorXf>(rows + i * p, p).cast<double>();
  }
  return sum / static_cast<double>(m);
}

// Bytes of a block pair: rows of both, and their scratch.
std::int64_t pair_bytes(Eigen::Index outer, Eigen::Index inner, Eigen::Index p, GramKind kind) {
  const std::int64_t rows = outer + inner;
  const std::int64_t scratch = kind == GramKind::correlation
                                   ? std::int64_t{4} * outer * std::max(outer, inner)
                                   : std::int64_t{8} * rows * std::min(p, feature_chunk);
  return std::int64_t{4} * rows * p + scratch;
}

struct Plan {
  Eigen::Index outer = 0, inner = 0;  // rows per block held, per batch streamed (0: one block)
  Eigen::Index tile = tile_rows;
};

std::string mib(std::int64_t bytes) {
  return std::to_string((bytes + (1 << 20) - 1) >> 20) + " MiB";
}

// Blocks of whole tiles beside batches of one tile (smaller tiles when memory is short); the
// caller has checked that a block and a batch of one row each fit.
Plan plan_blocks(Eigen::Index n, Eigen::Index p, GramKind kind, std::int64_t budget) {
  if (pair_bytes(n, 0, p, kind) <= budget) return {n, 0, tile_rows};
  Plan plan;
  while (plan.tile > 1 && pair_bytes(plan.tile, plan.tile, p, kind) > budget) plan.tile /= 2;
  plan.inner = plan.tile;
  Eigen::Index tiles = 1;
  while (tiles * plan.tile < n &&
         pair_bytes((tiles + 1) * plan.tile, plan.inner, p, kind) <= budget)
    ++tiles;
  plan.outer = tiles * plan.tile;
  return plan;
}

struct FreeFloats {
  void operator()(float* p) const { delete[] p; }
};
using Floats = std::unique_ptr<float[], FreeFloats>;
Floats floats(Eigen::Index n) { return Floats(new float[static_cast<std::size_t>(n)]); }

}  // namespace

FileRows::FileRows(const io::ActivationFile& file, const io::LayerPass& lp,
                   const std::vector<Eigen::Index>& chosen)
    : reader_(file.reader(lp)),
      what_(file.path().string() + ":" + lp.label()),
      cols_(static_cast<Eigen::Index>(reader_.cols())) {
  std::vector<Eigen::Index> order(chosen.size());
  std::iota(order.begin(), order.end(), Eigen::Index{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](Eigen::Index a, Eigen::Index b) { return chosen[a] < chosen[b]; });
  stored_.resize(chosen.size());
  position_.resize(chosen.size());
  for (std::size_t k = 0; k < order.size(); ++k) {
    stored_[k] = chosen[static_cast<std::size_t>(order[k])];
    position_[static_cast<std::size_t>(order[k])] = static_cast<Eigen::Index>(k);
  }
}

void FileRows::read(Eigen::Index first, Eigen::Index count, float* out) const {
  for (Eigen::Index i = first; i < first + count;) {
    Eigen::Index run = 1;
    while (i + run < first + count && stored_[i + run] == stored_[i] + run) ++run;
    reader_.read(static_cast<std::uint64_t>(stored_[i]), static_cast<std::uint64_t>(run), 0,
                 static_cast<std::uint64_t>(cols_), out + (i - first) * cols_);
    i += run;
  }
}

std::string FileRows::row_name(Eigen::Index i) const {
  return "stimulus row " + std::to_string(stored_[static_cast<std::size_t>(i)]);
}

Eigen::MatrixXd FileRows::selection_order(const Eigen::MatrixXd& gram) const {
  const auto n = static_cast<Eigen::Index>(position_.size());
  Eigen::MatrixXd out(n, n);
  for (Eigen::Index b = 0; b < n; ++b)
    for (Eigen::Index a = 0; a < n; ++a) out(a, b) = gram(position_[a], position_[b]);
  return out;
}

void MatrixRows::read(Eigen::Index first, Eigen::Index count, float* out) const {
  std::copy_n(data_ + first * cols_, count * cols_, out);
}

std::int64_t gram_block_bytes(Eigen::Index rows, Eigen::Index p, GramKind kind) {
  return pair_bytes(rows, 0, p, kind);
}

Eigen::MatrixXd streamed_gram(const RowSource& source, GramKind kind, std::int64_t memory,
                              const std::string& what, std::int64_t reserved) {
  const Eigen::Index n = source.rows(), p = source.cols();
  const std::int64_t result = std::int64_t{8} * n * n;
  const std::int64_t shift_bytes = kind == GramKind::shifted ? std::int64_t{8} * p : 0;
  const std::int64_t budget = memory - reserved - result - shift_bytes;
  if (budget < pair_bytes(1, 1, p, kind))
    throw SettingError("memory", mib(memory) + " is too small for " + what + ": its " +
                                     std::to_string(n) + " x " + std::to_string(n) +
                                     " products and a block of two stimuli need " +
                                     mib(memory - budget - reserved + pair_bytes(1, 1, p, kind)) +
                                     " beside the " + mib(reserved) + " already in use");
  // Rows in memory are one block (they are prepared in place, once).
  const bool in_place = source.rows_in_place(0, n) != nullptr;
  const Plan plan = in_place ? Plan{n, 0, tile_rows} : plan_blocks(n, p, kind, budget);
  Eigen::MatrixXd g = Eigen::MatrixXd::Zero(n, n);
  const Floats held = floats(in_place ? 0 : plan.outer * p);
  const Floats batch = floats(in_place ? 0 : std::max<Eigen::Index>(plan.inner, 1) * p);
  Eigen::VectorXd shift = Eigen::VectorXd::Zero(p);
  if (kind == GramKind::shifted)
    shift = plan.inner > 0 ? first_rows_mean(source, batch.get(), plan.inner, what)
                           : first_rows_mean(source, held.get(), plan.outer, what);
  Scratch scratch;
  for (Eigen::Index i0 = 0; i0 < n; i0 += plan.outer) {
    check_interrupt();
    const Eigen::Index count = std::min(plan.outer, n - i0);
    const Block a{load_rows(source, i0, count, held.get(), kind, what), i0, count};
    add_products(a, a, p, kind, plan.tile, shift, g, scratch);
    for (Eigen::Index j0 = a.first + a.count; j0 < n; j0 += plan.inner) {
      check_interrupt();
      const Eigen::Index rows = std::min(plan.inner, n - j0);
      const Block b{load_rows(source, j0, rows, batch.get(), kind, what), j0, rows};
      add_products(a, b, p, kind, plan.tile, shift, g, scratch);
    }
  }
  g.triangularView<Eigen::StrictlyLower>() = g.transpose();
  return g;
}

std::int64_t resident_bytes() {
  long size = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &size, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return static_cast<std::int64_t>(resident) * sysconf(_SC_PAGE_SIZE);
}

std::int64_t default_memory_budget() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return std::int64_t{4} << 30;
  return static_cast<std::int64_t>(pages) * page / 4;
}

std::int64_t parse_memory(const std::string& text) {
  std::size_t used = 0;
  double value = -1;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  std::string unit = text.substr(used);
  if (!unit.empty() && (unit.back() == 'B' || unit.back() == 'b')) unit.pop_back();
  if (!unit.empty() && (unit.back() == 'i')) unit.pop_back();
  double scale = 1;
  if (unit == "k" || unit == "K")
    scale = 1024.0;
  else if (unit == "m" || unit == "M")
    scale = 1024.0 * 1024;
  else if (unit == "g" || unit == "G")
    scale = 1024.0 * 1024 * 1024;
  else if (unit == "t" || unit == "T")
    scale = 1024.0 * 1024 * 1024 * 1024;
  else if (!unit.empty())
    used = 0;
  if (used == 0 || !std::isfinite(value) || value * scale < (1 << 20) || value * scale > 1e18)
    throw SettingError("memory", "'" + text +
                                     "' is not a memory size of at least 1 MiB (bytes, or with "
                                     "k, M, G or T: 4G, 512M)");
  return static_cast<std::int64_t>(value * scale);
}

}  // namespace lrm::compare
