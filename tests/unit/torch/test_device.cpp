// --device and --precision: device texts, CPU runs unchanged by the transfer path, bfloat16
// autocast within its tolerance, and (on a machine with CUDA) GPU runs equal to CPU runs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "common/error.hpp"
#include "extract/extract.hpp"
#include "io/h5.hpp"
#include "io/results.hpp"
#include "model/checkpoint.hpp"
#include "model/device.hpp"
#include "model/transfer.hpp"
#include "support/temp_path.hpp"

using namespace lrm;
using namespace lrm::model;

namespace {

const std::string kFixtures = std::string(LRM_SOURCE_DIR) + "/tests/fixtures/model/";
const std::string kParity = kFixtures + "mnist_lrm3_parity.h5";

// Tolerances of a precision against fp32 on the CPU: the largest difference over the largest
// magnitude of the reference (fp32 on a GPU differs by summation order only).
double tolerance(Precision p) {
  switch (p) {
    case Precision::fp32:
      return 1e-4;
    case Precision::tf32:
      return 1e-2;  // 10-bit mantissas in the products
    case Precision::bf16:
      return 1e-1;  // 8-bit mantissas, amplified by the feedback passes (CPU: 3.8e-2)
  }
  return 0;
}

double relative_diff(const torch::Tensor& a, const torch::Tensor& reference) {
  const auto ref = reference.to(torch::kCPU, torch::kFloat);
  const double scale = std::max(1.0, ref.abs().max().item<double>());
  return (a.to(torch::kCPU, torch::kFloat) - ref).abs().max().item<double>() / scale;
}

torch::Tensor read(const std::filesystem::path& file, const std::string& path) {
  h5::File f(file, h5::File::Mode::read);
  auto a = h5::read_array<float>(f, path);
  std::vector<std::int64_t> shape(a.shape.begin(), a.shape.end());
  return torch::from_blob(a.data.data(), shape, torch::kFloat).clone();
}

// Sets the process's compute for one scope, then restores CPU fp32.
struct ComputeFor {
  explicit ComputeFor(Compute c) { set_compute(c); }
  ~ComputeFor() { set_compute(Compute{}); }
};

// Each pass's logits and the recorded layers of `model` (random weights from seed 0) on `x`.
std::vector<torch::Tensor> outputs(const std::string& model, const std::string& weights,
                                   const torch::Tensor& x, int passes) {
  auto net = load_model(model, weights, 0).net;
  torch::NoGradGuard no_grad;
  Record record;
  record.layers = {net->backbone()->layer_names().front()};
  auto r = net->forward(x, passes, nullptr, record);
  std::vector<torch::Tensor> out;
  for (const auto& p : r.passes) {
    out.push_back(to_host(p.logits));
    for (const auto& [name, t] : p.layers) out.push_back(to_host(t));
  }
  return out;
}

void expect_close(const std::vector<torch::Tensor>& got, const std::vector<torch::Tensor>& ref,
                  double tol, const std::string& what) {
  ASSERT_EQ(got.size(), ref.size());
  double worst = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].scalar_type(), torch::kFloat) << what;
    worst = std::max(worst, relative_diff(got[i], ref[i]));
    EXPECT_LE(relative_diff(got[i], ref[i]), tol) << what << ", output " << i;
  }
  // The measured figure, for the run's log (benchmarks/gpu/run.sh prints it).
  std::printf("%s: largest relative difference %.2e (tolerance %.0e)\n", what.c_str(), worst, tol);
}

void expect_device_error(const std::string& text, const std::string& problem) {
  try {
    resolve_device(text);
    FAIL() << text << " was accepted";
  } catch (const SettingError& e) {
    EXPECT_EQ(e.setting(), "device");
    EXPECT_NE(e.problem().find(problem), std::string::npos) << e.problem();
  }
}

bool cuda() { return libtorch_has_cuda() && torch::cuda::is_available(); }

}  // namespace

