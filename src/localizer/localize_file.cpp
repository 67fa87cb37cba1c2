#include "localizer/localize_file.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <numeric>
#include <optional>

#include "common/error.hpp"
#include "common/huge_pages.hpp"
#include "common/interrupt.hpp"
#include "common/progress.hpp"
#include "io/h5.hpp"
#include "io/h5_copy.hpp"

namespace lrm::localizer {
namespace {

namespace fs = std::filesystem;

const char* test_name(stats::TTestKind kind) {
  return kind == stats::TTestKind::student ? "student" : "welch";
}
const char* fdr_name(stats::FdrMethod method) {
  return method == stats::FdrMethod::by ? "by" : "bh";
}

// Passes present for a layer: the datasets named pass<k>.
std::vector<int> passes_of(const h5::Group& layer) {
  std::vector<int> passes;
  for (const auto& name : layer.children()) {
    if (name.size() < 5 || name.compare(0, 4, "pass") != 0 || !layer.has_dataset(name)) continue;
    if (name.find_first_not_of("0123456789", 4) != std::string::npos) continue;
    passes.push_back(std::stoi(name.substr(4)));
  }
  std::sort(passes.begin(), passes.end());
  return passes;
}

// Rows per chunk of a chunked dataset, 1 for other layouts.
std::int64_t chunk_rows(const h5::File& f, const std::string& path) {
  const h5::Handle dataset(H5Dopen2(f.id(), path.c_str(), H5P_DEFAULT));
  const h5::Handle plist(H5Dget_create_plist(dataset.id()));
  hsize_t chunk[2];
  if (H5Pget_layout(plist.id()) != H5D_CHUNKED || H5Pget_chunk(plist.id(), 2, chunk) != 2) return 1;
  return static_cast<std::int64_t>(chunk[0]);
}

// The moments of each category for every unit of the (stimulus, unit) dataset at `path`. Rows
// stream through two buffers of about 16 MiB, one read while the other is summed: memory stays
// bounded by the batch. Batches end on chunk boundaries, so that no compressed chunk is decoded
// twice. The buffers are freed before the tests, whose arrays can then reuse their pages.
stats::GroupMoments pass_moments(const h5::File& in, const std::string& path, const Design& design,
                                 std::int64_t n_stimuli, std::int64_t n_units) {
  std::int64_t batch = std::max<std::int64_t>(1, (std::int64_t{16} << 20) / (4 * n_units));
  if (const auto chunk = chunk_rows(in, path); batch > chunk) batch -= batch % chunk;
  batch = std::min(batch, n_stimuli);
  const auto batch_size = static_cast<std::size_t>(batch * n_units);
  struct Free {
    void operator()(float* p) const { std::free(p); }
  };
  const std::unique_ptr<float[], Free> rows(
      static_cast<float*>(allocate_huge_pages(2 * batch_size * sizeof(float))));
  stats::MomentAccumulator accumulator(n_units, static_cast<int>(design.categories.size()));
  accumulator.add_streamed(n_stimuli, batch, design.group.data(), rows.get(),
                           rows.get() + batch_size,
                           [&](std::int64_t first, std::int64_t count, float* out) {
                             check_interrupt();
                             h5::read_rows_into(in, path, first, count, out);
                           });
  return accumulator.take();
}

// Checks that the layer's coordinate `name` holds a number per unit; false when it is absent.
bool has_unit_coordinate(const h5::File& f, const std::string& layer_path, const std::string& name,
                         std::int64_t n_units) {
  const auto path = layer_path + "/" + name;
  if (!h5::exists(f, path)) return false;
  const auto shape = h5::dataset_shape(f, path);
  if (shape != std::vector<std::uint64_t>{static_cast<std::uint64_t>(n_units)} ||
      h5::is_string_dataset(f, path))
    throw InputError(f.path().string() + ":" + path + " is not one number for each of the " +
                     std::to_string(n_units) + " units");
  return true;
}

// Copies the layer's unit coordinates (the unit index, and channel, y, x when the file has all
// three) into the pass group once; the target groups link to them. Returns the auxiliary ones.
std::vector<std::string> write_unit_coordinates(const h5::File& in, const std::string& layer_path,
                                                std::int64_t n_units, const h5::Group& g) {
  if (has_unit_coordinate(in, layer_path, "unit", n_units)) {
    h5::copy_coordinate(in, layer_path + "/unit", g, "unit");
  } else {
    std::vector<std::int64_t> unit(n_units);
    std::iota(unit.begin(), unit.end(), std::int64_t{0});
    h5::write_coordinate(g, "unit", unit);
  }
  const std::vector<std::string> position{"channel", "y", "x"};
  std::size_t present = 0;
  for (const auto& name : position) present += has_unit_coordinate(in, layer_path, name, n_units);
  if (present < position.size()) return {};
  for (const auto& name : position)
    h5::copy_coordinate(in, layer_path + "/" + name, g, name, "unit");
  return position;
}

// Makes g/name a further name of pass/name (an HDF5 hard link: one copy for every target).
void link_to_pass(const h5::Group& g, const h5::Group& pass, const std::string& name) {
  if (H5Lcreate_hard(pass.id(), name.c_str(), g.id(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT) < 0)
    throw InputError("cannot link " + g.path() + "/" + name + " to " + pass.path() + "/" + name);
}

// Writes a target's group; its unit coordinates are links to those of the pass group `pass`.
void write_target(const h5::Group& pass, const h5::Group& g, const TargetResult& r,
                  const std::vector<std::string>& coords, const Options& options) {
  link_to_pass(g, pass, "unit");
  for (const auto& name : coords) link_to_pass(g, pass, name);
  h5::write_coordinate(g, "comparison", r.others);
  const auto n_units = static_cast<std::uint64_t>(r.n_units);
  const std::vector<std::uint64_t> per_comparison{r.others.size(), n_units};
  const std::vector<std::string> comparison_unit{"comparison", "unit"};
  // Uncompressed: random mantissas barely compress, and deflate (with its fresh buffers) would
  // take longer than writing the masks' bytes.
  const h5::ArrayOptions plain{coords, false, {}};
  h5::write_array(g, "t", r.t.data(), per_comparison, comparison_unit, plain);
  h5::write_array(g, "p_adjusted", r.p_adjusted.data(), per_comparison, comparison_unit, plain);
  h5::write_array(g, "rejected", r.rejected.data(), per_comparison, comparison_unit, plain);
  if (options.ratio)
    h5::write_array(g, "ratio", r.ratio.data(), per_comparison, comparison_unit, plain);
  h5::write_array(g, "selective", r.selective, {n_units}, {"unit"}, plain);
  h5::write_array(g, "mean_t", r.mean_t.data(), {n_units}, {"unit"}, plain);
  h5::write_array(g, "mean_p_adjusted", r.mean_p_adjusted.data(), {n_units}, {"unit"}, plain);
  h5::write_array(g, "n_positive_rejected", r.n_positive_rejected, {r.others.size()},
                  {"comparison"}, {});
  h5::write_array(g, "n_undefined", r.n_undefined, {r.others.size()}, {"comparison"}, {});
  g.set_attr("target", r.target);
  g.set_attr("n_units", r.n_units);
  g.set_attr("n_images", r.n_images);
  g.set_attr("n_selective", r.n_selective);
  g.set_attr("n_selective_ttest", r.n_selective_ttest);
  g.set_attr("fraction_selective", static_cast<double>(r.n_selective) / r.n_units);
}

}  // namespace

std::vector<SummaryRow> localize_file(const fs::path& activations, const fs::path& out,
                                      const FileOptions& options, io::Provenance provenance) {
  h5::File in(activations, h5::File::Mode::read);
  const std::string source = activations.string();
  if (!in.root().has_group("activations"))
    throw InputError(source + " has no /activations group (write one with lrm extract)");
  const auto root = in.root().group("activations");
  std::vector<std::string> layers = options.layers;
  if (layers.empty())
    for (const auto& name : root.children())
      if (root.has_group(name)) layers.push_back(name);
  if (layers.empty()) throw InputError(source + ": /activations holds no layers");
  for (const auto& layer : layers)
    if (!root.has_group(layer))
      throw InputError(source + " has no layer '" + layer + "' under /activations");

  // Every layer's inputs are checked before any work starts.
  struct LayerPlan {
    std::string layer;
    std::vector<int> passes;
    std::vector<std::string> category;
  };
  std::vector<LayerPlan> plan;
  for (const auto& layer : layers) {
    const auto present = passes_of(root.group(layer));
    auto passes = options.passes.empty() ? present : options.passes;
    for (int p : passes)
      if (!std::binary_search(present.begin(), present.end(), p))
        throw InputError(source + ": layer '" + layer + "' has no pass " + std::to_string(p));
    if (passes.empty())
      throw InputError(source + ": layer '" + layer + "' holds no pass<k> dataset");
    const std::string category_path = "/activations/" + layer + "/category";
    if (!h5::exists(in, category_path))
      throw InputError(source + ": layer '" + layer + "' has no category coordinate (" +
                       category_path + "); the localizer needs the category of every stimulus");
    auto category = h5::read_strings(in, category_path);
    for (const auto& c : category)
      if (c.find('/') != std::string::npos || c.empty() || c == "." || c == "..")
        throw InputError(source + ":" + category_path + ": category '" + c +
                         "' cannot name an HDF5 group");
    make_design(category, options.analysis, source + ":" + category_path);
    plan.push_back({layer, std::move(passes), std::move(category)});
  }

  const auto& a = options.analysis;
  for (const char* key : {"weights_sha256", "stimuli_sha256", "git_commit", "start_time", "model"})
    if (auto v = in.root().attr_string(key))
      provenance.inputs[std::string("activations_") + key] = *v;
  provenance.inputs["activations"] = fs::absolute(activations).string();
  io::ResultFile result(out, provenance);
  const auto top = result.root().require_group("localizer");
  top.set_attr("test", std::string(test_name(a.test)));
  top.set_attr("fdr", std::string(fdr_name(a.fdr)));
  top.set_attr("q", a.q);
  if (a.ratio) top.set_attr("ratio", *a.ratio);

  std::int64_t total = 0;
  for (const auto& p : plan) total += static_cast<std::int64_t>(p.passes.size());
  Progress bar("localize", total, "passes");
  std::vector<SummaryRow> summary;
  for (const auto& [layer, passes, category] : plan) {
    const std::string layer_path = "/activations/" + layer;
    for (int pass : passes) {
      check_interrupt();
      const std::string path = layer_path + "/pass" + std::to_string(pass);
      const std::string what = source + ":" + path;
      const auto shape = h5::dataset_shape(in, path);
      if (shape.size() != 2)
        throw InputError(what + " has " + std::to_string(shape.size()) +
                         " dimensions; activations are (stimulus, unit)");
      const auto n_stimuli = static_cast<std::int64_t>(shape[0]);
      const auto n_units = static_cast<std::int64_t>(shape[1]);
      if (n_stimuli != static_cast<std::int64_t>(category.size()))
        throw InputError(what + " has " + std::to_string(n_stimuli) + " stimuli but " + layer_path +
                         "/category has " + std::to_string(category.size()));
      if (n_units < 1) throw InputError(what + " has no units");
      const auto design = make_design(category, a, what);

      const auto moments = pass_moments(in, path, design, n_stimuli, n_units);
      std::int64_t n_nonfinite = 0, n_units_nonfinite = 0;
      for (auto v : moments.nonfinite) {
        n_nonfinite += v;
        n_units_nonfinite += v > 0;
      }

      const auto g = top.require_group(layer + "/pass" + std::to_string(pass));
      g.set_attr("layer", layer);
      g.set_attr("pass", static_cast<std::int64_t>(pass));
      g.set_attr("n_nonfinite", n_nonfinite);
      g.set_attr("n_units_nonfinite", n_units_nonfinite);
      h5::write_coordinate(g, "category", design.categories);
      h5::write_array(g, "n_images", design.n_images, {design.n_images.size()}, {"category"}, {});
      // Written with the first target, while the other threads test the pairs of later ones.
      std::optional<std::vector<std::string>> coords;
      const auto write_pass_units = [&] {
        coords = write_unit_coordinates(in, layer_path, n_units, g);
        if (n_nonfinite > 0)
          h5::write_array(g, "nonfinite", moments.nonfinite.data(),
                          {static_cast<std::uint64_t>(n_units)}, {"unit"}, {*coords, true, {}});
      };
      localize_moments(moments, design, a, [&](const TargetResult& target) {
        if (!coords) write_pass_units();
        write_target(g, g.require_group(target.target), target, *coords, a);
        summary.push_back({layer, pass, target.target, n_units, target.n_selective, n_nonfinite,
                           n_units_nonfinite});
      });
      bar.advance(1);
    }
  }
  bar.finish();

  // One row per layer, pass and target, for tables and plots without walking the groups.
  const auto table = top.require_group("summary");
  std::vector<std::string> layer_col, target_col;
  std::vector<std::int64_t> pass_col, units_col, selective_col;
  std::vector<double> fraction_col;
  for (const auto& row : summary) {
    layer_col.push_back(row.layer);
    target_col.push_back(row.target);
    pass_col.push_back(row.pass);
    units_col.push_back(row.n_units);
    selective_col.push_back(row.n_selective);
    fraction_col.push_back(static_cast<double>(row.n_selective) / row.n_units);
  }
  const std::uint64_t n_rows = summary.size();
  h5::write_dimension(table, "row", n_rows);
  h5::write_strings(table, "layer", layer_col, "row");
  h5::write_strings(table, "target", target_col, "row");
  h5::write_array(table, "pass", pass_col, {n_rows}, {"row"}, {});
  h5::write_array(table, "n_units", units_col, {n_rows}, {"row"}, {});
  h5::write_array(table, "n_selective", selective_col, {n_rows}, {"row"}, {});
  h5::write_array(table, "fraction_selective", fraction_col, {n_rows}, {"row"}, {});
  result.commit();
  return summary;
}

}  // namespace lrm::localizer
