#include "steering/vectors.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "common/progress.hpp"
#include "io/provenance_attrs.hpp"
#include "model/device.hpp"
#include "stimuli/batch_stream.hpp"

namespace lrm::steering {
namespace {

std::string trim(std::string s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

// `rows` in batches of up to `batch_size`; SettingError of batch-size when it is below 1.
std::vector<std::vector<std::size_t>> batches_of(const std::vector<std::size_t>& rows,
                                                 int batch_size) {
  if (batch_size < 1) throw SettingError("batch-size", "must be at least 1");
  return stimuli::cut_batches(rows, static_cast<std::size_t>(batch_size));
}

// The output of `layer` in pass `pass` (unsteered) for the set's rows in `batches`, one forward
// call each (loaded ahead on a thread): take(the batch's rows, images × units on the host).
void stream_outputs(
    model::LrmNetImpl& net, const stimuli::StimulusSet& set,
    std::vector<std::vector<std::size_t>> batches, const stimuli::Preprocess& p,
    const std::string& layer, int pass, const std::string& label,
    const std::function<void(const std::vector<std::size_t>&, torch::Tensor)>& take) {
  net.backbone()->index_of(layer);
  torch::NoGradGuard no_grad;
  model::Record record;
  record.layers = {layer};
  std::size_t images = 0;
  for (const auto& b : batches) images += b.size();
  stimuli::BatchStream stream(set, std::move(batches), stimuli::stream_options(p));
  Progress bar(label, static_cast<std::int64_t>(images), "images");
  while (auto b = stream.next()) {
    check_interrupt();
    auto result = net.forward(torch::from_blob(b->data.data(), b->shape, torch::kFloat), pass + 1,
                              nullptr, record);
    take(b->rows, model::to_host(result.passes[pass].layers.at(layer).flatten(1)));
    bar.advance(static_cast<std::int64_t>(b->rows.size()));
  }
  bar.finish();
}

}  // namespace

VectorKind parse_vector_kind(const std::string& text) {
  return vector_kind_names.parse(text, "types");
}

std::int64_t ClassList::index_of(const std::string& category) const {
  auto it = std::find(names.begin(), names.end(), category);
  if (it == names.end())
    throw SettingError("classes", "category '" + category +
                                      "' is not a class of the model (classes from " + origin +
                                      "); give the model's class names in output order");
  return static_cast<std::int64_t>(it - names.begin());
}

ClassList parse_classes(const std::string& text, const std::vector<std::string>& set_categories,
                        std::int64_t outputs) {
  ClassList c;
  if (text.empty()) {
    std::set<std::string> distinct(set_categories.begin(), set_categories.end());
    c.names.assign(distinct.begin(), distinct.end());
    c.origin = "the sorted categories of the stimulus set";
  } else if (text[0] == '@') {
    std::ifstream in(text.substr(1));
    if (!in) throw SettingError("classes", "cannot read " + text.substr(1));
    std::string line;
    while (std::getline(in, line))
      if (!trim(line).empty()) c.names.push_back(trim(line));
    c.origin = "the class names in " + text.substr(1);
  } else {
    std::stringstream items(text);
    std::string item;
    while (std::getline(items, item, ',')) c.names.push_back(trim(item));
    c.origin = "the given class names";
  }
  if (c.names.empty()) throw SettingError("classes", "no class names in " + c.origin);
  if (static_cast<std::int64_t>(c.names.size()) > outputs)
    throw SettingError("classes", "the model has " + std::to_string(outputs) + " outputs but " +
                                      c.origin + " give " + std::to_string(c.names.size()) +
                                      " classes; give the model's class names in output order");
  return c;
}

torch::Tensor CategoryVectors::row(const std::string& category) const {
  auto it = std::find(categories.begin(), categories.end(), category);
  if (it == categories.end())
    throw InputError("no steering vector for category '" + category + "' in " + origin +
                     (pass >= 0 ? " (the category has no exemplars there)" : ""));
  return vectors[it - categories.begin()];
}

bool CategoryVectors::has(const std::string& category) const {
  return std::find(categories.begin(), categories.end(), category) != categories.end();
}

torch::Tensor one_hot(std::int64_t index, std::int64_t width) {
  auto v = torch::zeros({width});
  v[index] = 1.0f;
  return v;
}

torch::Tensor load_image(const stimuli::StimulusSet& set, std::int64_t row,
                         const stimuli::Preprocess& p) {
  auto im = set.load_preprocessed(static_cast<std::size_t>(row), p);
  return torch::from_blob(im.data.data(), {im.channels, im.height, im.width}, torch::kFloat)
      .clone();
}

torch::Tensor layer_outputs(model::LrmNetImpl& net, const stimuli::StimulusSet& set,
                            const std::vector<std::int64_t>& images, const stimuli::Preprocess& p,
                            const std::string& layer, int pass, int batch_size,
                            const std::string& label) {
  std::vector<torch::Tensor> out;
  stream_outputs(net, set, batches_of({images.begin(), images.end()}, batch_size), p, layer, pass,
                 label,
                 [&](const std::vector<std::size_t>&, torch::Tensor t) { out.push_back(t); });
  return torch::cat(out);
}

CategoryVectors compute_prototypes(model::LrmNetImpl& net, const stimuli::StimulusSet& set,
                                   const stimuli::Preprocess& p, const std::string& layer, int pass,
                                   std::vector<std::string> categories, int batch_size) {
  if (pass < 0) throw InputError("prototypes of pass " + std::to_string(pass) + ": no such pass");
  CategoryVectors v;
  v.categories = categories.empty() ? set.category_names() : std::move(categories);
  v.layer = layer;
  v.pass = pass;
  v.origin = "stimulus set " + set.source();
  std::map<std::string, std::int64_t> index;
  for (std::size_t k = 0; k < v.categories.size(); ++k)
    index.emplace(v.categories[k], static_cast<std::int64_t>(k));
  std::vector<std::vector<std::size_t>> members(v.categories.size());
  for (std::size_t i = 0; i < set.size(); ++i)
    if (const auto it = index.find(set.categories()[i]); it != index.end())
      members[it->second].push_back(i);
  // Each category's exemplars in batches of their own, in the set's order: a prototype is then the
  // same to the last bit whichever other categories are asked for (lrm prototypes: all of them;
  // steer and attend: those they steer toward), as batches of other images could round it apart.
  std::vector<std::vector<std::size_t>> batches;
  for (std::size_t k = 0; k < v.categories.size(); ++k) {
    if (members[k].empty())
      throw InputError("category '" + v.categories[k] + "' has no exemplars in stimulus set " +
                       set.source() + "; its prototype cannot be computed");
    v.n_exemplars.push_back(static_cast<std::int64_t>(members[k].size()));
    for (auto& b : batches_of(members[k], batch_size)) batches.push_back(std::move(b));
  }
  if (batches.empty()) throw InputError("stimulus set " + set.source() + " is empty");
  // Summed per category as the exemplars stream (memory: a batch), in double so that a category
  // of thousands of images keeps float precision.
  torch::Tensor sums;
  stream_outputs(net, set, std::move(batches), p, layer, pass, "prototypes",
                 [&](const std::vector<std::size_t>& batch, torch::Tensor out) {
                   std::vector<std::int64_t> category;
                   for (auto row : batch) category.push_back(index.at(set.categories()[row]));
                   out = out.to(torch::kDouble);
                   if (!sums.defined())
                     sums =
                         torch::zeros({static_cast<std::int64_t>(v.categories.size()), out.size(1)},
                                      torch::kDouble);
                   sums.index_add_(0, torch::tensor(category, torch::kLong), out);
                 });
  const auto counts = torch::tensor(v.n_exemplars, torch::kDouble).unsqueeze(1);
  v.vectors = (sums / counts).to(torch::kFloat);
  return v;
}

void write_prototypes(const h5::Group& g, const CategoryVectors& v) {
  auto t = v.vectors.contiguous();
  const auto n = static_cast<std::uint64_t>(t.size(0)), d = static_cast<std::uint64_t>(t.size(1));
  h5::write_coordinate(g, "category", v.categories);
  std::vector<std::int64_t> unit(d);
  for (std::uint64_t i = 0; i < d; ++i) unit[i] = static_cast<std::int64_t>(i);
  h5::write_coordinate(g, "unit", unit);
  h5::write_aux_coordinate(g, "n_exemplars", "category", v.n_exemplars);
  h5::ArrayOptions o;
  o.coordinates = {"n_exemplars"};
  h5::write_array(g, "vectors", t.data_ptr<float>(), {n, d}, {"category", "unit"}, o);
  g.set_attr("layer", v.layer);
  g.set_attr("pass", static_cast<std::int64_t>(v.pass));
  g.set_attr("stimuli", v.origin);
}

CategoryVectors read_category_vectors(const std::string& spec, const ClassList& classes,
                                      std::int64_t width) {
  auto [file, path] = h5::split_dataset_spec(spec);
  if (!std::filesystem::exists(file))
    throw InputError("steering vector file " + file.string() + " does not exist");
  h5::File f(file, h5::File::Mode::read);
  if (f.root().attr_number("complete").value_or(1) != 1)  // a suite file marked unfinished
    throw InputError("steering vector file " + file.string() +
                     " is not marked complete (an interrupted run?)");
  CategoryVectors v;
  v.origin = spec;
  const bool own = path.empty();
  if (own) path = "/prototypes/vectors";
  if (!h5::exists(f, path))
    throw InputError(
        "steering vector file " + file.string() + " has no dataset " + path +
        (own ? " (write it with lrm prototypes, or name a dataset as file.h5:/path)" : ""));
  auto a = h5::read_array<float>(f, path);
  if (a.shape.size() != 2)
    throw InputError("steering vectors " + spec + " must be a category × unit matrix");
  if (static_cast<std::int64_t>(a.shape[1]) != width)
    throw InputError("steering vectors " + spec + " have " + std::to_string(a.shape[1]) +
                     " values per row; the steering source layer has " + std::to_string(width) +
                     " units");
  const auto rows = static_cast<std::int64_t>(a.shape[0]);
  const auto dims = h5::dimension_names(f, path);
  const auto group = path.substr(0, path.find_last_of('/'));
  const auto labels = group + "/" + (dims.empty() || dims[0].empty() ? "category" : dims[0]);
  if (h5::exists(f, labels) && h5::is_string_dataset(f, labels)) {
    v.categories = h5::read_strings(f, labels);
    if (static_cast<std::int64_t>(v.categories.size()) != rows)
      throw InputError("steering vectors " + spec + ": " + labels + " has " +
                       std::to_string(v.categories.size()) + " labels for " + std::to_string(rows) +
                       " rows");
  } else {
    if (rows != static_cast<std::int64_t>(classes.names.size()))
      throw InputError("steering vectors " + spec + " have " + std::to_string(rows) +
                       " unlabelled rows; expected one per class (" +
                       std::to_string(classes.names.size()) + ") or a string category coordinate");
    v.categories = classes.names;
  }
  v.vectors = torch::from_blob(a.data.data(), {rows, width}, torch::kFloat).clone();
  if (!torch::isfinite(v.vectors).all().item<bool>())
    throw InputError("steering vectors " + spec + " contain NaN or infinite values");
  const auto g = f.root().group(group == "" ? "/" : group);
  if (auto layer = g.attr_string("layer")) v.layer = *layer;
  if (auto pass = g.attr_number("pass")) v.pass = static_cast<int>(*pass);
  const auto counts = group + "/n_exemplars";
  if (h5::exists(f, counts)) v.n_exemplars = h5::read_array<std::int64_t>(f, counts).data;
  return v;
}

io::Provenance run_provenance(const model::LoadedModel& model, const std::string& weights,
                              const stimuli::StimulusSet& set, std::uint64_t seed,
                              std::map<std::string, std::string> extra) {
  extra[io::compute_attr] = model::describe(model::compute());
  return io::model_provenance(seed, {model.description,
                                     model.architecture.to_string(),
                                     {weights},
                                     set.source(),
                                     set.checksum(),
                                     std::move(extra)});
}

std::pair<double, double> parse_gain(const std::string& text) {
  const auto number = [&](const std::string& part) {
    std::size_t used = 0;
    double v = 0;
    try {
      v = std::stod(part, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != part.size())
      throw SettingError("steer-strength", "'" + text + "' is not a gain (a or a-:a+)");
    return v;
  };
  const auto cut = text.find(':');
  if (cut == std::string::npos) {
    const double a = number(text);
    return {a, a};
  }
  return {number(text.substr(0, cut)), number(text.substr(cut + 1))};
}

Gains parse_gains(const std::vector<std::string>& elements) {
  Gains g;
  bool asymmetric = false;
  for (const auto& e : elements) {
    const auto [negative, positive] = parse_gain(e);
    g.positive.push_back(positive);
    g.negative.push_back(negative);
    asymmetric = asymmetric || negative != positive;
  }
  if (!asymmetric) g.negative.clear();
  return g;
}

void check_memory(double bytes, const std::string& setting, const std::string& what) {
  const double memory = static_cast<double>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE);
  if (bytes > memory) {
    char text[160];
    std::snprintf(text, sizeof text, "%s need about %.3g GB, more than this machine's %.3g GB",
                  what.c_str(), bytes / 1e9, memory / 1e9);
    throw SettingError(setting, text);
  }
}

std::int64_t first_nonfinite_row(const torch::Tensor& t, std::int64_t row_dim) {
  auto bad = torch::isfinite(t).logical_not();
  if (bad.dim() > 1) bad = bad.transpose(0, row_dim).flatten(1).any(1);
  if (!bad.any().item<bool>()) return -1;
  return bad.to(torch::kInt).argmax().item<std::int64_t>();
}

void check_alphas(const std::vector<double>& alphas, const std::string& setting) {
  if (alphas.empty()) throw SettingError(setting, "give at least one gain α");
  for (double a : alphas)
    if (!(a > 0) || !std::isfinite(a)) {
      char text[96];
      std::snprintf(text, sizeof text, "α = %g must be a finite number > 0", a);
      throw SettingError(setting, std::string(text) + " (it multiplies σ− and σ+)");
    }
}

}  // namespace lrm::steering
