// Streamed RDMs and encoding (compare/gram.hpp, compare/streamed_layer.hpp): with a memory budget
// that forces many blocks, the results equal those computed with every row in memory.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "compare/gram.hpp"
#include "compare/rdm.hpp"
#include "compare/regression.hpp"
#include "io/activation_file.hpp"
#include "io/h5.hpp"
#include "support/temp_path.hpp"

using namespace lrm;
using namespace lrm::compare;
namespace fs = std::filesystem;

namespace {

constexpr Eigen::Index n_stimuli = 150, n_units = 2500;  // more than one feature chunk
constexpr std::int64_t unbounded = std::int64_t{1} << 40;

// Rectified low-rank features plus noise, as layers have: stimulus i row, unit j column.
RowMatrixXf features() {
  std::mt19937 rng(19);
  std::normal_distribution<float> normal;
  Eigen::MatrixXf latent(n_stimuli, 8), map(8, n_units);
  for (auto* m : {&latent, &map})
    for (Eigen::Index k = 0; k < m->size(); ++k) m->data()[k] = normal(rng);
  RowMatrixXf x = latent * map;
  for (Eigen::Index k = 0; k < x.size(); ++k)
    x.data()[k] = std::max(0.0f, x.data()[k] + normal(rng)) + 0.5f;
  return x;
}

// The features as lrm extract writes them: rows chunked by 4, shuffle + deflate.
fs::path write_file(const RowMatrixXf& x, const std::string& name = "activations.h5") {
  const auto path = test_support::temp_path(name);
  h5::File f(path, h5::File::Mode::create_truncate);
  auto g = f.root().require_group("activations/layer");
  std::vector<std::string> ids;
  for (Eigen::Index i = 0; i < x.rows(); ++i) ids.push_back("s" + std::to_string(i));
  h5::write_coordinate(g, "stimulus", ids);
  h5::RowWriter<float> w(g, io::pass_dataset_name(0), {static_cast<std::uint64_t>(x.cols())},
                         static_cast<std::uint64_t>(x.rows()), 4, {"stimulus", "unit"});
  for (Eigen::Index i = 0; i < x.rows(); ++i) w.append(x.row(i).data(), 1);
  return path;
}

// A subset of the rows in shuffled order, as a join with brain data picks them.
Rows chosen_rows() {
  Rows rows;
  for (Eigen::Index i = 0; i < n_stimuli; i += 1 + i % 3) rows.push_back(i);
  std::mt19937 rng(3);
  std::shuffle(rows.begin(), rows.end(), rng);
  return rows;
}

// Memory for the n x n results and a few rows at a time.
std::int64_t small_budget(Eigen::Index n) { return 2 * 8 * n * n + 16 * 4 * n_units + (1 << 20); }

}  // namespace

TEST(StreamedRdm, BlocksGiveTheInMemoryRdm) {
  const RowMatrixXf x = features();
  const auto path = write_file(x);
  const io::ActivationFile file(path);
  const io::LayerPass lp{"layer", 0};
  const Rows rows = chosen_rows();
  const auto n = static_cast<Eigen::Index>(rows.size());
  RowMatrixXf selected(n, n_units);
  for (Eigen::Index i = 0; i < n; ++i) selected.row(i) = x.row(rows[i]);
  for (const RdmMethod method : {RdmMethod::correlation, RdmMethod::euclidean}) {
    SCOPED_TRACE(rdm_method_name(method));
    const FileRows source(file, lp, rows);
    const Eigen::MatrixXd streamed =
        source.selection_order(rdm_of_rows(source, method, small_budget(n), "test"));
    const Eigen::MatrixXd whole =
        source.selection_order(rdm_of_rows(source, method, unbounded, "test"));
    RowMatrixXf copy = selected;
    const Eigen::MatrixXd in_memory =
        method == RdmMethod::correlation ? rdm_correlation(copy, "test") : rdm_euclidean(selected);
    // Correlation products are single precision: selected rows go through GEMMs of other shapes
    // than the in-memory matrix, and FMA kernels (OpenBLAS's Haswell and SkylakeX, not Prescott)
    // round those differently, by a few float ulps of 1 (7.5e-7 seen on an AMD EPYC).
    const double single = method == RdmMethod::correlation ? 5e-6 : 1e-9;
    EXPECT_LT((streamed - whole).cwiseAbs().maxCoeff(), 1e-9);
    EXPECT_LT((streamed - in_memory).cwiseAbs().maxCoeff(), single);
    // And the definition, in double.
    Eigen::MatrixXd want(n, n);
    const Eigen::MatrixXd xd = selected.cast<double>();
    for (Eigen::Index i = 0; i < n; ++i)
      for (Eigen::Index j = 0; j < n; ++j) {
        if (method == RdmMethod::euclidean) {
          want(i, j) = (xd.row(i) - xd.row(j)).squaredNorm() / n_units;
          continue;
        }
        const Eigen::RowVectorXd a = xd.row(i).array() - xd.row(i).mean();
        const Eigen::RowVectorXd b = xd.row(j).array() - xd.row(j).mean();
        want(i, j) = 1 - a.dot(b) / (a.norm() * b.norm());
      }
    want.diagonal().setZero();
    EXPECT_LT((streamed - want).cwiseAbs().maxCoeff(), single);
  }
}

