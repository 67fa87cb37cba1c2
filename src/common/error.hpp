#pragma once
#include <stdexcept>
#include <string>

namespace lrm {

// Bad input from the user (a file, an option, a data set). The CLI prints the message on one line
// and exits with status 2; the message must name the input and the problem.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The run was interrupted (SIGINT/SIGTERM); partial outputs are left under their temporary names.
class Interrupted : public std::runtime_error {
 public:
  Interrupted() : std::runtime_error("interrupted") {}
};

}  // namespace lrm
