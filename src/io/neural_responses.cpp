#include "io/neural_responses.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <optional>
#include <unordered_map>

#include "common/error.hpp"
#include "io/h5.hpp"

namespace lrm::io {
namespace {

std::string first_present(const Assembly& a, const std::string& wanted,
                          std::initializer_list<const char*> defaults, bool required,
                          const std::string& role) {
  if (!wanted.empty()) {
    if (!a.has(wanted))
      throw InputError(a.source + " has no " + role + " coordinate '" + wanted + "'");
    return wanted;
  }
  for (const char* c : defaults)
    if (a.has(c)) return c;
  if (required) {
    std::string tried;
    for (const char* c : defaults) tried += (tried.empty() ? "" : ", ") + std::string(c);
    throw InputError(a.source + " has no " + role + " coordinate (looked for " + tried + ")");
  }
  return "";
}

std::string list_ids(const std::vector<std::string>& ids) {
  std::string s;
  const std::size_t shown = std::min<std::size_t>(ids.size(), 5);
  for (std::size_t i = 0; i < shown; ++i) s += (i ? ", " : "") + ids[i];
  if (ids.size() > shown) s += ", ... (" + std::to_string(ids.size()) + " in all)";
  return s;
}

// Each id's position by its file stem; false when two ids share a stem.
bool index_by_stem(const std::vector<std::string>& ids,
                   std::unordered_map<std::string, Eigen::Index>& index) {
  for (std::size_t i = 0; i < ids.size(); ++i)
    if (!index.emplace(file_stem(ids[i]), static_cast<Eigen::Index>(i)).second) return false;
  return true;
}

// The join by file stem, or nothing when the stems are not one-to-one between the two sides.
std::optional<StimulusJoin> join_by_stem(const std::vector<std::string>& model_ids,
                                         const std::vector<std::string>& brain_ids) {
  std::unordered_map<std::string, Eigen::Index> model_index, brain_index;
  if (model_ids.size() != brain_ids.size() || !index_by_stem(model_ids, model_index) ||
      !index_by_stem(brain_ids, brain_index))
    return std::nullopt;
  StimulusJoin j;
  j.matched_by = "file stem";
  for (std::size_t i = 0; i < brain_ids.size(); ++i) {
    auto it = model_index.find(file_stem(brain_ids[i]));
    if (it == model_index.end()) return std::nullopt;
    j.brain_rows.push_back(static_cast<Eigen::Index>(i));
    j.model_rows.push_back(it->second);
    j.ids.push_back(brain_ids[i]);
  }
  return j;
}

}  // namespace

std::string file_stem(const std::string& id) {
  const auto slash = id.find_last_of("/\\");
  std::string name = slash == std::string::npos ? id : id.substr(slash + 1);
  const auto dot = name.find_last_of('.');
  if (dot != std::string::npos && dot > 0) name.erase(dot);
  return name;
}

NeuralResponses group_responses(const Assembly& a, const ResponseOptions& options) {
  const std::string stim_coord = first_present(
      a, options.stimulus_coord, {"stimulus_id", "image_id", "stimulus"}, true, "stimulus");
  const std::string presentation_dim = a.coords.at(stim_coord).dim;
  const std::size_t p_axis = a.dim_index(presentation_dim);
  // The neuroid axis: the dimension named neuroid, else the one other dimension longer than 1.
  std::size_t n_axis = a.dims.size();
  for (std::size_t i = 0; i < a.dims.size(); ++i)
    if (i != p_axis && a.dims[i] == "neuroid") n_axis = i;
  for (std::size_t i = 0; i < a.dims.size() && n_axis == a.dims.size(); ++i)
    if (i != p_axis && a.dims[i] != "time_bin") n_axis = i;
  for (std::size_t i = 0; i < a.dims.size(); ++i)
    if (i != p_axis && i != n_axis && a.dims[i] != "time_bin" && a.shape[i] != 1)
      throw InputError(a.source + ": dimension '" + a.dims[i] +
                       "' is neither presentations, neuroids nor time bins");

  NeuralResponses r;
  r.source = a.source;
  const auto n_pres = static_cast<Eigen::Index>(a.shape[p_axis]);
  const auto n_neur = n_axis < a.dims.size() ? static_cast<Eigen::Index>(a.shape[n_axis]) : 1;
  std::uint64_t other = 1;
  for (std::size_t i = 0; i < a.dims.size(); ++i)
    if (i != p_axis && i != n_axis) other *= a.shape[i];
  r.time_bins_averaged = other;
  // Strides of the C-order data along each axis.
  std::vector<std::uint64_t> stride(a.dims.size(), 1);
  for (std::size_t i = a.dims.size(); i-- > 1;) stride[i - 1] = stride[i] * a.shape[i];
  r.presentations.setZero(n_pres, n_neur);
  Eigen::MatrixXi bins = Eigen::MatrixXi::Zero(n_pres, n_neur);
  for (std::uint64_t flat = 0; flat < a.data.size(); ++flat) {
    const auto p = static_cast<Eigen::Index>((flat / stride[p_axis]) % a.shape[p_axis]);
    const auto n = n_axis < a.dims.size()
                       ? static_cast<Eigen::Index>((flat / stride[n_axis]) % a.shape[n_axis])
                       : 0;
    if (std::isfinite(a.data[flat])) r.presentations(p, n) += a.data[flat], ++bins(p, n);
  }
  for (Eigen::Index p = 0; p < n_pres; ++p)
    for (Eigen::Index n = 0; n < n_neur; ++n)
      r.presentations(p, n) = bins(p, n) ? r.presentations(p, n) / bins(p, n)
                                         : std::numeric_limits<double>::quiet_NaN();

  const auto& stim = a.strings(stim_coord);
  std::unordered_map<std::string, Eigen::Index> index;
  for (const auto& id : stim)
    if (index.emplace(id, static_cast<Eigen::Index>(r.stimulus_ids.size())).second)
      r.stimulus_ids.push_back(id);
  for (const auto& id : stim) r.stimulus_of.push_back(index.at(id));

  const std::string cat_coord = first_present(
      a, options.category_coord, {"category", "category_name", "object_name"}, false, "category");
  if (!cat_coord.empty()) {
    if (a.coords.at(cat_coord).dim != presentation_dim)
      throw InputError(a.source + ": category coordinate '" + cat_coord + "' is not along " +
                       presentation_dim);
    const auto& cats = a.strings(cat_coord);
    r.categories.assign(r.stimulus_ids.size(), "");
    for (Eigen::Index p = 0; p < n_pres; ++p) r.categories[r.stimulus_of[p]] = cats[p];
  }
  if (n_axis < a.dims.size()) {
    const std::string& ndim = a.dims[n_axis];
    std::string id_coord;
    for (const char* c : {"neuroid_id", "neuroid"})
      if (a.has(c) && a.coords.at(c).dim == ndim) id_coord = c;
    if (!id_coord.empty()) r.neuroid_ids = a.strings(id_coord);
  }
  if (r.neuroid_ids.empty())
    for (Eigen::Index n = 0; n < n_neur; ++n) r.neuroid_ids.push_back(std::to_string(n));

  const auto n_stim = static_cast<Eigen::Index>(r.stimulus_ids.size());
  r.mean.setZero(n_stim, n_neur);
  r.counts.setZero(n_stim, n_neur);
  for (Eigen::Index p = 0; p < n_pres; ++p)
    for (Eigen::Index n = 0; n < n_neur; ++n) {
      const double v = r.presentations(p, n);
      if (std::isfinite(v))
        r.mean(r.stimulus_of[p], n) += v, ++r.counts(r.stimulus_of[p], n);
      else
        ++r.missing;
    }
  for (Eigen::Index s = 0; s < n_stim; ++s)
    for (Eigen::Index n = 0; n < n_neur; ++n)
      r.mean(s, n) =
          r.counts(s, n) ? r.mean(s, n) / r.counts(s, n) : std::numeric_limits<double>::quiet_NaN();
  return r;
}

Assembly read_assembly_spec(const std::string& spec) {
  auto [file, path] = h5::split_dataset_spec(spec);
  const bool netcdf = file.extension() == ".nc";
  if (netcdf) {
    if (path.empty()) return read_brainio(file);
    const auto slash = path.find_last_of('/');
    return read_brainio(file, path.substr(slash + 1), slash == 0 ? "/" : path.substr(0, slash));
  }
  if (path.empty())
    throw InputError("brain data " + spec + ": name the dataset, e.g. " + file.string() +
                     ":/responses");
  return read_h5_assembly(file, path);
}

namespace {

// The first of `names` in `group` that is a 1-D dataset of `length` values ("" when none).
std::string sibling(const h5::File& f, const std::string& group,
                    std::initializer_list<const char*> names, std::uint64_t length) {
  for (const char* n : names) {
    const std::string path = group + "/" + n;
    if (!h5::exists(f, path)) continue;
    const auto shape = h5::dataset_shape(f, path);
    if (shape.size() == 1 && shape[0] == length) return path;
  }
  return "";
}

// A 1-D dataset's values as text (numbers as integers print, "3" not "3.0").
std::vector<std::string> text_values(const h5::File& f, const std::string& path) {
  if (h5::is_string_dataset(f, path)) return h5::read_strings(f, path);
  std::vector<std::string> out;
  for (double v : h5::read_array<double>(f, path).data) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    out.emplace_back(buf);
  }
  return out;
}

}  // namespace

