#include "io/mat.hpp"

#include <matio.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <vector>

#include "common/error.hpp"

namespace lrm::io {
namespace {

struct MatCloser {
  void operator()(mat_t* m) const { Mat_Close(m); }
};
struct VarFreer {
  void operator()(matvar_t* v) const { Mat_VarFree(v); }
};
using MatFile = std::unique_ptr<mat_t, MatCloser>;
using MatVar = std::unique_ptr<matvar_t, VarFreer>;

// The most bytes a variable of the file being read can hold: its size times zlib's largest
// compression ratio (about 1032). A corrupt size beyond it is refused before anything is
// allocated for it.
thread_local std::uint64_t t_max_bytes = 0;

std::uint32_t u32(const unsigned char* b, bool swap) {
  return swap ? (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) |
                    (std::uint32_t{b[2]} << 8) | b[3]
              : (std::uint32_t{b[3]} << 24) | (std::uint32_t{b[2]} << 16) |
                    (std::uint32_t{b[1]} << 8) | b[0];
}

// The bytes of one top-level element, read in order: the file's own, or those a miCOMPRESSED
// element inflates to (inflated as they are read, so memory stays small whatever they claim).
class ElementBytes {
 public:
  ElementBytes(std::ifstream& in, std::uint64_t at, std::uint64_t bytes, bool compressed)
      : in_(in), left_(bytes), compressed_(compressed) {
    in_.seekg(static_cast<std::streamoff>(at));
    if (compressed_ && inflateInit(&z_) != Z_OK) compressed_ = false, left_ = 0;
  }
  ~ElementBytes() {
    if (compressed_) inflateEnd(&z_);
  }
  ElementBytes(const ElementBytes&) = delete;
  ElementBytes& operator=(const ElementBytes&) = delete;

  // False when the element ends (or its data is corrupt) before n bytes.
  bool read(unsigned char* out, std::size_t n) {
    if (!compressed_) {
      if (n > left_ || !in_.read(reinterpret_cast<char*>(out), static_cast<std::streamsize>(n)))
        return false;
      left_ -= n;
      return true;
    }
    z_.next_out = out;
    z_.avail_out = static_cast<uInt>(n);
    while (z_.avail_out > 0) {
      if (z_.avail_in == 0) {
        const std::size_t chunk = std::min<std::uint64_t>(sizeof input_, left_);
        if (chunk == 0 || !in_.read(reinterpret_cast<char*>(input_), chunk)) return false;
        left_ -= chunk;
        z_.next_in = input_;
        z_.avail_in = static_cast<uInt>(chunk);
      }
      const int rc = inflate(&z_, Z_NO_FLUSH);
      if (rc != Z_OK && !(rc == Z_STREAM_END && z_.avail_out == 0)) return false;
    }
    return true;
  }
  bool skip(std::uint64_t n) {
    if (!compressed_) {
      if (n > left_ || !in_.seekg(static_cast<std::streamoff>(n), std::ios::cur)) return false;
      left_ -= n;
      return true;
    }
    unsigned char sink[4096];
    for (; n > 0; n -= std::min<std::uint64_t>(n, sizeof sink))
      if (!read(sink, std::min<std::uint64_t>(n, sizeof sink))) return false;
    return true;
  }

