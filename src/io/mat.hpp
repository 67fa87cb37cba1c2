#pragma once
// MATLAB .mat files (v5, and v7.3 on HDF5) through matio: numeric arrays, struct arrays of RDMs
// (rsatoolbox's `.RDM` / `.name` structs, full matrices or upper-triangle vectors) and struct
// arrays of images (e.g. Kriegeskorte 2008's stimuli_92objs).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "io/h5.hpp"

namespace lrm::io {

std::vector<std::string> mat_variables(const std::filesystem::path& path);

// A numeric variable with MATLAB's dimensions, converted to C order (so a 92x92 matrix reads
// as rows x columns and an image y x x x channel keeps that order).
h5::Array<double> read_mat_numeric(const std::filesystem::path& path, const std::string& variable);

struct MatRdms {
  std::string source;
  std::vector<std::string> names;
  std::vector<std::vector<double>> rdms;  // each n x n, row major, symmetric, zero diagonal
  std::uint64_t n_conditions = 0;
  std::vector<std::uint64_t> struct_dims;  // MATLAB dims of the struct array (e.g. 1 x 4 x 2)
};

// RDMs from `variable` (or the first variable that holds RDMs): a struct array with an `RDM`
// field, a numeric n x n or n x n x k array, or rows of upper-triangle vectors (row major over
// i < j). Element order of struct arrays is MATLAB's (column major over the struct dims).
MatRdms read_mat_rdms(const std::filesystem::path& path, const std::string& variable = "");

struct MatImages {
  std::vector<std::uint8_t> pixels;  // (stimulus, y, x, channel), C order
  std::uint64_t count = 0, height = 0, width = 0, channels = 0;
  std::vector<std::string> labels;  // the text field `label_field` per image ("" when absent)
};

// Images from a struct array's uint8 field `image_field` (y x x [x channel]); all the same size.
MatImages read_mat_images(const std::filesystem::path& path, const std::string& variable,
                          const std::string& image_field = "image",
                          const std::string& label_field = "category");

// Converts a full n x n matrix (row major) to its upper triangle without the diagonal, row major
// over i < j (scipy's squareform order), and back.
std::vector<double> upper_triangle(const std::vector<double>& square, std::uint64_t n);
std::vector<double> square_from_upper(const std::vector<double>& upper, std::uint64_t* n_out);

}  // namespace lrm::io
