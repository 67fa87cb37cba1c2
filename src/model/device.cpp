#include "model/device.hpp"

#include <ATen/autocast_mode.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <cctype>
#include <cstdlib>

#include "common/error.hpp"

namespace lrm::model {

const Names<Precision> precision_names{
    {"fp32", Precision::fp32}, {"tf32", Precision::tf32}, {"bf16", Precision::bf16}};

namespace {

Compute current;

// LibTorch 2.4 replaced the CUDA- and CPU-specific autocast calls with ones taking the device.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
bool autocast_enabled(torch::DeviceType t) { return at::autocast::is_autocast_enabled(t); }
void set_autocast_enabled(torch::DeviceType t, bool on) {
  at::autocast::set_autocast_enabled(t, on);
}
at::ScalarType autocast_dtype(torch::DeviceType t) { return at::autocast::get_autocast_dtype(t); }
void set_autocast_dtype(torch::DeviceType t, at::ScalarType d) {
  at::autocast::set_autocast_dtype(t, d);
}
#else
bool autocast_enabled(torch::DeviceType t) {
  return t == torch::kCUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
}
void set_autocast_enabled(torch::DeviceType t, bool on) {
  t == torch::kCUDA ? at::autocast::set_enabled(on) : at::autocast::set_cpu_enabled(on);
}
at::ScalarType autocast_dtype(torch::DeviceType t) {
  return t == torch::kCUDA ? at::autocast::get_autocast_gpu_dtype()
                           : at::autocast::get_autocast_cpu_dtype();
}
void set_autocast_dtype(torch::DeviceType t, at::ScalarType d) {
  t == torch::kCUDA ? at::autocast::set_autocast_gpu_dtype(d)
                    : at::autocast::set_autocast_cpu_dtype(d);
}
#endif

const char* const kDeviceValues = "use cpu, cuda, cuda:N or auto";

// The N of "cuda:N" (0 for "cuda"); -1 if the text names no CUDA device.
int cuda_index(const std::string& text) {
  if (text == "cuda") return 0;
  if (text.rfind("cuda:", 0) != 0 || text.size() == 5 || text.size() > 8) return -1;
  for (std::size_t i = 5; i < text.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return -1;
  return std::stoi(text.substr(5));
}

// The process's rank on its node under mpirun or srun (0 otherwise), so that `auto` gives the ranks
// of a node different GPUs.
int local_rank() {
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"})
    if (const char* value = std::getenv(name);
        value && std::isdigit(static_cast<unsigned char>(*value)))
      return std::atoi(value);
  return 0;
}

}  // namespace

bool libtorch_has_cuda() {
#ifdef LRM_TORCH_CUDA
  return true;
#else
  return torch::cuda::is_available();
#endif
}

torch::Device resolve_device(const std::string& text) {
  if (text == "cpu") return torch::kCPU;
  if (text == "auto") {
    if (!libtorch_has_cuda() || !torch::cuda::is_available()) return torch::kCPU;
    const auto count = static_cast<int>(torch::cuda::device_count());
    return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(local_rank() % count));
  }
  const int index = cuda_index(text);
  if (index < 0)
    throw SettingError("device", "unknown device '" + text + "' (" + kDeviceValues + ")");
  if (!libtorch_has_cuda())
    throw SettingError("device", "this LibTorch has no CUDA (a CPU build); use cpu or auto");
  const auto count = static_cast<int>(torch::cuda::device_count());
  if (count == 0) throw SettingError("device", "no GPU visible; use cpu or auto");
  if (index >= count)
    throw SettingError("device", text + ": only " + std::to_string(count) + " GPU" +
                                     (count == 1 ? "" : "s") + " visible (cuda:0.." +
                                     std::to_string(count - 1) + ")");
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
}

void set_compute(const std::string& device, const std::string& precision) {
  set_compute({resolve_device(device), precision_names.parse(precision, "precision")});
}

void set_compute(const Compute& compute) {
  current = compute;
  // Process-wide flags, read by CUDA matrix products and cuDNN convolutions only.
  const bool tf32 = compute.precision == Precision::tf32;
  at::globalContext().setAllowTF32CuBLAS(tf32);
  at::globalContext().setAllowTF32CuDNN(tf32);
}

const Compute& compute() { return current; }

std::string describe(const Compute& compute) {
  return compute.device.str() + " " + precision_names.name(compute.precision);
}

torch::Device device_of(const torch::nn::Module& module) {
  const auto parameters = module.parameters();
  return parameters.empty() ? torch::Device(torch::kCPU) : parameters.front().device();
}

void synchronize(torch::Device device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

PrecisionScope::PrecisionScope(torch::Device device, Precision precision) {
  if (precision != Precision::bf16) return;
  type_ = device.type();
  was_enabled_ = autocast_enabled(type_);
  previous_dtype_ = autocast_dtype(type_);
  set_autocast_enabled(type_, true);
  set_autocast_dtype(type_, at::kBFloat16);
  at::autocast::increment_nesting();
  active_ = true;
}

PrecisionScope::~PrecisionScope() {
  if (!active_) return;
  // The cache keeps bfloat16 copies of the weights while autocast regions are open.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  set_autocast_enabled(type_, was_enabled_);
  set_autocast_dtype(type_, previous_dtype_);
}

torch::Tensor to_host(const torch::Tensor& t) {
  if (!t.defined()) return t;
  const bool reduced = t.scalar_type() == torch::kBFloat16 || t.scalar_type() == torch::kHalf;
  if (t.device().is_cpu() && !reduced) return t;
  return t.to(torch::kCPU, reduced ? torch::kFloat : t.scalar_type());
}

}  // namespace lrm::model
