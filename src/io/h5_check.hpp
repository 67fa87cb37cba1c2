#pragma once
// Isolation of HDF5 reads from corrupt files. The HDF5 library trusts the addresses, lengths and
// global-heap references stored in a file: a corrupt file can make it fault, overrun a buffer or
// loop inside the library (reading variable-length strings or dimension-scale references), where
// no validation of ours can step in. So the suite never makes those reads on an input file in its
// own process. When a file is opened for reading, a forked child process walks everything the
// readers use (groups, links, attributes, dimension-scale references, variable-length strings,
// the chunk index, small numeric datasets) and sends back the variable-length strings, string
// attributes and dimension names, which the readers then take from it. Each object is visited
// once (hard links share its values). When the child dies by a signal or stops making progress
// (a loop inside the library), the file is refused with one InputError naming it and the object
// being read; a big file or a loaded machine only makes the walk slower. Each file (device, inode,
// size, modification time) is checked once per process, and numeric reads (the hot path) stay in
// the process. Files the suite writes (opened for writing) are read directly.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace lrm::h5 {

// Throws InputError when reading the file's structure faults or loops in the HDF5 library: the
// child spends 30 s of processor time (LRM_H5_CHECK_SECONDS sets another) without finishing a
// step (an object, an attribute, a read), or ten times that in wall-clock time.
void check_readable(const std::filesystem::path& path);

// The values the checking child read, for a file that passed check_readable; an object the walk
// did not reach is read by a child of its own. Errors are thrown as the direct read throws them.
std::vector<std::string> checked_strings(const std::filesystem::path& file,
                                         const std::string& dataset);
std::optional<std::string> checked_attr_string(const std::filesystem::path& file,
                                               const std::string& object, const std::string& attr);
std::vector<std::string> checked_dimension_names(const std::filesystem::path& file,
                                                 const std::string& dataset);

// True in the checking child, which reads the file itself.
bool in_check_child();

}  // namespace lrm::h5
