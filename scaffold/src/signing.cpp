// scaffold keygen and scaffold sign (see signing.hpp).
#include "signing.hpp"

#include <fcntl.h>
#include <migrator/plugin_abi.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <migrator/common/errors.hpp>
#include <migrator/plugins/plugins.hpp>
#include <migrator/plugins/signatures.hpp>
#include <sstream>
#include <stdexcept>

namespace migrator::scaffold {
namespace fs = std::filesystem;
namespace {

/// Creates `path` exclusively with `mode` and writes `text`; throws naming it.
void write_new_file(const fs::path& path, const std::string& text, mode_t mode) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        throw Error("cannot create " + path.string() + " (" + std::strerror(errno) +
                    (errno == EEXIST ? "; keygen never overwrites a key" : "") + ")");
    // The umask may have cleared bits of `mode` but never adds any: set exactly `mode`.
    const bool written =
        ::fchmod(fd, mode) == 0 &&
        ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
        ::fsync(fd) == 0;
    ::close(fd);
    if (!written) throw Error("cannot write " + path.string());
}

std::string read_small_file(const fs::path& path, const char* what) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(std::string("cannot read ") + what + " " + path.string());
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text.size() > 64 * 1024)
        throw Error(std::string(what) + " " + path.string() + " is too large");
    return text;
}

/// The entry of one plugin file: its seal's digest (after checking it), metadata digest and id.
SignedEntry entry_of(const fs::path& plugin) {
    const std::string name = plugin.string();
    const int fd = ::open(plugin.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error("cannot open plugin file " + name + " (" + std::strerror(errno) + ")");
    struct stat status {};
    SignedEntry entry;
    try {
        if (::fstat(fd, &status) != 0 || !S_ISREG(status.st_mode))
            throw PluginError("plugin file " + name + " is not a regular file");
        const auto size = static_cast<std::uint64_t>(status.st_size);
        entry.file_sha256 = read_plugin_seal(fd, size, name);
        const std::string section = read_elf_section(fd, size, name, MIGRATOR_METADATA_SECTION);
        entry.metadata_digest = metadata_digest_hex(section);
        entry.revision_id = parse_metadata(section, name).id;
    } catch (...) {
        ::close(fd);
        throw;
    }
    ::close(fd);
    entry.name = plugin.filename().string();
    return entry;
}

}  // namespace

std::vector<fs::path> write_key_pair(const fs::path& dir) {
    std::error_code error;
    fs::create_directories(dir, error);
    if (error) throw Error("cannot create " + dir.string() + " (" + error.message() + ")");
    const KeyPairText pair = generate_key_pair();
    const fs::path secret = dir / "migrator-signing.key";
    const fs::path public_key = dir / "migrator-signing.pub";
    if (fs::exists(public_key, error))
        throw Error("cannot create " + public_key.string() +
                    " (it exists; keygen never overwrites a key)");
    write_new_file(secret, pair.secret_line, 0600);
    write_new_file(public_key, pair.public_line, 0644);
    return {secret, public_key};
}

fs::path sign_plugins(const fs::path& key_file, const std::vector<fs::path>& paths,
                      const std::string& output_name, std::ostream* out) {
    const std::string secret = read_small_file(key_file, "key file");
    std::vector<fs::path> plugins;
    fs::path dir;
    const auto add = [&](const fs::path& plugin) {
        const fs::path parent = fs::absolute(plugin).parent_path();
        if (dir.empty()) dir = parent;
        if (parent != dir)
            throw Error("scaffold sign signs the plugins of one directory; " + plugin.string() +
                        " is not in " + dir.string());
        plugins.push_back(fs::absolute(plugin));
    };
    for (const auto& path : paths) {
        std::error_code error;
        if (fs::is_directory(path, error)) {
            if (dir.empty()) dir = fs::absolute(path).lexically_normal();
            if (dir.filename().empty()) dir = dir.parent_path();
            for (const auto& item : fs::directory_iterator(path))
                if (item.path().extension() == ".so" && item.is_regular_file()) add(item.path());
        } else if (fs::is_regular_file(path, error)) {
            add(path);
        } else {
            throw Error("cannot sign " + path.string() + ": no such file or directory");
        }
    }
    if (plugins.empty()) throw Error("no plugin (.so) to sign in " + dir.string());
    std::sort(plugins.begin(), plugins.end());
    plugins.erase(std::unique(plugins.begin(), plugins.end()), plugins.end());
    std::vector<SignedEntry> entries;
    for (const auto& plugin : plugins) entries.push_back(entry_of(plugin));
    const std::string text = render_signature_file(entries, secret, key_file.string());

    const std::string name =
        output_name.empty() ? std::string(default_signature_file) : output_name;
    if (name.find('/') != std::string::npos || name.size() <= signature_file_extension.size() ||
        name.substr(name.size() - signature_file_extension.size()) != signature_file_extension)
        throw Error("the signature file name " + name + " must end in " +
                    std::string(signature_file_extension) + " and hold no '/'");
    const fs::path output = dir / name;
    const fs::path temporary = dir / (name + ".tmp");
    fs::remove(temporary);
    write_new_file(temporary, text, 0644);
    fs::rename(temporary, output);
    if (out != nullptr) {
        for (const auto& entry : entries)
            *out << "Signed " << entry.name << " (" << entry.revision_id << ")\n";
        *out << "Wrote " << output.string() << '\n';
    }
    return output;
}

}  // namespace migrator::scaffold
