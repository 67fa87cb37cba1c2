#pragma once
// Where and in which precision the models run: one process-wide setting (the CLI's --device and
// --precision), read by every model command. CPU in fp32 until set, so the library and its tests
// behave as before unless asked.
#include <torch/torch.h>

#include <string>

#include "common/names.hpp"

namespace lrm::model {

// fp32: strict single precision (no TF32 even on GPUs that allow it by default); tf32: CUDA
// matrix products and convolutions in TF32 (on the CPU the same as fp32); bf16: autocast to
// bfloat16 for the products and convolutions, outputs returned as float.
enum class Precision { fp32, tf32, bf16 };
extern const Names<Precision> precision_names;

// "cpu", "cuda", "cuda:N" or "auto" (CUDA when this LibTorch has it and a GPU is visible, else
// the CPU; under mpirun or srun, GPU local rank mod GPUs); a SettingError of "device" names why
// CUDA cannot be used.
torch::Device resolve_device(const std::string& text);
// Whether this LibTorch was built with CUDA.
bool libtorch_has_cuda();

struct Compute {
  torch::Device device = torch::kCPU;
  Precision precision = Precision::fp32;
};
// Sets the process's device and precision from their texts (SettingError "device"/"precision").
void set_compute(const std::string& device, const std::string& precision);
void set_compute(const Compute& compute);
const Compute& compute();
// "cpu fp32", "cuda:0 bf16": for notes and provenance.
std::string describe(const Compute& compute);

// The device of a module's parameters (the CPU for a module without any).
torch::Device device_of(const torch::nn::Module& module);

// Waits for the device's queued work (for timing); nothing on the CPU.
void synchronize(torch::Device device);

// While alive on this thread: autocast to bfloat16 on `device` when the precision is bf16.
// Autocast is per thread, so the scope lives on the thread that runs the model.
class PrecisionScope {
 public:
  explicit PrecisionScope(torch::Device device, Precision precision = compute().precision);
  ~PrecisionScope();
  PrecisionScope(const PrecisionScope&) = delete;
  PrecisionScope& operator=(const PrecisionScope&) = delete;

 private:
  bool active_ = false;
  bool was_enabled_ = false;
  torch::DeviceType type_ = torch::kCPU;
  at::ScalarType previous_dtype_ = at::kFloat;
};

// A model output for host code: on the CPU, bfloat16/half as float (the same tensor, no copy,
// when it is already a CPU tensor of another kind).
torch::Tensor to_host(const torch::Tensor& t);

}  // namespace lrm::model
