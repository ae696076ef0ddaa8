// Fuzz target: what migrator reads from signature files and key files: parse_signature_file
// (syntax, sizes, the signature check) and parse_public_keys: no crash, no sanitizer report, no
// exception but migrator::Error, every accepted entry well formed, every key read back equal.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <migrator/common/errors.hpp>
#include <migrator/plugins/signatures.hpp>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        const migrator::SignatureFile parsed = migrator::parse_signature_file(text, "fuzz");
        for (const auto& entry : parsed.entries) {
            // Every accepted entry is well formed: what the host compares and names in messages.
            if (entry.file_sha256.size() != 64 || entry.metadata_digest.size() != 64 ||
                entry.name.empty() || entry.name.find('/') != std::string::npos ||
                entry.name.find('\n') != std::string::npos) {
                std::fprintf(stderr, "a malformed entry was accepted\n");
                std::abort();
            }
        }
    } catch (const migrator::Error&) {
    }
    try {
        for (const auto& key : migrator::parse_public_keys(text, "fuzz"))
            if (!(migrator::parse_public_keys(key.line(), "again").front() == key)) std::abort();
    } catch (const migrator::Error&) {
    }
    return 0;
}