 private:
  std::ifstream& in_;
  std::uint64_t left_;
  bool compressed_;
  z_stream z_{};
  unsigned char input_[1 << 14];
};

// A data element of a matrix: its type, byte count and (when kept) its bytes.
struct SubElement {
  std::uint64_t bytes = 0;   // of data
  std::uint64_t stored = 0;  // in the stream: tag, data and padding
  std::vector<unsigned char> data;
};

// Reads a data element of at most `limit` bytes (tag, data and padding), keeping its data when it
// is at most `keep` bytes; nullopt when it claims more. The small format packs up to 4 bytes of
// data into the tag.
std::optional<SubElement> read_sub(ElementBytes& e, bool swap, std::uint64_t keep,
                                   std::uint64_t limit) {
  unsigned char tag[8];
  if (limit < 8 || !e.read(tag, 8)) return std::nullopt;
  SubElement s;
  const std::uint32_t first = u32(tag, swap);
  if (first >> 16) {
    s.bytes = std::min<std::uint64_t>(first >> 16, 4), s.stored = 8;
    if (s.bytes <= keep) s.data.assign(tag + 4, tag + 4 + s.bytes);
    return s;
  }
  s.bytes = u32(tag + 4, swap);
  if (s.bytes > limit - 8) return std::nullopt;
  const std::uint64_t padded = std::min<std::uint64_t>((s.bytes + 7) / 8 * 8, limit - 8);
  s.stored = 8 + padded;
  if (s.bytes > keep) return e.skip(padded) ? std::optional<SubElement>(s) : std::nullopt;
  s.data.resize(padded);
  if (!e.read(s.data.data(), s.data.size())) return std::nullopt;
  return s;
}

struct Corrupt {
  std::string what;
};

constexpr std::uint32_t kMiMatrix = 14, kMiCompressed = 15;

// Checks the miMATRIX data of `bytes` bytes: a cell or struct array must have room for a tag of
// 8 bytes per element (and field), since matio makes every child it claims before reading them.
void check_matrix(ElementBytes& e, std::uint64_t bytes, bool swap, int depth) {
  std::uint64_t used = 0;
  // matio allocates what each data element claims before reading it.
  const auto sub = [&](std::uint64_t max_data) {
    auto s = read_sub(e, swap, max_data, bytes - used);
    if (!s) throw Corrupt{"a data element runs past its matrix"};
    used += s->stored;
    return *s;
  };
  // matio reads fixed-size parts whatever their tags say: the array flags (16 bytes, the class
  // taken only from a uint32 or int32 element) and a struct's field name length (8 bytes).
  const auto fixed = [&](unsigned char* out, std::size_t n) {
    if ((used += n) > bytes || !e.read(out, n))
      throw Corrupt{"a matrix header runs past its matrix"};
  };
  unsigned char flags[16];
  fixed(flags, sizeof flags);
  const std::uint32_t flags_type = u32(flags, swap);
  const unsigned cls = flags_type == 5 || flags_type == 6 ? u32(flags + 8, swap) & 0xff : 0;
  const auto dims = sub(4096);
  if (dims.data.size() < dims.bytes) throw Corrupt{"a matrix claims more than 1024 dimensions"};
  sub(0);  // name
  std::uint64_t children = 1;
  for (std::size_t i = 0; i + 4 <= dims.bytes; i += 4) {
    const std::uint64_t d = u32(dims.data.data() + i, swap);
    children = d != 0 && children > ~0ull / d ? ~0ull : children * d;
  }
  if (cls == 2 || cls == 3) {  // struct, object: (class name), field name length, field names
    if (cls == 3) sub(0);
    unsigned char length[8];
    fixed(length, sizeof length);
    const auto names = sub(0);
    const std::uint64_t len = u32(length + 4, swap);
    const std::uint64_t fields = len == 0 ? 0 : names.bytes / len;
    children = fields != 0 && children > ~0ull / fields ? ~0ull : children * fields;
  } else if (cls != 1) {  // numeric, char, sparse, ...: data elements (real, imaginary, indices)
    while (used < bytes) sub(0);
    return;
  }
  if (children > (bytes - used) / 8)
    throw Corrupt{"a cell or struct array claims " + std::to_string(children) +
                  " elements, more than its " + std::to_string(bytes - used) + " bytes can hold"};
  for (std::uint64_t c = 0; c < children; ++c) {
    unsigned char tag[8];
    if ((used += 8) > bytes || !e.read(tag, 8)) throw Corrupt{"a field runs past its element"};
    const std::uint64_t n = u32(tag + 4, swap);
    if (u32(tag, swap) != kMiMatrix || n > bytes - used)
      throw Corrupt{"a field is not a matrix within its element"};
    if (depth < 32)
      check_matrix(e, n, swap, depth + 1);
    else if (!e.skip(n))
      throw Corrupt{"a field runs past its element"};
    used += n;
  }
  if (!e.skip(bytes - used)) throw Corrupt{"a matrix runs past its element"};
}

// A top-level element's matrix (inflated first when compressed).
void check_element(std::ifstream& in, std::uint64_t at, std::uint64_t type, std::uint64_t bytes,
                   bool swap) {
  if (type != kMiMatrix && type != kMiCompressed) return;
  ElementBytes e(in, at + 8, bytes, type == kMiCompressed);
  std::uint64_t matrix_bytes = bytes;
  if (type == kMiCompressed) {
    unsigned char tag[8];
    // Data that does not inflate to a matrix is for matio to refuse.
    if (!e.read(tag, 8) || u32(tag, swap) != kMiMatrix) return;
    matrix_bytes = u32(tag + 4, swap);
  }
  check_matrix(e, matrix_bytes, swap, 0);
}

// A v5 file is a 128-byte header and top-level elements, each an 8-byte tag (type, byte count)
// and its data. matio reads a truncated element's missing bytes as zeros, so every element is
// checked to end within the file, and the cell and struct arrays in it to fit their bytes.
// v7.3 files (HDF5) are left to the HDF5 checks.
void check_v5_elements(const std::filesystem::path& path, std::uint64_t size) {
  std::ifstream in(path, std::ios::binary);
  unsigned char header[128];
  if (!in.read(reinterpret_cast<char*>(header), sizeof header)) return;  // matio refuses it
  // Version 0x0100 and the endian indicator "MI", as written little- or big-endian.
  const bool little =
      header[124] == 0 && header[125] == 1 && std::memcmp(header + 126, "IM", 2) == 0;
  const bool swap = header[124] == 1 && header[125] == 0 && std::memcmp(header + 126, "MI", 2) == 0;
  if (!little && !swap) return;
  for (std::uint64_t at = 128; at < size;) {
    unsigned char tag[8];
    if (at + 8 > size || !in.seekg(static_cast<std::streamoff>(at)) ||
        !in.read(reinterpret_cast<char*>(tag), 8))
      throw InputError(path.string() + " is truncated (a variable's tag at byte " +
                       std::to_string(at) + " runs past the end)");
    const std::uint64_t type = u32(tag, swap), bytes = u32(tag + 4, swap);
    const std::uint64_t end = at + 8 + bytes;
    if (end > size)
      throw InputError(path.string() + " is truncated (a variable of " + std::to_string(bytes) +
                       " bytes at byte " + std::to_string(at) + "; the file has " +
                       std::to_string(size) + ")");
    try {
      check_element(in, at, type, bytes, swap);
    } catch (const Corrupt& c) {
      throw InputError(path.string() + " is corrupt (the variable at byte " + std::to_string(at) +
                       ": " + c.what + ")");
    }
    in.clear();
    at = type == kMiCompressed ? end : (end + 7) / 8 * 8;  // miCOMPRESSED data is not padded
  }
}

MatFile open_mat(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path))
    throw InputError("MATLAB file " + path.string() + " does not exist");
  std::error_code ec;
  const std::uint64_t size = std::filesystem::file_size(path, ec);
  t_max_bytes = (size + 1024) * 1100;
  check_v5_elements(path, size);
  MatFile m(Mat_Open(path.string().c_str(), MAT_ACC_RDONLY));
  if (!m) throw InputError(path.string() + " is not a readable MATLAB .mat file (v5 or v7.3)");
  return m;
}

