#include "extract/reduce.hpp"

#include <cmath>
#include <limits>
#include <random>
#include <sstream>

#include "common/error.hpp"
#include "common/threads.hpp"

namespace lrm::extract {
namespace {

std::int64_t parse_count(const std::string& text, const std::string& what,
                         const std::string& setting) {
  std::size_t used = 0;
  long long value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || value < 1)
    throw SettingError(setting, what + " '" + text + "' is not a positive whole number");
  return value;
}

std::uint64_t parse_seed(const std::string& text, const std::string& setting) {
  const bool digits = !text.empty() && text.size() <= 19 &&
                      text.find_first_not_of("0123456789") == std::string::npos;
  if (!digits) throw SettingError(setting, "srp's seed '" + text + "' is not a whole number");
  return std::stoull(text);
}

// "none", "avgpool", "avgpool:6x6", "srp:1000", "srp:1000:7", "pca:100", "pca".
Reduction parse_reduction(const std::string& text, const std::string& setting) {
  std::vector<std::string> parts;
  std::stringstream items(text);
  for (std::string part; std::getline(items, part, ':');) parts.push_back(part);
  if (parts.empty()) throw SettingError(setting, "empty reduction");
  Reduction r;
  r.kind = reduce_kinds.parse(parts[0], setting);
  const auto args = parts.size() - 1;
  const auto bad = [&] {
    return SettingError(setting, "'" + text +
                                     "' is not a reduction (none, avgpool, maxpool, avgpool:HxW, "
                                     "maxpool:HxW, srp:K, srp:K:SEED, pca:K or pca)");
  };
  switch (r.kind) {
    case ReduceKind::none:
      if (args != 0) throw bad();
      break;
    case ReduceKind::avgpool:
    case ReduceKind::maxpool: {
      if (args > 1) throw bad();
      if (args == 0) break;
      const auto x = parts[1].find('x');
      if (x == std::string::npos) throw bad();
      r.height = parse_count(parts[1].substr(0, x), "pool height", setting);
      r.width = parse_count(parts[1].substr(x + 1), "pool width", setting);
      break;
    }
    case ReduceKind::srp:
      if (args < 1 || args > 2) throw bad();
      r.k = parse_count(parts[1], "srp's K", setting);
      if (args == 2) r.seed = parse_seed(parts[2], setting);
      break;
    case ReduceKind::pca:
      if (args > 1) throw bad();
      if (args == 1) r.k = parse_count(parts[1], "pca's K", setting);
      break;
  }
  return r;
}

// splitmix64: decorrelates the per-column seeds of nearby (seed, column) pairs.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string out;
  for (std::size_t d = 0; d < shape.size(); ++d) out += (d ? "x" : "") + std::to_string(shape[d]);
  return out;
}

}  // namespace

std::string Reduction::text() const {
  std::string out = reduce_kinds.name(kind);
  if (height > 0) out += ":" + std::to_string(height) + "x" + std::to_string(width);
  if (k > 0) out += ":" + std::to_string(k);
  if (seed) out += ":" + std::to_string(*seed);
  return out;
}

const Reduction& ReduceSpec::for_layer(const std::string& layer) const {
  for (const auto& [name, r] : per_layer)
    if (name == layer) return r;
  return fallback;
}

bool ReduceSpec::uses(ReduceKind kind) const {
  if (fallback.kind == kind) return true;
  for (const auto& item : per_layer)
    if (item.second.kind == kind) return true;
  return false;
}

