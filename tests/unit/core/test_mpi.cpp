// The MPI seam on one rank (as the Python module and plain `lrm` see it): shares, messages, the
// per-model results ranks send, the input checksum, and the `launch` of an analysis stage.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/mpi.hpp"
#include "compare/rank_results.hpp"
#include "pipeline/analysis.hpp"
#include "support/temp_path.hpp"

using namespace lrm;
using lrm::test_support::temp_path;

TEST(Mpi, OneRankWithoutMpirun) {
  EXPECT_EQ(mpi::rank(), 0);
  EXPECT_EQ(mpi::size(), 1);
  EXPECT_FALSE(mpi::active());
  EXPECT_EQ(mpi::allreduce_sum(2.5), 2.5);
  EXPECT_EQ(mpi::gather(std::vector<double>{1, 2}), (std::vector<double>{1, 2}));
  EXPECT_EQ(mpi::broadcast("x"), "x");
  mpi::check_same_everywhere("options", "anything");
  // Pieces smaller than the messages (one rank sends nothing: the calls return their input).
  EXPECT_EQ(mpi::broadcast("xyz", 0, 1), "xyz");
  EXPECT_EQ(mpi::gather(std::string("ab"), 1), (std::vector<std::string>{"ab"}));
  EXPECT_EQ(mpi::allgather("ab", 1), (std::vector<std::string>{"ab"}));
  std::vector<double> values{1, 2, 3};
  mpi::allreduce_sum(values, 1);
  EXPECT_EQ(values, (std::vector<double>{1, 2, 3}));
}

// How a message of any length travels: pieces of at most the piece size, in order, covering it.
TEST(Mpi, PiecesCoverAMessageInOrder) {
  auto sizes = [](std::size_t n, std::size_t piece) {
    std::vector<std::size_t> out;
    std::size_t next = 0;
    for (const auto& r : mpi::pieces(n, piece)) {
      EXPECT_EQ(r.begin, next);
      next = r.end;
      out.push_back(r.size());
    }
    EXPECT_EQ(next, n);
    return out;
  };
  EXPECT_TRUE(sizes(0, 3).empty());
  EXPECT_EQ(sizes(10, 3), (std::vector<std::size_t>{3, 3, 3, 1}));
  EXPECT_EQ(sizes(3, 3), (std::vector<std::size_t>{3}));
  // 2 GiB and 5 bytes, over INT_MAX, in the pieces the helpers use.
  const std::size_t gib = std::size_t{1} << 30;
  EXPECT_EQ(sizes(2 * gib + 5, mpi::max_piece), (std::vector<std::size_t>{gib, gib, 5}));
  EXPECT_THROW(mpi::pieces(1, 0), InternalError);
  EXPECT_THROW(mpi::pieces(1, std::size_t{1} << 31), InternalError);
}