TEST(Device, TextsAndErrors) {
  EXPECT_EQ(resolve_device("cpu"), torch::Device(torch::kCPU));
  EXPECT_EQ(resolve_device("auto"), cuda() ? torch::Device(torch::kCUDA, 0) : torch::kCPU);
  expect_device_error("gpu", "unknown device 'gpu'");
  expect_device_error("cuda:x", "unknown device");
  expect_device_error("cuda:", "unknown device");
  if (!libtorch_has_cuda()) {
    expect_device_error("cuda", "this LibTorch has no CUDA");
    expect_device_error("cuda:1", "this LibTorch has no CUDA");
  } else if (!torch::cuda::is_available()) {
    expect_device_error("cuda", "no GPU visible");
  } else {
    expect_device_error("cuda:99", "GPUs visible");
  }
  EXPECT_EQ(precision_names.parse("tf32", "precision"), Precision::tf32);
  EXPECT_THROW(precision_names.parse("fp16", "precision"), SettingError);
}

TEST(Device, CpuTransfersAreTheTensorsThemselves) {
  const Transfers cpu(torch::kCPU);
  auto x = torch::randn({2, 3});
  EXPECT_EQ(cpu.to_device(x).data_ptr(), x.data_ptr());
  auto back = cpu.to_host({x});
  EXPECT_FALSE(back.wait);
  EXPECT_EQ(back.host.at(0).data_ptr(), x.data_ptr());
  auto half = to_host(x.to(torch::kBFloat16));
  EXPECT_EQ(half.scalar_type(), torch::kFloat);
}

TEST(Device, Bf16AutocastOnTheCpuWithinTolerance) {
  const auto x = read(kParity, "/x");
  const auto weights = kFixtures + "mnist_lrm3.pth";
  const auto reference = outputs("mnist-lrm", weights, x, 3);
  ComputeFor bf16({torch::kCPU, Precision::bf16});
  expect_close(outputs("mnist-lrm", weights, x, 3), reference, tolerance(Precision::bf16),
               "mnist-lrm bf16");
  // tf32 changes nothing on the CPU.
  set_compute({torch::kCPU, Precision::tf32});
  const auto tf32 = outputs("mnist-lrm", weights, x, 3);
  for (std::size_t i = 0; i < tf32.size(); ++i) EXPECT_TRUE(torch::equal(tf32[i], reference[i]));
}

// The GPU checks run where LibTorch has CUDA and a GPU is visible (benchmarks/gpu/run.sh).
TEST(DeviceCuda, ForwardEqualsCpuPerPrecision) {
  if (!cuda()) GTEST_SKIP() << "no CUDA here";
  torch::manual_seed(1);
  const auto images = torch::randn({4, 3, 224, 224});
  const auto reference = outputs("alexnet-lrm3", "", images, 2);
  for (auto p : {Precision::fp32, Precision::tf32, Precision::bf16}) {
    ComputeFor on_gpu({torch::Device(torch::kCUDA, 0), p});
    expect_close(outputs("alexnet-lrm3", "", images, 2), reference, tolerance(p),
                 "alexnet-lrm3 " + precision_names.name(p));
  }
}

TEST(DeviceCuda, ExtractionEqualsCpu) {
  if (!cuda()) GTEST_SKIP() << "no CUDA here";
  extract::ExtractOptions o;
  o.model = "mnist-lrm";
  o.weights = kFixtures + "mnist_lrm3.pth";
  o.stimuli = kParity + ":/x";
  o.layers = {"features.8", "features.8:F", "classifier.6"};
  o.passes = {0, 1, 2};
  o.batch_size = 3;
  auto set = stimuli::open_stimulus_set(o.stimuli);
  auto run = [&](const std::string& name) {
    o.out = test_support::temp_path(name);
    std::filesystem::remove(o.out);
    extract::run_extraction(o, *set);
    return o.out;
  };
  const auto cpu = run("device_cpu.h5");
  for (auto p : {Precision::fp32, Precision::tf32, Precision::bf16}) {
    ComputeFor on_gpu({torch::Device(torch::kCUDA, 0), p});
    const auto gpu = run("device_cuda_" + precision_names.name(p) + ".h5");
    double worst = 0;
    for (const auto& layer : o.layers)
      for (int k = 0; k < 3; ++k) {
        const auto path = "/activations/" + layer + "/pass" + std::to_string(k);
        worst = std::max(worst, relative_diff(read(gpu, path), read(cpu, path)));
      }
    EXPECT_LE(worst, tolerance(p)) << precision_names.name(p);
    std::printf("extraction cuda %s: largest relative difference %.2e (tolerance %.0e)\n",
                precision_names.name(p).c_str(), worst, tolerance(p));
  }
}