// The number of elements, saturating instead of overflowing (a corrupt file can claim anything).
std::uint64_t element_count(const matvar_t* v) {
  if (v->rank < 0 || (v->rank > 0 && v->dims == nullptr)) return ~0ull;
  std::uint64_t n = 1;
  for (int i = 0; i < v->rank; ++i) {
    const std::uint64_t d = v->dims[i];
    if (d != 0 && n > ~0ull / d) return ~0ull;
    n *= d;
  }
  return n;
}

std::size_t class_size(matio_classes c) {
  switch (c) {
    case MAT_C_DOUBLE:
    case MAT_C_INT64:
    case MAT_C_UINT64:
      return 8;
    case MAT_C_SINGLE:
    case MAT_C_INT32:
    case MAT_C_UINT32:
      return 4;
    case MAT_C_INT16:
    case MAT_C_UINT16:
      return 2;
    default:
      return 1;
  }
}

// Whether the variable's data holds all the elements its dims claim, each of `elem_size` bytes;
// matio reads the dims and the data from separate parts of a file, which a corrupt file can make
// disagree.
bool data_fits(const matvar_t* v, std::size_t elem_size) {
  const std::uint64_t n = element_count(v);
  if (n == 0) return true;
  // A complex variable's data is a pair of pointers (real, imaginary), not its values.
  return !v->isComplex && v->data != nullptr && n != ~0ull && elem_size != 0 &&
         v->nbytes / elem_size >= n && n <= t_max_bytes / elem_size;
}

