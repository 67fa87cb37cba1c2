#include <gtest/gtest.h>

#include <filesystem>

#include "common/error.hpp"
#include "compare/compare_file.hpp"
#include "io/h5.hpp"
#include "io/mat.hpp"
#include "support/temp_path.hpp"

using namespace lrm;
using namespace lrm::compare;
namespace fs = std::filesystem;

namespace {
const fs::path source(LRM_SOURCE_DIR);

using lrm::test_support::temp_path;

// An activation file in the README layout: 92 stimuli, two layers, passes 0 and 1.
fs::path make_activations() {
  const auto path = temp_path("compare_activations.h5");
  h5::File f(path, h5::File::Mode::create_truncate);
  std::vector<std::string> ids, cats;
  for (int i = 0; i < 92; ++i) {
    ids.push_back("kriegeskorte92-" + std::to_string(i + 1));
    cats.push_back(i < 48 ? "animate" : "inanimate");
  }
  std::srand(4);
  for (const char* layer : {"conv1", "fc"}) {
    auto g = f.root().require_group(std::string("activations/") + layer);
    h5::write_coordinate(g, "stimulus", ids);
    h5::write_aux_coordinate(g, "category", "stimulus", cats);
    const Eigen::Index units = layer[0] == 'c' ? 120 : 40;
    const Eigen::MatrixXf latent = Eigen::MatrixXf::Random(92, 8);
    const Eigen::MatrixXf mix = Eigen::MatrixXf::Random(8, units);
    for (int pass = 0; pass < 2; ++pass) {
      Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> a =
          (latent * mix + 0.3f * Eigen::MatrixXf::Random(92, units)).cwiseMax(0.0f);
      h5::write_array(g, "pass" + std::to_string(pass), a.data(),
                      {92, static_cast<std::uint64_t>(units)}, {"stimulus", "unit"},
                      {{"category"}, true, {}});
    }
  }
  return path;
}

// Simulated neuroids driven by pass 1 of `layer`.
SimulateOptions simulation_of(const fs::path& acts, const std::string& layer, int neuroids) {
  SimulateOptions s;
  s.activations = acts;
  s.layer = layer;
  s.pass = 1;
  s.simulation.neuroids = neuroids;
  return s;
}
}  // namespace

TEST(CompareFile, RsaAgainstKriegeskorteSubjectsWithCeilingAndBootstrap) {
  const auto acts = make_activations();
  RsaOptions o;
  o.activations = acts;
  o.brain = (source / "neural_data/kriegeskorte2008/92_brainRDMs.mat").string();
  o.noise_ceiling = true;
  o.ceiling_pool = CeilingPool::mean;  // the plain mean of gen_rsa.py (and of Net2Brain)
  o.bootstrap = 50;
  const auto out = temp_path("rsa.h5");
  std::vector<std::string> lines;
  {
    h5::File f(out, h5::File::Mode::create_truncate);
    lines = run_rsa(o, f.root());
  }
  EXPECT_EQ(lines.size(), 5u);  // ceiling + 2 layers x 2 passes
  h5::File f(out, h5::File::Mode::read);
  EXPECT_EQ(h5::dataset_shape(f, "/rsa/r"), (std::vector<std::uint64_t>{4, 4}));
  EXPECT_EQ(h5::dimension_names(f, "/rsa/r"), (std::vector<std::string>{"model", "brain_rdm"}));
  EXPECT_EQ(h5::read_strings(f, "/rsa/brain_rdm")[1], "hIT | KO");
  EXPECT_EQ(h5::read_strings(f, "/rsa/model")[3], "fc/pass1");
  const double upper = h5::read_array<double>(f, "/rsa/noise_ceiling_upper").data[0];
  EXPECT_NEAR(upper, 0.66068440847127463, 1e-12);  // gen_rsa.py on the same RDMs
  const auto low = h5::read_array<double>(f, "/rsa/ci_stimuli_low").data;
  const auto high = h5::read_array<double>(f, "/rsa/ci_stimuli_high").data;
  const auto r = h5::read_array<double>(f, "/rsa/r_to_mean_rdm").data;
  for (int m = 0; m < 4; ++m) EXPECT_LE(low[m], high[m]);
  EXPECT_EQ(r.size(), 4u);
}

