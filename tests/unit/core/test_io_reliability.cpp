// Corrupt files that made the HDF5 library fault (tests/fixtures/reliability/README.md) end in one
// InputError naming the file; brain data as users save it with xarray is read.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>

#include "common/error.hpp"
#include "io/assembly.hpp"
#include "io/h5.hpp"
#include "io/neural_responses.hpp"

using namespace lrm;
namespace fs = std::filesystem;

namespace {
const fs::path fixtures = fs::path(LRM_SOURCE_DIR) / "tests/fixtures";

// Reads every group, attribute, string and dimension list as the readers do.
void read_everything(const h5::File& f, const h5::Group& g, const std::string& path) {
  for (const auto& name : g.children()) {
    const std::string child = path == "/" ? "/" + name : path + "/" + name;
    if (g.has_group(name)) {
      read_everything(f, g.group(name), child);
    } else if (g.has_dataset(name)) {
      h5::dimension_names(f, child);
      h5::dataset_attr_string(f, child, "NAME");
      if (h5::is_string_dataset(f, child)) h5::read_strings(f, child);
    }
  }
}

void expect_input_error_naming(const fs::path& file, const std::function<void()>& read) {
  try {
    read();
    FAIL() << file << " was read without an error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(file.filename().string()), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
  }
}
}  // namespace

TEST(IoReliability, CorruptNetcdfStringsAndScalesAreInputErrors) {
  for (const char* name : {"nc_27.nc", "nc_154.nc"}) {
    const auto file = fixtures / "reliability" / name;
    expect_input_error_naming(file, [&] { io::read_brainio(file); });
  }
}

TEST(IoReliability, CorruptActivationFilesAreInputErrors) {
  for (const char* name : {"h5_94.h5", "h5_23.h5"}) {
    const auto file = fixtures / "reliability" / name;
    expect_input_error_naming(file, [&] {
      h5::File f(file, h5::File::Mode::read);
      read_everything(f, f.root(), "/");
    });
  }
}

TEST(IoReliability, IntactActivationFileReadsAsBefore) {
  h5::File f(fixtures / "reliability/acts_sub.h5", h5::File::Mode::read);
  EXPECT_NO_THROW(read_everything(f, f.root(), "/"));
}

TEST(IoNetcdf, OneDataVariableOfAnyName) {
  const auto a = io::read_brainio(fixtures / "neural/responses_named.nc");
  EXPECT_EQ(a.source, (fixtures / "neural/responses_named.nc").string() + ":/responses");
  EXPECT_EQ(a.dims, (std::vector<std::string>{"presentation", "neuroid"}));
  const auto r = io::group_responses(a);
  EXPECT_EQ(r.stimulus_ids, (std::vector<std::string>{"image0001", "image0002", "image0003"}));
  EXPECT_EQ(r.neuroid_ids, (std::vector<std::string>{"n0", "n1"}));
  // image0001 = rows 0 and 3: (0 + 6) / 2 and (1 + 7) / 2.
  EXPECT_DOUBLE_EQ(r.mean(0, 0), 3);
  EXPECT_DOUBLE_EQ(r.mean(0, 1), 4);
}

TEST(IoJoin, StimuliMatchByFileStemWhenOneToOne) {
  const auto r = io::group_responses(io::read_brainio(fixtures / "neural/responses_named.nc"));
  const std::vector<std::string> model{"v4/image0003.jpg", "v4/image0001.jpg", "v4/image0002.jpg"};
  const auto j = io::join_stimuli(model, "acts.h5", r.stimulus_ids, "brain.nc");
  EXPECT_EQ(j.matched_by, "file stem");
  EXPECT_EQ(j.ids, r.stimulus_ids);
  EXPECT_EQ(j.model_rows, (std::vector<Eigen::Index>{1, 2, 0}));
  EXPECT_EQ(j.brain_rows, (std::vector<Eigen::Index>{0, 1, 2}));
  EXPECT_EQ(io::join_stimuli(r.stimulus_ids, "a", r.stimulus_ids, "b").matched_by, "id");
}

TEST(IoJoin, StemsThatAreNotOneToOneStayAnError) {
  const std::vector<std::string> brain{"image0001", "image0002"};
  // Two model stimuli share a stem: the exact-id error stands.
  EXPECT_THROW(io::join_stimuli({"a/image0001.jpg", "b/image0001.png"}, "acts.h5", brain, "b.nc"),
               InputError);
  EXPECT_THROW(io::join_stimuli({"a/image0001.jpg", "a/image0009.jpg"}, "acts.h5", brain, "b.nc"),
               InputError);
  EXPECT_EQ(io::file_stem("v4/image0001.jpg"), "image0001");
  EXPECT_EQ(io::file_stem("image0001"), "image0001");
  EXPECT_EQ(io::file_stem(".hidden"), ".hidden");
}

// Target groups share their pass's coordinates by hard links (as localizer outputs do): the check
// reads each object once and every name of it reads the same values; each dimension is named by
// the scale's link in the array's group.
TEST(IoReliability, HardLinkedCoordinatesReadUnderEveryName) {
  const fs::path file = fs::temp_directory_path() / "lrm_io_reliability_links.h5";
  const std::vector<std::string> labels{"a", "b", "c"};
  {
    h5::File f(file, h5::File::Mode::create_truncate);
    const auto pass = f.root().require_group("pass0");
    h5::write_coordinate(pass, "unit", std::vector<std::int64_t>{0, 1, 2});
    h5::write_aux_coordinate(pass, "label", "unit", labels);
    for (const char* target : {"t0", "t1"}) {
      const auto g = pass.require_group(target);
      for (const char* name : {"unit", "label"})
        ASSERT_GE(H5Lcreate_hard(pass.id(), name, g.id(), name, H5P_DEFAULT, H5P_DEFAULT), 0);
      h5::write_array(g, "t", std::vector<double>{1, 2, 3}, {3}, {"unit"});
    }
  }
  h5::File f(file, h5::File::Mode::read);
  EXPECT_NO_THROW(read_everything(f, f.root(), "/"));
  for (const char* target : {"t0", "t1"}) {
    const std::string g = std::string("/pass0/") + target;
    EXPECT_EQ(h5::dimension_names(f, g + "/t"), std::vector<std::string>{"unit"});
    EXPECT_EQ(h5::read_strings(f, g + "/label"), labels);
  }
  fs::remove(file);
}
