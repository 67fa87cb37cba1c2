#pragma once
// Writes a stimulus set in the suite's HDF5 layout (README, "Stimulus sets"), atomically.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "io/results.hpp"

namespace lrm::stimuli {

struct ImageTable {
  std::vector<std::uint8_t> pixels;                 // N×H×W or N×C×H×W, C order
  std::vector<std::uint64_t> shape;                 // {N, H, W} or {N, C, H, W}
  std::vector<std::string> ids, categories, split;  // split may be empty
  std::vector<std::int64_t> labels;                 // may be empty
  std::map<std::string, std::string> attributes;    // source, licence, citation, ...
};

void write_stimulus_set(const std::filesystem::path& path, const ImageTable& table,
                        const io::Provenance& provenance);

// Seeded stratified split: exactly round(test_fraction · N) stimuli go to "test", allotted to
// categories by largest remainder, the rest to "train".
std::vector<std::string> stratified_split(const std::vector<std::string>& categories,
                                          double test_fraction, std::uint64_t seed);

}  // namespace lrm::stimuli
