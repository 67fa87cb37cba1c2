#pragma once
// Isolation of HDF5 reads from corrupt files. The HDF5 library trusts the addresses, lengths and
// global-heap references stored in a file: a corrupt file can make it fault, overrun a buffer or
// loop inside the library (reading variable-length strings or dimension-scale references), where
// no validation of ours can step in. So the suite never makes those reads on an input file in its
// own process. When a file is opened for reading, a forked child process walks everything the
// readers use (groups, links, attributes, dimension-scale references, variable-length strings,
// the chunk index, small numeric datasets) and sends back the variable-length strings, string
// attributes and dimension names, which the readers then take from it. When the child dies by a
// signal or does not finish in time, the file is refused with one InputError naming it and the
// object being read. Each file (device, inode, size, modification time) is checked once per
// process, and numeric reads (the hot path) stay in the process. Files the suite writes (opened
// for writing) are read directly.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace lrm::h5 {

// Throws InputError when reading the file's structure faults or hangs the HDF5 library.
// The limit is 20 s plus 1 s per 50 MB of file; LRM_H5_CHECK_SECONDS sets another.
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
