#pragma once
// Reader for files written by Python's torch.save (zip archive: a pickle plus tensor storages).
// LibTorch's own pickle_load rejects the OrderedDict (with its `_metadata`) that state_dict()
// returns and nn.Parameter entries, so the few pickle opcodes torch.save emits are read here.
#include <torch/torch.h>

#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace lrm::model {

struct PyObject {
  enum class Kind {
    none,
    boolean,
    integer,
    real,
    string,
    tuple,
    list,
    dict,
    tensor,
    global,
    storage
  };
  Kind kind = Kind::none;
  std::int64_t integer = 0;
  double real = 0;
  std::string string;                            // strings; "module.name" for globals
  std::vector<std::shared_ptr<PyObject>> items;  // tuples, lists
  std::vector<std::pair<std::shared_ptr<PyObject>, std::shared_ptr<PyObject>>>
      entries;           // dicts, in order
  torch::Tensor tensor;  // tensors; flat storage for storages

  const PyObject* get(const std::string& key) const;  // dict entry with a string key, or null
};
using PyPtr = std::shared_ptr<PyObject>;

// Throws InputError naming the file if it is missing, truncated or holds something else.
PyPtr read_torch_save(const std::filesystem::path& path);

}  // namespace lrm::model
