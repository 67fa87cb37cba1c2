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
#include "common/mpi.hpp"
#include "common/progress.hpp"
#include "io/activation_file.hpp"
#include "io/h5.hpp"
#include "io/h5_copy.hpp"
#include "io/provenance_attrs.hpp"

namespace lrm::localizer {
namespace {

namespace fs = std::filesystem;

// The moments of each category for every unit of the (stimulus, unit) dataset `lp`. Rows
// stream through two buffers of about 32 MiB, one read while the other is summed: memory stays
// bounded by the batch. Batches end on chunk boundaries, so that no compressed chunk is decoded
// twice, and the chunks of the next batch are decoded by all threads in turn with the summing of
// the last (decoding is most of the work on compressed files). The buffers are freed before the
// tests, whose arrays can then reuse their pages.
// Only the units `columns` are read (an MPI rank's share); batches are sized by the layer's
// `n_units`, so that every unit's moments are merged over the same batches whatever the share.
stats::GroupMoments pass_moments(const io::ActivationFile& in, const io::LayerPass& lp,
                                 const Design& design, std::int64_t n_stimuli, std::int64_t n_units,
                                 mpi::Range columns) {
  const auto reader = in.reader(lp);
  const auto chunk = static_cast<std::int64_t>(reader.chunk_rows());
  std::int64_t batch = std::max<std::int64_t>(1, (std::int64_t{32} << 20) / (4 * n_units));
  if (batch > chunk) batch -= batch % chunk;
  batch = std::min(batch, n_stimuli);
  const auto width = static_cast<std::int64_t>(columns.size());
  const auto batch_size = static_cast<std::size_t>(batch * width);
  struct Free {
    void operator()(float* p) const { std::free(p); }
  };
  const std::unique_ptr<float[], Free> rows(
      static_cast<float*>(allocate_huge_pages(2 * batch_size * sizeof(float))));
  stats::MomentAccumulator accumulator(width, static_cast<int>(design.categories.size()));
  accumulator.add_streamed(
      n_stimuli, batch, design.group.data(), rows.get(), rows.get() + batch_size,
      [&](std::int64_t first, std::int64_t count, float* out) {
        check_interrupt();
        reader.read(static_cast<std::uint64_t>(first), static_cast<std::uint64_t>(count),
                    columns.begin, columns.size(), out);
      },
      reader.decodes_chunks() ? chunk : 0);
  return accumulator.take();
}

// The moments of every unit: under MPI each rank reads its share of the units and rank 0 gathers
// the shares (per-unit moments do not depend on the other units, so they equal one process's);
// ranks other than 0 get empty moments.
stats::GroupMoments unit_moments(const io::ActivationFile& in, const io::LayerPass& lp,
                                 const Design& design, std::int64_t n_stimuli,
                                 std::int64_t n_units) {
  const auto units = static_cast<std::size_t>(n_units);
  if (!mpi::active()) return pass_moments(in, lp, design, n_stimuli, n_units, {0, units});
  const auto share = pass_moments(in, lp, design, n_stimuli, n_units, mpi::share(units));
  const auto groups = static_cast<std::size_t>(share.n_groups);
  const auto as_doubles = [](const auto& v) { return std::vector<double>(v.begin(), v.end()); };
  const auto count = mpi::gather(as_doubles(share.count));
  const auto mean = mpi::gather(as_doubles(share.mean));
  const auto sum_sq_dev = mpi::gather(as_doubles(share.sum_sq_dev));
  const auto nonfinite = mpi::gather(as_doubles(share.nonfinite));
  stats::GroupMoments all;
  if (mpi::rank() != 0) return all;
  all.n_groups = share.n_groups;
  all.n_units = n_units;
  all.count.resize(groups * units);
  all.mean.resize(groups * units);
  all.sum_sq_dev.resize(groups * units);
  all.nonfinite.assign(nonfinite.begin(), nonfinite.end());
  // Each rank's block is (group, its units); the whole is (group, unit).
  std::size_t at = 0;
  for (int r = 0; r < mpi::size(); ++r) {
    const auto range = mpi::share(units, r, mpi::size());
    for (std::size_t g = 0; g < groups; ++g)
      for (std::size_t u = range.begin; u < range.end; ++u, ++at) {
        all.count[g * units + u] = static_cast<std::int32_t>(count[at]);
        all.mean[g * units + u] = mean[at];
        all.sum_sq_dev[g * units + u] = sum_sq_dev[at];
      }
  }
  return all;
}

// Copies the layer's unit coordinates (the unit index, and channel, y, x when the file has all
// three) into the pass group once; the target groups link to them. Returns the auxiliary ones.
std::vector<std::string> write_unit_coordinates(const io::ActivationFile& in,
                                                const std::string& layer, std::int64_t n_units,
                                                const h5::Group& g) {
  const auto layer_path = io::layer_path(layer);
  if (in.has_unit_coordinate(layer, "unit", n_units)) {
    h5::copy_coordinate(in.h5(), layer_path + "/unit", g, "unit");
  } else {
    std::vector<std::int64_t> unit(n_units);
    std::iota(unit.begin(), unit.end(), std::int64_t{0});
    h5::write_coordinate(g, "unit", unit);
  }
  const std::vector<std::string> position{"channel", "y", "x"};
  std::size_t present = 0;
  for (const auto& name : position) present += in.has_unit_coordinate(layer, name, n_units);
  if (present < position.size()) return {};
  for (const auto& name : position)
    h5::copy_coordinate(in.h5(), layer_path + "/" + name, g, name, "unit");
  return position;
}

// Makes g/name a further name of pass/name (an HDF5 hard link: one copy for every target).
void link_to_pass(const h5::Group& g, const h5::Group& pass, const std::string& name) {
  if (H5Lcreate_hard(pass.id(), name.c_str(), g.id(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT) < 0)
    throw InternalError("cannot link " + g.path() + "/" + name + " to " + pass.path() + "/" + name);
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

// A layer's category per stimulus, checked to name HDF5 groups and to make a design.
std::vector<std::string> layer_categories(const io::ActivationFile& in, const std::string& layer,
                                          const Options& options) {
  const std::string path = io::layer_path(layer) + "/category";
  const std::string what = in.path().string() + ":" + path;
  if (!in.has_categories(layer))
    throw InputError(in.path().string() + ": layer '" + layer + "' has no category coordinate (" +
                     path + "); the localizer needs the category of every stimulus");
  auto category = in.categories(layer);
  for (const auto& c : category)
    if (c.find('/') != std::string::npos || c.empty() || c == "." || c == "..")
      throw InputError(what + ": category '" + c + "' cannot name an HDF5 group");
  make_design(category, options, what);
  return category;
}

struct LayerPlan {
  std::string layer;
  std::vector<int> passes;
  std::vector<std::string> category;
};

// Every layer's inputs, checked before any work starts.
std::vector<LayerPlan> plan_layers(const io::ActivationFile& in, const FileOptions& options) {
  std::vector<LayerPlan> plan;
  for (const auto& lp : in.select(options.layers, options.passes)) {
    if (plan.empty() || plan.back().layer != lp.layer)
      plan.push_back({lp.layer, {}, layer_categories(in, lp.layer, options.analysis)});
    plan.back().passes.push_back(lp.pass);
  }
  return plan;
}

// The pass's shape, checked against the layer's categories.
io::ActivationShape check_pass(const io::ActivationFile& in, const io::LayerPass& lp,
                               std::size_t n_categories) {
  const std::string what = in.path().string() + ":" + in.dataset_path(lp);
  const auto shape = in.shape(lp);
  if (shape.stimuli != static_cast<std::int64_t>(n_categories))
    throw InputError(what + " has " + std::to_string(shape.stimuli) + " stimuli but " +
                     io::layer_path(lp.layer) + "/category has " + std::to_string(n_categories));
  if (shape.units < 1) throw InputError(what + " has no units");
  return shape;
}

struct NonFinite {
  std::int64_t values = 0, units = 0;
};
NonFinite count_nonfinite(const HugePageVector<std::int64_t>& per_unit) {
  NonFinite n;
  for (auto v : per_unit) {
    n.values += v;
    n.units += v > 0;
  }
  return n;
}

void write_pass_attributes(const h5::Group& g, const io::LayerPass& lp, const Design& design,
                           const NonFinite& nonfinite) {
  g.set_attr("layer", lp.layer);
  g.set_attr("pass", static_cast<std::int64_t>(lp.pass));
  g.set_attr("n_nonfinite", nonfinite.values);
  g.set_attr("n_units_nonfinite", nonfinite.units);
  h5::write_coordinate(g, "category", design.categories);
  h5::write_array(g, "n_images", design.n_images, {design.n_images.size()}, {"category"}, {});
}

// Tests one layer and pass and writes its group under `top`; appends a row per target.
void localize_pass(const io::ActivationFile& in, const io::LayerPass& lp,
                   const std::vector<std::string>& category, const Options& a, const h5::Group& top,
                   std::vector<SummaryRow>& summary) {
  const auto shape = check_pass(in, lp, category.size());
  const auto design = make_design(category, a, in.path().string() + ":" + in.dataset_path(lp));
  const auto moments = unit_moments(in, lp, design, shape.stimuli, shape.units);
  const auto nonfinite = count_nonfinite(moments.nonfinite);
  const auto g = top.require_group(lp.layer + "/" + io::pass_dataset_name(lp.pass));
  write_pass_attributes(g, lp, design, nonfinite);
  // Written with the first target, while the other threads test the pairs of later ones.
  std::optional<std::vector<std::string>> coords;
  const auto write_pass_units = [&] {
    coords = write_unit_coordinates(in, lp.layer, shape.units, g);
    if (nonfinite.values > 0)
      h5::write_array(g, "nonfinite", moments.nonfinite.data(),
                      {static_cast<std::uint64_t>(shape.units)}, {"unit"}, {*coords, true, {}});
  };
  localize_moments(moments, design, a, [&](const TargetResult& target) {
    if (!coords) write_pass_units();
    write_target(g, g.require_group(target.target), target, *coords, a);
    summary.push_back({lp.layer, lp.pass, target.target, shape.units, target.n_selective,
                       nonfinite.values, nonfinite.units});
  });
}

// An MPI rank other than 0: its share of every pass's units, gathered by rank 0, which writes.
void read_unit_shares(const io::ActivationFile& in, const std::vector<LayerPlan>& plan,
                      const Options& a) {
  for (const auto& layer : plan)
    for (int pass : layer.passes) {
      check_interrupt();
      const io::LayerPass lp{layer.layer, pass};
      const auto shape = check_pass(in, lp, layer.category.size());
      const auto design = make_design(layer.category, a, in.path().string());
      unit_moments(in, lp, design, shape.stimuli, shape.units);
    }
}

// One row per layer, pass and target, for tables and plots without walking the groups.
void write_summary(const h5::Group& top, const std::vector<SummaryRow>& summary) {
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
}

}  // namespace

std::vector<SummaryRow> localize_file(const fs::path& activations, const fs::path& out,
                                      const FileOptions& options, io::Provenance provenance) {
  const io::ActivationFile in(activations, options.allow_partial);
  const auto plan = plan_layers(in, options);
  if (mpi::rank() != 0) {
    read_unit_shares(in, plan, options.analysis);
    return {};
  }

  const auto& a = options.analysis;
  for (const char* key :
       {io::weights_sha256_attr, io::stimuli_checksum_attr, "git_commit", "start_time", "model"})
    if (auto v = in.attr(key)) provenance.inputs[std::string("activations_") + key] = *v;
  provenance.inputs["activations"] = fs::absolute(activations).string();
  io::ResultFile result(out, provenance);
  const auto top = result.root().require_group("localizer");
  top.set_attr("test", ttest_kind_names.name(a.test));
  top.set_attr("fdr", stats::fdr_method_names.name(a.fdr));
  top.set_attr("q", a.q);
  if (a.ratio) top.set_attr("ratio", *a.ratio);
  in.record_partial_rows(top);

  std::int64_t total = 0;
  for (const auto& p : plan) total += static_cast<std::int64_t>(p.passes.size());
  Progress bar("localize", total, "passes");
  std::vector<SummaryRow> summary;
  for (const auto& layer : plan)
    for (int pass : layer.passes) {
      check_interrupt();
      localize_pass(in, {layer.layer, pass}, layer.category, a, top, summary);
      bar.advance(1);
    }
  bar.finish();
  write_summary(top, summary);
  result.commit();
  return summary;
}

}  // namespace lrm::localizer
