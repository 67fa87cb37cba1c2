#include "extract/steering_conditions.hpp"

#include <cmath>
#include <sstream>

#include "common/error.hpp"
#include "io/h5.hpp"

namespace lrm::extract {
namespace {

double parse_number(const std::string& text, const std::string& setting,
                    const std::string& context = "") {
  try {
    std::size_t used = 0;
    double v = std::stod(text, &used);
    if (used == text.size() && std::isfinite(v)) return v;
  } catch (const std::exception&) {
  }
  throw SettingError(setting, context + "'" + text + "' is not a finite number");
}

// The vectors of `spec` as 1×D or N×D rows (a 1-D dataset is one vector for all stimuli); errors
// are SettingErrors of `setting`, their text starting with `context`.
torch::Tensor read_vectors(const std::string& spec, const std::string& setting,
                           const std::string& context, std::size_t n_stimuli) {
  const auto fail = [&](const std::string& problem) {
    return SettingError(setting, context + problem);
  };
  auto [file, path] = h5::split_dataset_spec(spec);
  if (path.empty()) throw fail(spec + ": give the dataset as file.h5:/path");
  if (!std::filesystem::exists(file)) throw fail(file.string() + " does not exist");
  h5::File f(file, h5::File::Mode::read);
  if (!h5::exists(f, path)) throw fail(file.string() + " has no dataset " + path);
  auto a = h5::read_array<float>(f, path);
  std::vector<std::int64_t> shape(a.shape.begin(), a.shape.end());
  auto v = torch::from_blob(a.data.data(), shape, torch::kFloat).clone();
  if (v.dim() == 1) v = v.unsqueeze(0);
  if (v.dim() != 2)
    throw fail(spec + " has " + std::to_string(v.dim()) +
               " dimensions; give D, 1×D (one vector for all stimuli) or N×D (one row per "
               "stimulus)");
  if (v.size(0) != 1 && v.size(0) != static_cast<std::int64_t>(n_stimuli))
    throw fail(spec + " has " + std::to_string(v.size(0)) +
               " rows; give 1 row (one vector for all stimuli) or one row per stimulus (" +
               std::to_string(n_stimuli) + ")");
  if (!torch::isfinite(v).all().item<bool>()) throw fail(spec + " contains NaN or infinite values");
  return v;
}

std::string number(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

}  // namespace

std::string Condition::describe() const {
  if (!steered()) return "unsteered";
  return "vector=" + vector_spec + " alpha=" + number(strength_neg) + "," + number(strength_pos) +
         " mix=" + number(mix);
}

std::pair<double, double> parse_strength(const std::string& text, const std::string& setting,
                                         const std::string& context) {
  for (char sep : {':', ','}) {
    auto cut = text.find(sep);
    if (cut != std::string::npos)
      return {parse_number(text.substr(0, cut), setting, context),
              parse_number(text.substr(cut + 1), setting, context)};
  }
  double v = parse_number(text, setting, context);
  return {v, v};
}

Condition parse_condition(const std::string& text, const SteeringOptions& defaults) {
  const std::string context = "'" + text + "': ";
  Condition c;
  c.strength_neg = defaults.strength_neg;
  c.strength_pos = defaults.strength_pos;
  c.mix = defaults.mix;
  std::stringstream items(text);
  std::string item;
  bool first = true;
  while (std::getline(items, item, ',')) {
    auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0)
      throw SettingError("condition", context + "expected name=file.h5:/vector[,alpha=A][,mix=W]");
    const auto key = item.substr(0, eq), value = item.substr(eq + 1);
    if (first) {
      c.name = key;
      c.vector_spec = value;
      first = false;
    } else if (key == "alpha") {
      std::tie(c.strength_neg, c.strength_pos) =
          parse_strength(value, "condition", context + "alpha ");
    } else if (key == "mix") {
      c.mix = parse_number(value, "condition", context + "mix ");
    } else {
      throw SettingError("condition", context + "unknown setting '" + key + "' (alpha, mix)");
    }
  }
  if (c.name.empty()) throw SettingError("condition", context + "the condition has no name");
  if (c.vector_spec.empty())
    throw SettingError("condition", context + "no vector (file.h5:/vector, or none: unsteered)");
  for (char ch : c.name)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.'))
      throw SettingError("condition",
                         context + "condition names may hold letters, digits, '-', '_' and '.'");
  return c;
}

std::vector<Condition> make_conditions(const SteeringOptions& steering,
                                       const std::vector<std::string>& condition_texts,
                                       model::LrmNetImpl& net, std::size_t n_stimuli) {
  std::vector<Condition> out;
  if (!condition_texts.empty()) {
    if (!steering.vector_spec.empty())
      throw SettingError("condition",
                         "excludes a single steering vector; give the vector in each condition "
                         "(name=file.h5:/vector)");
    for (const auto& text : condition_texts) {
      auto c = parse_condition(text, steering);
      for (const auto& other : out)
        if (other.name == c.name) throw SettingError("condition", c.name + " is given twice");
      out.push_back(std::move(c));
    }
  } else if (!steering.vector_spec.empty()) {
    Condition c;
    c.vector_spec = steering.vector_spec;
    c.strength_neg = steering.strength_neg;
    c.strength_pos = steering.strength_pos;
    c.mix = steering.mix;
    out.push_back(std::move(c));
  } else {
    if (!steering.source.empty())
      throw SettingError("steer-source", "needs a steering vector or a condition");
    out.emplace_back();
    return out;
  }
  bool any_steered = false;
  for (auto& c : out) {
    if (c.vector_spec.empty() || c.vector_spec == "none") continue;
    c.vectors = c.name.empty() ? read_vectors(c.vector_spec, "steer-vector", "", n_stimuli)
                               : read_vectors(c.vector_spec, "condition", c.name + ": ", n_stimuli);
    any_steered = true;
  }
  if (any_steered && steering.source.empty())
    throw SettingError("steer-source",
                       "steering needs the source layer whose kept output is replaced (e.g. "
                       "classifier.6)");
  for (const auto& c : out) {
    if (!c.steered()) continue;
    auto s = batch_steering(c, steering, 0, 1);
    try {
      net.check_steering(s, 1);
    } catch (const InputError& e) {  // the model's words, with the vector they are about
      throw SettingError(c.name.empty() ? "steer-vector" : "condition",
                         c.vector_spec + ": " + e.what());
    }
  }
  return out;
}

model::Steering batch_steering(const Condition& c, const SteeringOptions& steering,
                               std::size_t first, std::size_t count) {
  model::Steering s;
  s.source = steering.source;
  s.vector = c.vectors.size(0) == 1 ? c.vectors
                                    : c.vectors.slice(0, static_cast<std::int64_t>(first),
                                                      static_cast<std::int64_t>(first + count));
  s.set_strength(c.strength_neg, c.strength_pos);
  s.mix = c.mix;
  s.first_pass = steering.first_pass;
  return s;
}

}  // namespace lrm::extract
