// io::ChunkReader against HDF5's own reading, bit for bit, on files written by h5py
// (tests/fixtures/io/chunks.h5, from gen_chunk_fixture.py there) and by the suite's writers.
#include <gtest/gtest.h>

#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/threads.hpp"
#include "io/chunk_reader.hpp"
#include "io/direct_chunks.hpp"
#include "io/h5.hpp"
#include "support/temp_path.hpp"

using namespace lrm;
namespace fs = std::filesystem;

namespace {

const fs::path fixture = fs::path(LRM_SOURCE_DIR) / "tests/fixtures/io/chunks.h5";

// The block [row, row + n_rows) x [col, col + n_cols) of a row-major array with `cols` columns.
std::vector<float> block_of(const std::vector<float>& a, std::uint64_t cols, std::uint64_t row,
                            std::uint64_t n_rows, std::uint64_t col, std::uint64_t n_cols) {
  std::vector<float> out;
  for (std::uint64_t r = row; r < row + n_rows; ++r)
    out.insert(out.end(), a.begin() + r * cols + col, a.begin() + r * cols + col + n_cols);
  return out;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Every block shape that matters (whole, single rows and columns, blocks cutting through chunks
// and ending at the edges) read through the reader equals H5Dread's values bit for bit.
void expect_blocks_equal_hdf5(const h5::File& f, const std::string& path) {
  const auto reference = h5::read_array<float>(f, path);
  const io::ChunkReader reader(f, path);
  const std::uint64_t rows = reader.rows(), cols = reader.cols();
  ASSERT_EQ(reference.shape, (std::vector<std::uint64_t>{rows, cols}));
  const std::uint64_t blocks[][4] = {{0, rows, 0, cols},        {3, 1, 0, cols},
                                     {0, rows, 7, 1},           {2, 11, 5, 17},
                                     {rows - 1, 1, 0, cols},    {rows - 6, 6, cols - 9, 9},
                                     {1, rows - 2, 1, cols - 2}};
  for (const auto& b : blocks) {
    std::vector<float> out(b[1] * b[3]);
    reader.read(b[0], b[1], b[2], b[3], out.data());
    EXPECT_TRUE(same_bits(out, block_of(reference.data, cols, b[0], b[1], b[2], b[3])))
        << path << " rows " << b[0] << "+" << b[1] << ", columns " << b[2] << "+" << b[3];
  }
}

}  // namespace

TEST(ChunkReader, DecodesH5pyDeflateAndShuffleChunksAsHdf5Does) {
  set_threads(2);
  const h5::File f(fixture, h5::File::Mode::read);
  const auto expected = h5::read_array<float>(f, "/expected");
  for (const char* name :
       {"gzip_shuffle", "gzip", "gzip_rows", "gzip_columns", "gzip_large_chunk"}) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(io::ChunkReader(f, name).decodes_chunks());
    expect_blocks_equal_hdf5(f, name);
    std::vector<float> whole(expected.data.size());
    io::ChunkReader(f, name).read(0, 37, 0, 53, whole.data());
    EXPECT_TRUE(same_bits(whole, expected.data));
  }
}

TEST(ChunkReader, OtherLayoutsFiltersAndTypesReadThroughHdf5) {
  const h5::File f(fixture, h5::File::Mode::read);
  for (const char* name :
       {"expected", "chunked_plain", "shuffle_only", "fletcher32", "big_endian", "float64"}) {
    SCOPED_TRACE(name);
    EXPECT_FALSE(io::ChunkReader(f, name).decodes_chunks());
    expect_blocks_equal_hdf5(f, name);
  }
  EXPECT_EQ(io::ChunkReader(f, "expected").chunk_rows(), 1u);
  EXPECT_EQ(io::ChunkReader(f, "gzip").chunk_rows(), 4u);
}

TEST(ChunkReader, UnwrittenChunksReadAsTheFillValue) {
  const h5::File f(fixture, h5::File::Mode::read);
  EXPECT_TRUE(io::ChunkReader(f, "unwritten").decodes_chunks());
  expect_blocks_equal_hdf5(f, "unwritten");
  std::vector<float> row(53);
  io::ChunkReader(f, "unwritten").read(30, 1, 0, 53, row.data());
  EXPECT_EQ(row, std::vector<float>(53, 7.5f));
}

TEST(ChunkReader, DecodesOnOneThreadInsideAParallelRegion) {
  set_threads(2);
  const h5::File f(fixture, h5::File::Mode::read);
  const auto expected = h5::read_array<float>(f, "/expected");
  std::vector<float> out(expected.data.size());
  const io::ChunkReader reader(f, "gzip_shuffle");
#pragma omp parallel num_threads(2)
  {
#pragma omp single
    reader.read(0, 37, 0, 53, out.data());
  }
  EXPECT_TRUE(same_bits(out, expected.data));
}

// Several threads reading different rows of one dataset at once (as the localizer's streamed
// batches do) get HDF5's values, whatever the layout and filter.
TEST(ChunkReader, ConcurrentReadsOfDifferentRowsAreSafe) {
  set_threads(2);
  const h5::File f(fixture, h5::File::Mode::read);
  const auto expected = h5::read_array<float>(f, "/expected");
  for (const char* name : {"gzip_shuffle", "gzip_rows", "gzip", "chunked_plain", "fletcher32"}) {
    SCOPED_TRACE(name);
    const io::ChunkReader reader(f, name);
    std::vector<float> out(expected.data.size());
    for (int repeat = 0; repeat < 20; ++repeat) {
#pragma omp parallel for num_threads(4) schedule(dynamic, 1)
      for (int row = 0; row < 37; ++row) reader.read(row, 1, 0, 53, out.data() + row * 53);
      ASSERT_TRUE(same_bits(out, expected.data));
    }
  }
}

// The suite's own writers: RowWriter (HDF5's filters) and direct chunks (libdeflate), as lrm
// extract writes activations (shuffle + deflate), with a partial last chunk of rows.
TEST(ChunkReader, ReadsTheSuitesOwnCompressedRows) {
  const auto path = test_support::temp_path("chunk_reader_suite.h5");
  std::vector<float> values(23 * 1000);
  std::iota(values.begin(), values.end(), -5000.25f);
  {
    h5::File f(path, h5::File::Mode::create_truncate);
    h5::RowWriter<float> filtered(f.root(), "filtered", {1000}, 23, 4, {"stimulus", "unit"});
    filtered.append(values.data(), 23);
    h5::RowWriter<float> direct_writer(f.root(), "direct", {1000}, 23, 4, {"stimulus", "unit"});
    auto direct = h5::DirectRows::open(f.root(), "direct", 8);
    ASSERT_TRUE(direct.has_value());
    h5::ChunkEncoder encoder;
    for (std::uint64_t first = 0; first < 23; first += 8) {
      const std::uint64_t count = std::min<std::uint64_t>(8, 23 - first);
      for (std::size_t k = 0; k < direct->chunk_count(first, count); ++k)
        direct->write(k, first, direct->encode(k, values.data() + first * 1000, count, encoder));
      direct->finish_rows(first, count);
    }
  }
  const h5::File f(path, h5::File::Mode::read);
  for (const char* name : {"filtered", "direct"}) {
    SCOPED_TRACE(name);
    const io::ChunkReader reader(f, name);
    EXPECT_TRUE(reader.decodes_chunks());
    expect_blocks_equal_hdf5(f, name);
    std::vector<float> whole(values.size());
    reader.read(0, 23, 0, 1000, whole.data());
    EXPECT_TRUE(same_bits(whole, values));
  }
}

TEST(ChunkReader, ACorruptChunkIsAnInputErrorNamingTheDataset) {
  const auto path = test_support::temp_path("chunk_reader_corrupt.h5");
  {
    h5::File f(path, h5::File::Mode::create_truncate);
    const std::vector<float> values(4 * 6, 1.0f);
    h5::RowWriter<float> w(f.root(), "x", {6}, 4, 2, {"stimulus", "unit"});
    w.append(values.data(), 4);
  }
  {
    const h5::File f(path, h5::File::Mode::read_write);
    const h5::Handle d(H5Dopen2(f.id(), "x", H5P_DEFAULT));
    const hsize_t offset[2] = {2, 0};
    const unsigned char garbage[7] = {1, 2, 3, 4, 5, 6, 7};
    ASSERT_GE(H5Dwrite_chunk(d.id(), H5P_DEFAULT, 0, offset, sizeof garbage, garbage), 0);
  }
  const h5::File f(path, h5::File::Mode::read);
  std::vector<float> out(4 * 6);
  try {
    io::ChunkReader(f, "x").read(0, 4, 0, 6, out.data());
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("chunk_reader_corrupt.h5:x"), std::string::npos)
        << e.what();
  }
}
