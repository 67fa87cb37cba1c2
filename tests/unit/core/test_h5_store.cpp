#include <gtest/gtest.h>

#include <filesystem>

#include "common/error.hpp"
#include "io/h5.hpp"
#include "io/results.hpp"
#include "io/sha256.hpp"
#include "support/temp_path.hpp"

namespace fs = std::filesystem;
using namespace lrm;

namespace {
using lrm::test_support::temp_path;
}  // namespace

TEST(H5Store, ArraysWithDimensionsRoundTrip) {
  const auto path = temp_path("roundtrip.h5");
  {
    h5::File f(path, h5::File::Mode::create_truncate);
    auto g = f.root().require_group("activations/features.0");
    h5::write_coordinate(g, "stimulus", std::vector<std::string>{"a", "b", "c"});
    h5::write_coordinate(g, "unit", std::vector<std::int64_t>{0, 1});
    h5::write_aux_coordinate(g, "category", "stimulus", std::vector<std::string>{"x", "y", "x"});
    std::vector<float> v{1, 2, 3, 4, 5, 6};
    h5::write_array(g, "pass0", v, {3, 2}, {"stimulus", "unit"}, {{"category"}, true, {}});
  }
  h5::File f(path, h5::File::Mode::read);
  auto a = h5::read_array<double>(f, "/activations/features.0/pass0");
  ASSERT_EQ(a.shape, (std::vector<std::uint64_t>{3, 2}));
  EXPECT_EQ(a.data[5], 6.0);
  EXPECT_EQ(h5::dimension_names(f, "/activations/features.0/pass0"),
            (std::vector<std::string>{"stimulus", "unit"}));
  EXPECT_EQ(h5::read_strings(f, "/activations/features.0/stimulus"),
            (std::vector<std::string>{"a", "b", "c"}));
  auto rows = h5::read_rows<float>(f, "/activations/features.0/pass0", 1, 2);
  EXPECT_EQ(rows.data, (std::vector<float>{3, 4, 5, 6}));
}

TEST(H5Store, RowWriterResumesAfterLastBatch) {
  const auto path = temp_path("rows.h5");
  {
    h5::File f(path, h5::File::Mode::create_truncate);
    auto g = f.root();
    h5::RowWriter<float> w(g, "x", {4}, 6, 2, {"stimulus", "unit"});
    std::vector<float> batch(8, 1.0f);
    w.append(batch.data(), 2);
  }
  {
    h5::File f(path, h5::File::Mode::read_write);
    auto w = h5::RowWriter<float>::reopen(f.root(), "x");
    EXPECT_EQ(w.rows_written(), 2u);
    std::vector<float> batch(16, 2.0f);
    w.append(batch.data(), 4);
    EXPECT_EQ(w.rows_written(), 6u);
  }
  h5::File f(path, h5::File::Mode::read);
  auto a = h5::read_array<float>(f, "/x");
  EXPECT_EQ(a.data[0], 1.0f);
  EXPECT_EQ(a.data[23], 2.0f);
}

TEST(H5Store, MissingInputsNameThePath) {
  EXPECT_THROW(h5::File("/nonexistent/file.h5", h5::File::Mode::read), InputError);
  const auto path = temp_path("empty.h5");
  { h5::File f(path, h5::File::Mode::create_truncate); }
  h5::File f(path, h5::File::Mode::read);
  try {
    h5::read_array<float>(f, "/nope");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/nope"), std::string::npos);
  }
}

TEST(ResultFile, IsCompleteOnlyAfterCommit) {
  const auto path = temp_path("result.h5");
  fs::remove(path);
  {
    io::ResultFile r(path, io::current_provenance(7));
    EXPECT_FALSE(fs::exists(path));
    EXPECT_FALSE(io::is_complete(io::ResultFile::partial_path(path)));
    r.commit();
  }
  EXPECT_TRUE(io::is_complete(path));
  h5::File f(path, h5::File::Mode::read);
  EXPECT_EQ(f.root().attr_number("seed").value(), 7.0);
}

TEST(ResultFile, InterruptedRunLeavesOnlyPartial) {
  const auto path = temp_path("interrupted.h5");
  fs::remove(path);
  { io::ResultFile r(path, io::current_provenance(1)); }
  EXPECT_FALSE(fs::exists(path));
  EXPECT_TRUE(fs::exists(io::ResultFile::partial_path(path)));
}

TEST(Sha256, KnownDigests) {
  io::Sha256 empty;
  EXPECT_EQ(empty.hex_digest(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  io::Sha256 abc;
  abc.update(reinterpret_cast<const unsigned char*>("abc"), 3);
  EXPECT_EQ(abc.hex_digest(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  io::Sha256 padded;
  padded.update(reinterpret_cast<const unsigned char*>(two_blocks.data()), two_blocks.size());
  EXPECT_EQ(padded.hex_digest(),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

// A megabyte fed in uneven pieces (partial blocks, runs of whole blocks) digests as hashlib does.
TEST(Sha256, LongInputInPieces) {
  std::vector<unsigned char> data(1000003);
  for (std::size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<unsigned char>((i * 7 + 3) % 251);
  io::Sha256 h;
  std::size_t at = 0, piece = 1;
  while (at < data.size()) {
    const std::size_t n = std::min(piece, data.size() - at);
    h.update(data.data() + at, n);
    at += n;
    piece = piece * 3 + 5;
  }
  EXPECT_EQ(h.hex_digest(), "cfac01d21a4a2bf8dc11816e3b83d63d19e7f04b1921d5ae47379a08cf856cdd");
}
