#include "compare/unit_selection.hpp"

#include <algorithm>
#include <numeric>
#include <sstream>

#include "common/error.hpp"
#include "compare/features.hpp"
#include "compare/resampling.hpp"

namespace lrm::compare {
namespace {

std::string listed(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s.empty() ? "none" : s;
}

// The child group `name` of `g`; an InputError naming `what` and listing the groups present.
h5::Group child(const h5::Group& g, const std::string& name, const std::string& what) {
  if (!g.has_group(name))
    throw InputError(what + " has no " + name + " (it has " + listed(g.children()) + ")");
  return g.group(name);
}

}  // namespace

int parse_units_control(const std::string& text) {
  if (text == "random") return 1;
  const std::string prefix = "random:";
  if (text.rfind(prefix, 0) == 0) {
    const std::string n = text.substr(prefix.size());
    if (!n.empty() && n.size() <= 6 && n.find_first_not_of("0123456789") == std::string::npos &&
        std::stoi(n) >= 1)
      return std::stoi(n);
  }
  throw SettingError("units-control",
                     "use random or random:N (N from 1 to 999999), not '" + text + "'");
}

LocalizedUnits read_localized_units(const std::string& spec) {
  const auto colon = spec.rfind(':');
  if (colon == std::string::npos || colon == 0)
    throw SettingError("units", "'" + spec + "' is not localizer.h5:<layer>/pass<k>/<target>");
  LocalizedUnits out;
  out.file = spec.substr(0, colon);
  std::string path = spec.substr(colon + 1);
  path.erase(0, path.find_first_not_of('/'));
  if (path.rfind("localizer/", 0) == 0) path.erase(0, std::string("localizer/").size());
  std::vector<std::string> parts;
  std::stringstream in(path);
  for (std::string p; std::getline(in, p, '/');) parts.push_back(p);
  if (parts.size() < 3)
    throw SettingError("units", "'" + spec + "' is not localizer.h5:<layer>/pass<k>/<target>");
  out.target = parts.back();
  out.pass = io::parse_pass_index(parts[parts.size() - 2], "units");
  for (std::size_t i = 0; i + 2 < parts.size(); ++i) out.layer += (i ? "/" : "") + parts[i];
  const h5::File f(out.file, h5::File::Mode::read);
  if (!f.root().has_group("localizer"))
    throw InputError(out.file + " is not a localizer result (no /localizer group)");
  const auto layer = child(f.root().group("localizer"), out.layer, out.file + ":/localizer");
  const std::string where = out.file + ":/localizer/" + out.layer;
  const auto pass = child(layer, io::pass_dataset_name(out.pass), where);
  const auto target =
      child(pass, out.target, where + "/" + io::pass_dataset_name(out.pass) + " (targets)");
  if (!target.has_dataset("selective")) throw InputError(spec + " has no selective units mask");
  const auto mask = h5::read_array<std::uint8_t>(f, "/localizer/" + out.layer + "/" +
                                                        io::pass_dataset_name(out.pass) + "/" +
                                                        out.target + "/selective");
  out.n_units = static_cast<std::int64_t>(mask.data.size());
  for (std::size_t j = 0; j < mask.data.size(); ++j)
    if (mask.data[j]) out.units.push_back(static_cast<Eigen::Index>(j));
  if (out.units.empty())
    throw InputError(spec + ": no unit of " + std::to_string(out.n_units) + " is selective for " +
                     out.target);
  return out;
}

std::vector<Eigen::Index> random_units(std::int64_t n, std::size_t k, std::uint64_t seed,
                                       int draw) {
  auto rng = Resampler::for_resample(seed, static_cast<std::uint64_t>(draw));
  std::vector<Eigen::Index> all(static_cast<std::size_t>(n));
  std::iota(all.begin(), all.end(), Eigen::Index{0});
  // A partial Fisher-Yates shuffle: the first k are a uniform draw without replacement.
  for (std::size_t i = 0; i < k; ++i)
    std::swap(all[i], all[i + rng.index(static_cast<std::uint64_t>(all.size() - i))]);
  all.resize(k);
  std::sort(all.begin(), all.end());
  return all;
}

std::vector<UnitSet> unit_sets(const UnitOptions& o, const io::ActivationFile& file,
                               const std::vector<std::string>& layers,
                               const std::vector<int>& passes, std::uint64_t seed) {
  std::vector<UnitSet> sets;
  if (o.spec.empty()) {
    if (o.random_draws > 0)
      throw SettingError("units-control", "draws sets the size of a localizer's units: give units");
    for (const auto& lp : file.select(layers, passes)) sets.push_back({lp, lp, "all", {}});
    return sets;
  }
  const LocalizedUnits lu = read_localized_units(o.spec);
  if (!layers.empty() && (layers.size() != 1 || layers[0] != lu.layer))
    throw SettingError("units", o.spec + " holds units of layer " + lu.layer +
                                    ", so only that layer can be compared (not " + listed(layers) +
                                    ")");
  std::vector<std::vector<Eigen::Index>> draws;
  for (int d = 0; d < o.random_draws; ++d)
    draws.push_back(random_units(lu.n_units, lu.units.size(), seed, d));
  for (const auto& lp : file.select({lu.layer}, passes)) {
    const auto units = file.shape(lp).units;
    if (units != lu.n_units)
      throw InputError(o.spec + " is of " + std::to_string(lu.n_units) + " units, but " +
                       file.path().string() + ":" + lp.label() + " has " + std::to_string(units));
    sets.push_back({lp, {lp.layer + ":" + lu.target, lp.pass}, lu.target, lu.units});
    for (int d = 0; d < o.random_draws; ++d) {
      const std::string name = "random" + std::to_string(d);
      sets.push_back(
          {lp, {lp.layer + ":" + name, lp.pass}, name, draws[static_cast<std::size_t>(d)]});
    }
  }
  return sets;
}

std::string map_stem(const io::LayerPass& model) {
  std::string stem = model.layer + "_" + io::pass_dataset_name(model.pass);
  std::replace(stem.begin(), stem.end(), ':', '_');
  return stem;
}

std::vector<io::LayerPass> set_models(const std::vector<UnitSet>& sets) {
  std::vector<io::LayerPass> models;
  for (const auto& s : sets) models.push_back(s.model);
  return models;
}

void write_unit_sets(const h5::Group& g, const UnitOptions& o, const std::vector<UnitSet>& sets,
                     const std::string& dim) {
  if (o.spec.empty()) return;
  g.set_attr("units", o.spec);
  g.set_attr("units_control",
             o.random_draws ? "random:" + std::to_string(o.random_draws) : std::string("none"));
  std::vector<std::string> names;
  std::vector<std::int64_t> sizes;
  const auto ug = g.require_group("units");
  for (const auto& s : sets) {
    names.push_back(s.name);
    sizes.push_back(static_cast<std::int64_t>(s.units.size()));
    if (ug.has_dataset(s.name)) continue;
    const std::vector<std::int64_t> units(s.units.begin(), s.units.end());
    h5::write_array(ug, s.name, units, {units.size()}, {s.name + "_unit"});
  }
  h5::write_aux_coordinate(g, "unit_set", dim, names);
  h5::write_aux_coordinate(g, "n_units", dim, sizes);
}

UnitRows::UnitRows(const io::ActivationFile& file, const io::LayerPass& lp,
                   const std::vector<Eigen::Index>& chosen, const std::vector<Eigen::Index>& units)
    : FileRows(file, lp, chosen), units_(units) {}

Eigen::Index UnitRows::cols() const {
  return units_.empty() ? FileRows::cols() : static_cast<Eigen::Index>(units_.size());
}

void UnitRows::read(Eigen::Index first, Eigen::Index count, float* out) const {
  if (units_.empty()) return FileRows::read(first, count, out);
  // Whole rows through a small buffer (about 8 MiB), their chosen units copied out.
  const Eigen::Index all = FileRows::cols(), k = cols();
  const Eigen::Index step =
      std::max<Eigen::Index>(1, (Eigen::Index{2} << 20) / std::max<Eigen::Index>(all, 1));
  std::vector<float> rows(static_cast<std::size_t>(std::min(step, count) * all));
  for (Eigen::Index r0 = 0; r0 < count; r0 += step) {
    const Eigen::Index n = std::min(step, count - r0);
    FileRows::read(first + r0, n, rows.data());
    for (Eigen::Index i = 0; i < n; ++i)
      for (Eigen::Index j = 0; j < k; ++j)
        out[(r0 + i) * k + j] =
            rows[static_cast<std::size_t>(i * all + units_[static_cast<std::size_t>(j)])];
  }
}

io::ActivationBlock read_units(const io::ActivationFile& file, const io::LayerPass& lp,
                               const std::vector<Eigen::Index>& units) {
  if (units.empty()) return file.read(lp);
  io::ActivationBlock a;
  a.rows = file.shape(lp).stimuli;
  const UnitRows source(file, lp, all_rows(a.rows), units);
  a.cols = source.cols();
  a.data.resize(static_cast<std::size_t>(a.rows * a.cols));
  source.read(0, a.rows, a.data.data());
  return a;
}

}  // namespace lrm::compare
