// Signed revisions: Ed25519 keys, signature files (one signature over a manifest of plugins), and
// what a versions directory's signature files say about each of its plugins.
#ifndef MIGRATOR_SIGNATURES_HPP
#define MIGRATOR_SIGNATURES_HPP

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace migrator {

/// The first word of a public key line: "migrator-ed25519 <base64 of 32 bytes>".
inline constexpr std::string_view public_key_word = "migrator-ed25519";
/// The first word of a secret key file's line: "migrator-ed25519-secret <base64 of 64 bytes>".
inline constexpr std::string_view secret_key_word = "migrator-ed25519-secret";
/// The first line of a signature file. (v1 signed the entries themselves; v2 their BLAKE2b-512.)
inline constexpr std::string_view signature_file_magic = "migrator-signatures-v2";
/// Signature files are the files of a versions directory whose names end so.
inline constexpr std::string_view signature_file_extension = ".signatures";
/// The signature file `scaffold sign` writes unless told another name.
inline constexpr std::string_view default_signature_file = "migrator.signatures";
/// The largest signature file migrator reads (about 100,000 plugins).
inline constexpr std::uint64_t max_signature_file_size = 16 * 1024 * 1024;

/// An Ed25519 public key.
struct PublicKey {
    std::array<unsigned char, 32> bytes{};
    /// The base64 of the key, as its line spells it: how messages name a key.
    std::string base64() const;
    /// "migrator-ed25519 <base64>".
    std::string line() const { return std::string(public_key_word) + " " + base64(); }
    friend bool operator==(const PublicKey& a, const PublicKey& b) { return a.bytes == b.bytes; }
    friend bool operator<(const PublicKey& a, const PublicKey& b) { return a.bytes < b.bytes; }
};

/// Parses public key lines ("migrator-ed25519 <base64>", one a line; blank lines and lines
/// starting with '#' are ignored). Throws PluginError naming `source` and the line at fault.
std::vector<PublicKey> parse_public_keys(std::string_view text, const std::string& source);

/// Reads a file of public key lines (at most 64 KiB); throws PluginError naming it.
std::vector<PublicKey> read_public_keys(const std::filesystem::path& file);

/// A new Ed25519 key pair: the public key line and the secret key line, each ending in '\n'.
struct KeyPairText {
    std::string public_line;
    std::string secret_line;
};
KeyPairText generate_key_pair();

/// One plugin a signature file vouches for.
struct SignedEntry {
    std::string file_sha256;  ///< the digest its integrity seal records (of every byte before it)
    /// BLAKE2b-256 (hexadecimal) of its metadata section, as read_elf_section reads it: checked
    /// for every plugin a command reads, so the fastest hash libsodium has.
    std::string metadata_digest;
    std::string revision_id;
    std::string name;  ///< its file name in the versions directory (no '/')
};

/// A parsed signature file: the key that signed it, whether the signature is right, its entries.
struct SignatureFile {
    PublicKey key;
    bool signature_valid = false;
    std::vector<SignedEntry> entries;
};

/// Parses a signature file's text (untrusted: bounded sizes, strict syntax) and checks its
/// signature with the key it names (whether that key is trusted is the caller's concern). Throws
/// PluginError "signature file <file> is malformed: <what>" for bad syntax.
SignatureFile parse_signature_file(std::string_view text, const std::string& file);

/// The text of a signature file over `entries`, signed with the secret key line `secret_line`.
/// Throws PluginError when the secret key is malformed.
std::string render_signature_file(const std::vector<SignedEntry>& entries,
                                  std::string_view secret_line, const std::string& key_file);

/// SHA-256 of `bytes` in lowercase hexadecimal.
std::string sha256_hex(std::string_view bytes);

/// The metadata digest of a signature file's entries: BLAKE2b-256 of `section`, in lowercase
/// hexadecimal.
std::string metadata_digest_hex(std::string_view section);

/// The signature files of one versions directory, checked against the trusted keys.
class DirectorySignatures {
public:
    /// Reads every `*.signatures` file of the directory open as `dir_fd` (named `dir` in
    /// messages). Throws PluginError naming the file when one is malformed, too large, or carries
    /// a signature that does not verify with the key it names, and when two files trusted by
    /// `trusted` list the same plugin file name differently.
    DirectorySignatures(int dir_fd, const std::string& dir, const std::vector<PublicKey>& trusted);

    /// Throws PluginError unless the plugin `path` (file name `name`), whose metadata section is
    /// `section`, is listed by a trusted signature file with these metadata; returns the entry's
    /// file digest, which the seal of the file loaded must record. Sets `signer` to the base64 of
    /// the key that signed it.
    std::string require_signed(const std::string& name, const std::string& path,
                               std::string_view section, std::string& signer) const;

private:
    std::string dir_;
    std::vector<SignatureFile> files_;
    std::vector<std::string> file_names_;
    std::vector<std::string> signers_;  ///< the base64 of each file's key
    /// Where a plugin name is listed: (index in files_, index in its entries). The names are
    /// the entries' own (an entries vector keeps its elements in place when files_ grows).
    using Place = std::pair<std::size_t, std::size_t>;
    std::unordered_map<std::string_view, Place> trusted_;
    std::unordered_map<std::string_view, Place> untrusted_;
};

}  // namespace migrator

#endif  // MIGRATOR_SIGNATURES_HPP