// A struct array's data is one matvar_t pointer per element and field.
bool struct_fits(matvar_t* v) {
  if (v->class_type != MAT_C_STRUCT) return false;
  const std::uint64_t fields = Mat_VarGetNumberOfFields(v);
  const std::uint64_t n = element_count(v);
  if (n == ~0ull || (fields != 0 && n > ~0ull / fields)) return false;
  if (n * fields == 0) return true;
  return v->data != nullptr && v->nbytes / sizeof(matvar_t*) >= n * fields;
}

// Whether a variable's size, and those of the struct fields and cells under it, fit the file;
// matio allocates what they claim when it reads the variable.
bool sizes_fit(const matvar_t* v, int depth = 0) {
  if (v == nullptr) return true;
  const std::uint64_t n = element_count(v);
  if (depth > 16 || n == ~0ull || n > t_max_bytes / class_size(v->class_type)) return false;
  if ((v->class_type != MAT_C_STRUCT && v->class_type != MAT_C_CELL) || v->data == nullptr)
    return true;
  const auto* children = static_cast<matvar_t* const*>(v->data);
  for (std::size_t i = 0; i < v->nbytes / sizeof(matvar_t*); ++i)
    if (!sizes_fit(children[i], depth + 1)) return false;
  return true;
}

MatVar read_var(mat_t* m, const std::filesystem::path& path, const std::string& name) {
  MatVar info(Mat_VarReadInfo(m, name.c_str()));
  if (info && !sizes_fit(info.get()))
    throw InputError(path.string() + ": variable '" + name +
                     "' claims more elements than the file can hold (corrupt file?)");
  MatVar v(Mat_VarRead(m, name.c_str()));
  if (!v) throw InputError(path.string() + " has no variable '" + name + "'");
  if (element_count(v.get()) == ~0ull)
    throw InputError(path.string() + ": variable '" + name + "' has no valid size (corrupt file?)");
  return v;
}

bool is_numeric(const matvar_t* v) {
  switch (v->class_type) {
    case MAT_C_DOUBLE:
    case MAT_C_SINGLE:
    case MAT_C_INT8:
    case MAT_C_UINT8:
    case MAT_C_INT16:
    case MAT_C_UINT16:
    case MAT_C_INT32:
    case MAT_C_UINT32:
    case MAT_C_INT64:
    case MAT_C_UINT64:
      return !v->isComplex && data_fits(v, class_size(v->class_type));
    default:
      return false;
  }
}

