#include "compare/brain_volume.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <unordered_map>

#include "common/error.hpp"
#include "compare/resampling.hpp"
#include "io/nifti.hpp"

namespace lrm::compare {
namespace {

std::string trim(const std::string& s) {
  const auto a = s.find_first_not_of(" \t\r");
  if (a == std::string::npos) return "";
  return s.substr(a, s.find_last_not_of(" \t\r") - a + 1);
}

std::vector<std::string> split_commas(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream in(line);
  for (std::string cell; std::getline(in, cell, ',');) out.push_back(trim(cell));
  return out;
}

// The columns `wanted` of a CSV file with a header (unquoted cells); an absent optional column is
// empty, an absent required one an InputError.
std::vector<std::vector<std::string>> read_columns(const std::string& path,
                                                   const std::vector<std::string>& wanted,
                                                   std::size_t required) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) throw InputError(path + ": cannot read the table");
  const auto header = split_commas(line);
  std::vector<int> index;
  for (std::size_t w = 0; w < wanted.size(); ++w) {
    int found = -1;
    for (std::size_t c = 0; c < header.size(); ++c)
      if (header[c] == wanted[w]) found = static_cast<int>(c);
    if (found < 0 && w < required)
      throw InputError(path + ": no column '" + wanted[w] + "' in the header");
    index.push_back(found);
  }
  std::vector<std::vector<std::string>> columns(wanted.size());
  for (std::size_t row = 2; std::getline(in, line); ++row) {
    if (trim(line).empty()) continue;
    const auto cells = split_commas(line);
    for (std::size_t w = 0; w < wanted.size(); ++w) {
      if (index[w] < 0) continue;
      if (static_cast<std::size_t>(index[w]) >= cells.size())
        throw InputError(path + ": line " + std::to_string(row) + " has too few cells");
      columns[w].push_back(cells[static_cast<std::size_t>(index[w])]);
    }
  }
  return columns;
}

// The label value named `name` in the label,name table.
double label_value(const std::string& table, const std::string& name, const std::string& roi) {
  if (table.empty()) throw InputError(roi + ": a label name needs a table of label,name rows");
  const auto cols = read_columns(table, {"label", "name"}, 2);
  for (std::size_t i = 0; i < cols[1].size(); ++i)
    if (cols[1][i] == name) {
      char* end = nullptr;
      const double v = std::strtod(cols[0][i].c_str(), &end);
      if (*end != '\0' || cols[0][i].empty())
        throw InputError(table + ": label '" + cols[0][i] + "' is not a number");
      return v;
    }
  throw InputError(table + ": no ROI named '" + name + "'");
}

struct RoiMasks {
  std::vector<std::int64_t> voxels;      // flat indices in any ROI, in grid order
  std::vector<std::vector<char>> masks;  // per ROI, over the grid
};

// The voxels of the ROIs; every voxel without ROIs.
RoiMasks roi_voxels(const BrainVolumeOptions& o, const io::Volume& betas) {
  RoiMasks out;
  std::vector<char> chosen(static_cast<std::size_t>(betas.voxels()), o.rois.empty());
  for (const auto& roi : o.rois) {
    std::string path = roi, name;
    const auto colon = roi.rfind(':');
    if (colon != std::string::npos && io::is_nifti_path(roi.substr(0, colon)))
      path = roi.substr(0, colon), name = roi.substr(colon + 1);
    const io::Volume mask = io::read_nifti(path);
    if (mask.volumes != 1) throw InputError(path + ": an ROI mask must be a 3-D volume");
    if (!io::same_grid(mask, betas))
      throw InputError(path + ": the mask is on another grid (shape or affine) than the betas " +
                       o.betas);
    const double label = name.empty() ? 0.0 : label_value(o.roi_labels, name, roi);
    auto& in = out.masks.emplace_back(chosen.size(), 0);
    for (std::size_t v = 0; v < chosen.size(); ++v)
      if (name.empty() ? mask.data[v] != 0 : mask.data[v] == label) in[v] = chosen[v] = 1;
  }
  for (std::size_t v = 0; v < chosen.size(); ++v)
    if (chosen[v]) out.voxels.push_back(static_cast<std::int64_t>(v));
  if (out.voxels.empty()) throw InputError("the ROIs hold no voxel of the betas " + o.betas);
  return out;
}

