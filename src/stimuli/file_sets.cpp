#include "stimuli/file_sets.hpp"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "common/error.hpp"
#include "io/sha256.hpp"

namespace lrm::stimuli {
namespace fs = std::filesystem;

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Splits one CSV line, honouring double quotes ("" is a literal quote).
std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char ch = line[i];
    if (quoted) {
      if (ch == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cell += '"';
        ++i;
      } else if (ch == '"') {
        quoted = false;
      } else {
        cell += ch;
      }
    } else if (ch == '"') {
      quoted = true;
    } else if (ch == ',') {
      cells.push_back(cell);
      cell.clear();
    } else if (ch != '\r') {
      cell += ch;
    }
  }
  cells.push_back(cell);
  return cells;
}

}  // namespace

bool has_image_extension(const fs::path& path) {
  static const std::set<std::string> extensions{".jpg", ".jpeg", ".png", ".bmp", ".gif",
                                                ".tga", ".pgm",  ".ppm", ".pnm"};
  return extensions.count(lower(path.extension().string())) > 0;
}

std::map<std::string, std::string> floc_category_map() {
  return {{"adult", "faces"},        {"child", "faces"},        {"body", "bodies"},
          {"limb", "bodies"},        {"corridor", "places"},    {"house", "places"},
          {"word", "characters"},    {"number", "characters"},  {"car", "objects"},
          {"instrument", "objects"}, {"scrambled", "scrambled"}};
}

std::map<std::string, std::string> parse_category_map(const std::string& text) {
  if (text.empty()) return {};
  if (lower(text) == "floc") return floc_category_map();
  std::map<std::string, std::string> map;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size())
      throw SettingError("category-map", "entry '" + item + "' is not folder=category");
    map[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return map;
}

void ImageFileSet::add(const fs::path& path, std::string id, std::string category,
                       const OpenOptions& options) {
  const bool skip_bad = options.skip_bad;
  if (!fs::exists(path)) {
    if (skip_bad) {
      skipped_.push_back(path.string() + " (missing)");
      return;
    }
    throw InputError("image " + path.string() + " does not exist");
  }
  std::string problem;
  try {
    problem = image_problem(path, options.skip_bad || options.decode_all);
  } catch (const InputError& e) {
    problem = e.what();
  }
  if (!problem.empty()) {
    if (skip_bad) {
      skipped_.push_back(path.string() + " (" + problem + ")");
      return;
    }
    throw InputError("image " + path.string() + " is corrupt or not an image (" + problem +
                     "); use --skip-bad to skip such files");
  }
  paths_.push_back(path);
  ids_.push_back(std::move(id));
  categories_.push_back(std::move(category));
}

void ImageFileSet::keep_rows(const std::vector<std::size_t>& rows) {
  std::vector<fs::path> paths;
  std::vector<std::string> ids, categories;
  for (auto r : rows) {
    paths.push_back(paths_[r]);
    ids.push_back(ids_[r]);
    categories.push_back(categories_[r]);
  }
  paths_.swap(paths);
  ids_.swap(ids);
  categories_.swap(categories);
}

std::string ImageFileSet::checksum() const {
  io::Sha256 h;
  std::vector<char> buf(1 << 20);
  for (const auto& p : paths_) {
    std::ifstream in(p, std::ios::binary);
    while (in) {
      in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      h.update(reinterpret_cast<const unsigned char*>(buf.data()),
               static_cast<size_t>(in.gcount()));
    }
  }
  return h.hex_digest();
}