// The helpers with pieces smaller than their messages, between two ranks: the test starts itself
// under `mpirun -n 2` (as tests/e2e/test_mpi.py starts lrm) where the build has MPI and mpirun is
// installed, and each rank checks what it received.
TEST(Mpi, MessagesInPiecesBetweenTwoRanks) {
  if (!mpi::built_with_mpi() || std::system("command -v mpirun > /dev/null") != 0)
    GTEST_SKIP() << "needs an MPI build and mpirun";
  if (!mpi::launched_by_mpirun()) {
    // The ranks run without LeakSanitizer's exit check: under the sanitizer build it reports
    // OpenMPI's own plug-ins, which leak at finalize and are unloaded before the report.
    const std::string command =
        "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 OMP_NUM_THREADS=1 timeout 120 "
        "mpirun --allow-run-as-root --oversubscribe -n 2 " +
        std::filesystem::read_symlink("/proc/self/exe").string() +
        " --gtest_filter=Mpi.MessagesInPiecesBetweenTwoRanks 2>&1";
    FILE* ranks = popen(command.c_str(), "r");
    ASSERT_NE(ranks, nullptr);
    std::string output;
    char buffer[4096];
    while (const std::size_t n = std::fread(buffer, 1, sizeof buffer, ranks))
      output.append(buffer, n);
    EXPECT_EQ(pclose(ranks), 0) << output;
    return;
  }
  int argc = 0;
  char** argv = nullptr;
  mpi::init(argc, argv);
  ASSERT_EQ(mpi::size(), 2);
  const int rank = mpi::rank();
  // Rank 0 sends 10 bytes, rank 1 sends 11; 0 to 3 pieces each, and one of all.
  const std::string mine(static_cast<std::size_t>(10 + rank), static_cast<char>('a' + rank));
  const std::vector<std::string> all{std::string(10, 'a'), std::string(11, 'b')};
  for (const std::size_t piece : {std::size_t{1}, std::size_t{3}, std::size_t{8}, mpi::max_piece}) {
    EXPECT_EQ(mpi::broadcast(rank == 1 ? "0123456789" : "", 1, piece), "0123456789") << piece;
    EXPECT_EQ(mpi::broadcast("", 0, piece), "") << piece;
    EXPECT_EQ(mpi::gather(mine, piece), rank == 0 ? all : std::vector<std::string>{}) << piece;
    EXPECT_EQ(mpi::gather(std::string(), piece).size(), rank == 0 ? 2u : 0u) << piece;
    EXPECT_EQ(mpi::allgather(mine, piece), all) << piece;
    std::vector<double> values{1.0 + rank, 2, 3};
    mpi::allreduce_sum(values, piece);
    EXPECT_EQ(values, (std::vector<double>{3, 4, 6})) << piece;
  }
  mpi::finalize();
}

TEST(Mpi, SharesCoverEveryItemOnceInOrder) {
  for (std::size_t n : {0, 1, 7, 10, 1000})
    for (int size : {1, 2, 3, 8}) {
      std::size_t next = 0;
      for (int r = 0; r < size; ++r) {
        const auto s = mpi::share(n, r, size);
        EXPECT_EQ(s.begin, next);
        EXPECT_LE(s.size(), n / size + 1);
        next = s.end;
      }
      EXPECT_EQ(next, n);
    }
}

TEST(Mpi, ComputeSharedKeepsItemOrder) {
  int calls = 0;
  const auto out = mpi::compute_shared(
      4, [](std::size_t i) { return std::string(i, 'a'); }, [&] { ++calls; });
  EXPECT_EQ(out, (std::vector<std::string>{"", "a", "aa", "aaa"}));
  EXPECT_EQ(calls, 4);
}

TEST(Mpi, PackerRoundTrip) {
  mpi::Packer p;
  const std::vector<float> values{1.5f, -2.0f};
  p.put(std::int64_t{42}).put(std::string("layer")).put_array(values.data(), values.size());
  mpi::Unpacker u(p.bytes());
  EXPECT_EQ(u.get<std::int64_t>(), 42);
  EXPECT_EQ(u.get_string(), "layer");
  std::vector<float> back;
  u.get_array<float>([&](std::size_t n) {
    back.resize(n);
    return back.data();
  });
  EXPECT_EQ(back, values);
  EXPECT_THROW(u.get<double>(), InternalError);
}

