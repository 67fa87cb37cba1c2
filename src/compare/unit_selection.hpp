#pragma once
// Localizer units as features: a layer's features restricted to the units a localizer result
// marks selective for a target (/localizer/<layer>/pass<k>/<target>/selective, as lrm localize
// writes it), and size-matched random unit sets as controls. The units are chosen when the rows
// are read, so layers stream through the same bounded memory as whole ones.
#include <Eigen/Dense>
#include <cstdint>
#include <string>
#include <vector>

#include "compare/gram.hpp"
#include "io/activation_file.hpp"
#include "io/h5.hpp"

namespace lrm::compare {

struct UnitOptions {
  std::string spec;      // "localizer.h5:<layer>/pass<k>/<target>"; empty: every unit
  int random_draws = 0;  // random unit sets of the same size per layer and pass (seeded)
};

// "random" (one draw) or "random:N"; a SettingError of "units-control" otherwise.
int parse_units_control(const std::string& text);

// The selective units of one localizer result.
struct LocalizedUnits {
  std::string file, layer, target;
  int pass = 0;
  std::int64_t n_units = 0;         // the layer's units the localizer tested
  std::vector<Eigen::Index> units;  // the selective ones, ascending
};
// Reads `spec` ("file.h5:<layer>/pass<k>/<target>", optionally "/localizer/..."): an InputError
// naming the file for an unknown layer, pass or target (listing those present) or no selective
// unit.
LocalizedUnits read_localized_units(const std::string& spec);

// `k` of `n` units drawn without replacement for draw `draw` of `seed`, ascending; the same on
// every platform, and a draw's units do not depend on the other draws.
std::vector<Eigen::Index> random_units(std::int64_t n, std::size_t k, std::uint64_t seed, int draw);

// A layer and pass read through a set of its units.
struct UnitSet {
  io::LayerPass lp;                 // what is read
  io::LayerPass model;              // its name in results: <layer>:<set>/pass<k> with units
  std::string name;                 // "all", the target, or "random<d>"
  std::vector<Eigen::Index> units;  // ascending columns; empty: every unit
};

// The layers and passes chosen (as ActivationFile::select), each with every unit, or, with a
// spec, the passes of the localizer's layer with its selective units and then `random_draws`
// random sets of the same size (the same sets in every pass). Another layer chosen beside the
// localizer's, or a layer of another unit count, is an InputError.
std::vector<UnitSet> unit_sets(const UnitOptions& o, const io::ActivationFile& file,
                               const std::vector<std::string>& layers,
                               const std::vector<int>& passes, std::uint64_t seed);
// A model's name in file names, <layer>_pass<k>: a unit set's ':' becomes '_', so names keep to
// [A-Za-z0-9._-].
std::string map_stem(const io::LayerPass& model);
// The result names of the sets (for the model coordinate).
std::vector<io::LayerPass> set_models(const std::vector<UnitSet>& sets);
// Records the choice on a result group: attributes units and units_control, the auxiliary
// coordinates unit_set and n_units along `dim` (the sets' dimension, already written: model, or
// banded ridge's group), and each set's units as units/<name>.
void write_unit_sets(const h5::Group& g, const UnitOptions& o, const std::vector<UnitSet>& sets,
                     const std::string& dim = "model");

// Chosen rows of an activation file's pass through chosen unit columns (empty: all).
class UnitRows : public FileRows {
 public:
  UnitRows(const io::ActivationFile& file, const io::LayerPass& lp,
           const std::vector<Eigen::Index>& chosen, const std::vector<Eigen::Index>& units);
  Eigen::Index cols() const override;
  void read(Eigen::Index first, Eigen::Index count, float* out) const override;

 private:
  std::vector<Eigen::Index> units_;
};

// Every row of the pass through the unit columns (empty: all).
io::ActivationBlock read_units(const io::ActivationFile& file, const io::LayerPass& lp,
                               const std::vector<Eigen::Index>& units);

}  // namespace lrm::compare
