// Signed revisions: Ed25519 keys and signature files (libsodium), and the verdict of a versions
// directory's signature files on each plugin file name. Signature files are untrusted input.
#include <dirent.h>
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <migrator/common/errors.hpp>
#include <migrator/plugins/plugins.hpp>
#include <migrator/plugins/signatures.hpp>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "open_file.hpp"

namespace migrator {
namespace {

constexpr std::size_t max_key_file_size = 64 * 1024;
constexpr std::size_t max_name_size = 255;  // NAME_MAX

void init_sodium() {
    // Thread-safe and idempotent; fails only when the system offers no randomness.
    static const int initialised = sodium_init();
    if (initialised < 0) throw PluginError("libsodium could not be initialised");
}

std::string to_base64(const unsigned char* bytes, std::size_t size) {
    std::string text(sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(text.data(), text.size(), bytes, size, sodium_base64_VARIANT_ORIGINAL);
    text.resize(std::strlen(text.c_str()));
    return text;
}

/// Decodes exactly `size` bytes of base64 from `text` into `into`; false otherwise.
bool from_base64(std::string_view text, unsigned char* into, std::size_t size) {
    std::size_t decoded = 0;
    const char* end = nullptr;
    if (sodium_base642bin(into, size, text.data(), text.size(), nullptr, &decoded, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return false;
    return decoded == size && end == text.data() + text.size();
}

bool is_plugin_name(std::string_view name) {
    return !name.empty() && name.size() <= max_name_size && name != "." && name != ".." &&
           std::none_of(name.begin(), name.end(), [](char c) {
               return c == '/' || c == '\n' || c == '\0' || static_cast<unsigned char>(c) < 0x20;
           });
}

/// Splits `text` after "<word> " into the rest of the line; false when the line starts otherwise.
bool after_word(std::string_view line, std::string_view word, std::string_view& rest) {
    if (line.size() <= word.size() || line.substr(0, word.size()) != word ||
        line[word.size()] != ' ')
        return false;
    rest = line.substr(word.size() + 1);
    return true;
}

/// Reads at most `limit` bytes of the regular file `path` open as `fd`; throws naming `subject`.
std::string read_bounded(int fd, const struct stat& status, std::uint64_t limit,
                         const std::string& subject) {
    if (!S_ISREG(status.st_mode)) throw PluginError(subject + " is not a regular file");
    const auto size = static_cast<std::uint64_t>(status.st_size);
    if (size > limit)
        throw PluginError(subject + " is larger than " + std::to_string(limit) +
                          " bytes, the most migrator reads");
    std::string text(static_cast<std::size_t>(size), '\0');
    if (!detail::pread_exactly(fd, text.data(), text.size(), 0))
        throw PluginError(subject + " could not be read completely");
    return text;
}

/// The message a signature covers: the first two lines of the file and the BLAKE2b-512 of its
/// entries (every line after the "signature ..." line). Ed25519 hashes its message with SHA-512,
/// which libsodium computes about six times slower than BLAKE2b: the entries of 10,000 plugins
/// (2 MB) are hashed once, with the faster function.
std::string signed_message(std::string_view key_line, std::string_view entries) {
    unsigned char digest[crypto_generichash_BYTES_MAX];
    crypto_generichash(digest, sizeof digest,
                       reinterpret_cast<const unsigned char*>(entries.data()), entries.size(),
                       nullptr, 0);
    std::string message(signature_file_magic);
    message += '\n';
    message += key_line;
    message += '\n';
    message.append(reinterpret_cast<const char*>(digest), sizeof digest);
    return message;
}

/// A 32-byte digest.
using Digest = std::array<unsigned char, 32>;

/// BLAKE2b-256 of a metadata section.
Digest metadata_digest(std::string_view section) {
    init_sodium();
    Digest digest;
    crypto_generichash(digest.data(), digest.size(),
                       reinterpret_cast<const unsigned char*>(section.data()), section.size(),
                       nullptr, 0);
    return digest;
}

/// Whether `hex` (lowercase, as a parsed entry holds it) spells `digest`: compared without
/// building a string, since every plugin of a signed directory is checked so.
bool equals_hex(const Digest& digest, std::string_view hex) {
    static constexpr char digits[] = "0123456789abcdef";
    if (hex.size() != 2 * digest.size()) return false;
    for (std::size_t i = 0; i < digest.size(); ++i)
        if (hex[2 * i] != digits[digest[i] >> 4] || hex[2 * i + 1] != digits[digest[i] & 0xF])
            return false;
    return true;
}

}  // namespace

std::string PublicKey::base64() const { return to_base64(bytes.data(), bytes.size()); }

std::vector<PublicKey> parse_public_keys(std::string_view text, const std::string& source) {
    std::vector<PublicKey> keys;
    std::size_t line_number = 0;
    while (!text.empty()) {
        const std::size_t end = text.find('\n');
        std::string_view line = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
        ++line_number;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty() || line.front() == '#') continue;
        std::string_view rest;
        PublicKey key;
        if (!after_word(line, public_key_word, rest) ||
            !from_base64(rest.substr(0, rest.find(' ')), key.bytes.data(), key.bytes.size()))
            throw PluginError("key file " + source + ": line " + std::to_string(line_number) +
                              " is not a public key line '" + std::string(public_key_word) +
                              " <base64 of 32 bytes>'");
        if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
    }
    if (keys.empty()) throw PluginError("key file " + source + " holds no public key");
    return keys;
}

std::vector<PublicKey> read_public_keys(const std::filesystem::path& file) {
    const detail::OpenFile open(AT_FDCWD, file.c_str());
    if (!open.is_open()) detail::throw_cannot_open("key file " + file.string(), open.error());
    return parse_public_keys(
        read_bounded(open.fd(), open.status(), max_key_file_size, "key file " + file.string()),
        file.string());
}

KeyPairText generate_key_pair() {
    init_sodium();
    unsigned char public_key[crypto_sign_PUBLICKEYBYTES];
    unsigned char secret_key[crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair(public_key, secret_key);
    KeyPairText pair;
    pair.public_line =
        std::string(public_key_word) + " " + to_base64(public_key, sizeof public_key) + "\n";
    pair.secret_line =
        std::string(secret_key_word) + " " + to_base64(secret_key, sizeof secret_key) + "\n";
    sodium_memzero(secret_key, sizeof secret_key);
    return pair;
}

std::string sha256_hex(std::string_view bytes) {
    init_sodium();
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
    char hex[2 * crypto_hash_sha256_BYTES + 1];
    sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
    return std::string(hex, 2 * crypto_hash_sha256_BYTES);
}

std::string metadata_digest_hex(std::string_view section) {
    const Digest digest = metadata_digest(section);
    char hex[2 * digest.size() + 1];
    sodium_bin2hex(hex, sizeof hex, digest.data(), digest.size());
    return std::string(hex, 2 * digest.size());
}

SignatureFile parse_signature_file(std::string_view text, const std::string& file) {
    init_sodium();
    const auto malformed = [&file](const std::string& what) {
        return PluginError("signature file " + file + " is malformed: " + what);
    };
    if (text.size() > max_signature_file_size)
        throw malformed("it is larger than " + std::to_string(max_signature_file_size) + " bytes");
    // Three header lines, then one line per plugin; every line ends in '\n'.
    std::string_view rest = text;
    const auto next_line = [&](const char* what) {
        const std::size_t end = rest.find('\n');
        if (end == std::string_view::npos) throw malformed(std::string(what) + " is missing");
        const std::string_view line = rest.substr(0, end);
        rest = rest.substr(end + 1);
        return line;
    };
    const std::string_view first_line = next_line("the first line");
    if (first_line == "migrator-signatures-v1")
        throw PluginError("signature file " + file +
                          " is in the format of an earlier migrator build (" +
                          std::string(first_line) +
                          "), which this one does not read; sign the "
                          "plugins again with scaffold sign");
    if (first_line != signature_file_magic)
        throw malformed("it does not start with the line '" + std::string(signature_file_magic) +
                        "'");
    const std::string_view key_line = next_line("the key line");
    SignatureFile parsed;
    std::string_view value;
    if (!after_word(key_line, "key", value) ||
        !from_base64(value, parsed.key.bytes.data(), parsed.key.bytes.size()))
        throw malformed("its second line is not 'key <base64 of 32 bytes>'");
    const std::string_view signature_line = next_line("the signature line");
    unsigned char signature[crypto_sign_BYTES];
    if (!after_word(signature_line, "signature", value) ||
        !from_base64(value, signature, sizeof signature))
        throw malformed("its third line is not 'signature <base64 of 64 bytes>'");
    const std::string_view entries = rest;
    const std::string message = signed_message(key_line, entries);
    parsed.signature_valid = crypto_sign_verify_detached(
                                 signature, reinterpret_cast<const unsigned char*>(message.data()),
                                 message.size(), parsed.key.bytes.data()) == 0;

    // The shortest plugin line: two digests, a one-character id and name, three spaces, '\n'.
    constexpr std::size_t shortest_line = 64 + 1 + 64 + 1 + 1 + 1 + 1 + 1;
    parsed.entries.reserve(rest.size() / shortest_line);
    std::size_t line_number = 3;
    while (!rest.empty()) {
        const std::string_view line = next_line("a final newline");
        ++line_number;
        // "<file sha256> <metadata BLAKE2b-256> <revision id> <file name>"; the name is the rest.
        const auto where = " (line " + std::to_string(line_number) + ")";
        const std::size_t first = line.find(' ');
        const std::size_t second =
            first == std::string_view::npos ? first : line.find(' ', first + 1);
        const std::size_t third =
            second == std::string_view::npos ? second : line.find(' ', second + 1);
        if (third == std::string_view::npos)
            throw malformed("a plugin line is not '<sha256> <metadata blake2b> <id> <file>'" +
                            where);
        SignedEntry entry;
        entry.file_sha256 = std::string(line.substr(0, first));
        entry.metadata_digest = std::string(line.substr(first + 1, second - first - 1));
        entry.revision_id = std::string(line.substr(second + 1, third - second - 1));
        entry.name = std::string(line.substr(third + 1));
        if (!is_sha256_hex(entry.file_sha256) || !is_sha256_hex(entry.metadata_digest))
            throw malformed("a digest is not 64 lowercase hexadecimal digits" + where);
        if (!is_revision_id(entry.revision_id))
            throw malformed("a revision id is not 1 to 32 characters of [0-9A-Za-z_]" + where);
        if (!is_plugin_name(entry.name))
            throw malformed("a file name is empty, too long or holds '/' or a control character" +
                            where);
        parsed.entries.push_back(std::move(entry));
    }
    return parsed;
}

std::string render_signature_file(const std::vector<SignedEntry>& entries,
                                  std::string_view secret_line, const std::string& key_file) {
    init_sodium();
    std::string_view line = secret_line.substr(0, secret_line.find('\n'));
    std::string_view value;
    unsigned char secret_key[crypto_sign_SECRETKEYBYTES];
    if (!after_word(line, secret_key_word, value) ||
        !from_base64(value, secret_key, sizeof secret_key))
        throw PluginError("key file " + key_file + " is not a secret key ('" +
                          std::string(secret_key_word) +
                          " <base64 of 64 bytes>'); pass the .key "
                          "file scaffold keygen wrote");
    PublicKey key;
    crypto_sign_ed25519_sk_to_pk(key.bytes.data(), secret_key);
    std::string body;
    for (const auto& entry : entries)
        body += entry.file_sha256 + " " + entry.metadata_digest + " " + entry.revision_id + " " +
                entry.name + "\n";
    const std::string key_line = "key " + key.base64();
    const std::string message = signed_message(key_line, body);
    unsigned char signature[crypto_sign_BYTES];
    crypto_sign_detached(signature, nullptr, reinterpret_cast<const unsigned char*>(message.data()),
                         message.size(), secret_key);
    sodium_memzero(secret_key, sizeof secret_key);
    return std::string(signature_file_magic) + "\n" + key_line + "\nsignature " +
           to_base64(signature, sizeof signature) + "\n" + body;
}

DirectorySignatures::DirectorySignatures(int dir_fd, const std::string& dir,
                                         const std::vector<PublicKey>& trusted)
    : dir_(dir) {
    // A second descriptor: the caller keeps reading its own listing.
    const int own_fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (own_fd < 0)
        throw PluginError("versions directory " + dir + " cannot be read (" + std::strerror(errno) +
                          ")");
    const std::unique_ptr<DIR, int (*)(DIR*)> listing(::fdopendir(own_fd), &::closedir);
    if (!listing) {
        ::close(own_fd);
        throw PluginError("versions directory " + dir + " cannot be read");
    }
    std::vector<std::string> names;
    while (const dirent* entry = ::readdir(listing.get())) {
        const std::string_view name = entry->d_name;
        if (name.size() > signature_file_extension.size() &&
            name.substr(name.size() - signature_file_extension.size()) == signature_file_extension)
            names.emplace_back(name);
    }
    std::sort(names.begin(), names.end());
    std::string prefix = dir;
    if (prefix.empty() || prefix.back() != '/') prefix += '/';
    for (const auto& name : names) {
        const std::string path = prefix + name;
        const detail::OpenFile open(::dirfd(listing.get()), name.c_str());
        if (!open.is_open()) detail::throw_cannot_open("signature file " + path, open.error());
        SignatureFile parsed =
            parse_signature_file(read_bounded(open.fd(), open.status(), max_signature_file_size,
                                              "signature file " + path),
                                 path);
        if (!parsed.signature_valid)
            throw PluginError("signature file " + path +
                              " does not verify with the key it names: it was modified after it "
                              "was signed");
        const bool is_trusted =
            std::find(trusted.begin(), trusted.end(), parsed.key) != trusted.end();
        signers_.push_back(parsed.key.base64());
        files_.push_back(std::move(parsed));
        file_names_.push_back(path);
        const std::size_t index = files_.size() - 1;
        const auto& entries = files_.back().entries;
        auto& table = is_trusted ? trusted_ : untrusted_;
        table.reserve(table.size() + entries.size());
        for (std::size_t i = 0; i < entries.size(); ++i) {
            const SignedEntry& entry = entries[i];
            const auto [found, inserted] = table.emplace(entry.name, Place{index, i});
            if (inserted || !is_trusted) continue;
            const SignedEntry& other = files_[found->second.first].entries[found->second.second];
            if (other.file_sha256 != entry.file_sha256 ||
                other.metadata_digest != entry.metadata_digest)
                throw PluginError("plugin file " + prefix + entry.name +
                                  " is listed differently by signature files " +
                                  file_names_[found->second.first] + " and " + path +
                                  "; remove the one that is stale");
        }
    }
}

std::string DirectorySignatures::require_signed(const std::string& name, const std::string& path,
                                                std::string_view section,
                                                std::string& signer) const {
    const auto found = trusted_.find(name);
    if (found == trusted_.end()) {
        if (const auto other = untrusted_.find(name); other != untrusted_.end())
            throw PluginError("plugin file " + path + " is signed (in " +
                              file_names_[other->second.first] + ") by key " +
                              files_[other->second.first].key.base64() +
                              ", which is not a trusted key");
        throw PluginError("plugin file " + path +
                          " is not signed: no signature file of the versions directory " + dir_ +
                          " lists it (a plugin added or renamed after signing; sign it with "
                          "scaffold sign, or remove it)");
    }
    const auto [file, index] = found->second;
    const SignedEntry& entry = files_[file].entries[index];
    if (!equals_hex(metadata_digest(section), entry.metadata_digest))
        throw PluginError("plugin file " + path +
                          " does not match its signature: its metadata differ from the metadata "
                          "signed for it in " +
                          file_names_[file] + " (it was modified or replaced after signing)");
    signer = signers_[file];
    return entry.file_sha256;
}

}  // namespace migrator
