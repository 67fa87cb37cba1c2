#include "model/transfer.hpp"

#include <c10/core/Event.h>
#include <c10/core/StreamGuard.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>

#include <chrono>
#include <memory>
#include <thread>

#include "model/device.hpp"

namespace lrm::model {

// Written against c10's device-generic streams and events, so this compiles with any LibTorch
// and the CUDA parts run only when the device is a GPU.
Transfers::Transfers(torch::Device device) : device_(device) {
  if (device.is_cuda())
    copies_ = c10::impl::getDeviceGuardImpl(device.type())->getStreamFromGlobalPool(device);
}

torch::Tensor Transfers::to_device(const torch::Tensor& host) const {
  if (!copies_) return host.to(device_);
  // Pageable memory would make the copy synchronous; the caching host allocator keeps the pinned
  // buffer until the copy has read it.
  auto pinned = torch::empty(host.sizes(), host.options().pinned_memory(true));
  pinned.copy_(host);
  return pinned.to(device_, /*non_blocking=*/true);
}

Transfers::Pending Transfers::to_host(std::vector<torch::Tensor> outputs) const {
  Pending out;
  if (!copies_) {
    for (const auto& t : outputs) out.host.push_back(model::to_host(t));
    return out;
  }
  const auto* guard = c10::impl::getDeviceGuardImpl(device_.type());
  // Conversions on the compute stream, then the copy stream waits for them.
  for (auto& t : outputs) t = t.to(torch::kFloat).contiguous();
  c10::Event computed(device_.type());
  computed.record(guard->getStream(device_));
  computed.block(*copies_);
  {
    c10::StreamGuard on_copies(*copies_);
    for (const auto& t : outputs) {
      auto host = torch::empty(t.sizes(), t.options().device(torch::kCPU).pinned_memory(true));
      host.copy_(t, /*non_blocking=*/true);
      // The device buffer is not reused by the next batch until this copy has read it.
      t.record_stream(*copies_);
      out.host.push_back(std::move(host));
    }
  }
  auto copied = std::make_shared<c10::Event>(device_.type());
  copied->record(*copies_);
  out.wait = [copied] {
    while (!copied->query()) std::this_thread::sleep_for(std::chrono::microseconds(50));
  };
  return out;
}

}  // namespace lrm::model
