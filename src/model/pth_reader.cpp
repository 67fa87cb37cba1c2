#include "model/pth_reader.hpp"

#include <caffe2/serialize/inline_container.h>

#include <cstring>
#include <map>

#include "common/error.hpp"

namespace lrm::model {
namespace {

PyPtr make(PyObject::Kind kind) {
  auto p = std::make_shared<PyObject>();
  p->kind = kind;
  return p;
}

c10::ScalarType storage_dtype(const std::string& global) {
  static const std::map<std::string, c10::ScalarType> types{
      {"torch.FloatStorage", torch::kFloat}, {"torch.DoubleStorage", torch::kDouble},
      {"torch.HalfStorage", torch::kHalf},   {"torch.BFloat16Storage", torch::kBFloat16},
      {"torch.LongStorage", torch::kLong},   {"torch.IntStorage", torch::kInt},
      {"torch.ShortStorage", torch::kShort}, {"torch.CharStorage", torch::kChar},
      {"torch.ByteStorage", torch::kByte},   {"torch.BoolStorage", torch::kBool}};
  auto it = types.find(global);
  if (it == types.end()) throw std::runtime_error("unsupported storage type " + global);
  return it->second;
}

class Unpickler {
 public:
  Unpickler(const std::string& data, caffe2::serialize::PyTorchStreamReader& reader)
      : data_(data), reader_(reader) {}

  PyPtr run() {
    while (true) {
      const auto op = static_cast<unsigned char>(byte());
      switch (op) {
        case 0x80:
          byte();
          break;  // PROTO
        case 0x95:
          bytes(8);
          break;  // FRAME
        case '.':
          return pop();  // STOP
        case '(':
          marks_.push_back(stack_.size());
          break;
        case '}':
          stack_.push_back(make(PyObject::Kind::dict));
          break;
        case ']':
          stack_.push_back(make(PyObject::Kind::list));
          break;
        case ')':
          stack_.push_back(make(PyObject::Kind::tuple));
          break;
        case 'd':
        case 'l':
        case 't': {
          auto items = pop_mark();
          auto o = make(op == 'd'   ? PyObject::Kind::dict
                        : op == 'l' ? PyObject::Kind::list
                                    : PyObject::Kind::tuple);
          if (op == 'd')
            for (std::size_t i = 0; i + 1 < items.size(); i += 2)
              o->entries.emplace_back(items[i], items[i + 1]);
          else
            o->items = std::move(items);
          stack_.push_back(o);
          break;
        }
        case 0x85:
        case 0x86:
        case 0x87: {  // TUPLE1..3
          const std::size_t n = op - 0x84;
          auto o = make(PyObject::Kind::tuple);
          o->items.assign(stack_.end() - n, stack_.end());
          stack_.resize(stack_.size() - n);
          stack_.push_back(o);
          break;
        }
        case 'X':
          push_string(uint(4));
          break;
        case 0x8c:
          push_string(uint(1));
          break;
        case 0x8d:
          push_string(uint(8));
          break;
        case 'T':
          push_string(uint(4));
          break;
        case 'U':
          push_string(uint(1));
          break;
        case 'B':
          push_string(uint(4));
          break;
        case 'C':
          push_string(uint(1));
          break;
        case 'J':
          push_int(static_cast<std::int32_t>(uint(4)));
          break;
        case 'K':
          push_int(uint(1));
          break;
        case 'M':
          push_int(uint(2));
          break;
        case 0x8a: {  // LONG1
          const auto n = uint(1);
          std::int64_t v = 0;
          for (std::size_t i = 0; i < n; ++i)
            v |= static_cast<std::int64_t>(static_cast<unsigned char>(byte())) << (8 * i);
          if (n > 0 && n < 8 && (v >> (8 * n - 1)) & 1) v -= std::int64_t(1) << (8 * n);
          push_int(v);
          break;
        }
        case 'G': {  // BINFLOAT, big endian
          std::uint64_t bits = 0;
          for (int i = 0; i < 8; ++i) bits = (bits << 8) | static_cast<unsigned char>(byte());
          auto o = make(PyObject::Kind::real);
          std::memcpy(&o->real, &bits, 8);
          stack_.push_back(o);
          break;
        }
        case 0x88:
        case 0x89: {
          auto o = make(PyObject::Kind::boolean);
          o->integer = op == 0x88;
          stack_.push_back(o);
          break;
        }
        case 'N':
          stack_.push_back(make(PyObject::Kind::none));
          break;
        case 'q':
          memo_[uint(1)] = top();
          break;
        case 'r':
          memo_[uint(4)] = top();
          break;
        case 0x94:
          memo_[memo_.size()] = top();
          break;
        case 'h':
          stack_.push_back(memo_.at(uint(1)));
          break;
        case 'j':
          stack_.push_back(memo_.at(uint(4)));
          break;
        case 'c': {
          auto module = line(), name = line();
          auto o = make(PyObject::Kind::global);
          o->string = module + "." + name;
          stack_.push_back(o);
          break;
        }
        case 0x93: {  // STACK_GLOBAL
          auto name = pop(), module = pop();
          auto o = make(PyObject::Kind::global);
          o->string = module->string + "." + name->string;
          stack_.push_back(o);
          break;
        }
        case 'R':
        case 0x81: {  // REDUCE, NEWOBJ
          auto args = pop();
          auto callable = pop();
          stack_.push_back(call(*callable, *args));
          break;
        }
        case 'Q':
          stack_.push_back(persistent_load(*pop()));
          break;
        case 's': {
          auto value = pop(), key = pop();
          top()->entries.emplace_back(key, value);
          break;
        }
        case 'u': {
          auto items = pop_mark();
          for (std::size_t i = 0; i + 1 < items.size(); i += 2)
            top()->entries.emplace_back(items[i], items[i + 1]);
          break;
        }
        case 'a': {
          auto v = pop();
          top()->items.push_back(v);
          break;
        }
        case 'e': {
          auto items = pop_mark();
          top()->items.insert(top()->items.end(), items.begin(), items.end());
          break;
        }
        case 'b':
          pop();
          break;  // BUILD: state of an OrderedDict (_metadata) or a Parameter; not needed
        default:
          throw std::runtime_error("unsupported pickle opcode " + std::to_string(op));
      }
    }
  }

