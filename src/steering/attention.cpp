#include "steering/attention.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>

#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "common/progress.hpp"
#include "io/results.hpp"
#include "localizer/localizer.hpp"
#include "model/metadata.hpp"
#include "stats/bootstrap.hpp"
#include "stats/ttest.hpp"
#include "steering/composites.hpp"
#include "steering/sweep.hpp"
#include "steering/vectors.hpp"

namespace lrm::steering {
namespace {

// Each category's images in a seeded random order (Fisher–Yates with unbiased draws).
std::map<std::string, std::vector<std::int64_t>> shuffled_members(const stimuli::StimulusSet& set,
                                                                  std::uint64_t seed) {
  std::map<std::string, std::vector<std::int64_t>> members;
  for (std::size_t i = 0; i < set.size(); ++i)
    members[set.categories()[i]].push_back(static_cast<std::int64_t>(i));
  std::mt19937_64 engine(seed);
  auto next = [](void* s) -> std::uint64_t { return (*static_cast<std::mt19937_64*>(s))(); };
  for (auto& [name, rows] : members)
    for (std::size_t i = rows.size(); i > 1; --i)
      std::swap(rows[i - 1], rows[stats::uniform_index(i, next, &engine)]);
  return members;
}

std::vector<std::uint64_t> u64(std::initializer_list<std::int64_t> dims) {
  std::vector<std::uint64_t> out;
  for (auto d : dims) out.push_back(static_cast<std::uint64_t>(d));
  return out;
}

}  // namespace

void run_attend(model::LoadedModel& model, const stimuli::StimulusSet& set,
                const stimuli::Preprocess& p, const AttendOptions& o) {
  auto& net = *model.net;
  if (o.category_a.empty() || o.category_b.empty() || o.category_a == o.category_b)
    throw InputError("--attend: give two different categories A,B");
  if (o.layer.empty()) throw InputError("--layer: give the layer whose units are read out");
  net.backbone()->index_of(o.layer);
  check_alphas({o.alpha}, "--alpha");
  if (o.passes < 2)
    throw InputError("--passes must be at least 2 to steer (pass 0 is feed-forward)");
  const int pass = o.pass < 0 ? o.passes - 1 : o.pass;
  if (pass >= o.passes)
    throw InputError("--pass " + std::to_string(pass) + " is not run (--passes " +
                     std::to_string(o.passes) + ")");
  if (o.localize_pass < 0 || o.localize_pass >= o.passes)
    throw InputError("--localize-pass must lie in 0.." + std::to_string(o.passes - 1));
  if (o.localizer_images < 2) throw InputError("--localizer-images must be at least 2");
  if (o.composites < 2) throw InputError("--composites must be at least 2");
  if (o.resamples < 1) throw InputError("--resamples must be at least 1");
  const std::string source = o.source.empty() ? net.backbone()->layer_names().back() : o.source;
  net.backbone()->index_of(source, "steering source");

  auto members = shuffled_members(set, o.seed);
  for (const auto& c : {o.category_a, o.category_b})
    if (!members.count(c))
      throw InputError("--attend: category '" + c + "' has no exemplars in stimulus set " +
                       set.source());
  if (members.size() < 2)
    throw InputError("stimulus set " + set.source() + " has one category; the localizer needs two");

  // Localizer on single images (every category of the set is a comparison category).
  std::vector<std::int64_t> rows;
  std::vector<std::string> row_categories;
  for (const auto& [name, list] : members) {
    const auto n = std::min<std::int64_t>(o.localizer_images, list.size());
    rows.insert(rows.end(), list.begin(), list.begin() + n);
    row_categories.insert(row_categories.end(), n, name);
  }
  auto acts = layer_outputs(net, set, rows, p, o.layer, o.localize_pass, o.batch_size, "localizer")
                  .contiguous();
  const auto n_units = acts.size(1);
  localizer::Options lo;
  lo.targets = {o.category_a, o.category_b};
  lo.fdr = o.fdr;
  lo.q = o.q;
  const auto localized =
      localizer::localize(acts.data_ptr<float>(), acts.size(0), n_units, row_categories, lo,
                          "layer " + o.layer + " of " + set.source());
  std::vector<std::vector<std::uint8_t>> masks;
  for (const auto& target : {o.category_a, o.category_b})
    for (const auto& r : localized.targets)
      if (r.target == target) masks.push_back(r.selective);
  const std::vector<std::string> unit_types{o.category_a, o.category_b};
  std::vector<std::int64_t> n_selective;
  std::vector<torch::Tensor> mask_tensors;
  for (int u = 0; u < 2; ++u) {
    std::vector<float> m(masks[u].begin(), masks[u].end());
    n_selective.push_back(std::count(masks[u].begin(), masks[u].end(), 1));
    if (n_selective.back() == 0)
      throw InputError("no unit of layer " + o.layer + " (pass " + std::to_string(o.localize_pass) +
                       ") is selective for category '" + unit_types[u] + "' at q = " +
                       std::to_string(o.q) + "; try another layer or more --localizer-images");
    mask_tensors.push_back(torch::tensor(m) / static_cast<double>(n_selective.back()));
  }
  auto unit_mean = torch::stack(mask_tensors, 1);  // U×2: averages over A-units, B-units

  // Blends of images not used by the localizer (unless reuse is allowed).
  auto blend_images = [&](const std::string& c) {
    const auto& list = members[c];
    const auto skip = o.reuse_images ? 0 : std::min<std::int64_t>(o.localizer_images, list.size());
    return std::vector<std::int64_t>(list.begin() + skip, list.end());
  };
  const auto images_a = blend_images(o.category_a), images_b = blend_images(o.category_b);
  const auto N = std::min<std::int64_t>({o.composites, static_cast<std::int64_t>(images_a.size()),
                                         static_cast<std::int64_t>(images_b.size())});
  if (N < 2)
    throw InputError(
        "too few images of '" + o.category_a + "' or '" + o.category_b + "' in " + set.source() +
        " for blends beside the localizer images; use fewer --localizer-images or --reuse-images");

  // Prototypes: mean output over all exemplars of A and of B.
  CategoryVectors prototypes;
  if (o.prototypes.empty()) {
    prototypes =
        compute_prototypes(net, set, p, source, o.prototype_pass, unit_types, o.batch_size);
  } else {
    ClassList classes{model::class_names(model, set), "the model's class names"};
    const auto width = layer_outputs(net, set, {images_a[0]}, p, source, 0, 1, "probe").size(1);
    prototypes = read_category_vectors(o.prototypes, classes, width);
    if (!prototypes.layer.empty() && prototypes.layer != source)
      throw InputError("prototypes " + o.prototypes + " are of layer " + prototypes.layer +
                       ", not of the steering source " + source);
  }
  const auto proto_a = prototypes.row(o.category_a), proto_b = prototypes.row(o.category_b);

  // Activation (composite, unit type, attended) and without steering (composite, unit type).
  std::vector<double> act(N * 4), unsteered(N * 2);
  SweepOptions sweep;
  sweep.passes = o.passes;
  sweep.record_layer = o.layer;
  sweep.record_pass = pass;
  sweep.max_rows = o.max_rows;
  const auto& ids = set.ids();
  Progress bar("attend", N, "blends");
  for (std::int64_t first = 0; first < N; first += o.batch_size) {
    check_interrupt();
    const auto B = std::min<std::int64_t>(o.batch_size, N - first);
    std::vector<torch::Tensor> blends;
    for (std::int64_t b = 0; b < B; ++b) {
      const auto ia = images_a[first + b], ib = images_b[first + b];
      blends.push_back(make_composite(load_image(set, ia, p), load_image(set, ib, p),
                                      CompositeKind::overlay, "stimulus " + ids[ia],
                                      "stimulus " + ids[ib]));
    }
    Conditions c;
    c.source = source;
    c.vectors =
        torch::stack({proto_a.expand({B, proto_a.size(0)}), proto_b.expand({B, proto_b.size(0)})});
    c.alpha = {o.alpha, o.alpha};
    auto r = sweep_shared(net, torch::stack(blends), c, sweep);
    auto steered =
        torch::matmul(r.layer_steered, unit_mean).to(torch::kDouble).contiguous();  // K×B×2
    auto plain =
        torch::matmul(r.layer_unsteered, unit_mean).to(torch::kDouble).contiguous();  // B×2
    const auto* s = steered.data_ptr<double>();
    const auto* u = plain.data_ptr<double>();
    for (std::int64_t b = 0; b < B; ++b)
      for (int t = 0; t < 2; ++t) {
        unsteered[(first + b) * 2 + t] = u[b * 2 + t];
        for (int k = 0; k < 2; ++k) act[((first + b) * 2 + t) * 2 + k] = s[(k * B + b) * 2 + t];
      }
    bar.advance(B);
  }
  bar.finish();

  // Statistics over blends.
  auto mean_over = [&](const std::vector<std::int64_t>& idx, auto value) {
    double sum = 0;
    for (auto n : idx) sum += value(n);
    return sum / static_cast<double>(idx.size());
  };
  std::vector<double> table, table_ci, base, base_ci, ami, ami_ci, t_stat, df, p_value;
  for (int t = 0; t < 2; ++t) {
    for (int k = 0; k < 2; ++k) {
      auto ci = stats::percentile_ci(
          N,
          [&](const auto& idx) {
            return mean_over(idx, [&](auto n) { return act[(n * 2 + t) * 2 + k]; });
          },
          o.resamples, o.seed, o.level);
      table.push_back(ci.estimate);
      table_ci.insert(table_ci.end(), {ci.low, ci.high});
    }
    auto bci = stats::percentile_ci(
        N,
        [&](const auto& idx) {
          return mean_over(idx, [&](auto n) { return unsteered[n * 2 + t]; });
        },
        o.resamples, o.seed, o.level);
    base.push_back(bci.estimate);
    base_ci.insert(base_ci.end(), {bci.low, bci.high});
    // Preferred = attending the units' own category (k == t).
    auto index = [&](const std::vector<std::int64_t>& idx) {
      const double pref = mean_over(idx, [&](auto n) { return act[(n * 2 + t) * 2 + t]; });
      const double other = mean_over(idx, [&](auto n) { return act[(n * 2 + t) * 2 + (1 - t)]; });
      return pref + other == 0 ? std::nan("") : (pref - other) / (pref + other);
    };
    if (table[t * 2] + table[t * 2 + 1] == 0)
      throw InputError("the " + unit_types[t] + "-units of layer " + o.layer +
                       " are silent (mean activation 0) under "
                       "both attended categories; the attention modulation index is undefined");
    auto aci = stats::percentile_ci(N, index, o.resamples, o.seed, o.level);
    ami.push_back(aci.estimate);
    ami_ci.insert(ami_ci.end(), {aci.low, aci.high});
    // Paired t over blends: attend-preferred vs attend-other.
    std::vector<double> preferred(N), other(N);
    for (std::int64_t n = 0; n < N; ++n) {
      preferred[n] = act[(n * 2 + t) * 2 + t];
      other[n] = act[(n * 2 + t) * 2 + 1 - t];
    }
    const auto paired = stats::ttest_rel(preferred, other);
    t_stat.push_back(paired.t);
    df.push_back(paired.df);
    p_value.push_back(paired.p);
  }

  std::printf("layer %s, pass %d, alpha %g, %lld blends\n", o.layer.c_str(), pass, o.alpha,
              static_cast<long long>(N));
  std::printf("%-16s %-8s %-26s %-26s %-10s %-22s %s\n", "units", "n",
              ("attend " + o.category_a).c_str(), ("attend " + o.category_b).c_str(), "unsteered",
              "modulation index [CI]", "paired t (p)");
  for (int t = 0; t < 2; ++t) {
    char a[64], b[64];
    std::snprintf(a, sizeof a, "%.4g [%.4g, %.4g]", table[t * 2], table_ci[t * 4],
                  table_ci[t * 4 + 1]);
    std::snprintf(b, sizeof b, "%.4g [%.4g, %.4g]", table[t * 2 + 1], table_ci[t * 4 + 2],
                  table_ci[t * 4 + 3]);
    std::printf("%-16s %-8lld %-26s %-26s %-10.4g %.3f [%.3f, %.3f]   t(%g) = %.3f (p = %.3g)\n",
                (unit_types[t] + "-units").c_str(), static_cast<long long>(n_selective[t]), a, b,
                base[t], ami[t], ami_ci[2 * t], ami_ci[2 * t + 1], df[t], t_stat[t], p_value[t]);
  }

  io::ResultFile out(o.out,
                     run_provenance(model, o.weights, set, o.seed, {{"prototypes", o.prototypes}}));
  auto g = out.root().require_group("attention");
  g.set_attr("layer", o.layer);
  g.set_attr("pass", static_cast<std::int64_t>(pass));
  g.set_attr("localize_pass", static_cast<std::int64_t>(o.localize_pass));
  g.set_attr("alpha", o.alpha);
  g.set_attr("source", source);
  g.set_attr("prototypes", prototypes.origin);
  g.set_attr("prototype_pass", static_cast<std::int64_t>(prototypes.pass));
  g.set_attr("fdr", o.fdr == stats::FdrMethod::by ? std::string("by") : std::string("bh"));
  g.set_attr("q", o.q);
  g.set_attr("localizer_images_per_category", o.localizer_images);
  g.set_attr("reuse_images", static_cast<std::int64_t>(o.reuse_images));
  g.set_attr("resamples", o.resamples);
  g.set_attr("level", o.level);

  std::vector<std::int64_t> composite(N), unit(n_units);
  std::vector<std::string> sa, sb;
  for (std::int64_t n = 0; n < N; ++n) {
    composite[n] = n;
    sa.push_back(ids[images_a[n]]);
    sb.push_back(ids[images_b[n]]);
  }
  for (std::int64_t i = 0; i < n_units; ++i) unit[i] = i;
  h5::write_coordinate(g, "composite", composite);
  h5::write_aux_coordinate(g, "stimulus_a", "composite", sa);
  h5::write_aux_coordinate(g, "stimulus_b", "composite", sb);
  h5::write_coordinate(g, "unit_type", unit_types);
  h5::write_coordinate(g, "attended", unit_types);
  h5::write_coordinate(g, "bound", std::vector<std::string>{"low", "high"});
  h5::write_coordinate(g, "unit", unit);
  std::vector<std::uint8_t> selective(masks[0]);
  selective.insert(selective.end(), masks[1].begin(), masks[1].end());
  h5::write_array(g, "selective", selective, u64({2, n_units}), {"unit_type", "unit"});
  h5::write_array(g, "n_units", n_selective, u64({2}), {"unit_type"});
  h5::ArrayOptions per_composite;
  per_composite.coordinates = {"stimulus_a", "stimulus_b"};
  h5::write_array(g, "activation", act, u64({N, 2, 2}), {"composite", "unit_type", "attended"},
                  per_composite);
  h5::write_array(g, "unsteered_activation", unsteered, u64({N, 2}), {"composite", "unit_type"},
                  per_composite);
  h5::write_array(g, "mean_activation", table, u64({2, 2}), {"unit_type", "attended"});
  h5::write_array(g, "mean_activation_ci", table_ci, u64({2, 2, 2}),
                  {"unit_type", "attended", "bound"});
  h5::write_array(g, "mean_unsteered_activation", base, u64({2}), {"unit_type"});
  h5::write_array(g, "mean_unsteered_activation_ci", base_ci, u64({2, 2}), {"unit_type", "bound"});
  h5::write_array(g, "modulation_index", ami, u64({2}), {"unit_type"});
  h5::write_array(g, "modulation_index_ci", ami_ci, u64({2, 2}), {"unit_type", "bound"});
  h5::write_array(g, "t", t_stat, u64({2}), {"unit_type"});
  h5::write_array(g, "df", df, u64({2}), {"unit_type"});
  h5::write_array(g, "p", p_value, u64({2}), {"unit_type"});
  out.commit();
}

}  // namespace lrm::steering