// More stimuli than one 256-stimulus tile and more features than one chunk: in blocks or whole,
// every single-precision product has the same shape, so the RDM is the same to the bit.
TEST(StreamedRdm, CorrelationIsBitIdenticalInBlocksAndWhole) {
  constexpr Eigen::Index n = 800, p = 20000;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  RowMatrixXf x(n, p);
  for (Eigen::Index k = 0; k < x.size(); ++k) x.data()[k] = uniform(rng);
  const MatrixRows rows(static_cast<const float*>(x.data()), n, p);
  const Eigen::MatrixXd whole = rdm_of_rows(rows, RdmMethod::correlation, unbounded, "test");
  const std::int64_t blocks = 3 * 8 * n * n + 4 * 464 * p;  // blocks and batches of 256
  const Eigen::MatrixXd streamed = rdm_of_rows(rows, RdmMethod::correlation, blocks, "test");
  EXPECT_EQ((streamed - whole).cwiseAbs().maxCoeff(), 0.0);
}

TEST(StreamedRdm, TooLittleMemoryIsASettingErrorAndBadRowsNameTheStimulus) {
  RowMatrixXf x = features();
  const io::ActivationFile file(write_file(x));
  const FileRows source(file, {"layer", 0}, all_rows(n_stimuli));
  try {
    rdm_of_rows(source, RdmMethod::correlation, 2 * 8 * n_stimuli * n_stimuli + 1000, "test");
    FAIL() << "no error";
  } catch (const SettingError& e) {
    EXPECT_EQ(e.setting(), "memory");
    EXPECT_NE(std::string(e.what()).find("is too small for test"), std::string::npos) << e.what();
  }
  x.row(7).setConstant(2.0f);
  const io::ActivationFile constant(write_file(x, "constant.h5"));
  const FileRows rows(constant, {"layer", 0}, all_rows(n_stimuli));
  try {
    rdm_of_rows(rows, RdmMethod::correlation, small_budget(n_stimuli), "layer/pass0");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("stimulus row 7 has constant features"), std::string::npos)
        << e.what();
  }
}

TEST(StreamedGram, KernelRidgeAndLeastSquaresPredictAsTheFeatureForms) {
  const RowMatrixXf x = features();
  const auto path = write_file(x);
  const io::ActivationFile file(path);
  const FileRows source(file, {"layer", 0}, all_rows(n_stimuli));
  const Eigen::MatrixXd streamed = source.selection_order(
      streamed_gram(source, GramKind::shifted, small_budget(n_stimuli), "test"));
  const Eigen::MatrixXd whole =
      source.selection_order(streamed_gram(source, GramKind::shifted, unbounded, "test"));
  EXPECT_LT((streamed - whole).cwiseAbs().maxCoeff(), 1e-9 * whole.cwiseAbs().maxCoeff());
  std::mt19937 rng(5);
  std::normal_distribution<double> normal;
  Eigen::MatrixXd y(n_stimuli, 3);
  for (Eigen::Index i = 0; i < n_stimuli; ++i)
    for (Eigen::Index t = 0; t < 3; ++t)
      y(i, t) = x.row(i).head(40).cast<double>().sum() * (t + 1) + 5 * normal(rng);
  Rows train, test;
  for (Eigen::Index i = 0; i < n_stimuli; ++i) (i % 5 == 2 ? test : train).push_back(i);
  Eigen::MatrixXd y_train(static_cast<Eigen::Index>(train.size()), 3);
  for (std::size_t i = 0; i < train.size(); ++i) y_train.row(i) = y.row(train[i]);
  const FeatureMatrix fx(x.data(), x.rows(), x.cols());
  for (const Regression r : {Regression::ridge, Regression::ols}) {
    SCOPED_TRACE(regression_name(r));
    const Eigen::MatrixXd want = fit_regression(r, fx, train, y_train).predict(fx, test);
    const Eigen::MatrixXd got = kernel_predict(r, streamed, train, test, y_train);
    EXPECT_LT((got - want).cwiseAbs().maxCoeff(), 1e-9 * want.cwiseAbs().maxCoeff());
  }
}

TEST(StreamedGram, MemorySizes) {
  EXPECT_EQ(parse_memory("4G"), std::int64_t{4} << 30);
  EXPECT_EQ(parse_memory("512M"), std::int64_t{512} << 20);
  EXPECT_EQ(parse_memory("1.5GiB"), std::int64_t{3} << 29);
  EXPECT_EQ(parse_memory("2097152"), std::int64_t{2} << 20);
  for (const char* bad : {"", "4X", "-1G", "10k", "nanG", "G"})
    EXPECT_THROW(parse_memory(bad), SettingError) << bad;
  EXPECT_GT(default_memory_budget(), 0);
}