// Element i (column-major) of a numeric variable, whatever its class.
double element(const matvar_t* v, std::uint64_t i) {
  switch (v->class_type) {
    case MAT_C_DOUBLE:
      return static_cast<const double*>(v->data)[i];
    case MAT_C_SINGLE:
      return static_cast<const float*>(v->data)[i];
    case MAT_C_INT8:
      return static_cast<const std::int8_t*>(v->data)[i];
    case MAT_C_UINT8:
      return static_cast<const std::uint8_t*>(v->data)[i];
    case MAT_C_INT16:
      return static_cast<const std::int16_t*>(v->data)[i];
    case MAT_C_UINT16:
      return static_cast<const std::uint16_t*>(v->data)[i];
    case MAT_C_INT32:
      return static_cast<const std::int32_t*>(v->data)[i];
    case MAT_C_UINT32:
      return static_cast<const std::uint32_t*>(v->data)[i];
    case MAT_C_INT64:
      return static_cast<const std::int64_t*>(v->data)[i];
    case MAT_C_UINT64:
      return static_cast<double>(static_cast<const std::uint64_t*>(v->data)[i]);
    default:
      return std::nan("");
  }
}

// Column-major MATLAB data to a C-order array with the same dims.
h5::Array<double> to_c_order(const matvar_t* v) {
  h5::Array<double> a;
  for (int i = 0; i < v->rank; ++i) a.shape.push_back(v->dims[i]);
  const std::uint64_t n = element_count(v);
  a.data.resize(n);
  if (n == 0 || v->data == nullptr) return a;
  std::vector<std::uint64_t> index(a.shape.size(), 0);
  for (std::uint64_t c = 0; c < n; ++c) {
    // c walks C order; its column-major offset uses the same index with reversed strides.
    std::uint64_t offset = 0, stride = 1;
    for (std::size_t d = 0; d < index.size(); ++d) {
      offset += index[d] * stride;
      stride *= a.shape[d];
    }
    a.data[c] = element(v, offset);
    for (std::size_t d = index.size(); d-- > 0;) {
      if (++index[d] < a.shape[d]) break;
      index[d] = 0;
    }
  }
  return a;
}

std::string text_of(const matvar_t* v) {
  if (v == nullptr || v->class_type != MAT_C_CHAR || v->data == nullptr) return "";
  const bool wide = v->data_type == MAT_T_UINT16 || v->data_type == MAT_T_UTF16;
  if (!data_fits(v, wide ? 2 : 1)) return "";
  const std::uint64_t n = element_count(v);
  std::string s;
  if (wide) {
    const auto* p = static_cast<const std::uint16_t*>(v->data);
    for (std::uint64_t i = 0; i < n; ++i) s.push_back(p[i] < 128 ? static_cast<char>(p[i]) : '?');
  } else {
    s.assign(static_cast<const char*>(v->data), n);
  }
  return s;
}

bool has_field(matvar_t* v, const char* field) {
  if (!struct_fits(v)) return false;
  const unsigned nf = Mat_VarGetNumberOfFields(v);
  char* const* names = Mat_VarGetStructFieldnames(v);
  if (names == nullptr) return false;
  for (unsigned i = 0; i < nf; ++i)
    if (names[i] && std::strcmp(names[i], field) == 0) return true;
  return false;
}

// One RDM from a numeric variable: n x n, or a 1 x n(n-1)/2 upper-triangle vector.
std::vector<double> rdm_from(const matvar_t* v, const std::string& what, std::uint64_t* n) {
  if (!is_numeric(v)) throw InputError(what + " is not a numeric RDM");
  auto a = to_c_order(v);
  if (a.shape.size() == 2 && a.shape[0] == a.shape[1] && a.shape[0] > 1) {
    *n = a.shape[0];
    return a.data;
  }
  if (a.shape.size() == 2 && (a.shape[0] == 1 || a.shape[1] == 1))
    return square_from_upper(a.data, n);
  throw InputError(what + " is neither a square RDM nor an upper-triangle vector");
}

}  // namespace

std::vector<std::string> mat_variables(const std::filesystem::path& path) {
  auto m = open_mat(path);
  std::vector<std::string> names;
  while (MatVar v{Mat_VarReadNextInfo(m.get())}) names.emplace_back(v->name ? v->name : "");
  return names;
}

