#include <gtest/gtest.h>
#include <hdf5_hl.h>

#include <filesystem>

#include "common/error.hpp"
#include "io/h5.hpp"
#include "io/h5_copy.hpp"
#include "io/results.hpp"
#include "pipeline/analysis.hpp"
#include "support/temp_path.hpp"

namespace fs = std::filesystem;
using namespace lrm;

namespace {
using lrm::test_support::temp_path;

// Activations in the documented layout, plus a root-level scale used by a dataset in a subgroup
// (scales need not sit beside the arrays that use them).
void write_activations_stage(const fs::path& path) {
  io::ResultFile out(path, io::Provenance{"lrm extract", "", 7, {}});
  auto g = out.root().require_group("activations/conv");
  h5::write_coordinate(g, "stimulus", std::vector<std::string>{"a", "b", "c"});
  h5::write_coordinate(g, "unit", std::vector<std::int64_t>{0, 1});
  h5::write_aux_coordinate(g, "category", "stimulus", std::vector<std::string>{"x", "y", "x"});
  h5::write_array(g, "pass0", std::vector<float>{1, 2, 3, 4, 5, 6}, {3, 2}, {"stimulus", "unit"},
                  {{"category"}, true, {}});
  h5::write_array(g, "pass1", std::vector<float>{6, 5, 4, 3, 2, 1}, {3, 2}, {"stimulus", "unit"});
  auto root = out.root();
  h5::write_coordinate(root, "model", std::vector<std::string>{"m1", "m2"});
  auto eval = root.require_group("evaluation");
  h5::write_array<double>(eval, "top1", std::vector<double>{0.9, 0.8}, {2}, {});
  h5::Handle top1(H5Dopen2(eval.id(), "top1", H5P_DEFAULT));
  h5::Handle model(H5Dopen2(root.id(), "model", H5P_DEFAULT));
  ASSERT_GE(H5DSattach_scale(top1.id(), model.id(), 0), 0);
  out.commit();
}

// As lrm localize writes it: unit coordinates in the pass group, hard-linked into the target's.
void write_localizer_stage(const fs::path& path) {
  io::ResultFile out(path, io::Provenance{"lrm localize", "", 7, {}});
  auto pass = out.root().require_group("localizer/conv/pass0");
  h5::write_coordinate(pass, "unit", std::vector<std::int64_t>{0, 1});
  h5::write_aux_coordinate(pass, "channel", "unit", std::vector<std::int64_t>{3, 4});
  auto g = pass.require_group("x");
  for (const char* name : {"unit", "channel"})
    ASSERT_GE(H5Lcreate_hard(pass.id(), name, g.id(), name, H5P_DEFAULT, H5P_DEFAULT), 0);
  h5::write_array<double>(g, "mean_t", std::vector<double>{2.5, -1}, {2}, {"unit"},
                          {{"channel"}, false, {}});
  out.commit();
}

// The full path of the scale attached to one dimension of a dataset, "" when none.
std::string attached_scale(const h5::File& f, const std::string& dataset, unsigned dim) {
  h5::Handle ds(H5Dopen2(f.id(), dataset.c_str(), H5P_DEFAULT));
  if (!ds.valid()) return "no dataset";
  std::string name;
  const herr_t status = H5DSiterate_scales(
      ds.id(), dim, nullptr,
      [](hid_t dataset_id, unsigned index, hid_t scale, void* out) -> herr_t {
        char buf[512] = {0};
        H5Iget_name(scale, buf, sizeof buf);
        // The scale's REFERENCE_LIST must name the dataset back, or h5netcdf rejects it.
        if (H5DSis_attached(dataset_id, scale, index) <= 0) return -1;
        *static_cast<std::string*>(out) = buf;
        return 1;
      },
      &name);
  return status < 0 ? "dangling" : name;
}

haddr_t address(const h5::File& f, const std::string& path) {
  H5O_info_t info;
  if (H5Oget_info_by_name2(f.id(), path.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0)
    return HADDR_UNDEF;
  return info.addr;
}

int scales_on(const h5::File& f, const std::string& dataset, unsigned dim) {
  h5::Handle ds(H5Dopen2(f.id(), dataset.c_str(), H5P_DEFAULT));
  return H5DSget_num_scales(ds.id(), dim);
}

struct TwoStages {
  pipeline::Analysis analysis;
  fs::path results;
  TwoStages() {
    const fs::path run = temp_path("run");
    fs::create_directories(run);
    write_activations_stage(run / "activations.h5");
    write_localizer_stage(run / "localizer.h5");
    analysis.name = "merge-test";
    analysis.run_dir = run;
    analysis.text = "name = \"merge-test\"\n";
    for (const char* name : {"activations", "localizer"}) {
      pipeline::Stage s;
      s.name = name;
      s.output = "{run}/" + std::string(name) + ".h5";
      s.merge_into = "/mnist-lrm";
      analysis.stages.push_back(s);
    }
    results = run / "results.h5";
  }
  std::vector<const pipeline::Stage*> stages() const {
    return {&analysis.stages[0], &analysis.stages[1]};
  }
};

}  // namespace

TEST(PipelineMerge, CopiesKeepTheirDimensionScales) {
  TwoStages t;
  pipeline::merge_results(t.analysis, t.results, t.stages());
  ASSERT_TRUE(io::is_complete(t.results));
  h5::File f(t.results, h5::File::Mode::read);
  const std::string conv = "/mnist-lrm/activations/conv/";
  EXPECT_EQ(attached_scale(f, conv + "pass0", 0), conv + "stimulus");
  EXPECT_EQ(attached_scale(f, conv + "pass0", 1), conv + "unit");
  EXPECT_EQ(attached_scale(f, conv + "pass1", 1), conv + "unit");
  EXPECT_EQ(attached_scale(f, conv + "category", 0), conv + "stimulus");
  EXPECT_EQ(attached_scale(f, "/mnist-lrm/evaluation/top1", 0), "/mnist-lrm/model");
  // Hard links stay one object each, scales and arrays attached under their first names.
  const std::string pass = "/mnist-lrm/localizer/conv/pass0/";
  EXPECT_EQ(address(f, pass + "x/unit"), address(f, pass + "unit"));
  EXPECT_EQ(address(f, pass + "x/channel"), address(f, pass + "channel"));
  EXPECT_EQ(attached_scale(f, pass + "x/mean_t", 0), pass + "unit");
  EXPECT_EQ(attached_scale(f, pass + "x/channel", 0), pass + "unit");
  EXPECT_EQ(h5::read_strings(f, conv + "stimulus"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(h5::dataset_attr_string(f, conv + "pass0", "coordinates"), "category");
  EXPECT_EQ(f.root().attr_string("stages"), "activations,localizer");
  EXPECT_EQ(f.root().group("provenance/localizer").attr_string("command_line"), "lrm localize");
}

TEST(PipelineMerge, MergingAgainReplacesInsteadOfDuplicating) {
  TwoStages t;
  pipeline::merge_results(t.analysis, t.results, t.stages());
  write_localizer_stage(t.analysis.run_dir / "localizer.h5");  // the stage re-ran
  pipeline::merge_results(t.analysis, t.results, t.stages());
  h5::File f(t.results, h5::File::Mode::read);
  EXPECT_EQ(f.root().group("mnist-lrm").children(),
            (std::vector<std::string>{"activations", "model", "evaluation", "localizer"}));
  EXPECT_EQ(f.root().group("provenance").children(),
            (std::vector<std::string>{"activations", "localizer"}));
  EXPECT_EQ(scales_on(f, "/mnist-lrm/localizer/conv/pass0/x/mean_t", 0), 1);
  EXPECT_EQ(attached_scale(f, "/mnist-lrm/localizer/conv/pass0/x/mean_t", 0),
            "/mnist-lrm/localizer/conv/pass0/unit");
  EXPECT_FALSE(fs::exists(io::ResultFile::partial_path(t.results)));
}

TEST(PipelineMerge, AFailedMergeLeavesNoResultsThatLookComplete) {
  TwoStages t;
  pipeline::merge_results(t.analysis, t.results, t.stages());
  ASSERT_TRUE(io::is_complete(t.results));
  // Two stages that write the same group under the same prefix.
  t.analysis.stages[1].output = t.analysis.stages[0].output;
  EXPECT_THROW(pipeline::merge_results(t.analysis, t.results, t.stages()), InputError);
  EXPECT_FALSE(fs::exists(t.results));
  EXPECT_FALSE(io::is_complete(io::ResultFile::partial_path(t.results)));
}

TEST(PipelineMerge, ADanglingScaleReferenceIsAnError) {
  // A plain H5Ocopy into another file leaves DIMENSION_LIST pointing into the first file.
  const auto first = temp_path("first.h5"), copied = temp_path("copied.h5");
  {
    h5::File f(first, h5::File::Mode::create_truncate);
    h5::write_array<double>(f.root().require_group("a"), "x", std::vector<double>{1, 2}, {2},
                            {"n"});
    h5::File c(copied, h5::File::Mode::create_truncate);
    ASSERT_GE(H5Ocopy(f.id(), "a", c.id(), "a", H5P_DEFAULT, H5P_DEFAULT), 0);
  }
  h5::File src(copied, h5::File::Mode::read);
  h5::File dest(temp_path("dest.h5"), h5::File::Mode::create_truncate);
  try {
    h5::copy_children(src, dest.root());
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("dimension of /a/x in " + copied.string()),
              std::string::npos)
        << e.what();
  }
}