 private:
  char byte() {
    if (pos_ >= data_.size()) throw std::runtime_error("pickle ends early");
    return data_[pos_++];
  }
  std::string bytes(std::size_t n) {
    if (pos_ + n > data_.size()) throw std::runtime_error("pickle ends early");
    auto s = data_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::uint64_t uint(int n) {
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i)
      v |= static_cast<std::uint64_t>(static_cast<unsigned char>(byte())) << (8 * i);
    return v;
  }
  std::string line() {
    auto end = data_.find('\n', pos_);
    if (end == std::string::npos) throw std::runtime_error("pickle ends early");
    auto s = data_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return s;
  }
  void push_string(std::uint64_t n) {
    auto o = make(PyObject::Kind::string);
    o->string = bytes(n);
    stack_.push_back(o);
  }
  void push_int(std::int64_t v) {
    auto o = make(PyObject::Kind::integer);
    o->integer = v;
    stack_.push_back(o);
  }
  PyPtr top() {
    if (stack_.empty()) throw std::runtime_error("pickle stack underflow");
    return stack_.back();
  }
  PyPtr pop() {
    auto v = top();
    stack_.pop_back();
    return v;
  }
  std::vector<PyPtr> pop_mark() {
    if (marks_.empty()) throw std::runtime_error("pickle mark missing");
    auto m = marks_.back();
    marks_.pop_back();
    std::vector<PyPtr> items(stack_.begin() + m, stack_.end());
    stack_.resize(m);
    return items;
  }
  static std::vector<std::int64_t> ints(const PyObject& t) {
    std::vector<std::int64_t> out;
    for (const auto& i : t.items) out.push_back(i->integer);
    return out;
  }

  PyPtr persistent_load(const PyObject& pid) {
    // ('storage', storage type, key, location, numel)
    if (pid.items.size() < 5 || pid.items[0]->string != "storage")
      throw std::runtime_error("unsupported persistent id");
    auto& cached = storages_[pid.items[2]->string];
    if (!cached) {
      const auto dtype = storage_dtype(pid.items[1]->string);
      const auto numel = pid.items[4]->integer;
      auto [ptr, size] = reader_.getRecord("data/" + pid.items[2]->string);
      const auto expected = static_cast<std::size_t>(numel) * c10::elementSize(dtype);
      if (size < expected)
        throw std::runtime_error("storage " + pid.items[2]->string + " is truncated");
      cached = make(PyObject::Kind::storage);
      cached->tensor = torch::from_blob(ptr.get(), {numel}, dtype).clone();
    }
    return cached;
  }

  PyPtr call(const PyObject& callable, const PyObject& args) {
    const auto& f = callable.string;
    if (f == "collections.OrderedDict") return make(PyObject::Kind::dict);
    if (f == "torch._utils._rebuild_tensor_v2" || f == "torch._utils._rebuild_tensor") {
      const auto& storage = args.items.at(0)->tensor;
      auto o = make(PyObject::Kind::tensor);
      o->tensor = storage
                      .as_strided(ints(*args.items.at(2)), ints(*args.items.at(3)),
                                  args.items.at(1)->integer)
                      .clone();
      return o;
    }
    if (f == "torch._utils._rebuild_parameter" ||
        f == "torch._utils._rebuild_parameter_with_state" ||
        f == "torch.jit._pickle.restore_type_tag")
      return args.items.at(0);
    if (f.rfind("torch.jit._pickle.build_", 0) == 0) return args.items.at(0);
    throw std::runtime_error("unsupported pickled object " + f);
  }

  const std::string& data_;
  caffe2::serialize::PyTorchStreamReader& reader_;
  std::size_t pos_ = 0;
  std::vector<PyPtr> stack_;
  std::vector<std::size_t> marks_;
  std::map<std::uint64_t, PyPtr> memo_;
  std::map<std::string, PyPtr> storages_;
};

}  // namespace

const PyObject* PyObject::get(const std::string& key) const {
  for (const auto& [k, v] : entries)
    if (k->kind == Kind::string && k->string == key) return v.get();
  return nullptr;
}

PyPtr read_torch_save(const std::filesystem::path& path) {
  if (!std::filesystem::is_regular_file(path))
    throw InputError("cannot open checkpoint " + path.string());
  try {
    caffe2::serialize::PyTorchStreamReader reader(path.string());
    auto [ptr, size] = reader.getRecord("data.pkl");
    std::string pickle(static_cast<const char*>(ptr.get()), size);
    return Unpickler(pickle, reader).run();
  } catch (const c10::Error& e) {
    throw InputError("cannot read checkpoint " + path.string() +
                     " (truncated, or not a torch.save file?): " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw InputError("cannot read checkpoint " + path.string() + ": " + e.what());
  }
}

}  // namespace lrm::model
