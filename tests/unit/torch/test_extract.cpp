// lrm extract: the written activations equal direct calls of the model (bit for bit, same
// batches), match the PyTorch parity fixture, and steering conditions and bad input behave.
#include <gtest/gtest.h>

#include <filesystem>

#include "common/error.hpp"
#include "extract/extract.hpp"
#include "extract/layers.hpp"
#include "io/h5.hpp"
#include "io/results.hpp"
#include "model/checkpoint.hpp"
#include "support/temp_path.hpp"

using namespace lrm;

namespace {

const std::string kFixtures = std::string(LRM_SOURCE_DIR) + "/tests/fixtures/model/";
const std::string kParity = kFixtures + "mnist_lrm3_parity.h5";

torch::Tensor read(const std::filesystem::path& file, const std::string& path) {
  h5::File f(file, h5::File::Mode::read);
  auto a = h5::read_array<float>(f, path);
  std::vector<std::int64_t> shape(a.shape.begin(), a.shape.end());
  return torch::from_blob(a.data.data(), shape, torch::kFloat).clone();
}

std::filesystem::path temp_file(const std::string& name) {
  auto p = lrm::test_support::temp_path(name);
  std::filesystem::remove(p);
  std::filesystem::remove(io::ResultFile::partial_path(p));
  return p;
}

extract::ExtractOptions fixture_options(const std::string& out_name) {
  extract::ExtractOptions o;
  o.model = "mnist-lrm";
  o.weights = kFixtures + "mnist_lrm3.pth";
  o.stimuli = kParity + ":/x";
  o.layers = {"features.8", "features.8:pre", "features.8:F", "features.0:F", "classifier.6"};
  o.passes = {0, 1, 2};
  o.batch_size = 3;  // 4 stimuli: a full and a partial batch
  o.out = temp_file(out_name);
  return o;
}

void run(const extract::ExtractOptions& o) {
  auto set = stimuli::open_stimulus_set(o.stimuli);
  extract::run_extraction(o, *set);
}

}  // namespace

TEST(Extract, EqualsDirectModelCallsAndParityFixture) {
  auto o = fixture_options("direct.h5");
  run(o);
  ASSERT_TRUE(io::is_complete(o.out));

  auto net = model::load_model(o.model, o.weights, 0).net;
  auto x = read(kParity, "/x");
  auto record = extract::record_for(extract::resolve_layers(o.layers, *net));
  torch::NoGradGuard no_grad;
  std::vector<model::ForwardResult> batches{net->forward(x.slice(0, 0, 3), 3, nullptr, record),
                                            net->forward(x.slice(0, 3, 4), 3, nullptr, record)};
  for (const auto& request : extract::resolve_layers(o.layers, *net)) {
    for (int k = 0; k < 3; ++k) {
      auto written = read(o.out, "/activations/" + request.name + "/pass" + std::to_string(k));
      auto direct = torch::cat({extract::select_output(batches[0].passes[k], request).flatten(1),
                                extract::select_output(batches[1].passes[k], request).flatten(1)});
      EXPECT_TRUE(torch::equal(written, direct)) << request.name << " pass " << k;
    }
  }
  for (int k = 0; k < 3; ++k) {
    const auto pass = "pass" + std::to_string(k);
    auto logits = read(o.out, "/activations/classifier.6/" + pass);
    EXPECT_LT((logits - read(kParity, "/logits/plain/" + pass)).abs().max().item<double>(), 1e-5);
  }
  // The destination's output is relu(pre + pre ⊙ F); F is 0 in pass 0.
  auto pre = read(o.out, "/activations/features.8:pre/pass1");
  auto F = read(o.out, "/activations/features.8:F/pass1");
  auto y = read(o.out, "/activations/features.8/pass1");
  EXPECT_LT((torch::relu(pre + pre * F) - y).abs().max().item<double>(), 1e-5);
  EXPECT_EQ(read(o.out, "/activations/features.8:F/pass0").abs().max().item<double>(), 0.0);
  EXPECT_GT(F.abs().max().item<double>(), 0.0);

  h5::File f(o.out, h5::File::Mode::read);
  EXPECT_EQ(h5::dimension_names(f, "/activations/features.8/pass1"),
            (std::vector<std::string>{"stimulus", "unit"}));
  auto channel = h5::read_array<std::int64_t>(f, "/activations/features.8/channel").data;
  auto ys = h5::read_array<std::int64_t>(f, "/activations/features.8/y").data;
  auto xs = h5::read_array<std::int64_t>(f, "/activations/features.8/x").data;
  // features.8 of the MNIST chain is 32×7×7: unit 7·49 + 3·7 + 5 is channel 7, y 3, x 5.
  EXPECT_EQ(channel[7 * 49 + 3 * 7 + 5], 7);
  EXPECT_EQ(ys[7 * 49 + 3 * 7 + 5], 3);
  EXPECT_EQ(xs[7 * 49 + 3 * 7 + 5], 5);
  EXPECT_EQ(h5::read_strings(f, "/activations/features.8/stimulus").size(), 4u);
  EXPECT_EQ(f.root().group("activations").attr_number("rows_complete").value_or(-1), 4);
}