std::optional<TrialResponses> read_h5_trials(const std::string& spec) {
  auto [file, path] = h5::split_dataset_spec(spec);
  const auto ext = file.extension().string();
  if ((ext != ".h5" && ext != ".hdf5" && ext != ".hdf") || !std::filesystem::exists(file))
    return std::nullopt;
  const h5::File f(file, h5::File::Mode::read);
  for (const char* name : {"/betas", "/responses", "/data"})
    if (path.empty() && h5::exists(f, name)) path = name;
  if (path.empty() || !h5::exists(f, path)) return std::nullopt;
  const auto shape = h5::dataset_shape(f, path);
  if (shape.size() != 2) return std::nullopt;
  const auto dims = h5::dimension_names(f, path);
  const bool voxels = dims[1] == "voxel" || dims[1] == "voxels";
  if (!dims[0].empty() && !voxels) return std::nullopt;
  TrialResponses t;
  t.source = file.string() + ":" + path;
  const std::string group = path.substr(0, path.find_last_of('/'));
  const auto ids =
      sibling(f, group, {"stimulus_id", "stimulus", "image_id", "nsd_id", "73k_id"}, shape[0]);
  if (ids.empty())
    throw InputError(t.source + ": no stimulus id per trial beside it (a 1-D dataset of " +
                     std::to_string(shape[0]) +
                     " values named stimulus_id, stimulus, image_id, nsd_id or 73k_id)");
  t.stimulus_ids = text_values(f, ids);
  if (const auto s = sibling(f, group, {"session", "sessions"}, shape[0]); !s.empty())
    t.sessions = text_values(f, s);
  if (const auto v = sibling(f, group, {"voxel_id", "voxel", "neuroid_id"}, shape[1]); !v.empty())
    t.voxel_ids = text_values(f, v);
  else
    for (std::uint64_t j = 0; j < shape[1]; ++j) t.voxel_ids.push_back(std::to_string(j));
  const auto values = h5::read_array<double>(f, path);
  t.values =
      Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
          values.data.data(), static_cast<Eigen::Index>(shape[0]),
          static_cast<Eigen::Index>(shape[1]));
  return t;
}

