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

// A bad value of a named setting. The library names the setting by its key, which is the long
// name of the option that sets it without dashes ("passes", "steer-strength"), and never spells a
// flag itself; the CLI prints it as `--passes: <problem>`.
class SettingError : public InputError {
 public:
  SettingError(std::string setting, std::string problem)
      : InputError(setting + ": " + problem),
        setting_(std::move(setting)),
        problem_(std::move(problem)) {}
  const std::string& setting() const { return setting_; }
  const std::string& problem() const { return problem_; }

 private:
  std::string setting_;
  std::string problem_;
};

// A fault of the suite or a library it calls on input that passed validation (an HDF5 call
// failing on a valid file). The CLI prints it on one line and exits with status 3, so scripts can
// tell a bug to report from bad input to fix.
class InternalError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A failure that a child process has already reported on stderr in its one line (a stage of
// `lrm run` that exited 2); the CLI exits with its status without adding a second line.
class ReportedError : public std::runtime_error {
 public:
  ReportedError(const std::string& what, int status) : std::runtime_error(what), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

// The run was interrupted (SIGINT/SIGTERM); partial outputs are left under their temporary names.
class Interrupted : public std::runtime_error {
 public:
  Interrupted() : std::runtime_error("interrupted") {}
};

}  // namespace lrm