ReduceSpec parse_reduce_spec(const std::string& text, const std::string& setting) {
  ReduceSpec spec;
  bool has_fallback = false;
  std::stringstream items(text);
  for (std::string item; std::getline(items, item, ',');) {
    const auto eq = item.find('=');
    if (eq == std::string::npos) {
      if (has_fallback)
        throw SettingError(setting, "two reductions for all layers ('" + spec.fallback.text() +
                                        "' and '" + item +
                                        "'); name the layer of one: layer=" + item);
      spec.fallback = parse_reduction(item, setting);
      has_fallback = true;
      continue;
    }
    const auto layer = item.substr(0, eq);
    if (layer.empty()) throw SettingError(setting, "'" + item + "' names no layer");
    for (const auto& existing : spec.per_layer)
      if (existing.first == layer) throw SettingError(setting, "layer " + layer + " named twice");
    spec.per_layer.emplace_back(layer, parse_reduction(item.substr(eq + 1), setting));
  }
  if (!has_fallback && spec.per_layer.empty()) throw SettingError(setting, "no reduction given");
  return spec;
}

SparseProjection::SparseProjection(std::int64_t units, std::int64_t k, std::uint64_t seed)
    : units_(units),
      k_(k),
      density_(1.0 / std::sqrt(static_cast<double>(units))),
      scale_(std::sqrt(1.0 / (density_ * static_cast<double>(k)))) {
  if (units >= std::numeric_limits<std::uint32_t>::max())
    throw SettingError("reduce", "srp supports layers of fewer than 2^32 units");
  start_.reserve(k + 1);
  start_.push_back(0);
  const double log_keep = std::log1p(-density_);
  for (std::int64_t j = 0; j < k; ++j) {
    std::mt19937_64 rng(mix(seed ^ mix(static_cast<std::uint64_t>(j))));
    // Gaps between nonzeros are geometric, so each entry is nonzero independently with
    // probability density_, at a cost proportional to the nonzeros.
    for (std::int64_t i = -1;;) {
      const double u = (static_cast<double>(rng() >> 11) + 1.0) * 0x1.0p-53;  // (0, 1]
      const double gap = log_keep < 0 ? std::floor(std::log(u) / log_keep) : 0.0;
      if (gap >= static_cast<double>(units - i - 1)) break;
      i += static_cast<std::int64_t>(gap) + 1;
      row_.push_back(static_cast<std::uint32_t>(i));
      sign_.push_back((rng() >> 63) ? 1 : -1);
    }
    start_.push_back(static_cast<std::int64_t>(row_.size()));
  }
}

void SparseProjection::apply(const float* x, std::int64_t rows, float* y) const {
#pragma omp parallel for schedule(static) num_threads(lrm::threads())
  for (std::int64_t j = 0; j < k_; ++j) {
    for (std::int64_t b = 0; b < rows; ++b) {
      const float* row = x + b * units_;
      double sum = 0;
      for (auto e = start_[j]; e < start_[j + 1]; ++e) sum += sign_[e] * row[row_[e]];
      y[b * k_ + j] = static_cast<float>(sum * scale_);
    }
  }
}

torch::Tensor SparseProjection::dense() const {
  auto r = torch::zeros({units_, k_}, torch::kDouble);
  auto a = r.accessor<double, 2>();
  for (std::int64_t j = 0; j < k_; ++j)
    for (auto e = start_[j]; e < start_[j + 1]; ++e) a[row_[e]][j] = sign_[e] * scale_;
  return r;
}

Reducer::Reducer(const Reduction& r, std::string layer, std::vector<std::int64_t> unit_shape,
                 std::uint64_t run_seed)
    : reduction_(r),
      layer_(std::move(layer)),
      unit_shape_(std::move(unit_shape)),
      seed_(r.seed.value_or(run_seed)) {
  const auto d = units();
  const auto where = "layer " + layer_ + " (" + shape_text(unit_shape_) + ")";
  switch (r.kind) {
    case ReduceKind::none:
      break;
    case ReduceKind::avgpool:
    case ReduceKind::maxpool:
      if (unit_shape_.size() != 3)
        throw SettingError(
            "reduce", r.text() + " needs a feature map (C×H×W); " + where + " is a vector layer");
      if (r.height > unit_shape_[1] || r.width > unit_shape_[2])
        throw SettingError("reduce",
                           r.text() + " asks for a grid larger than the feature map of " + where);
      break;
    case ReduceKind::srp:
    case ReduceKind::pca:
      if (r.k > d)
        throw SettingError("reduce", r.text() + " asks for " + std::to_string(r.k) + " units; " +
                                         where + " has " + std::to_string(d));
      if (r.kind == ReduceKind::srp) srp_ = std::make_shared<SparseProjection>(d, r.k, seed_);
      break;
  }
}