TEST(Mpi, EncodingAndRdmResultsRoundTrip) {
  compare::EncodingBenchmark::Result r;
  r.predictivity.r = Eigen::MatrixXd::Random(3, 5);
  r.predictivity.median_per_split = Eigen::VectorXd::Random(3);
  r.predictivity.score = 0.25;
  r.predictivity.undefined_neuroids = 2;
  r.predictivity.penalty = Eigen::MatrixXd::Constant(3, 5, 10.0);
  r.predictivity.group_penalty = {Eigen::MatrixXd::Ones(2, 5)};
  r.score.ceiled = 0.5;
  const auto back = compare::unpack_encoding(compare::pack(r));
  EXPECT_EQ(back.predictivity.r, r.predictivity.r);
  EXPECT_EQ(back.predictivity.median_per_split, r.predictivity.median_per_split);
  EXPECT_EQ(back.predictivity.undefined_neuroids, 2);
  EXPECT_EQ(back.predictivity.penalty, r.predictivity.penalty);
  ASSERT_EQ(back.predictivity.group_penalty.size(), 1u);
  EXPECT_EQ(back.score.ceiled, 0.5);

  compare::RdmScore s;
  s.r = Eigen::VectorXd::Random(4);
  s.mean = 0.1;
  s.stimuli.high = 0.9;
  s.subjects.undefined = 3;
  mpi::Packer p;
  compare::pack(p, s);
  mpi::Unpacker u(p.bytes());
  const auto t = compare::unpack_rdm_score(u);
  EXPECT_EQ(t.r, s.r);
  EXPECT_EQ(t.mean, 0.1);
  EXPECT_EQ(t.stimuli.high, 0.9);
  EXPECT_EQ(t.subjects.undefined, 3);
}

TEST(Mpi, InputDescriptionSeesAFileOfTheSameSizeThatDiffers) {
  const auto a = temp_path("a.bin"), b = temp_path("b.bin");
  std::ofstream(a) << "12345";
  std::ofstream(b) << "12346";
  std::string arg_a = a.string(), arg_b = "--activations=" + b.string();
  char* argv_a[] = {const_cast<char*>("lrm"), arg_a.data()};
  char* argv_b[] = {const_cast<char*>("lrm"), const_cast<char*>(b.c_str())};
  char* argv_c[] = {const_cast<char*>("lrm"), arg_b.data()};
  const auto da = mpi::describe_inputs(2, argv_a);
  EXPECT_NE(da.find("5 bytes"), std::string::npos);
  std::ofstream(a) << "12346";
  EXPECT_NE(mpi::describe_inputs(2, argv_a), da);
  EXPECT_NE(mpi::describe_inputs(2, argv_c).find("5 bytes"), std::string::npos);
  EXPECT_NE(mpi::describe_inputs(2, argv_b), std::string());
}

TEST(Mpi, LockErrorsNameTheFix) {
  EXPECT_NE(mpi::with_lock_hint("cannot open HDF5 file x.h5 (corrupt, truncated or locked)")
                .find("HDF5_USE_FILE_LOCKING=FALSE"),
            std::string::npos);
  EXPECT_EQ(mpi::with_lock_hint("x.h5 does not exist"), "x.h5 does not exist");
}

namespace {
std::filesystem::path analysis_with(const std::string& stage) {
  const auto path = temp_path("a.toml");
  std::ofstream(path) << "name = \"a\"\nrun_dir = \"" << temp_path("run").string()
                      << "\"\n[vars]\nn = \"4\"\n[[stage]]\nname = \"s\"\n"
                      << stage << "output = \"{run}/out.h5\"\n";
  return path;
}
std::string refusal(const std::string& stage) {
  try {
    pipeline::read_analysis(analysis_with(stage));
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Mpi, StageLaunch) {
  const auto a =
      pipeline::read_analysis(analysis_with("launch = \"mpirun -n {n}\"\nargs = [\"localize\"]\n"));
  EXPECT_EQ(a.stages.at(0).launch, (std::vector<std::string>{"mpirun", "-n", "4"}));
  EXPECT_TRUE(
      pipeline::read_analysis(analysis_with("args = [\"localize\"]\n")).stages[0].launch.empty());
  EXPECT_NE(refusal("launch = \"/usr/bin/lrm\"\nargs = [\"localize\"]\n").find("may not run lrm"),
            std::string::npos);
  EXPECT_NE(refusal("launch = \"mpirun\"\nargs = [\"run\", \"b.toml\"]\n").find("lrm run"),
            std::string::npos);
  EXPECT_NE(refusal("launch = 3\nargs = [\"localize\"]\n").find("must be a string"),
            std::string::npos);
  EXPECT_NE(refusal("launch = \" \"\nargs = [\"localize\"]\n").find("is empty"), std::string::npos);
}
