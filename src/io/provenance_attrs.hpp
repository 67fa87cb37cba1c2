#pragma once
// Root attributes of a model run's file that later commands read back (the localizer carries them
// over from the activation file it reads), named once for the writer and its readers.

namespace lrm::io {

inline constexpr char weights_sha256_attr[] = "weights_sha256";  // `_<i>` appended per file
inline constexpr char stimuli_checksum_attr[] = "stimuli_checksum";
// Where and in which precision the model ran (model::describe); `lrm run` keeps it per stage.
inline constexpr char compute_attr[] = "compute";

}  // namespace lrm::io
