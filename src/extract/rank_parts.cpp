#include "extract/rank_parts.hpp"

#include <hdf5.h>

#include <algorithm>
#include <chrono>
#include <system_error>
#include <vector>

#include "common/error.hpp"
#include "common/mpi.hpp"
#include "io/activation_file.hpp"
#include "io/h5.hpp"
#include "io/results.hpp"

namespace lrm::extract {
namespace {

namespace fs = std::filesystem;

// Paths (below /activations) of the row datasets of an extraction: those that record the rows
// written (coordinates do not).
void row_datasets(const h5::Group& g, const std::string& path, std::vector<std::string>& out) {
  for (const auto& child : g.children()) {
    if (g.has_group(child))
      row_datasets(g.group(child), path + "/" + child, out);
    else if (H5Aexists_by_name(g.id(), child.c_str(), "rows_written", H5P_DEFAULT) > 0)
      out.push_back(path + "/" + child);
  }
}

// Copies the stored (compressed) chunks of rows `rows` of `path` from `src` into `dest`.
void copy_chunks(const h5::File& src, const h5::File& dest, const std::string& path,
                 const RowRange& rows, std::vector<unsigned char>& buffer) {
  const std::string where = src.path().string() + ":" + path;
  h5::Handle in(H5Dopen2(src.id(), path.c_str(), H5P_DEFAULT));
  h5::Handle out(H5Dopen2(dest.id(), path.c_str(), H5P_DEFAULT));
  if (!in.valid() || !out.valid()) throw InternalError("cannot open " + where + " to join it");
  h5::Handle plist(H5Dget_create_plist(out.id()));
  h5::Handle space(H5Dget_space(out.id()));
  hsize_t chunk[2], dims[2];
  if (H5Pget_chunk(plist.id(), 2, chunk) != 2 || H5Sget_simple_extent_ndims(space.id()) != 2)
    throw InternalError(where + " is not a chunked stimuli × units dataset");
  H5Sget_simple_extent_dims(space.id(), dims, nullptr);
  for (hsize_t row = rows.first; row < rows.end; row += chunk[0])
    for (hsize_t col = 0; col < dims[1]; col += chunk[1]) {
      const hsize_t offset[2] = {row, col};
      hsize_t bytes = 0;
      std::uint32_t filters = 0;
      if (H5Dget_chunk_storage_size(in.id(), offset, &bytes) < 0 || bytes == 0)
        throw InternalError(where + " lacks the chunk at row " + std::to_string(row));
      buffer.resize(bytes);
      if (H5Dread_chunk(in.id(), H5P_DEFAULT, offset, &filters, buffer.data()) < 0)
        throw InternalError("cannot read the chunk at row " + std::to_string(row) + " of " + where);
      if (H5Dwrite_chunk(out.id(), H5P_DEFAULT, filters, offset, bytes, buffer.data()) < 0)
        throw InputError("cannot write to " + dest.path().string() + " (disk full?)");
    }
}

// Checks that `part` holds `rows` of the same run.
void check_part(const h5::File& part, const RowRange& rows, const std::string& signature) {
  const auto g = part.root().group(io::activations_group);
  if (g.attr_string("extract_signature").value_or("") != signature)
    throw InternalError(part.path().string() + " was written with other options than rank 0's");
  const auto done = static_cast<std::uint64_t>(g.attr_number("rows_complete").value_or(0));
  if (done < rows.end)
    throw InternalError(part.path().string() + " holds rows up to " + std::to_string(done) +
                        ", not up to " + std::to_string(rows.end));
}

}  // namespace

RowRange rank_rows(std::uint64_t n, std::uint64_t batch_rows, int rank, int ranks) {
  const auto batches = (n + batch_rows - 1) / batch_rows;
  const auto share = mpi::share(static_cast<std::size_t>(batches), rank, ranks);
  return {std::min<std::uint64_t>(share.begin * batch_rows, n),
          std::min<std::uint64_t>(share.end * batch_rows, n)};
}

fs::path part_base(const fs::path& out, int rank) {
  return fs::path(out.string() + ".rank" + std::to_string(rank));
}

double join_parts(const fs::path& out, int ranks, std::uint64_t n, std::uint64_t batch_rows,
                  const std::string& signature) {
  const auto start = std::chrono::steady_clock::now();
  const auto first = io::ResultFile::partial_path(part_base(out, 0));
  std::error_code ec;
  fs::rename(first, io::ResultFile::partial_path(out), ec);
  if (ec)
    throw InputError("cannot move " + first.string() + " to " +
                     io::ResultFile::partial_path(out).string() + ": " + ec.message());
  auto joined = io::ResultFile::resume(out);
  check_part(joined.file(), rank_rows(n, batch_rows, 0, ranks), signature);
  auto activations = joined.root().group(io::activations_group);
  std::vector<std::string> datasets;
  row_datasets(activations, std::string("/") + io::activations_group, datasets);
  std::vector<unsigned char> buffer;
  for (int rank = 1; rank < ranks; ++rank) {
    const auto rows = rank_rows(n, batch_rows, rank, ranks);
    if (rows.size() == 0) continue;
    h5::File part(io::ResultFile::partial_path(part_base(out, rank)), h5::File::Mode::read);
    check_part(part, rows, signature);
    for (const auto& path : datasets) copy_chunks(part, joined.file(), path, rows, buffer);
  }
  for (const auto& path : datasets) {
    const auto slash = path.rfind('/');
    h5::RowWriter<float>::reopen(joined.root().group(path.substr(1, slash - 1)),
                                 path.substr(slash + 1), n);
  }
  activations.set_attr("rows_complete", static_cast<std::int64_t>(n));
  if (H5Aexists(activations.id(), "mpi_ranks") > 0 && H5Adelete(activations.id(), "mpi_ranks") < 0)
    throw InternalError("cannot update " + io::ResultFile::partial_path(out).string());
  joined.root().set_attr("mpi_ranks", static_cast<std::int64_t>(ranks));
  joined.commit();
  remove_parts(out);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void remove_parts(const fs::path& out) {
  std::error_code ec;
  fs::remove(io::ResultFile::partial_path(part_base(out, 0)), ec);  // a join moves it to <out>
  int rank = 1;
  while (fs::remove(io::ResultFile::partial_path(part_base(out, rank)), ec)) ++rank;
}

}  // namespace lrm::extract
