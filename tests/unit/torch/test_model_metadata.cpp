// One home for model metadata (class names in output order, preprocessing), the architecture
// record, robustness scoring, and the checks on weights and sizes.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "common/error.hpp"
#include "model/checkpoint.hpp"
#include "model/evaluation.hpp"
#include "model/info.hpp"
#include "model/metadata.hpp"
#include "model/presets.hpp"
#include "support/temp_path.hpp"

using namespace lrm;
using namespace lrm::model;

namespace {

// A stimulus set that only has categories.
class CategorySet : public stimuli::StimulusSet {
 public:
  explicit CategorySet(std::vector<std::string> categories) {
    categories_ = categories;
    ids_ = std::move(categories);
    source_ = "categories";
  }
  stimuli::Image load(std::size_t) const override { return {}; }
  std::string checksum() const override { return ""; }

 protected:
  void keep_rows(const std::vector<std::size_t>&) override {}
};

LoadedModel model_of(const std::string& preset_name,
                     const std::map<std::string, std::string>& meta = {}) {
  LoadedModel m;
  m.architecture = preset(preset_name);
  m.description = preset_name;
  m.meta = meta;
  return m;
}

}  // namespace

TEST(ModelMetadata, TrainingOrderPutsShorterNamesFirst) {
  EXPECT_EQ(training_class_order({"faces", "bodies", "objects", "cars", "faces"}),
            (std::vector<std::string>{"cars", "faces", "bodies", "objects"}));
  EXPECT_EQ(training_class_order({"10", "2", "1"}), (std::vector<std::string>{"1", "2", "10"}));
}

TEST(ModelMetadata, ClassNamesFromCheckpointElseBackboneElseSet) {
  const CategorySet words({"objects", "faces", "cars", "bodies"});
  const auto recorded = model_of("mnist-lrm", {{kClassesKey, "b\ta\tc"}});
  EXPECT_EQ(class_names(recorded, words), (std::vector<std::string>{"b", "a", "c"}));
  EXPECT_EQ(class_names(model_of("mnist-lrm"), words),
            (std::vector<std::string>{"cars", "faces", "bodies", "objects"}));
  // A subset of the digits keeps the MNIST models' outputs 0-9.
  const auto digits = class_names(model_of("mnist-lrm"), CategorySet({"7", "3"}));
  ASSERT_EQ(digits.size(), 10u);
  EXPECT_EQ(digits[3], "3");
  EXPECT_EQ(digits[7], "7");
  std::vector<std::string> many;
  for (int i = 0; i < 11; ++i) many.push_back("c" + std::to_string(i));
  EXPECT_THROW(class_names(model_of("mnist-lrm"), CategorySet(many)), InputError);
  auto wide = model_of("mnist-lrm");
  wide.architecture.num_classes = 11;
  EXPECT_EQ(class_names(wide, CategorySet(many)).size(), 11u);
}

TEST(ModelMetadata, PreprocessFromCheckpointElseBackbone) {
  EXPECT_EQ(preprocess_preset(model_of("mnist-ff")), "mnist");
  EXPECT_EQ(preprocess_preset(model_of("alexnet")), "imagenet");
  EXPECT_EQ(preprocess_preset(model_of("alexnet", {{kPreprocessKey, "imagenet-composite"}})),
            "imagenet-composite");
  EXPECT_EQ(split_class_names(join_class_names({"a b", "c"})),
            (std::vector<std::string>{"a b", "c"}));
}

TEST(ModelMetadata, ArchitectureRecordsTheClassCount) {
  auto a = preset("mnist-lrm-additive");
  EXPECT_EQ(a.to_string().find("classes="), std::string::npos);  // default head: record unchanged
  a.num_classes = 4;
  const auto back = Architecture::parse(a.to_string());
  EXPECT_EQ(back.num_classes, 4);
  EXPECT_EQ(back.motif, Motif::additive);
  EXPECT_EQ(back.to_string(), a.to_string());
  torch::manual_seed(0);
  auto net = build(back);
  torch::NoGradGuard no_grad;
  net->eval();
  EXPECT_EQ(net->forward(torch::zeros({1, 1, 28, 28}), 1).passes[0].logits.size(1), 4);
  EXPECT_THROW(Architecture::parse("backbone=mnist;motif=sideways"), SettingError);
  EXPECT_THROW(Architecture::parse("backbone=mnist;classes=x"), InputError);
}

TEST(ModelMetadata, RobustnessScores) {
  Robustness r;
  r.models = {"lrm", "ff"};
  r.epsilons = {0, 0.1, 0.3};
  r.passes = 1;
  r.accuracy = {1.0, 0.8, 0.4, 1.0, 0.5, 0.2};  // model × epsilon × pass
  score_robustness(r, 1);
  EXPECT_NEAR(r.auc[0], (0.1 * 0.9 + 0.2 * 0.6) / 0.3, 1e-12);
  EXPECT_NEAR(r.auc[1], (0.1 * 0.75 + 0.2 * 0.35) / 0.3, 1e-12);
  EXPECT_NEAR(r.change[0], 100 * (r.auc[0] - r.auc[1]) / r.auc[1], 1e-12);
  EXPECT_DOUBLE_EQ(r.change[1], 0.0);
  score_robustness(r, r.models.size());  // no baseline
  EXPECT_TRUE(std::isnan(r.change[0]));
  r.epsilons = {0.1};
  r.accuracy = {0.7, 0.6};
  score_robustness(r, 2);
  EXPECT_DOUBLE_EQ(r.auc[0], 0.7);  // one ε: the accuracy itself
}

TEST(ModelMetadata, NonFiniteWeightsAreNamed) {
  torch::manual_seed(0);
  auto net = build(preset("mnist-ff"));
  StateDict state;
  for (const auto& p : net->named_parameters()) state[p.key()] = p.value().detach().clone();
  state.at("feedforward.features.3.bias")[2] = std::nan("");
  try {
    load_state_dict(*net, state, "bad.pth");
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("feedforward.features.3.bias"), std::string::npos)
        << e.what();
  }
}

TEST(ModelMetadata, HugeInputSizeIsASettingError) {
  EXPECT_THROW(model_info("mnist-lrm", "", 100000, 100000), SettingError);
}
