#pragma once
// Copying HDF5 groups from one file into another with their dimension scales. H5Ocopy copies
// DIMENSION_LIST and REFERENCE_LIST as they are, so in the copy their object references still
// point into the source file and readers (h5py, h5netcdf, xarray) fail on them.
#include "io/h5.hpp"

namespace lrm::h5 {

// Copies every child of the root of `src` (with everything below it) into `dest`, which must not
// have links of the same names, then attaches each copied dataset to the copies of its dimension
// scales. A reference to a scale that is not in `src` (a dangling one) is an error naming it.
void copy_children(const File& src, const Group& dest);

// Copies the 1-D dataset at `path` of `src` into `dest` under `name`: values and storage, not its
// attributes (scale references into `src`). The copy becomes the dimension scale `name` or, given
// `dim`, an auxiliary coordinate along the dimension `dim` of `dest`.
void copy_coordinate(const File& src, const std::string& path, const Group& dest,
                     const std::string& name, const std::string& dim = "");

// Copies the attribute `name` of `from` onto `to` (replacing one of that name) with its own type
// and shape, so an integer stays an integer and a string array stays one; false when `from` has
// no such attribute.
bool copy_attribute(const Group& from, const std::string& name, const Group& to);

}  // namespace lrm::h5
