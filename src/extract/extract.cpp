#include "extract/extract.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <sstream>

#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "common/progress.hpp"
#include "io/h5.hpp"
#include "io/results.hpp"
#include "model/checkpoint.hpp"
#include "stimuli/stimulus_set.hpp"

namespace lrm::extract {
namespace {

double parse_number(const std::string& text, const std::string& option) {
  try {
    std::size_t used = 0;
    double v = std::stod(text, &used);
    if (used == text.size()) return v;
  } catch (const std::exception&) {
  }
  throw InputError(option + ": '" + text + "' is not a number");
}

// The steering vector as a tensor of 1×D or N×D rows.
torch::Tensor read_vector(const std::string& spec, std::size_t n_stimuli) {
  auto [file, path] = h5::split_dataset_spec(spec);
  if (path.empty())
    throw InputError("--steer-vector " + spec + ": give the dataset as file.h5:/path");
  h5::File f(file, h5::File::Mode::read);
  if (!h5::exists(f, path))
    throw InputError("--steer-vector: " + file.string() + " has no dataset " + path);
  auto a = h5::read_array<float>(f, path);
  std::vector<std::int64_t> shape(a.shape.begin(), a.shape.end());
  auto v = torch::from_blob(a.data.data(), shape, torch::kFloat).clone();
  if (v.dim() == 1) v = v.unsqueeze(0);
  if (v.dim() != 2 || (v.size(0) != 1 && v.size(0) != static_cast<std::int64_t>(n_stimuli)))
    throw InputError("--steer-vector " + spec + " must be D, 1×D or one row per stimulus (" +
                     std::to_string(n_stimuli) + "×D)");
  return v;
}

}  // namespace

std::pair<double, double> parse_strength(const std::string& text, const std::string& option) {
  auto comma = text.find(',');
  if (comma == std::string::npos) {
    double v = parse_number(text, option);
    return {v, v};
  }
  return {parse_number(text.substr(0, comma), option),
          parse_number(text.substr(comma + 1), option)};
}

std::vector<int> parse_passes(const std::string& text, const std::string& option) {
  std::vector<int> out;
  std::stringstream items(text);
  std::string item;
  while (std::getline(items, item, ',')) {
    double v = parse_number(item, option);
    if (v < 0 || v != static_cast<int>(v))
      throw InputError(option + ": '" + item + "' is not a pass index (0, 1, ...)");
    out.push_back(static_cast<int>(v));
  }
  if (out.empty()) throw InputError(option + ": no passes given");
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void run_extraction(const ExtractOptions& o) {
  if (o.layers.empty()) throw InputError("--layers: give at least one layer");
  if (o.batch_size < 1) throw InputError("--batch-size must be at least 1");
  auto loaded = model::load_model(o.model, o.weights, o.seed);
  auto& net = loaded.net;
  for (const auto& l : o.layers) net->backbone()->index_of(l);
  auto set = stimuli::open_stimulus_set(o.stimuli);
  const auto n = set->size();
  if (n == 0) throw InputError("stimulus set " + o.stimuli + " is empty");
  auto pre = stimuli::Preprocess::preset(!o.preprocess.empty()                     ? o.preprocess
                                         : loaded.architecture.backbone == "mnist" ? "mnist"
                                                                                   : "imagenet");
  const int n_passes = o.passes.back() + 1;

  std::unique_ptr<model::Steering> steering;
  torch::Tensor vectors;
  if (!o.steering.source.empty()) {
    if (o.steering.vector_spec.empty()) throw InputError("--steer-source needs --steer-vector");
    vectors = read_vector(o.steering.vector_spec, n);
    steering = std::make_unique<model::Steering>();
    steering->source = o.steering.source;
    steering->set_strength(o.steering.strength_neg, o.steering.strength_pos);
    steering->mix = o.steering.mix;
    steering->first_pass = o.steering.first_pass;
  } else if (!o.steering.vector_spec.empty()) {
    throw InputError("--steer-vector needs --steer-source");
  }

  auto prov = io::current_provenance(o.seed);
  prov.inputs["model"] = loaded.description;
  prov.inputs["architecture"] = loaded.architecture.to_string();
  if (!o.weights.empty()) prov.inputs["weights_sha256"] = io::sha256_file(o.weights);
  prov.inputs["stimuli"] = o.stimuli;
  prov.inputs["stimuli_checksum"] = set->checksum();
  if (steering) prov.inputs["steering_vector"] = o.steering.vector_spec;
  io::ResultFile out(o.out, prov);
  auto root = out.root().require_group("activations");

  model::Record record;
  record.layers.insert(o.layers.begin(), o.layers.end());
  std::map<std::string, std::vector<h5::RowWriter<float>>> writers;
  Progress bar("extract", static_cast<std::int64_t>(n), "images");
  torch::NoGradGuard no_grad;
  for (std::size_t first = 0; first < n; first += o.batch_size) {
    check_interrupt();
    const auto count = std::min<std::size_t>(o.batch_size, n - first);
    std::vector<std::int64_t> shape;
    auto data = set->load_batch(first, count, pre, shape);
    auto x = torch::from_blob(data.data(), shape, torch::kFloat);
    if (steering)
      steering->vector = vectors.size(0) == 1
                             ? vectors
                             : vectors.slice(0, static_cast<std::int64_t>(first),
                                             static_cast<std::int64_t>(first + count));
    auto result = net->forward(x, n_passes, steering.get(), record);
    for (const auto& layer : o.layers) {
      if (!writers.count(layer)) {
        // Unit coordinates from the first batch's shape.
        auto sizes = result.passes[0].layers.at(layer).sizes().vec();
        const std::int64_t c = sizes[1], h = sizes.size() == 4 ? sizes[2] : 1,
                           w = sizes.size() == 4 ? sizes[3] : 1;
        std::vector<std::int64_t> unit, channel, y, xs;
        for (std::int64_t i = 0; i < c * h * w; ++i) {
          unit.push_back(i);
          channel.push_back(i / (h * w));
          y.push_back((i / w) % h);
          xs.push_back(i % w);
        }
        auto g = root.require_group(layer);
        g.set_attr("layer", layer);
        std::string unit_shape;
        for (std::size_t d = 1; d < sizes.size(); ++d)
          unit_shape += (d > 1 ? "," : "") + std::to_string(sizes[d]);
        g.set_attr("unit_shape", unit_shape);
        h5::write_coordinate(g, "stimulus", set->ids());
        h5::write_aux_coordinate(g, "category", "stimulus", set->categories());
        h5::write_coordinate(g, "unit", unit);
        h5::write_aux_coordinate(g, "channel", "unit", channel);
        h5::write_aux_coordinate(g, "y", "unit", y);
        h5::write_aux_coordinate(g, "x", "unit", xs);
        h5::ArrayOptions opts;
        opts.coordinates = {"category", "channel", "y", "x"};
        for (int p : o.passes)
          writers[layer].emplace_back(g, "pass" + std::to_string(p),
                                      std::vector<std::uint64_t>{unit.size()}, n,
                                      static_cast<std::uint64_t>(o.batch_size),
                                      std::vector<std::string>{"stimulus", "unit"}, opts);
      }
      for (std::size_t k = 0; k < o.passes.size(); ++k) {
        auto t = result.passes[o.passes[k]].layers.at(layer).flatten(1).contiguous();
        if (static_cast<std::uint64_t>(t.size(1)) != writers[layer][k].row_size())
          throw InputError("layer " + layer +
                           " changes size between batches (stimuli of different sizes in " +
                           o.stimuli + ")");
        writers[layer][k].append(t.data_ptr<float>(), count);
      }
    }
    bar.advance(static_cast<std::int64_t>(count));
  }
  bar.finish();
  writers.clear();
  out.commit();
}

}  // namespace lrm::extract
