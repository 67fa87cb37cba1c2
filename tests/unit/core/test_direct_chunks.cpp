#include <gtest/gtest.h>

#include <numeric>

#include "common/error.hpp"
#include "io/direct_chunks.hpp"
#include "io/h5.hpp"
#include "support/temp_path.hpp"

using namespace lrm;
using lrm::test_support::temp_path;

namespace {

// A 10 × 5 float dataset with chunks of 4 × 3: the last row and column chunks are partial.
void create_dataset(const h5::Group& g, bool filtered) {
  const hsize_t dims[2] = {10, 5}, chunk[2] = {4, 3};
  h5::Handle space(H5Screate_simple(2, dims, nullptr));
  h5::Handle plist(H5Pcreate(H5P_DATASET_CREATE));
  H5Pset_chunk(plist.id(), 2, chunk);
  if (filtered) {
    H5Pset_shuffle(plist.id());
    H5Pset_deflate(plist.id(), 1);
  }
  h5::Handle d(
      H5Dcreate2(g.id(), "x", H5T_NATIVE_FLOAT, space.id(), H5P_DEFAULT, plist.id(), H5P_DEFAULT));
  h5::Handle scalar(H5Screate(H5S_SCALAR));
  h5::Handle attr(
      H5Acreate2(d.id(), "rows_written", H5T_NATIVE_INT64, scalar.id(), H5P_DEFAULT, H5P_DEFAULT));
}

}  // namespace

TEST(DirectChunks, EncodedChunksReadBackThroughHdf5Filters) {
  const auto path = temp_path("direct.h5");
  std::vector<float> values(50);
  std::iota(values.begin(), values.end(), -20.5f);
  {
    h5::File f(path, h5::File::Mode::create_truncate);
    create_dataset(f.root(), true);
    auto d = h5::DirectRows::open(f.root(), "x", 8);
    ASSERT_TRUE(d.has_value());
    h5::ChunkEncoder encoder;
    for (std::uint64_t first = 0; first < 10; first += 8) {
      const std::uint64_t count = std::min<std::uint64_t>(8, 10 - first);
      const std::size_t n = d->chunk_count(first, count);
      EXPECT_EQ(n, first == 0 ? 4u : 2u);
      for (std::size_t k = 0; k < n; ++k)
        d->write(k, first, d->encode(k, values.data() + first * 5, count, encoder));
      d->finish_rows(first, count);
    }
  }
  h5::File f(path, h5::File::Mode::read);
  EXPECT_EQ(h5::read_array<float>(f, "/x").data, values);
  h5::Handle d(H5Dopen2(f.id(), "/x", H5P_DEFAULT));
  h5::Handle attr(H5Aopen(d.id(), "rows_written", H5P_DEFAULT));
  std::int64_t rows = 0;
  H5Aread(attr.id(), H5T_NATIVE_INT64, &rows);
  EXPECT_EQ(rows, 10);
}

TEST(DirectChunks, DeclinesDatasetsItCannotWriteWhole) {
  const auto path = temp_path("declines.h5");
  h5::File f(path, h5::File::Mode::create_truncate);
  auto plain = f.root().require_group("plain");
  create_dataset(plain, false);
  EXPECT_FALSE(h5::DirectRows::open(plain, "x", 8).has_value());
  create_dataset(f.root(), true);
  EXPECT_FALSE(h5::DirectRows::open(f.root(), "x", 6).has_value());  // 6 rows split a chunk
  auto d = h5::DirectRows::open(f.root(), "x", 4);
  ASSERT_TRUE(d.has_value());
  EXPECT_THROW(d->chunk_count(2, 4), InputError);
  EXPECT_THROW(d->chunk_count(4, 2), InputError);
}

TEST(DirectChunks, RowWriterChunksDivideTheAppendSize) {
  const auto path = temp_path("divisor.h5");
  h5::File f(path, h5::File::Mode::create_truncate);
  // About 1 MiB of rows would be 6 rows of 43,264 floats; 32-row appends need a divisor: 4.
  h5::RowWriter<float> w(f.root(), "x", {43264}, 100, 32, {"stimulus", "unit"});
  auto d = h5::DirectRows::open(f.root(), "x", 32);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->chunk_count(0, 32), 8u);
  EXPECT_EQ(d->chunk_count(96, 4), 1u);
}