std::int64_t Reducer::units() const {
  std::int64_t n = 1;
  for (auto s : unit_shape_) n *= s;
  return n;
}

void Reducer::set_pca(std::vector<std::shared_ptr<const PcaFit>> fits, std::string source) {
  for (const auto& fit : fits) {
    const auto where = "the PCA fit of layer " + layer_ + " pass " + std::to_string(fit->pass);
    if (fit->units() != units())
      throw InputError(where + " has " + std::to_string(fit->units()) +
                       " units (fitted on another layer?); the layer has " +
                       std::to_string(units()));
    if (reduction_.k > fit->k())
      throw SettingError("reduce", "pca:" + std::to_string(reduction_.k) + " for layer " + layer_ +
                                       ": " + where + " holds " + std::to_string(fit->k()) +
                                       " components");
  }
  pca_ = std::move(fits);
  pca_source_ = std::move(source);
}

bool Reducer::positional() const {
  return reduction_.kind != ReduceKind::srp && reduction_.kind != ReduceKind::pca;
}

torch::Tensor Reducer::apply(const torch::Tensor& x, std::size_t pass_position) const {
  switch (reduction_.kind) {
    case ReduceKind::none:
      return x;
    case ReduceKind::avgpool:
    case ReduceKind::maxpool: {
      // The global pools give one unit per channel, written as a vector layer.
      const bool global = reduction_.height == 0;
      const std::vector<std::int64_t> grid{global ? 1 : reduction_.height,
                                           global ? 1 : reduction_.width};
      auto pooled = reduction_.kind == ReduceKind::avgpool
                        ? torch::adaptive_avg_pool2d(x, grid)
                        : std::get<0>(torch::adaptive_max_pool2d(x, grid));
      return global ? pooled.flatten(1) : pooled;
    }
    case ReduceKind::srp: {
      auto rows = x.flatten(1).contiguous();
      auto y = torch::empty({rows.size(0), srp_->k()}, torch::kFloat);
      srp_->apply(rows.data_ptr<float>(), rows.size(0), y.data_ptr<float>());
      return y;
    }
    case ReduceKind::pca: {
      const auto& fit = *pca_.at(pass_position);
      const auto k = reduction_.k > 0 ? reduction_.k : fit.k();
      auto centred = x.flatten(1).to(torch::kDouble) - fit.mean;
      return centred.mm(fit.components.narrow(0, 0, k).t()).to(torch::kFloat);
    }
  }
  return x;
}

void Reducer::describe(const h5::Group& g) const {
  if (reduction_.kind == ReduceKind::none) return;
  g.set_attr("reduction", reduction_.text());
  std::string before;
  for (std::size_t d = 0; d < unit_shape_.size(); ++d)
    before += (d ? "," : "") + std::to_string(unit_shape_[d]);
  g.set_attr("reduced_from_shape", before);
  if (srp_) {
    g.set_attr("srp_seed", std::to_string(seed_));
    g.set_attr("srp_density", srp_->density());
    g.set_attr("srp_scale", srp_->scale());
    g.set_attr("srp_nonzeros", srp_->nonzeros());
  }
  if (!pca_.empty()) {
    g.set_attr("pca_components", reduction_.k > 0 ? reduction_.k : pca_.front()->k());
    g.set_attr("pca_fit_stimuli", pca_.front()->fit_rows);
    g.set_attr("pca_fit", pca_source_);
  }
}

}  // namespace lrm::extract
