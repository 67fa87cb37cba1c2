#include <gtest/gtest.h>
#include <matio.h>

#include <cmath>
#include <filesystem>
#include <numeric>

#include "common/error.hpp"
#include "io/assembly.hpp"
#include "io/mat.hpp"
#include "io/neural_responses.hpp"
#include "support/temp_path.hpp"

using namespace lrm;
namespace fs = std::filesystem;

namespace {
const fs::path data = fs::path(LRM_SOURCE_DIR) / "neural_data";
using lrm::test_support::temp_path;
}  // namespace

TEST(IoBrainio, OlderAssemblyWithRepetitions) {
  const auto a = io::read_brainio(data / "brainio/assy_test_TestMe.nc");
  EXPECT_EQ(a.dims, (std::vector<std::string>{"presentation", "neuroid"}));
  EXPECT_EQ(a.strings("stimulus_id"),
            (std::vector<std::string>{"n0", "n1", "n1", "n0", "n4", "n9"}));
  EXPECT_EQ(a.coords.at("repetition").values, (std::vector<double>{1, 1, 2, 1, 1, 1}));
  EXPECT_EQ(a.coords.at("foo").dim, "neuroid");
  const auto r = io::group_responses(a);
  EXPECT_EQ(r.stimulus_ids, (std::vector<std::string>{"n0", "n1", "n4", "n9"}));
  EXPECT_EQ(r.neuroid_ids, (std::vector<std::string>{"alpha", "beta", "gamma"}));
  // n0 = rows 1 and 4 ([1,2,3], [10,11,12]); n1 = rows 2 and 3.
  EXPECT_DOUBLE_EQ(r.mean(0, 0), 5.5);
  EXPECT_DOUBLE_EQ(r.mean(1, 2), 7.5);
  EXPECT_DOUBLE_EQ(r.mean(3, 1), 17);
  EXPECT_EQ(r.counts(0, 0), 2);
  EXPECT_EQ(r.counts(2, 0), 1);
}

TEST(IoBrainio, NewerAssemblyWithTimeBin) {
  const auto a = io::read_brainio(data / "brainio/assy_test_package_assembly.nc");
  EXPECT_EQ(a.dims, (std::vector<std::string>{"presentation", "neuroid", "time_bin"}));
  EXPECT_EQ(a.coords.at("time_bin_end").values, std::vector<double>{10});
  const auto r = io::group_responses(a);
  EXPECT_EQ(r.stimulus_ids.size(), 6u);
  EXPECT_DOUBLE_EQ(r.mean(4, 1), 14);
  EXPECT_EQ(r.time_bins_averaged, 1u);
}

TEST(IoBrainio, DimensionCoordinateWithValues) {
  const auto a = io::read_brainio(data / "brainio/vision_alexnet-rgb-1000.nc");
  EXPECT_EQ(a.shape, (std::vector<std::uint64_t>{1, 2000}));
  ASSERT_TRUE(a.has("stimulus_path"));
  EXPECT_EQ(a.coords.at("stimulus_path").dim, "stimulus_path");
  EXPECT_EQ(a.strings("layer")[0], "features.12");
  EXPECT_NEAR(a.data[0], 1.1858418, 1e-6);
  EXPECT_NEAR(a.data[1999], -0.045065016, 1e-8);
}

TEST(IoBrainio, MissingFileAndVariableAreInputErrors) {
  EXPECT_THROW(io::read_brainio(data / "brainio/nope.nc"), InputError);
  EXPECT_THROW(io::read_brainio(data / "brainio/assy_test_TestMe.nc", "nope"), InputError);
  const auto a = io::read_brainio(data / "brainio/vision_alexnet-rgb-1000.nc");
  try {
    io::group_responses(a);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("stimulus"), std::string::npos);
  }
}

TEST(IoBrainio, NaNRepetitionsAreSkippedAndCounted) {
  auto a = io::read_brainio(data / "brainio/assy_test_TestMe.nc");
  a.data[0] = std::nan("");  // n0, alpha, first repetition
  const auto r = io::group_responses(a);
  EXPECT_DOUBLE_EQ(r.mean(0, 0), 10);
  EXPECT_EQ(r.counts(0, 0), 1);
  EXPECT_EQ(r.missing, 1);
}

TEST(IoJoin, MismatchNamesMissingIdsOnEachSide) {
  const auto j = io::join_stimuli({"a", "b", "c"}, "model", {"c", "a", "b"}, "brain");
  EXPECT_EQ(j.model_rows, (std::vector<Eigen::Index>{2, 0, 1}));
  try {
    io::join_stimuli({"a", "b", "x"}, "A.h5", {"a", "b", "y"}, "brain.nc");
    FAIL();
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("missing in A.h5: y"), std::string::npos) << m;
    EXPECT_NE(m.find("missing in brain.nc: x"), std::string::npos) << m;
  }
}