// Keeps the columns where keep[j].
void keep_columns(Eigen::MatrixXd& m, std::vector<std::int64_t>& voxel,
                  const std::vector<char>& keep) {
  Eigen::Index k = 0;
  for (Eigen::Index j = 0; j < m.cols(); ++j)
    if (keep[static_cast<std::size_t>(j)]) {
      m.col(k) = m.col(j);
      voxel[static_cast<std::size_t>(k)] = voxel[static_cast<std::size_t>(j)];
      ++k;
    }
  m.conservativeResize(Eigen::NoChange, k);
  voxel.resize(static_cast<std::size_t>(k));
}

std::string voxel_id(std::int64_t v, const std::array<std::int64_t, 3>& shape) {
  return std::to_string(v % shape[0]) + "_" + std::to_string(v / shape[0] % shape[1]) + "_" +
         std::to_string(v / (shape[0] * shape[1]));
}

void group_by_stimulus(io::NeuralResponses& r, const std::vector<std::string>& trial_ids) {
  std::unordered_map<std::string, Eigen::Index> index;
  for (const auto& id : trial_ids) {
    auto [it, fresh] = index.emplace(id, static_cast<Eigen::Index>(r.stimulus_ids.size()));
    if (fresh) r.stimulus_ids.push_back(id);
    r.stimulus_of.push_back(it->second);
  }
  const auto n = static_cast<Eigen::Index>(r.stimulus_ids.size());
  r.mean = Eigen::MatrixXd::Zero(n, r.presentations.cols());
  r.counts = Eigen::MatrixXi::Zero(n, r.presentations.cols());
  for (std::size_t p = 0; p < r.stimulus_of.size(); ++p) {
    r.mean.row(r.stimulus_of[p]) += r.presentations.row(static_cast<Eigen::Index>(p));
    r.counts.row(r.stimulus_of[p]).array() += 1;
  }
  r.mean.array() /= r.counts.cast<double>().array();
}

// Z-scoring by session, bad voxels (NaN or constant) left out, the grouping of trials by stimulus
// and the ncsnr threshold, on out.responses.presentations (trial x voxel, out.voxel per column).
void clean_trials(BrainVolume& out, const std::vector<std::string>& ids,
                  const std::vector<std::string>& sessions, const BrainVolumeOptions& o,
                  const std::string& source) {
  auto& r = out.responses;
  if (o.zscore_by_session) zscore_within(r.presentations, sessions);
  std::vector<char> good(out.voxel.size());
  for (Eigen::Index j = 0; j < r.presentations.cols(); ++j) {
    const auto c = r.presentations.col(j);
    good[static_cast<std::size_t>(j)] = c.allFinite() && c.maxCoeff() > c.minCoeff();
    out.bad_voxels += !good[static_cast<std::size_t>(j)];
  }
  keep_columns(r.presentations, out.voxel, good);
  if (out.voxel.empty())
    throw InputError(source + ": all " + std::to_string(out.roi_voxels) +
                     " voxels in the ROIs are NaN or constant");
  group_by_stimulus(r, ids);
  if (std::isfinite(o.ncsnr_min)) {
    const Eigen::VectorXd snr = noise_ceiling_snr(r.presentations, r.stimulus_of,
                                                  static_cast<Eigen::Index>(r.stimulus_ids.size()));
    std::vector<char> keep(out.voxel.size());
    for (Eigen::Index j = 0; j < snr.size(); ++j)
      keep[static_cast<std::size_t>(j)] = snr[j] >= o.ncsnr_min;
    out.below_ncsnr = std::count(keep.begin(), keep.end(), 0);
    if (out.below_ncsnr == static_cast<std::int64_t>(keep.size()))
      throw InputError(source + ": no voxel has a noise-ceiling SNR of at least " +
                       std::to_string(o.ncsnr_min));
    keep_columns(r.presentations, out.voxel, keep);
    r.stimulus_ids.clear();
    r.stimulus_of.clear();
    group_by_stimulus(r, ids);
  }
}

}  // namespace

