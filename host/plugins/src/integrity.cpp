// The checks a plugin file must pass before any of its code runs: its integrity seal (a SHA-256
// of the whole file that its build appended) and the ELF checks of the loader.
#include <sodium.h>

#include <algorithm>
#include <cstdint>
#include <migrator/common/errors.hpp>
#include <migrator/plugins/plugins.hpp>
#include <string>
#include <string_view>

#include "open_file.hpp"

namespace migrator {
namespace {

constexpr std::string_view seal_magic = "\n" MIGRATOR_SEAL_MAGIC;
constexpr std::size_t digest_hex_size = 2 * crypto_hash_sha256_BYTES;
constexpr std::size_t seal_size = seal_magic.size() + digest_hex_size + 1;  // and a newline

/// What the last seal_size bytes of a file say about it.
enum class Seal {
    intact,    ///< a seal whose digest is the SHA-256 of every byte before it
    missing,   ///< no seal: built before seals, or stripped or rewritten after its build
    mismatch,  ///< a seal that does not match: the file changed after it was sealed
};

/// Reads exactly `size` bytes at `offset` of `fd`, or throws naming `file`.
void read_exactly(int fd, char* into, std::size_t size, std::uint64_t offset,
                  const std::string& file) {
    if (!detail::pread_exactly(fd, into, size, offset))
        throw PluginError("plugin file " + file +
                          " could not be read completely (did it change while being read?)");
}

/// The SHA-256, in lowercase hexadecimal, of the first `size` bytes of `fd`.
std::string sha256_hex(int fd, std::uint64_t size, const std::string& file) {
    // Thread-safe and idempotent; picks the fastest implementation for this processor.
    static const int initialised = sodium_init();
    static_cast<void>(initialised);
    crypto_hash_sha256_state state;
    crypto_hash_sha256_init(&state);
    char chunk[64 * 1024];
    for (std::uint64_t offset = 0; offset < size;) {
        const std::size_t length =
            static_cast<std::size_t>(std::min<std::uint64_t>(sizeof chunk, size - offset));
        read_exactly(fd, chunk, length, offset, file);
        crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(chunk), length);
        offset += length;
    }
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&state, digest);
    char hex[digest_hex_size + 1];
    sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
    return std::string(hex, digest_hex_size);
}

/// Judges the seal; an intact seal's digest is stored into `digest`.
Seal check_seal(int fd, std::uint64_t size, const std::string& file,
                std::string* digest = nullptr) {
    if (size < seal_size) return Seal::missing;
    const std::uint64_t body = size - seal_size;
    std::string seal(seal_size, '\0');
    read_exactly(fd, seal.data(), seal.size(), body, file);
    if (seal.compare(0, seal_magic.size(), seal_magic) != 0) return Seal::missing;
    if (seal.back() != '\n') return Seal::mismatch;
    const std::string_view recorded =
        std::string_view(seal).substr(seal_magic.size(), digest_hex_size);
    if (sha256_hex(fd, body, file) != recorded) return Seal::mismatch;
    if (digest != nullptr) *digest = std::string(recorded);
    return Seal::intact;
}

PluginError corrupt(const std::string& file) {
    return PluginError("plugin file " + file +
                       " is corrupt or was modified after it was built: its content does not "
                       "match the digest its build embedded");
}

}  // namespace

namespace detail {

void refuse_if_corrupt(int fd, std::uint64_t size, const std::string& file) {
    if (check_seal(fd, size, file) == Seal::mismatch) throw corrupt(file);
}

}  // namespace detail

std::string read_plugin_seal(int fd, std::uint64_t size, const std::string& file) {
    std::string digest;
    const Seal seal = check_seal(fd, size, file, &digest);
    if (seal == Seal::mismatch) throw corrupt(file);
    if (seal == Seal::missing)
        throw PluginError("plugin file " + file +
                          " carries no integrity seal; seal it (seal_plugin.cmake) before signing "
                          "it");
    return digest;
}

void check_plugin_image(int fd, std::uint64_t size, const std::string& file,
                        const std::string& signed_sha256) {
    // The seal first: a file that changed after its build is called corrupt, whatever else a
    // damaged byte makes it look like.
    std::string digest;
    const Seal seal = check_seal(fd, size, file, &digest);
    if (seal == Seal::mismatch) throw corrupt(file);
    // The seal's digest was just computed from this descriptor's bytes: when it is the digest a
    // trusted signature file lists, the file is the file that was signed.
    if (!signed_sha256.empty() && seal == Seal::intact && digest != signed_sha256)
        throw PluginError("plugin file " + file +
                          " does not match its signature: its content differs from the content "
                          "signed for it (it was modified or replaced after signing)");
    if (!signed_sha256.empty() && seal == Seal::missing)
        throw PluginError("plugin file " + file +
                          " does not match its signature: it carries no integrity seal (it was "
                          "rewritten after signing)");
    detail::check_loadable_elf(fd, size, file, MIGRATOR_ENTRY_SYMBOL);
    if (seal == Seal::missing)
        throw PluginError("plugin file " + file +
                          " carries no integrity seal: it was built by a migrator older than "
                          "this one, or stripped or rewritten after its build; rebuild it with "
                          "migrator_add_revision(), which seals it");
}

}  // namespace migrator