TEST(Extract, PerStimulusSteeringWithFirstPassMatchesParity) {
  auto o = fixture_options("steered_pair.h5");
  o.layers = {"classifier.6"};
  o.steering.source = "classifier.6";
  o.steering.vector_spec = kParity + ":/vb";  // one row per stimulus
  o.steering.strength_neg = 2.0;
  o.steering.strength_pos = 3.0;
  o.steering.mix = 0.7;
  o.steering.first_pass = true;
  run(o);
  for (int k = 0; k < 3; ++k) {
    const auto pass = "pass" + std::to_string(k);
    auto logits = read(o.out, "/activations/classifier.6/" + pass);
    EXPECT_LT((logits - read(kParity, "/logits/steered_pair/" + pass)).abs().max().item<double>(),
              1e-5)
        << pass;
  }
}

TEST(Extract, SeveralSteeringConditionsInOneFile) {
  auto o = fixture_options("conditions.h5");
  o.layers = {"classifier.6", "features.8:F"};
  o.steering.source = "classifier.6";
  o.conditions = {"plain=none", "steered=" + kParity + ":/v,alpha=3"};
  run(o);
  for (int k = 0; k < 3; ++k) {
    const auto pass = "pass" + std::to_string(k);
    for (auto [condition, run_name] : {std::pair{"plain", "plain"}, {"steered", "steered"}}) {
      auto logits =
          read(o.out, "/activations/classifier.6/" + pass + "/steer-" + std::string(condition));
      auto expected = read(kParity, "/logits/" + std::string(run_name) + "/" + pass);
      EXPECT_LT((logits - expected).abs().max().item<double>(), 1e-5) << condition << " " << pass;
    }
  }
  h5::File f(o.out, h5::File::Mode::read);
  EXPECT_EQ(h5::dimension_names(f, "/activations/classifier.6/pass1/steer-steered"),
            (std::vector<std::string>{"stimulus", "unit"}));
  EXPECT_EQ(h5::dataset_attr_string(f, "/activations/classifier.6/pass1/steer-steered", "condition")
                .value_or(""),
            "steered");
}

TEST(Extract, BadInputIsNamed) {
  auto expect_error = [](extract::ExtractOptions o, const std::string& fragment) {
    try {
      run(o);
      ADD_FAILURE() << "no error; expected one mentioning " << fragment;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
    EXPECT_FALSE(io::is_complete(o.out));
  };
  auto o = fixture_options("bad.h5");
  o.layers = {"features.99"};
  expect_error(o, "features.8:pre");  // the valid names are listed

  o = fixture_options("bad.h5");
  o.layers = {"features.1:F"};  // not a feedback destination
  expect_error(o, "unknown layer 'features.1:F'");

  o = fixture_options("bad.h5");
  o.model = "mnist-ff";
  o.weights.clear();
  o.layers = {"classifier.6"};
  expect_error(o, "beyond the model's");

  auto short_vectors = temp_file("short_vectors.h5");
  {
    h5::File f(short_vectors, h5::File::Mode::create_truncate);
    h5::write_array(f.root(), "v", std::vector<float>(4 * 7, 1.0f), {4, 7}, {"stimulus", "unit"});
  }
  o = fixture_options("bad.h5");
  o.steering.source = "classifier.6";
  o.steering.vector_spec = short_vectors.string() + ":/v";  // 7 values per row, the layer has 10
  expect_error(o, "values per row");

  o = fixture_options("bad.h5");
  o.steering.source = "classifier.6";
  o.steering.vector_spec = kParity + ":/logits/wide/pass0";  // 2 rows for 4 stimuli
  expect_error(o, "one row per stimulus (4)");

  o = fixture_options("bad.h5");
  o.conditions = {"a b=none"};
  expect_error(o, "condition names");

  EXPECT_EQ(extract::parse_passes("2,0,1,1", "passes"), (std::vector<int>{0, 1, 2}));
  EXPECT_THROW(extract::parse_passes("0,x", "passes"), InputError);
  EXPECT_THROW(extract::parse_passes("-1", "passes"), InputError);
}
