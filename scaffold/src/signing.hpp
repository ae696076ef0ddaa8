// scaffold keygen and scaffold sign: an Ed25519 key pair, and the signature file of a versions
// directory (or a bundle's).
#ifndef MIGRATOR_SCAFFOLD_SIGNING_HPP
#define MIGRATOR_SCAFFOLD_SIGNING_HPP

#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

namespace migrator::scaffold {

/// Writes DIR/migrator-signing.key (the secret key, mode 0600, created so: never readable by
/// others, not even for a moment) and DIR/migrator-signing.pub (one public key line), creating
/// DIR if needed. Refuses (std::runtime_error naming it) to overwrite either file. Returns the
/// two paths, secret first.
std::vector<std::filesystem::path> write_key_pair(const std::filesystem::path& dir);

/// Signs plugins with the secret key in `key_file`: each path is a `.so` file or a directory
/// (its `*.so` files); all must be in one directory, where the signature file `output_name`
/// (default migrator.signatures) is written (atomically, replacing it) listing each plugin's
/// file name, revision id, seal digest and metadata digest. Each plugin's seal is checked first.
/// Returns the signature file's path; prints one line per plugin signed to `out` unless null.
std::filesystem::path sign_plugins(const std::filesystem::path& key_file,
                                   const std::vector<std::filesystem::path>& paths,
                                   const std::string& output_name, std::ostream* out);

}  // namespace migrator::scaffold

#endif  // MIGRATOR_SCAFFOLD_SIGNING_HPP
