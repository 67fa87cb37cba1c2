#include "steering/attention.hpp"

#include <algorithm>
#include <map>
#include <random>

#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "common/progress.hpp"
#include "io/results.hpp"
#include "localizer/localizer.hpp"
#include "model/metadata.hpp"
#include "stats/bootstrap.hpp"
#include "steering/composites.hpp"
#include "steering/sweep.hpp"
#include "steering/vectors.hpp"

namespace lrm::steering {
namespace {

using Members = std::map<std::string, std::vector<std::int64_t>>;

// Each category's images in a seeded random order (Fisher–Yates with unbiased draws).
Members shuffled_members(const stimuli::StimulusSet& set, std::uint64_t seed) {
  Members members;
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

// Everything decided before the model runs: the read-out pass, the steered source, the shuffled
// exemplars of every category and the images of the blends.
struct AttendPlan {
  int pass = 0;
  std::string source;
  Members members;
  std::vector<std::string> unit_types;           // A, B
  std::vector<std::int64_t> images_a, images_b;  // blend n overlays images_a[n] and images_b[n]
  std::int64_t blends = 0;
};

void check_options(const AttendOptions& o) {
  if (o.category_a.empty() || o.category_b.empty())
    throw SettingError("attend", "give two categories A,B");
  if (o.category_a == o.category_b)
    throw SettingError("attend", "give two different categories (both are '" + o.category_a + "')");
  if (o.layer.empty()) throw SettingError("layer", "give the layer whose units are read out");
  check_alphas({o.alpha, o.alpha_negative.value_or(o.alpha)}, "steer-strength");
  if (o.passes < 2)
    throw SettingError("num-passes", "must be at least 2 to steer (pass 0 is feed-forward)");
  if (o.passes > model::kMaxPasses)
    throw SettingError("num-passes", "must be at most " + std::to_string(model::kMaxPasses));
  if (o.pass < -1) throw SettingError("pass", "must be ≥ 0 (or -1 for the last)");
  const int pass = o.pass < 0 ? o.passes - 1 : o.pass;
  if (pass >= o.passes)
    throw SettingError(
        "pass", std::to_string(pass) + " is not run (" + std::to_string(o.passes) + " passes)");
  if (o.localize_pass < 0 || o.localize_pass >= o.passes)
    throw SettingError("localize-pass", "must lie in 0.." + std::to_string(o.passes - 1));
  if (o.prototype_pass < 0) throw SettingError("prototype-pass", "must be ≥ 0");
  if (o.localizer_images < 2) throw SettingError("localizer-images", "must be at least 2");
  if (o.composites < 2) throw SettingError("composites", "must be at least 2");
  if (o.resamples < 1) throw SettingError("resamples", "must be at least 1");
  check_memory(static_cast<double>(o.resamples) * 8, "resamples",
               std::to_string(o.resamples) + " bootstrap resamples");
  if (!(o.level > 0 && o.level < 1)) throw SettingError("level", "must lie in (0, 1)");
  if (!(o.q > 0 && o.q < 1)) throw SettingError("q", "must lie in (0, 1)");
  if (o.batch_size < 1) throw SettingError("batch-size", "must be at least 1");
}

// The images of a category left for blends: those the localizer does not use, unless reused.
std::vector<std::int64_t> blend_images(const AttendOptions& o, const Members& members,
                                       const std::string& c) {
  const auto& list = members.at(c);
  const auto skip = o.reuse_images ? 0 : std::min<std::int64_t>(o.localizer_images, list.size());
  return std::vector<std::int64_t>(list.begin() + skip, list.end());
}

AttendPlan plan_attend(model::LrmNetImpl& net, const stimuli::StimulusSet& set,
                       const AttendOptions& o) {
  check_options(o);
  net.backbone()->index_of(o.layer);
  AttendPlan plan;
  plan.pass = o.pass < 0 ? o.passes - 1 : o.pass;
  plan.source = o.source.empty() ? net.backbone()->layer_names().back() : o.source;
  net.backbone()->index_of(plan.source, "steering source");
  plan.members = shuffled_members(set, o.seed);
  for (const auto& c : {o.category_a, o.category_b})
    if (!plan.members.count(c))
      throw SettingError("attend",
                         "category '" + c + "' has no exemplars in stimulus set " + set.source());
  if (plan.members.size() < 2)
    throw InputError("stimulus set " + set.source() + " has one category; the localizer needs two");
  plan.unit_types = {o.category_a, o.category_b};
  plan.images_a = blend_images(o, plan.members, o.category_a);
  plan.images_b = blend_images(o, plan.members, o.category_b);
  plan.blends =
      std::min<std::int64_t>({o.composites, static_cast<std::int64_t>(plan.images_a.size()),
                              static_cast<std::int64_t>(plan.images_b.size())});
  return plan;
}

// Units of the read-out layer selective for A and for B, from single images (every category of
// the set is a comparison category).
struct Localized {
  std::int64_t n_units = 0;
  std::vector<std::vector<std::uint8_t>> masks;  // A, B
  std::vector<std::int64_t> n_selective;
  torch::Tensor unit_mean;  // U×2: averages over A-units, B-units
};

Localized localize_units(model::LrmNetImpl& net, const stimuli::StimulusSet& set,
                         const stimuli::Preprocess& p, const AttendOptions& o,
                         const AttendPlan& plan) {
  std::vector<std::int64_t> rows;
  std::vector<std::string> row_categories;
  for (const auto& [name, list] : plan.members) {
    const auto n = std::min<std::int64_t>(o.localizer_images, list.size());
    rows.insert(rows.end(), list.begin(), list.begin() + n);
    row_categories.insert(row_categories.end(), n, name);
  }
  auto acts = layer_outputs(net, set, rows, p, o.layer, o.localize_pass, o.batch_size, "localizer")
                  .contiguous();
  if (const auto bad = first_nonfinite_row(acts, 0); bad >= 0)
    throw InputError("layer " + o.layer + " of the model gives non-finite outputs on stimulus " +
                     set.ids()[rows[bad]] + "; check the weights");
  Localized l;
  l.n_units = acts.size(1);
  localizer::Options lo;
  lo.targets = plan.unit_types;
  lo.fdr = o.fdr;
  lo.q = o.q;
  const auto localized =
      localizer::localize(acts.data_ptr<float>(), acts.size(0), l.n_units, row_categories, lo,
                          "layer " + o.layer + " of " + set.source());
  for (const auto& target : plan.unit_types)
    for (const auto& r : localized.targets)
      if (r.target == target) l.masks.push_back(r.selective);
  std::vector<torch::Tensor> mask_tensors;
  for (int u = 0; u < 2; ++u) {
    std::vector<float> m(l.masks[u].begin(), l.masks[u].end());
    l.n_selective.push_back(std::count(l.masks[u].begin(), l.masks[u].end(), 1));
    if (l.n_selective.back() == 0)
      throw InputError("no unit of layer " + o.layer + " (pass " + std::to_string(o.localize_pass) +
                       ") is selective for category '" + plan.unit_types[u] + "' at q = " +
                       std::to_string(o.q) + "; try another layer or more localizer images");
    mask_tensors.push_back(torch::tensor(m) / static_cast<double>(l.n_selective.back()));
  }
  l.unit_mean = torch::stack(mask_tensors, 1);
  return l;
}

// Prototypes of A and B: computed from all their exemplars, or read from a file.
CategoryVectors attend_prototypes(model::LoadedModel& model, const stimuli::StimulusSet& set,
                                  const stimuli::Preprocess& p, const AttendOptions& o,
                                  const AttendPlan& plan) {
  auto& net = *model.net;
  if (o.prototypes.empty())
    return compute_prototypes(net, set, p, plan.source, o.prototype_pass, plan.unit_types,
                              o.batch_size);
  ClassList classes{model::class_names(model, set), "the model's class names"};
  const auto width =
      layer_outputs(net, set, {plan.images_a[0]}, p, plan.source, 0, 1, "probe").size(1);
  auto prototypes = read_category_vectors(o.prototypes, classes, width);
  if (!prototypes.layer.empty() && prototypes.layer != plan.source)
    throw InputError("prototypes " + o.prototypes + " are of layer " + prototypes.layer +
                     ", not of the steering source " + plan.source);
  return prototypes;
}

// Mean activation of A-units and B-units in every blend, steered toward A and toward B and
// unsteered.
stats::AttentionTrials run_blends(model::LrmNetImpl& net, const stimuli::StimulusSet& set,
                                  const stimuli::Preprocess& p, const AttendOptions& o,
                                  const AttendPlan& plan, const Localized& units,
                                  const CategoryVectors& prototypes) {
  const auto N = plan.blends;
  const auto proto_a = prototypes.row(o.category_a), proto_b = prototypes.row(o.category_b);
  stats::AttentionTrials trials;
  trials.blends = N;
  trials.activation.resize(N * 4);
  trials.unsteered.resize(N * 2);
  for (const auto& type : plan.unit_types)
    trials.unit_labels.push_back(type + "-units of layer " + o.layer);
  SweepOptions sweep;
  sweep.passes = o.passes;
  sweep.record_layer = o.layer;
  sweep.record_pass = plan.pass;
  sweep.max_rows = o.max_rows;
  const auto& ids = set.ids();
  Progress bar("attend", N, "blends");
  for (std::int64_t first = 0; first < N; first += o.batch_size) {
    check_interrupt();
    const auto B = std::min<std::int64_t>(o.batch_size, N - first);
    std::vector<torch::Tensor> blends;
    for (std::int64_t b = 0; b < B; ++b) {
      const auto ia = plan.images_a[first + b], ib = plan.images_b[first + b];
      blends.push_back(make_composite(load_image(set, ia, p), load_image(set, ib, p),
                                      CompositeKind::overlay, "stimulus " + ids[ia],
                                      "stimulus " + ids[ib]));
    }
    Conditions c;
    c.source = plan.source;
    c.vectors =
        torch::stack({proto_a.expand({B, proto_a.size(0)}), proto_b.expand({B, proto_b.size(0)})});
    c.alpha = {o.alpha, o.alpha};
    if (o.alpha_negative) c.alpha_negative = {*o.alpha_negative, *o.alpha_negative};
    auto r = sweep_shared(net, torch::stack(blends), c, sweep);
    auto bad = first_nonfinite_row(r.layer_unsteered, 0);
    if (bad < 0) bad = first_nonfinite_row(r.layer_steered, 1);
    if (bad >= 0)
      throw InputError("layer " + o.layer + " of the model gives non-finite outputs on blend " +
                       std::to_string(first + bad) + " (stimuli " +
                       ids[plan.images_a[first + bad]] + " and " + ids[plan.images_b[first + bad]] +
                       "); check the weights");
    auto steered =
        torch::matmul(r.layer_steered, units.unit_mean).to(torch::kDouble).contiguous();  // K×B×2
    auto plain =
        torch::matmul(r.layer_unsteered, units.unit_mean).to(torch::kDouble).contiguous();  // B×2
    const auto* s = steered.data_ptr<double>();
    const auto* u = plain.data_ptr<double>();
    for (std::int64_t b = 0; b < B; ++b)
      for (int t = 0; t < 2; ++t) {
        trials.unsteered[(first + b) * 2 + t] = u[b * 2 + t];
        for (int k = 0; k < 2; ++k)
          trials.activation[((first + b) * 2 + t) * 2 + k] = s[(k * B + b) * 2 + t];
      }
    bar.advance(B);
  }
  bar.finish();
  return trials;
}

void write_attend(h5::Group g, const stimuli::StimulusSet& set, const AttendOptions& o,
                  const AttendPlan& plan, const Localized& units, const CategoryVectors& prototypes,
                  const stats::AttentionTrials& trials, const stats::AttentionScores& s) {
  g.set_attr("layer", o.layer);
  g.set_attr("pass", static_cast<std::int64_t>(plan.pass));
  g.set_attr("localize_pass", static_cast<std::int64_t>(o.localize_pass));
  g.set_attr("alpha", o.alpha);
  if (o.alpha_negative) g.set_attr("alpha_negative", *o.alpha_negative);
  g.set_attr("source", plan.source);
  g.set_attr("prototypes", prototypes.origin);
  g.set_attr("prototype_pass", static_cast<std::int64_t>(prototypes.pass));
  g.set_attr("fdr", stats::fdr_method_names.name(o.fdr));
  g.set_attr("q", o.q);
  g.set_attr("localizer_images_per_category", o.localizer_images);
  g.set_attr("reuse_images", static_cast<std::int64_t>(o.reuse_images));
  g.set_attr("resamples", o.resamples);
  g.set_attr("level", o.level);

  const auto N = plan.blends, n_units = units.n_units;
  std::vector<std::int64_t> composite(N), unit(n_units);
  std::vector<std::string> sa, sb;
  for (std::int64_t n = 0; n < N; ++n) {
    composite[n] = n;
    sa.push_back(set.ids()[plan.images_a[n]]);
    sb.push_back(set.ids()[plan.images_b[n]]);
  }
  for (std::int64_t i = 0; i < n_units; ++i) unit[i] = i;
  h5::write_coordinate(g, "composite", composite);
  h5::write_aux_coordinate(g, "stimulus_a", "composite", sa);
  h5::write_aux_coordinate(g, "stimulus_b", "composite", sb);
  h5::write_coordinate(g, "unit_type", plan.unit_types);
  h5::write_coordinate(g, "attended", plan.unit_types);
  h5::write_coordinate(g, "bound", std::vector<std::string>{"low", "high"});
  h5::write_coordinate(g, "unit", unit);
  std::vector<std::uint8_t> selective(units.masks[0]);
  selective.insert(selective.end(), units.masks[1].begin(), units.masks[1].end());
  h5::write_array(g, "selective", selective, u64({2, n_units}), {"unit_type", "unit"});
  h5::write_array(g, "n_units", units.n_selective, u64({2}), {"unit_type"});
  h5::ArrayOptions per_composite;
  per_composite.coordinates = {"stimulus_a", "stimulus_b"};
  h5::write_array(g, "activation", trials.activation, u64({N, 2, 2}),
                  {"composite", "unit_type", "attended"}, per_composite);
  h5::write_array(g, "unsteered_activation", trials.unsteered, u64({N, 2}),
                  {"composite", "unit_type"}, per_composite);
  h5::write_array(g, "mean_activation", s.table, u64({2, 2}), {"unit_type", "attended"});
  h5::write_array(g, "mean_activation_ci", s.table_ci, u64({2, 2, 2}),
                  {"unit_type", "attended", "bound"});
  h5::write_array(g, "mean_unsteered_activation", s.unsteered, u64({2}), {"unit_type"});
  h5::write_array(g, "mean_unsteered_activation_ci", s.unsteered_ci, u64({2, 2}),
                  {"unit_type", "bound"});
  h5::write_array(g, "modulation_index", s.modulation_index, u64({2}), {"unit_type"});
  h5::write_array(g, "modulation_index_ci", s.modulation_index_ci, u64({2, 2}),
                  {"unit_type", "bound"});
  h5::write_array(g, "t", s.t, u64({2}), {"unit_type"});
  h5::write_array(g, "df", s.df, u64({2}), {"unit_type"});
  h5::write_array(g, "p", s.p, u64({2}), {"unit_type"});
}

}  // namespace

AttendResult run_attend(model::LoadedModel& model, const stimuli::StimulusSet& set,
                        const stimuli::Preprocess& p, const AttendOptions& o) {
  auto& net = *model.net;
  const auto plan = plan_attend(net, set, o);
  const auto units = localize_units(net, set, p, o, plan);
  if (plan.blends < 2)
    throw InputError("too few images of '" + o.category_a + "' or '" + o.category_b + "' in " +
                     set.source() +
                     " for blends beside the localizer images; use fewer localizer images or "
                     "reuse them");
  const auto prototypes = attend_prototypes(model, set, p, o, plan);
  const auto trials = run_blends(net, set, p, o, plan, units, prototypes);
  AttendResult result{
      o.layer,           plan.pass,
      o.alpha,           o.alpha_negative,
      plan.blends,       plan.unit_types,
      units.n_selective, stats::score_attention(trials, {o.resamples, o.seed, o.level})};
  io::ResultFile out(o.out,
                     run_provenance(model, o.weights, set, o.seed, {{"prototypes", o.prototypes}}));
  write_attend(out.root().require_group("attention"), set, o, plan, units, prototypes, trials,
               result.scores);
  out.commit();
  return result;
}

}  // namespace lrm::steering
