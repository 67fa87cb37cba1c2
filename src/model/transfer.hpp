#pragma once
// Copies between the host and a CUDA device that overlap the model's compute: a batch crosses to
// the device from pinned host memory without blocking, and outputs come back on a stream of their
// own into pinned host buffers while the next batch computes. On the CPU both are the tensors
// themselves (no copy), so CPU runs are unchanged.
#include <torch/torch.h>

#include <functional>
#include <optional>
#include <vector>

namespace lrm::model {

class Transfers {
 public:
  explicit Transfers(torch::Device device);

  // A host batch on the device (queued; the same tensor on the CPU).
  torch::Tensor to_device(const torch::Tensor& host) const;

  struct Pending {
    std::vector<torch::Tensor> host;  // float, on the host; read them only after wait()
    std::function<void()> wait;       // blocks until the copies are done; empty on the CPU
  };
  // Starts copying `outputs` (computed by the work queued so far) to the host as float.
  Pending to_host(std::vector<torch::Tensor> outputs) const;

 private:
  torch::Device device_;
  std::optional<c10::Stream> copies_;  // CUDA: the stream of the device-to-host copies
};

}  // namespace lrm::model
