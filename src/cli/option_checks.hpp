#pragma once
// Range checks for numeric options that CLI11's own validators let through: CLI::PositiveNumber
// and CLI::Range accept NaN (every comparison with NaN is false). CLI11 runs them while parsing,
// so a bad value is one line naming the option before any work.
#include <CLI/CLI.hpp>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>

namespace lrm::cli {

inline std::string number_text(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

// A finite number in [low, high] (NaN and infinities refused).
inline CLI::Validator finite_in(double low, double high = std::numeric_limits<double>::max()) {
  const std::string range = high == std::numeric_limits<double>::max()
                                ? ">= " + number_text(low)
                                : "in [" + number_text(low) + ", " + number_text(high) + "]";
  return CLI::Validator(
      [low, high, range](std::string& text) -> std::string {
        double v = 0;
        if (!CLI::detail::lexical_cast(text, v)) return "'" + text + "' is not a number";
        if (!std::isfinite(v) || v < low || v > high)
          return "'" + text + "' is not a finite number " + range;
        return "";
      },
      "FINITE " + range);
}

// A finite number > 0.
inline CLI::Validator finite_positive() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        double v = 0;
        if (!CLI::detail::lexical_cast(text, v)) return "'" + text + "' is not a number";
        if (!std::isfinite(v) || v <= 0) return "'" + text + "' is not a finite number > 0";
        return "";
      },
      "FINITE > 0");
}

}  // namespace lrm::cli