StimulusJoin join_stimuli(const std::vector<std::string>& model_ids, const std::string& model_name,
                          const std::vector<std::string>& brain_ids,
                          const std::string& brain_name) {
  std::unordered_map<std::string, Eigen::Index> model_index;
  for (std::size_t i = 0; i < model_ids.size(); ++i)
    if (!model_index.emplace(model_ids[i], static_cast<Eigen::Index>(i)).second)
      throw InputError(model_name + ": stimulus id '" + model_ids[i] + "' appears twice");
  std::unordered_map<std::string, Eigen::Index> brain_index;
  for (std::size_t i = 0; i < brain_ids.size(); ++i)
    brain_index.emplace(brain_ids[i], static_cast<Eigen::Index>(i));
  std::vector<std::string> missing_in_model, missing_in_brain;
  for (const auto& id : brain_ids)
    if (!model_index.count(id)) missing_in_model.push_back(id);
  for (const auto& id : model_ids)
    if (!brain_index.count(id)) missing_in_brain.push_back(id);
  if (!missing_in_model.empty() || !missing_in_brain.empty()) {
    if (auto by_stem = join_by_stem(model_ids, brain_ids)) return *by_stem;
    std::string msg = "stimulus ids of " + model_name + " and " + brain_name + " differ:";
    if (!missing_in_model.empty())
      msg += " missing in " + model_name + ": " + list_ids(missing_in_model) + ";";
    if (!missing_in_brain.empty())
      msg += " missing in " + brain_name + ": " + list_ids(missing_in_brain) + ";";
    msg.pop_back();
    throw InputError(msg);
  }
  StimulusJoin j;
  for (std::size_t i = 0; i < brain_ids.size(); ++i) {
    j.brain_rows.push_back(static_cast<Eigen::Index>(i));
    j.model_rows.push_back(model_index.at(brain_ids[i]));
    j.ids.push_back(brain_ids[i]);
  }
  return j;
}

}  // namespace lrm::io