h5::Array<double> read_mat_numeric(const std::filesystem::path& path, const std::string& variable) {
  auto m = open_mat(path);
  auto v = read_var(m.get(), path, variable);
  if (!is_numeric(v.get()))
    throw InputError(path.string() + ": variable '" + variable + "' is not a real numeric array");
  return to_c_order(v.get());
}

std::vector<double> upper_triangle(const std::vector<double>& square, std::uint64_t n) {
  std::vector<double> out;
  out.reserve(n * (n - 1) / 2);
  for (std::uint64_t i = 0; i < n; ++i)
    for (std::uint64_t j = i + 1; j < n; ++j) out.push_back(square[i * n + j]);
  return out;
}

std::vector<double> square_from_upper(const std::vector<double>& upper, std::uint64_t* n_out) {
  const auto m = static_cast<double>(upper.size());
  const auto n = static_cast<std::uint64_t>(std::llround((1 + std::sqrt(1 + 8 * m)) / 2));
  if (n * (n - 1) / 2 != upper.size())
    throw InputError("a vector of " + std::to_string(upper.size()) +
                     " values is not the upper triangle of a square RDM");
  std::vector<double> square(n * n, 0.0);
  std::uint64_t k = 0;
  for (std::uint64_t i = 0; i < n; ++i)
    for (std::uint64_t j = i + 1; j < n; ++j) square[i * n + j] = square[j * n + i] = upper[k++];
  *n_out = n;
  return square;
}

MatRdms read_mat_rdms(const std::filesystem::path& path, const std::string& variable) {
  std::string name = variable;
  if (name.empty()) {
    // The first variable that looks like RDMs: a struct with an RDM field, or a numeric array.
    auto m = open_mat(path);
    while (MatVar info{Mat_VarReadNextInfo(m.get())}) {
      if (!info->name || !sizes_fit(info.get())) continue;
      MatVar v(Mat_VarRead(m.get(), info->name));
      if (v && (has_field(v.get(), "RDM") || is_numeric(v.get()))) {
        name = info->name;
        break;
      }
    }
    if (name.empty())
      throw InputError(path.string() +
                       " holds no RDMs (no struct with an RDM field, no numeric array)");
  }
  auto m = open_mat(path);
  auto v = read_var(m.get(), path, name);
  MatRdms out;
  out.source = path.string() + ":" + name;
  for (int i = 0; i < v->rank; ++i) out.struct_dims.push_back(v->dims[i]);
  auto add = [&](std::vector<double> rdm, std::uint64_t n, std::string label) {
    if (out.n_conditions != 0 && n != out.n_conditions)
      throw InputError(out.source + ": RDMs of different sizes (" +
                       std::to_string(out.n_conditions) + " and " + std::to_string(n) +
                       " conditions)");
    out.n_conditions = n;
    out.rdms.push_back(std::move(rdm));
    out.names.push_back(std::move(label));
  };
  if (v->class_type == MAT_C_STRUCT) {
    if (!has_field(v.get(), "RDM"))
      throw InputError(out.source + " is a struct without an 'RDM' field");
    const std::uint64_t count = element_count(v.get());
    for (std::uint64_t i = 0; i < count; ++i) {
      matvar_t* rdm = Mat_VarGetStructFieldByName(v.get(), "RDM", i);
      const std::string what = out.source + "(" + std::to_string(i + 1) + ").RDM";
      if (!rdm) throw InputError(what + " is missing");
      std::uint64_t n = 0;
      auto square = rdm_from(rdm, what, &n);
      std::string label = has_field(v.get(), "name")
                              ? text_of(Mat_VarGetStructFieldByName(v.get(), "name", i))
                              : "";
      add(std::move(square), n, label.empty() ? name + "_" + std::to_string(i + 1) : label);
    }
  } else if (is_numeric(v.get())) {
    // An empty array's other dims may be anything (the loops below walk them).
    if (element_count(v.get()) == 0) throw InputError(out.source + " is empty");
    auto a = to_c_order(v.get());
    if (a.shape.size() == 3 && a.shape[0] == a.shape[1]) {
      // n x n x k: the k-th RDM is the slice (:, :, k).
      const std::uint64_t n = a.shape[0], k = a.shape[2];
      for (std::uint64_t r = 0; r < k; ++r) {
        std::vector<double> square(n * n);
        for (std::uint64_t i = 0; i < n * n; ++i) square[i] = a.data[i * k + r];
        add(std::move(square), n, name + "_" + std::to_string(r + 1));
      }
      out.struct_dims = {k};
    } else if (a.shape.size() == 2 && a.shape[0] == a.shape[1]) {
      add(a.data, a.shape[0], name);
      out.struct_dims = {1};
    } else if (a.shape.size() == 2) {
      // Rows of upper-triangle vectors.
      const std::uint64_t rows = a.shape[0], len = a.shape[1];
      for (std::uint64_t r = 0; r < rows; ++r) {
        std::vector<double> upper(a.data.begin() + r * len, a.data.begin() + (r + 1) * len);
        std::uint64_t n = 0;
        auto square = square_from_upper(upper, &n);
        add(std::move(square), n, name + "_" + std::to_string(r + 1));
      }
      out.struct_dims = {rows};
    } else {
      throw InputError(out.source +
                       " has a shape that is not an RDM, a stack of RDMs or RDM vectors");
    }
  } else {
    throw InputError(out.source + " is neither a struct of RDMs nor a numeric array");
  }
  for (std::size_t r = 0; r < out.rdms.size(); ++r)
    for (double x : out.rdms[r])
      if (!std::isfinite(x))
        throw InputError(out.source + ": RDM '" + out.names[r] + "' has NaN or infinite entries");
  return out;
}

