#include "io/activation_file.hpp"

#include <algorithm>

#include "common/error.hpp"
#include "io/chunk_reader.hpp"

namespace lrm::io {
namespace {
constexpr const char* pass_prefix = "pass";
}  // namespace

std::string pass_dataset_name(int pass) { return pass_prefix + std::to_string(pass); }

std::optional<int> parse_pass_dataset_name(const std::string& name) {
  if (name.size() < 5 || name.compare(0, 4, pass_prefix) != 0 ||
      name.find_first_not_of("0123456789", 4) != std::string::npos || name.size() > 13)
    return std::nullopt;
  return std::stoi(name.substr(4));
}

int parse_pass_index(const std::string& text, const std::string& setting) {
  if (const auto pass = parse_pass_dataset_name(text)) return *pass;
  if (const auto pass = parse_pass_dataset_name(pass_prefix + text)) return *pass;
  throw SettingError(setting, "'" + text + "' is not a pass index (0, 1, ... or pass1)");
}

std::string activation_dataset_name(int pass, const std::string& condition) {
  const auto name = pass_dataset_name(pass);
  return condition.empty() ? name : name + "/" + condition_prefix + condition;
}

std::string layer_path(const std::string& layer) {
  return std::string("/") + activations_group + "/" + layer;
}

ActivationFile::ActivationFile(const std::filesystem::path& path, bool allow_partial)
    : file_(path, h5::File::Mode::read), path_string_(path.string()) {
  if (!file_.root().has_group(activations_group))
    throw InputError(path_string_ + " has no /" + activations_group +
                     " group (write one with lrm extract)");
  const auto mark = file_.root().attr_number("complete");
  if (!mark || *mark == 1) return;
  if (!allow_partial)
    throw SettingError("allow-partial", path_string_ +
                                            " is not marked complete (an interrupted or unfinished "
                                            "run); give this option to use only its complete rows");
  const auto written = file_.root().group(activations_group).attr_number("rows_complete");
  partial_rows_ = static_cast<std::int64_t>(written.value_or(0));
  if (*partial_rows_ < 1)
    throw InputError(path_string_ + " is not marked complete and holds no complete rows");
}

std::optional<std::string> ActivationFile::attr(const std::string& key) const {
  return file_.root().attr_string(key);
}

bool ActivationFile::complete() const {
  return file_.root().attr_number("complete").value_or(0) == 1;
}

void ActivationFile::record_partial_rows(const h5::Group& g) const {
  if (partial_rows_) g.set_attr("activations_partial_rows", *partial_rows_);
}

std::vector<std::string> ActivationFile::layers() const {
  const auto g = file_.root().group(activations_group);
  std::vector<std::string> out;
  for (const auto& name : g.children())
    if (g.has_group(name)) out.push_back(name);
  return out;
}

std::vector<int> ActivationFile::passes(const std::string& layer) const {
  const auto g = file_.root().group(layer_path(layer));
  std::vector<int> out;
  for (const auto& name : g.children())
    if (const auto pass = parse_pass_dataset_name(name); pass && g.has_dataset(name))
      out.push_back(*pass);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<LayerPass> ActivationFile::select(const std::vector<std::string>& layers,
                                              const std::vector<int>& passes) const {
  const auto available = this->layers();
  if (available.empty()) throw InputError(path_string_ + ": /activations holds no layers");
  std::vector<LayerPass> out;
  for (const auto& layer : layers.empty() ? available : layers) {
    if (std::find(available.begin(), available.end(), layer) == available.end()) {
      std::string known;
      for (const auto& a : available) known += (known.empty() ? "" : ", ") + a;
      throw InputError(path_string_ + " has no layer '" + layer + "' (it has " + known + ")");
    }
    const auto present = this->passes(layer);
    if (present.empty())
      throw InputError(path_string_ + ": layer '" + layer + "' holds no pass<k> dataset");
    for (int p : passes)
      if (!std::binary_search(present.begin(), present.end(), p))
        throw InputError(path_string_ + ": layer '" + layer + "' has no pass " + std::to_string(p));
    for (int p : present)
      if (passes.empty() || std::find(passes.begin(), passes.end(), p) != passes.end())
        out.push_back({layer, p});
  }
  return out;
}

std::vector<std::string> ActivationFile::stimulus_ids(const std::string& layer) const {
  const auto path = layer_path(layer) + "/stimulus";
  if (!h5::exists(file_, path))
    throw InputError(path_string_ + ": " + layer_path(layer) + " has no stimulus coordinate");
  auto ids = h5::read_strings(file_, path);
  ids.resize(static_cast<std::size_t>(rows(static_cast<std::int64_t>(ids.size()))));
  return ids;
}

bool ActivationFile::has_categories(const std::string& layer) const {
  return h5::exists(file_, layer_path(layer) + "/category");
}

std::vector<std::string> ActivationFile::categories(const std::string& layer) const {
  if (!has_categories(layer)) return {};
  auto category = h5::read_strings(file_, layer_path(layer) + "/category");
  category.resize(static_cast<std::size_t>(rows(static_cast<std::int64_t>(category.size()))));
  return category;
}

bool ActivationFile::has_unit_coordinate(const std::string& layer, const std::string& name,
                                         std::int64_t n_units) const {
  const auto path = layer_path(layer) + "/" + name;
  if (!h5::exists(file_, path)) return false;
  if (h5::dataset_shape(file_, path) !=
          std::vector<std::uint64_t>{static_cast<std::uint64_t>(n_units)} ||
      h5::is_string_dataset(file_, path))
    throw InputError(where(path) + " is not one number for each of the " + std::to_string(n_units) +
                     " units");
  return true;
}

std::string ActivationFile::dataset_path(const LayerPass& lp) const {
  return layer_path(lp.layer) + "/" + pass_dataset_name(lp.pass);
}

ActivationShape ActivationFile::shape(const LayerPass& lp) const {
  const auto path = dataset_path(lp);
  const auto s = h5::dataset_shape(file_, path);
  if (s.size() != 2)
    throw InputError(where(path) + " has " + std::to_string(s.size()) +
                     " dimensions; activations are (stimulus, unit)");
  return {rows(static_cast<std::int64_t>(s[0])), static_cast<std::int64_t>(s[1])};
}

std::int64_t ActivationFile::chunk_rows(const LayerPass& lp) const {
  return static_cast<std::int64_t>(ChunkReader(file_, dataset_path(lp)).chunk_rows());
}

ActivationBlock ActivationFile::read(const LayerPass& lp) const {
  const auto path = dataset_path(lp);
  const auto stored = h5::dataset_shape(file_, path);
  if (stored.empty())
    throw InputError(path_string_ + ":" + lp.label() + " is a scalar, not activations");
  const auto n = rows(static_cast<std::int64_t>(stored[0]));
  if (stored.size() == 2) {
    const auto units = static_cast<std::int64_t>(stored[1]);
    ActivationBlock block{n, units, std::vector<float>(static_cast<std::size_t>(n * units))};
    read_rows(lp, 0, n, block.data.data());
    return block;
  }
  // Other ranks are read as rows of their flattened trailing dimensions.
  auto a = h5::read_rows<float>(file_, path, 0, static_cast<std::uint64_t>(n));
  return {static_cast<std::int64_t>(a.shape[0]), static_cast<std::int64_t>(a.row_size()),
          std::move(a.data)};
}

void ActivationFile::read_rows(const LayerPass& lp, std::int64_t first, std::int64_t count,
                               float* out) const {
  const auto path = dataset_path(lp);
  const ChunkReader reader(file_, path);
  if (first < 0 || count < 0 || static_cast<std::uint64_t>(first + count) > reader.rows())
    throw InputError("rows " + std::to_string(first) + ".." + std::to_string(first + count) +
                     " are outside " + where(path));
  reader.read(static_cast<std::uint64_t>(first), static_cast<std::uint64_t>(count), 0,
              reader.cols(), out);
}

ActivationBlock ActivationFile::read_units(const LayerPass& lp, std::int64_t first,
                                           std::int64_t count) const {
  const auto s = shape(lp);
  const auto path = dataset_path(lp);
  if (first < 0 || count < 0 || first + count > s.units)
    throw InputError("units " + std::to_string(first) + ".." + std::to_string(first + count) +
                     " are outside " + where(path) + " (" + std::to_string(s.units) + " units)");
  ActivationBlock block{s.stimuli, count, std::vector<float>(s.stimuli * count)};
  if (block.data.empty()) return block;
  ChunkReader(file_, path)
      .read(0, static_cast<std::uint64_t>(s.stimuli), static_cast<std::uint64_t>(first),
            static_cast<std::uint64_t>(count), block.data.data());
  return block;
}

}  // namespace lrm::io