TEST(CompareFile, BrainOnlyNoiseCeilingFromAnHdf5StackOfRdms) {
  const auto rdms = io::read_mat_rdms(source / "neural_data/kriegeskorte2008/92_brainRDMs.mat");
  const auto path = temp_path("rdms.h5");
  {
    h5::File f(path, h5::File::Mode::create_truncate);
    std::vector<double> stack;
    for (const auto& r : rdms.rdms) stack.insert(stack.end(), r.begin(), r.end());
    h5::write_array(f.root(), "rdms", stack, {8, 92, 92}, {"subject", "stimulus", "stimulus_b"});
  }
  RsaOptions o;
  o.brain = path.string() + ":/rdms";
  o.noise_ceiling = true;
  const auto out = temp_path("nc.h5");
  h5::File f(out, h5::File::Mode::create_truncate);
  const auto lines = run_rsa(o, f.root());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("8 RDMs"), std::string::npos);
  o.noise_ceiling = false;
  EXPECT_THROW(run_rsa(o, f.root().require_group("again")), InputError);
}

TEST(CompareFile, MismatchedConditionCountIsAnInputError) {
  const auto acts = make_activations();
  RsaOptions o;
  o.activations = acts;
  o.brain =
      (source / "tests/fixtures/compare/rsa_fixture.h5").string() + ":/rdm_correlation";  // 12 x 12
  const auto out = temp_path("bad.h5");
  h5::File f(out, h5::File::Mode::create_truncate);
  EXPECT_THROW(run_rsa(o, f.root()), InputError);
  o.layers = {"nope"};
  EXPECT_THROW(run_rsa(o, f.root()), InputError);
}

TEST(CompareFile, SimulateThenEncodeRecoversTheCeiling) {
  const auto acts = make_activations();
  auto s = simulation_of(acts, "conv1", 30);
  s.simulation.repetitions = 8;
  s.simulation.mean_rate = 10;
  const auto sim_path = temp_path("sim.h5");
  {
    h5::File f(sim_path, h5::File::Mode::create_truncate);
    run_simulation(s, f.root());
  }
  EncodeOptions e;
  e.activations = acts;
  e.brain = sim_path.string() + ":/responses";
  e.metric.pls_components = 10;
  e.metric.splits = 4;
  e.metric.test_fraction = 0.2;
  const auto out = temp_path("encode.h5");
  {
    h5::File f(out, h5::File::Mode::create_truncate);
    const auto lines = run_encoding(e, f.root());
    EXPECT_EQ(lines.size(), 5u);
  }
  h5::File f(out, h5::File::Mode::read);
  EXPECT_EQ(h5::dataset_shape(f, "/encoding/r"), (std::vector<std::uint64_t>{4, 4, 30}));
  EXPECT_EQ(*f.root().group("encoding").attr_string("simulated"), "1");
  const double truth = *f.root().group("encoding").attr_number("true_ceiling");
  const double ceiling = h5::read_array<double>(f, "/encoding/ceiling").data[0];
  EXPECT_NEAR(ceiling, truth, 0.08);
  EXPECT_EQ(*f.root().group("encoding").attr_number("stratified"), 1);
  const auto raw = h5::read_array<double>(f, "/encoding/score_raw").data;
  EXPECT_GT(raw[1], 0.3);  // conv1/pass1 drives the simulated neuroids
}

TEST(CompareFile, AnUnfinishedActivationFileIsUsedOnlyUpToItsCompleteRowsWhenAllowed) {
  const auto acts = make_activations();
  {
    h5::File f(acts, h5::File::Mode::read_write);
    f.root().set_attr("complete", std::int64_t{0});
    f.root().group("activations").set_attr("rows_complete", std::int64_t{60});
  }
  auto s = simulation_of(acts, "fc", 5);
  const auto out = temp_path("partial_sim.h5");
  {
    h5::File f(out, h5::File::Mode::create_truncate);
    EXPECT_THROW(run_simulation(s, f.root()), SettingError);
    s.allow_partial = true;
    run_simulation(s, f.root());
  }
  h5::File f(out, h5::File::Mode::read);
  EXPECT_EQ(*f.root().attr_number("activations_partial_rows"), 60);
  EXPECT_EQ(h5::read_strings(f, "/stimulus").size(), 60u);
}
