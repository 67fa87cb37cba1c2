#include "extract/reduce_pca.hpp"

#include <algorithm>
#include <array>

#include "common/error.hpp"
#include "common/mpi.hpp"
#include "io/activation_file.hpp"

namespace lrm::extract {
namespace {

constexpr std::int64_t kBlockBytes = 64 << 20;

std::string fit_label(const std::string& layer, int pass) {
  return "layer " + layer + " pass " + std::to_string(pass);
}

torch::Tensor to_tensor(const h5::Array<double>& a) {
  std::vector<std::int64_t> shape(a.shape.begin(), a.shape.end());
  return torch::from_blob(const_cast<double*>(a.data.data()), shape, torch::kDouble).clone();
}

void write_vector(const h5::Group& g, const std::string& name, const torch::Tensor& t,
                  const std::string& dim) {
  auto c = t.contiguous();
  h5::write_array(g, name, c.data_ptr<double>(), {static_cast<std::uint64_t>(c.numel())}, {dim});
}

// The arrays of a fit (const or not), in the order they are sent.
template <typename Fit>
auto arrays(Fit& fit) {
  return std::array{&fit.components, &fit.mean, &fit.explained_variance,
                    &fit.explained_variance_ratio, &fit.singular_values};
}

void put_tensor(mpi::Packer& out, const torch::Tensor& t) {
  const auto c = t.contiguous();
  out.put(static_cast<std::int64_t>(c.dim()));
  for (const auto size : c.sizes()) out.put(static_cast<std::int64_t>(size));
  out.put_array(c.data_ptr<double>(), static_cast<std::size_t>(c.numel()));
}

torch::Tensor get_tensor(mpi::Unpacker& in) {
  std::vector<std::int64_t> shape(in.get<std::int64_t>());
  for (auto& size : shape) size = in.get<std::int64_t>();
  auto t = torch::empty(shape, torch::kDouble);
  in.get_array<double>([&](std::size_t) { return t.data_ptr<double>(); });
  return t;
}

}  // namespace

PcaFitter::PcaFitter(std::string layer, int pass, std::int64_t units, std::int64_t rows,
                     std::int64_t k, const std::filesystem::path& scratch)
    : layer_(std::move(layer)),
      pass_(pass),
      units_(units),
      rows_(rows),
      k_(k),
      gram_(units > rows),
      sum_(torch::zeros({units}, torch::kDouble)),
      scratch_(scratch) {
  if (rows < 2) throw SettingError("pca-fit", "a PCA fit needs at least 2 stimuli");
  if (k < 1 || k > std::min(units, rows))
    throw SettingError("reduce", fit_label(layer_, pass_) + ": pca:" + std::to_string(k) +
                                     " asks for more components than min(stimuli, units) = " +
                                     std::to_string(std::min(units, rows)));
  if (!gram_) {
    cross_ = torch::zeros({units, units}, torch::kDouble);
    return;
  }
  file_ = std::fopen(scratch_.c_str(), "w+b");
  if (!file_) throw InputError("cannot create the PCA scratch file " + scratch_.string());
}

PcaFitter::~PcaFitter() {
  if (!file_) return;
  std::fclose(file_);
  std::error_code ec;
  std::filesystem::remove(scratch_, ec);
}

void PcaFitter::add(const float* data, std::int64_t rows) {
  if (added_ + rows > rows_) throw InternalError("PCA fit of " + layer_ + ": more rows than set");
  auto x =
      torch::from_blob(const_cast<float*>(data), {rows, units_}, torch::kFloat).to(torch::kDouble);
  if (added_ == 0) shift_ = x.mean(0);
  auto shifted = x - shift_;
  sum_ += shifted.sum(0);
  added_ += rows;
  if (!gram_) {
    cross_.addmm_(shifted.t(), shifted);
    return;
  }
  const auto n = static_cast<std::size_t>(rows * units_);
  if (std::fwrite(data, sizeof(float), n, file_) != n)
    throw InputError("cannot write the PCA scratch file " + scratch_.string() + " (disk full?)");
}

// Columns [first, first + count) of every stored row, centred: N × count.
torch::Tensor PcaFitter::read_columns(std::int64_t first, std::int64_t count) const {
  std::vector<float> buffer(static_cast<std::size_t>(rows_ * count));
  for (std::int64_t r = 0; r < rows_; ++r) {
    const auto offset = static_cast<off_t>((r * units_ + first) * sizeof(float));
    if (fseeko(file_, offset, SEEK_SET) != 0 ||
        std::fread(buffer.data() + r * count, sizeof(float), count, file_) !=
            static_cast<std::size_t>(count))
      throw InternalError("cannot read back the PCA scratch file " + scratch_.string());
  }
  auto block = torch::from_blob(buffer.data(), {rows_, count}, torch::kFloat).to(torch::kDouble);
  return block - (shift_ + sum_ / static_cast<double>(rows_)).narrow(0, first, count);
}

// Eigenvectors (N × N, ascending eigenvalues) of the centred rows' Gram matrix.
torch::Tensor PcaFitter::gram_eigen(torch::Tensor& eigenvalues) {
  std::fflush(file_);
  const std::int64_t block = std::max<std::int64_t>(1, kBlockBytes / (rows_ * 8));
  auto gram = torch::zeros({rows_, rows_}, torch::kDouble);
  for (std::int64_t first = 0; first < units_; first += block) {
    auto x = read_columns(first, std::min(block, units_ - first));
    gram.addmm_(x, x.t());
  }
  auto [values, vectors] = torch::linalg::eigh(gram, "L");
  eigenvalues = values;
  return vectors;
}

PcaFit PcaFitter::finish() {
  if (added_ != rows_)
    throw InternalError("PCA fit of " + layer_ + ": " + std::to_string(added_) + " rows of " +
                        std::to_string(rows_));
  const double n = static_cast<double>(rows_);
  const auto d = sum_ / n;
  PcaFit fit;
  fit.layer = layer_;
  fit.pass = pass_;
  fit.fit_rows = rows_;
  fit.mean = shift_ + d;
  torch::Tensor values, top;
  if (!gram_) {
    cross_.sub_(torch::outer(d, d) * n);
    auto [v, vectors] = torch::linalg::eigh(cross_, "L");
    values = v;
    top = vectors.narrow(1, units_ - k_, k_).flip(1).t().contiguous();
    cross_ = torch::Tensor();
  } else {
    auto vectors = gram_eigen(values);
    top = vectors.narrow(1, rows_ - k_, k_).flip(1).t().contiguous();  // K × N
  }
  const auto total = values.clamp_min(0).sum().item<double>();
  auto lambda = values.narrow(0, values.size(0) - k_, k_).flip(0);
  const double largest = lambda[0].item<double>();
  const auto smallest = lambda[k_ - 1].item<double>();
  if (!(largest > 0) || smallest <= largest * 1e-12) {
    const auto nonzero = (lambda > largest * 1e-12).sum().item<std::int64_t>();
    throw InputError(
        "PCA of " + fit_label(layer_, pass_) + ": the fitting set's activations have " +
        std::to_string(largest > 0 ? nonzero : 0) +
        " components with nonzero variance, fewer than the " + std::to_string(k_) + " asked for");
  }
  fit.singular_values = lambda.sqrt();
  if (!gram_) {
    fit.components = top;
  } else {
    // V = Sᵀ⁻¹ Uᵀ Xc, column block by column block.
    fit.components = torch::empty({k_, units_}, torch::kDouble);
    const std::int64_t block = std::max<std::int64_t>(1, kBlockBytes / (rows_ * 8));
    const auto inverse = (1.0 / fit.singular_values).unsqueeze(1);
    for (std::int64_t first = 0; first < units_; first += block) {
      const auto count = std::min(block, units_ - first);
      fit.components.narrow(1, first, count).copy_(top.mm(read_columns(first, count)) * inverse);
    }
  }
  // svd_flip(u_based_decision=False): each component's entry of largest magnitude is positive.
  const auto at = fit.components.abs().argmax(1, true);
  fit.components.mul_(fit.components.gather(1, at).sign());
  fit.explained_variance = lambda / (n - 1);
  fit.explained_variance_ratio = lambda / total;
  return fit;
}

void write_pca_fits(const h5::Group& root, const PcaFits& fits, const PcaProvenance& provenance) {
  auto top = root.require_group(pca_group);
  top.set_attr("stimuli", provenance.stimuli);
  top.set_attr("stimuli_checksum", provenance.stimuli_checksum);
  top.set_attr("model", provenance.model);
  top.set_attr("sign_convention",
               "each component's entry of largest magnitude is positive (scikit-learn svd_flip, "
               "u_based_decision=False)");
  for (const auto& [key, fit] : fits) {
    auto g = top.require_group(fit->layer).require_group(io::pass_dataset_name(fit->pass));
    g.set_attr("layer", fit->layer);
    g.set_attr("pass", static_cast<std::int64_t>(fit->pass));
    g.set_attr("fit_stimuli", fit->fit_rows);
    auto c = fit->components.contiguous();
    // Uncompressed: float64 mantissas barely compress, and deflate on one thread takes longer
    // than the fit.
    h5::write_array(
        g, "components", c.data_ptr<double>(),
        {static_cast<std::uint64_t>(fit->k()), static_cast<std::uint64_t>(fit->units())},
        {"component", "unit"}, h5::ArrayOptions{{}, false, {}});
    write_vector(g, "mean", fit->mean, "unit");
    write_vector(g, "explained_variance", fit->explained_variance, "component");
    write_vector(g, "explained_variance_ratio", fit->explained_variance_ratio, "component");
    write_vector(g, "singular_values", fit->singular_values, "component");
  }
  top.set_attr("fits_complete", std::int64_t{1});
}

bool has_pca_fits(const h5::File& file) {
  auto root = file.root();
  return root.has_group(pca_group) &&
         root.group(pca_group).attr_number("fits_complete").value_or(0) == 1;
}

PcaFits read_pca_fits(const h5::File& f) {
  const auto file = f.path().string();
  if (!has_pca_fits(f))
    throw InputError(file + ": holds no PCA fit (/pca, written by an extraction that fitted one)");
  PcaFits out;
  auto top = f.root().group(pca_group);
  for (const auto& layer : top.children()) {
    if (!top.has_group(layer)) continue;
    for (const auto& name : top.group(layer).children()) {
      const auto pass = io::parse_pass_dataset_name(name);
      if (!pass) continue;
      const auto path = "/" + std::string(pca_group) + "/" + layer + "/" + name;
      auto fit = std::make_shared<PcaFit>();
      fit->layer = layer;
      fit->pass = *pass;
      const auto read = [&](const std::string& name) {
        return to_tensor(h5::read_array<double>(f, path + "/" + name));
      };
      fit->components = read("components");
      fit->mean = read("mean");
      fit->explained_variance = read("explained_variance");
      fit->explained_variance_ratio = read("explained_variance_ratio");
      fit->singular_values = read("singular_values");
      fit->fit_rows = static_cast<std::int64_t>(
          top.group(layer).group(name).attr_number("fit_stimuli").value_or(0));
      if (fit->components.dim() != 2 || fit->mean.numel() != fit->units() ||
          fit->explained_variance.numel() != fit->k())
        throw InputError(file + ":" + path +
                         ": components, mean and explained variance do not agree in size");
      out[{layer, *pass}] = std::move(fit);
    }
  }
  return out;
}

PcaFits broadcast_pca_fits(const PcaFits& fits) {
  if (!mpi::active()) return fits;
  mpi::Packer out;
  if (mpi::rank() == 0) {
    out.put(static_cast<std::uint64_t>(fits.size()));
    for (const auto& [key, fit] : fits) {
      out.put(fit->layer).put(fit->pass).put(fit->fit_rows);
      for (const auto* t : arrays(*fit)) put_tensor(out, *t);
    }
  }
  const auto bytes = mpi::broadcast(out.bytes());
  if (mpi::rank() == 0) return fits;
  mpi::Unpacker in(bytes);
  PcaFits received;
  for (auto n = in.get<std::uint64_t>(); n > 0; --n) {
    auto fit = std::make_shared<PcaFit>();
    fit->layer = in.get_string();
    fit->pass = in.get<int>();
    fit->fit_rows = in.get<std::int64_t>();
    for (auto* t : arrays(*fit)) *t = get_tensor(in);
    received[{fit->layer, fit->pass}] = std::move(fit);
  }
  return received;
}

std::shared_ptr<const PcaFit> find_pca_fit(const PcaFits& fits, const std::string& layer, int pass,
                                           const std::filesystem::path& file) {
  const auto it = fits.find({layer, pass});
  if (it != fits.end()) return it->second;
  std::string held;
  for (const auto& [key, fit] : fits)
    held += (held.empty() ? "" : ", ") + fit_label(key.first, key.second);
  throw InputError(file.string() + " holds no PCA fit of " + fit_label(layer, pass) +
                   " (it holds " + (held.empty() ? "none" : held) + ")");
}

}  // namespace lrm::extract