void zscore_within(Eigen::MatrixXd& values, const std::vector<std::string>& groups) {
  std::map<std::string, std::vector<Eigen::Index>> rows;
  for (std::size_t i = 0; i < groups.size(); ++i)
    rows[groups[i]].push_back(static_cast<Eigen::Index>(i));
  for (const auto& [name, members] : rows) {
    const auto k = static_cast<double>(members.size());
    for (Eigen::Index j = 0; j < values.cols(); ++j) {
      double sum = 0, sq = 0;
      for (auto i : members) sum += values(i, j);
      const double mean = sum / k;
      for (auto i : members) sq += (values(i, j) - mean) * (values(i, j) - mean);
      const double sd = std::sqrt(sq / k);
      for (auto i : members) values(i, j) = sd > 0 ? (values(i, j) - mean) / sd : std::nan("");
    }
  }
}

Eigen::VectorXd noise_ceiling_snr(const Eigen::MatrixXd& presentations,
                                  const std::vector<Eigen::Index>& stimulus_of,
                                  Eigen::Index stimuli) {
  std::vector<std::vector<Eigen::Index>> rows(static_cast<std::size_t>(stimuli));
  for (std::size_t p = 0; p < stimulus_of.size(); ++p)
    rows[static_cast<std::size_t>(stimulus_of[p])].push_back(static_cast<Eigen::Index>(p));
  const Eigen::Index n = presentations.rows();
  Eigen::VectorXd noise = Eigen::VectorXd::Zero(presentations.cols());
  int repeated = 0;
  for (const auto& r : rows) {
    if (r.size() < 2) continue;
    ++repeated;
    const auto k = static_cast<double>(r.size());
    Eigen::RowVectorXd mean = Eigen::RowVectorXd::Zero(presentations.cols());
    for (auto i : r) mean += presentations.row(i);
    mean /= k;
    Eigen::RowVectorXd var = Eigen::RowVectorXd::Zero(presentations.cols());
    for (auto i : r) var.array() += (presentations.row(i) - mean).array().square();
    noise += var.transpose() / (k - 1);
  }
  if (repeated == 0)
    throw InputError("the noise-ceiling SNR needs stimuli shown more than once; none is");
  noise /= repeated;
  const Eigen::RowVectorXd grand = presentations.colwise().mean();
  const Eigen::VectorXd total =
      ((presentations.rowwise() - grand).colwise().squaredNorm() / double(n - 1)).transpose();
  return (total - noise).cwiseMax(0.0).cwiseSqrt().cwiseQuotient(noise.cwiseSqrt());
}

BrainVolume load_brain_volume(const BrainVolumeOptions& o) {
  const io::Volume betas = io::read_nifti_grid(o.betas);
  if (o.trials.empty()) throw InputError(o.betas + ": NIfTI betas need a trial table");
  const auto trials = read_columns(o.trials, {"stimulus_id", "session"}, 1);
  if (static_cast<std::int64_t>(trials[0].size()) != betas.volumes)
    throw InputError(o.betas + " has " + std::to_string(betas.volumes) + " volumes but " +
                     o.trials + " has " + std::to_string(trials[0].size()) + " trial rows");
  if (o.zscore_by_session && trials[1].empty())
    throw InputError(o.trials + ": z-scoring by session needs a 'session' column");
  BrainVolume out;
  out.shape = betas.shape;
  out.affine = betas.affine;
  const RoiMasks rois = roi_voxels(o, betas);
  out.voxel = rois.voxels;
  out.roi_voxels = static_cast<std::int64_t>(out.voxel.size());
  auto& r = out.responses;
  r.source = o.betas;
  r.presentations = io::read_nifti_voxels(o.betas, out.voxel);
  clean_trials(out, trials[0], trials[1], o, o.betas);
  for (auto v : out.voxel) r.neuroid_ids.push_back(voxel_id(v, out.shape));
  out.roi_names = o.rois;
  for (const auto& mask : rois.masks) {
    auto& members = out.roi_neuroids.emplace_back();
    for (std::size_t j = 0; j < out.voxel.size(); ++j)
      if (mask[static_cast<std::size_t>(out.voxel[j])])
        members.push_back(static_cast<Eigen::Index>(j));
  }
  return out;
}