FolderStimulusSet::FolderStimulusSet(const fs::path& root, const OpenOptions& options) {
  source_ = root.string();
  if (!fs::is_directory(root))
    throw InputError("stimulus folder " + root.string() + " does not exist");
  std::vector<fs::path> folders;
  for (const auto& entry : fs::directory_iterator(root))
    if (entry.is_directory() && entry.path().filename().string()[0] != '.')
      folders.push_back(entry.path());
  std::sort(folders.begin(), folders.end());
  if (folders.empty())
    throw InputError("stimulus folder " + root.string() +
                     " has no category folders (expected <folder>/<category>/<images>)");
  for (const auto& folder : folders) {
    const std::string sub = folder.filename().string();
    std::string category = sub;
    if (!options.category_map.empty()) {
      const auto it = options.category_map.find(sub);
      if (it == options.category_map.end()) continue;  // folders the map leaves out are not used
      category = it->second;
    }
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(folder)) {
      if (!entry.is_regular_file() || entry.path().filename().string()[0] == '.') continue;
      if (!has_image_extension(entry.path())) {
        if (options.skip_bad) {
          skipped_.push_back(entry.path().string() + " (not an image file)");
          continue;
        }
        throw InputError("file " + entry.path().string() +
                         " is not an image (jpg, png, ...); use --skip-bad to skip such files");
      }
      files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    const size_t before = paths_.size();
    for (const auto& f : files) add(f, sub + "/" + f.filename().string(), category, options);
    if (paths_.size() == before)
      throw InputError("category folder " + folder.string() + " has no images");
  }
  if (paths_.empty())
    throw InputError("stimulus folder " + root.string() +
                     " has no images in the mapped category folders");
}

ManifestStimulusSet::ManifestStimulusSet(const fs::path& csv, const OpenOptions& options) {
  source_ = csv.string();
  std::ifstream in(csv);
  if (!in) throw InputError("manifest " + csv.string() + " does not exist or cannot be read");
  std::string line;
  if (!std::getline(in, line)) throw InputError("manifest " + csv.string() + " is empty");
  const auto header = split_csv_line(line);
  auto column = [&](const std::string& name) -> int {
    for (size_t i = 0; i < header.size(); ++i)
      if (lower(header[i]) == name) return static_cast<int>(i);
    return -1;
  };
  const int path_col = column("path"), category_col = column("category"), id_col = column("id");
  if (path_col < 0 || category_col < 0)
    throw InputError("manifest " + csv.string() +
                     " needs the columns 'path' and 'category' (has: " + line + ")");
  for (size_t i = 0; i < header.size(); ++i)
    if (static_cast<int>(i) != path_col && static_cast<int>(i) != category_col &&
        static_cast<int>(i) != id_col)
      extra_[header[i]];
  std::set<std::string> seen;
  int line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line == "\r") continue;
    const auto cells = split_csv_line(line);
    if (cells.size() != header.size())
      throw InputError("manifest " + csv.string() + " line " + std::to_string(line_no) + " has " +
                       std::to_string(cells.size()) + " columns, the header has " +
                       std::to_string(header.size()));
    fs::path p = cells[path_col];
    if (p.is_relative()) p = csv.parent_path() / p;
    const std::string id = id_col >= 0 ? cells[id_col] : cells[path_col];
    if (id.empty() || cells[category_col].empty())
      throw InputError("manifest " + csv.string() + " line " + std::to_string(line_no) +
                       " has an empty id or category");
    if (!seen.insert(id).second)
      throw InputError("manifest " + csv.string() + " has the id '" + id + "' twice (line " +
                       std::to_string(line_no) + ")");
    const size_t before = paths_.size();
    add(p, id, cells[category_col], options);
    if (paths_.size() > before)
      for (size_t i = 0; i < header.size(); ++i)
        if (extra_.count(header[i])) extra_[header[i]].push_back(cells[i]);
  }
  if (paths_.empty()) throw InputError("manifest " + csv.string() + " lists no images");
}

void ManifestStimulusSet::keep_rows(const std::vector<std::size_t>& rows) {
  for (auto& [name, values] : extra_) {
    std::vector<std::string> kept;
    for (auto r : rows) kept.push_back(values[r]);
    values.swap(kept);
  }
  ImageFileSet::keep_rows(rows);
}

}  // namespace lrm::stimuli