MatImages read_mat_images(const std::filesystem::path& path, const std::string& variable,
                          const std::string& image_field, const std::string& label_field) {
  auto m = open_mat(path);
  auto v = read_var(m.get(), path, variable);
  const std::string source = path.string() + ":" + variable;
  if (!has_field(v.get(), image_field.c_str()))
    throw InputError(source + " is not a struct array with an '" + image_field + "' field");
  MatImages out;
  out.count = element_count(v.get());
  const bool labelled = has_field(v.get(), label_field.c_str());
  for (std::uint64_t i = 0; i < out.count; ++i) {
    const matvar_t* img = Mat_VarGetStructFieldByName(v.get(), image_field.c_str(), i);
    const std::string what = source + "(" + std::to_string(i + 1) + ")." + image_field;
    if (!img || img->class_type != MAT_C_UINT8 || img->rank < 2 || img->rank > 3)
      throw InputError(what + " is not a uint8 image (y x x [x channel])");
    // An empty image is refused too: its other dims may be anything (the loops below walk them).
    if (element_count(img) == 0) throw InputError(what + " has no pixels");
    if (img->isComplex) throw InputError(what + " is complex, not a uint8 image");
    if (!data_fits(img, 1)) throw InputError(what + " holds fewer pixels than its size");
    const std::uint64_t h = img->dims[0], w = img->dims[1], c = img->rank == 3 ? img->dims[2] : 1;
    if (i == 0) {
      out.height = h, out.width = w, out.channels = c;
      out.pixels.resize(out.count * h * w * c);
    } else if (h != out.height || w != out.width || c != out.channels) {
      throw InputError(what + " has a different size from the first image");
    }
    const auto* src = static_cast<const std::uint8_t*>(img->data);
    std::uint8_t* dst = out.pixels.data() + i * h * w * c;
    for (std::uint64_t y = 0; y < h; ++y)
      for (std::uint64_t x = 0; x < w; ++x)
        for (std::uint64_t ch = 0; ch < c; ++ch)
          dst[(y * w + x) * c + ch] = src[y + x * h + ch * h * w];
    out.labels.push_back(
        labelled ? text_of(Mat_VarGetStructFieldByName(v.get(), label_field.c_str(), i)) : "");
  }
  return out;
}

}  // namespace lrm::io
