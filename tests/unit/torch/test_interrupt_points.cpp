// Ctrl-C is noticed inside each long phase of a model command, not only between batches: building
// a model (layer by layer), checking and copying its weights, hashing its inputs, and a feedback
// modulation within one stage. Each test raises the flag first, as the SIGINT handler would.
#include <gtest/gtest.h>

#include <fstream>

#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "io/results.hpp"
#include "model/checkpoint.hpp"
#include "model/lrm_net.hpp"
#include "model/presets.hpp"
#include "support/temp_path.hpp"

using namespace lrm;

namespace {

// The flag raised for one test, and cleared whatever it throws.
struct Interrupting {
  Interrupting() { request_interrupt(); }
  ~Interrupting() { clear_interrupt(); }
};

}  // namespace

TEST(InterruptPoints, BuildingAModel) {
  for (const auto* name : {"alexnet-lrm3", "mnist-lrm", "vgg11", "resnet18", "cornet_z"}) {
    Interrupting flag;
    EXPECT_THROW(model::build(model::preset(name)), Interrupted) << name;
  }
}

TEST(InterruptPoints, CheckingAndCopyingWeights) {
  auto net = model::build(model::preset("mnist-lrm"));
  model::StateDict state;
  for (const auto& p : net->named_parameters()) state[p.key()] = p.value().detach().clone();
  for (const auto& b : net->named_buffers()) state[b.key()] = b.value().detach().clone();
  Interrupting flag;
  EXPECT_THROW(model::load_state_dict(*net, state, "weights.pt"), Interrupted);
}

TEST(InterruptPoints, HashingAnInput) {
  const auto path = test_support::temp_path("input.bin");
  std::ofstream(path) << "stimuli";
  Interrupting flag;
  EXPECT_THROW(io::sha256_file(path), Interrupted);
}

TEST(InterruptPoints, WithinAFeedbackModulation) {
  model::ModBlock block(8, std::vector<std::int64_t>{4, 4}, 3);
  const auto source = torch::rand({2, 8, 4, 4});
  const auto one = torch::ones({});
  Interrupting flag;
  EXPECT_THROW(block->forward(source, 16, 16, one, one), Interrupted);
}