TEST(IoMat, StructArrayOfSubjectRdms) {
  const auto r = io::read_mat_rdms(data / "kriegeskorte2008/92_brainRDMs.mat");
  ASSERT_EQ(r.rdms.size(), 8u);
  EXPECT_EQ(r.n_conditions, 92u);
  EXPECT_EQ(r.struct_dims, (std::vector<std::uint64_t>{1, 4, 2}));
  EXPECT_EQ(r.names[5], "hIT | KO | Session: 2");
  EXPECT_NEAR(r.rdms[5][3 * 92 + 7], 0.8657998, 1e-7);
  EXPECT_NEAR(r.rdms[5][90 * 92 + 2], 0.9519677, 1e-7);
  EXPECT_EQ(r.rdms[0][0], 0.0);
}

TEST(IoMat, UpperTriangleVectorRdms) {
  const auto r = io::read_mat_rdms(
      data / "kriegeskorte2008/Kriegeskorte_Neuron2008_supplementalData.mat", "RDMs_mIT_hIT_fig1");
  ASSERT_EQ(r.rdms.size(), 2u);
  EXPECT_EQ(r.names[1], "hITvisStim_316vx");
  EXPECT_EQ(r.n_conditions, 92u);
  // Row major over i < j: entry 0 = (0,1), 91 = (1,2), last = (90,91).
  EXPECT_DOUBLE_EQ(r.rdms[1][0 * 92 + 1], 0.9356239885091782);
  EXPECT_DOUBLE_EQ(r.rdms[1][2 * 92 + 1], 0.8644386157393456);
  EXPECT_DOUBLE_EQ(r.rdms[1][91 * 92 + 90], 0.7750169783830643);
  const auto upper = io::upper_triangle(r.rdms[1], 92);
  EXPECT_EQ(upper.size(), 4186u);
  EXPECT_DOUBLE_EQ(upper[1], 0.7147688046097755);
}

TEST(IoMat, StructArrayOfImages) {
  const auto im = io::read_mat_images(
      data / "kriegeskorte2008/Kriegeskorte_Neuron2008_supplementalData.mat", "stimuli_92objs");
  EXPECT_EQ(im.count, 92u);
  EXPECT_EQ(im.height, 175u);
  EXPECT_EQ(im.width, 175u);
  EXPECT_EQ(im.channels, 3u);
  EXPECT_EQ(im.labels[0], "human bodypart");
  EXPECT_EQ(im.labels[91], "artificial inanimate");
  const std::uint8_t* img5 = im.pixels.data() + 5 * 175 * 175 * 3;
  EXPECT_EQ(std::accumulate(img5, img5 + 175 * 175 * 3, std::int64_t{0}), 12105583);
  EXPECT_EQ(img5[(87 * 175 + 80) * 3 + 0], 175);
  EXPECT_EQ(img5[(87 * 175 + 80) * 3 + 1], 120);
  EXPECT_EQ(img5[(87 * 175 + 80) * 3 + 2], 139);
}

TEST(IoMat, Version73StackOfRdms) {
  const auto path = temp_path("rdms_v73.mat");
  // A 3 x 3 x 2 stack written by matio as v7.3 (HDF5), column major like MATLAB.
  double values[18];
  for (int k = 0; k < 2; ++k)
    for (int j = 0; j < 3; ++j)
      for (int i = 0; i < 3; ++i) values[i + 3 * j + 9 * k] = i == j ? 0 : (i + j) * (k + 1);
  {
    mat_t* m = Mat_CreateVer(path.c_str(), nullptr, MAT_FT_MAT73);
    ASSERT_NE(m, nullptr);
    size_t dims[3] = {3, 3, 2};
    matvar_t* v = Mat_VarCreate("rdms", MAT_C_DOUBLE, MAT_T_DOUBLE, 3, dims, values, 0);
    ASSERT_EQ(Mat_VarWrite(m, v, MAT_COMPRESSION_NONE), 0);
    Mat_VarFree(v);
    Mat_Close(m);
  }
  EXPECT_EQ(io::mat_variables(path), std::vector<std::string>{"rdms"});
  const auto r = io::read_mat_rdms(path);
  ASSERT_EQ(r.rdms.size(), 2u);
  EXPECT_DOUBLE_EQ(r.rdms[1][0 * 3 + 2], 4);
  EXPECT_DOUBLE_EQ(r.rdms[0][1 * 3 + 2], 3);
}

TEST(IoMat, BadInputsAreInputErrors) {
  EXPECT_THROW(io::read_mat_rdms(data / "kriegeskorte2008/none.mat"), InputError);
  EXPECT_THROW(io::read_mat_rdms(data / "brainio/NOTICE.md"), InputError);
  EXPECT_THROW(io::read_mat_images(data / "kriegeskorte2008/92_brainRDMs.mat", "RDMs"), InputError);
  std::uint64_t n = 0;
  EXPECT_THROW(io::square_from_upper({1, 2, 3, 4}, &n), InputError);
}