BrainVolume trial_volume(io::TrialResponses t, const BrainVolumeOptions& o) {
  if (!o.trials.empty() || !o.rois.empty())
    throw SettingError(o.trials.empty() ? "roi" : "trials",
                       "applies to NIfTI betas (.nii, .nii.gz) only; " + t.source +
                           " has its stimulus ids beside it");
  if (o.zscore_by_session && t.sessions.empty())
    throw InputError(t.source + ": z-scoring by session needs a session per trial (a 1-D " +
                     "dataset session beside it)");
  BrainVolume out;
  for (Eigen::Index j = 0; j < t.values.cols(); ++j) out.voxel.push_back(j);
  out.roi_voxels = static_cast<std::int64_t>(out.voxel.size());
  out.responses.source = t.source;
  out.responses.presentations = std::move(t.values);
  clean_trials(out, t.stimulus_ids, t.sessions, o, t.source);
  for (auto v : out.voxel)
    out.responses.neuroid_ids.push_back(t.voxel_ids[static_cast<std::size_t>(v)]);
  return out;
}

std::vector<double> roi_scores(const Eigen::MatrixXd& r,
                               const std::vector<std::vector<Eigen::Index>>& members) {
  std::vector<double> out;
  for (const auto& roi : members) {
    double sum = 0;
    int splits = 0;
    for (Eigen::Index s = 0; s < r.rows(); ++s) {
      std::vector<double> finite;
      for (auto j : roi)
        if (std::isfinite(r(s, j))) finite.push_back(r(s, j));
      if (finite.empty()) continue;
      sum += percentile(finite, 50);
      ++splits;
    }
    out.push_back(splits ? sum / splits : std::nan(""));
  }
  return out;
}

void write_voxel_map(const std::string& path, const BrainVolume& volume,
                     const Eigen::VectorXd& values) {
  std::vector<float> data(
      static_cast<std::size_t>(volume.shape[0] * volume.shape[1] * volume.shape[2]), std::nanf(""));
  for (std::size_t j = 0; j < volume.voxel.size(); ++j)
    data[static_cast<std::size_t>(volume.voxel[j])] =
        static_cast<float>(values[static_cast<Eigen::Index>(j)]);
  io::write_nifti(path, volume.shape, volume.affine, data);
}

void write_grid(const h5::Group& g, const BrainVolume& volume) {
  if (volume.shape[0] == 0) return;
  g.set_attr("grid_shape", std::vector<std::int64_t>(volume.shape.begin(), volume.shape.end()),
             {3});
  std::vector<double> affine;  // C order: row by row
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) affine.push_back(volume.affine(i, j));
  g.set_attr("affine", affine, {4, 4});
}

void write_voxel_maps(const std::string& dir, const BrainVolume& volume,
                      const std::vector<std::string>& names,
                      const std::vector<Eigen::VectorXd>& values) {
  namespace fs = std::filesystem;
  fs::path target = fs::path(dir).lexically_normal();
  if (target.filename().empty()) target = target.parent_path();  // "maps/" names "maps"
  const fs::path partial = target.string() + ".partial";
  std::error_code ec;
  fs::remove_all(partial, ec);
  if (!fs::create_directories(partial, ec) && ec)
    throw InputError(partial.string() + ": cannot create the folder (" + ec.message() + ")");
  for (std::size_t i = 0; i < names.size(); ++i)
    write_voxel_map((partial / (names[i] + ".nii.gz")).string(), volume, values[i]);
  fs::remove_all(target, ec);
  fs::rename(partial, target, ec);
  if (ec) throw InputError(target.string() + ": cannot write the folder (" + ec.message() + ")");
}

}  // namespace lrm::compare
