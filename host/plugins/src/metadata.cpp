// Plugin metadata: parsing the metadata text, reading it from trusted plugin files, scanning a
// versions dir.
#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <exception>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <migrator/common/errors.hpp>
#include <migrator/plugins/plugins.hpp>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "open_file.hpp"

namespace migrator {
namespace {

constexpr std::size_t max_id_length = 32;  // Alembic's version_num is VARCHAR(32)
constexpr std::size_t sha256_hex_length = 64;
// What is_revision_id asks of every name in metadata, as refusals say it.
constexpr const char* name_rule = " is not 1 to 32 characters of [0-9A-Za-z_]";

std::string_view trim_spaces(std::string_view text) {
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string_view::npos) return {};
    const auto last = text.find_last_not_of(" \t");
    return text.substr(first, last - first + 1);
}

/// Directories with fewer plugins are read by one reader: a thread costs more than it saves.
constexpr std::size_t parallel_scan_threshold = 512;
constexpr std::size_t max_readers = 4;

/// `name` ends in ".so" and is more than that (".so" alone is a hidden file, not a plugin).
bool has_plugin_extension(std::string_view name) {
    return name.size() > 3 && name.substr(name.size() - 3) == ".so";
}

/// The section's text up to its terminating NUL: what the entry point reports as its metadata.
std::string_view until_nul(std::string_view text) { return text.substr(0, text.find('\0')); }

}  // namespace

bool is_revision_id(std::string_view id) {
    if (id.empty() || id.size() > max_id_length) return false;
    return std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               c == '_';
    });
}

bool is_sha256_hex(std::string_view text) {
    // Called for every digest of a signature file and every plugin's metadata: one table look-up
    // a character.
    static const auto lowercase_hex = [] {
        std::array<bool, 256> table{};
        for (const char c : std::string_view("0123456789abcdef"))
            table[static_cast<unsigned char>(c)] = true;
        return table;
    }();
    if (text.size() != sha256_hex_length) return false;
    bool all = true;
    for (const char c : text) all &= lowercase_hex[static_cast<unsigned char>(c)];
    return all;
}

std::string abi_refusal(const std::string& subject, unsigned long version) {
    return subject + " was built for plugin ABI version " + std::to_string(version) +
           ", but this migrator supports versions 1 to " + std::to_string(MIGRATOR_ABI_VERSION) +
           "; rebuild it";
}

std::string name_refusal(std::string_view what, std::string_view name) {
    if (is_revision_id(name)) return {};
    return "the " + std::string(what) + " '" + std::string(name) + "'" + name_rule;
}

Revision parse_metadata(std::string_view text, const std::string& file) {
    return parse_metadata(text, "plugin file " + file, file);
}

Revision parse_metadata(std::string_view text, const std::string& subject,
                        const std::string& path) {
    const auto fail = [&subject](const std::string& what) -> PluginError {
        return PluginError(subject + " has invalid metadata: " + what);
    };
    text = until_nul(text);

    std::map<std::string_view, std::string_view> values;
    bool first_line = true;
    std::size_t line_number = 0;
    while (!text.empty()) {
        const std::size_t end = text.find('\n');
        const std::string_view line = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
        ++line_number;
        if (first_line) {
            if (line != MIGRATOR_METADATA_MAGIC)
                throw fail("it does not start with the line '" MIGRATOR_METADATA_MAGIC "'");
            first_line = false;
            continue;
        }
        if (line.empty()) continue;
        const std::size_t equals = line.find('=');
        if (equals == std::string_view::npos)
            throw fail("line " + std::to_string(line_number) + " ('" + std::string(line) +
                       "') is not of the form key=value");
        const std::string_view key = line.substr(0, equals);
        if (!values.emplace(key, line.substr(equals + 1)).second)
            throw fail("the key '" + std::string(key) + "' appears more than once");
    }
    if (first_line) throw fail("it is empty");

    const auto required = [&](std::string_view key) {
        const auto found = values.find(key);
        if (found == values.end())
            throw fail("the required key '" + std::string(key) + "' is missing");
        return found->second;
    };
    const auto optional = [&](std::string_view key) {
        const auto found = values.find(key);
        return found == values.end() ? std::string_view{} : found->second;
    };

    // The ABI version decides how everything else is read, so it is checked before anything else.
    const std::string_view abi = required("abi");
    const bool numeric = !abi.empty() && abi.size() <= 9 &&
                         abi.find_first_not_of("0123456789") == std::string_view::npos;
    if (!numeric) throw fail("the ABI version '" + std::string(abi) + "' is not a number");
    const unsigned long version = std::stoul(std::string(abi));
    if (version < 1 || version > MIGRATOR_ABI_VERSION)
        throw PluginError(abi_refusal(subject, version));

    Revision revision;
    revision.abi = static_cast<unsigned>(version);
    // Informational (show, verify): a plugin of ABI 1 has neither; what a value means is not
    // judged here, the platform is judged against the file's ELF header by the reader.
    revision.plugin_api = std::string(optional("api"));
    revision.platform = std::string(optional("platform"));
    const std::string_view id = required("id");
    if (const auto refusal = name_refusal("revision id", id); !refusal.empty()) throw fail(refusal);
    revision.id = std::string(id);

    // Comma-separated names: parents, labels and dependencies are all written this way.
    const auto parse_list = [&](std::string_view key, std::string_view list, const char* what) {
        std::vector<std::string> names;
        if (trim_spaces(list).empty()) return names;
        std::string_view rest = list;
        while (true) {
            const std::size_t comma = rest.find(',');
            const std::string_view item = trim_spaces(rest.substr(0, comma));
            if (!is_revision_id(item))
                throw fail("the " + std::string(what) + " '" + std::string(item) + "' in '" +
                           std::string(key) + "=" + std::string(list) + "'" + name_rule);
            if (std::find(names.begin(), names.end(), item) != names.end())
                throw fail("the " + std::string(what) + " '" + std::string(item) +
                           "' is listed twice");
            names.emplace_back(item);
            if (comma == std::string_view::npos) break;
            rest = rest.substr(comma + 1);
        }
        return names;
    };
    revision.parents = parse_list("down", required("down"), "down revision");
    revision.branch_labels = parse_list("labels", optional("labels"), "branch label");
    revision.depends_on = parse_list("depends_on", optional("depends_on"), "dependency");

    revision.message = std::string(required("message"));
    revision.create_date = std::string(optional("created"));
    const std::string_view sha256 = optional("sha256");
    if (!sha256.empty() && !is_sha256_hex(sha256))
        throw fail("the source checksum '" + std::string(sha256) +
                   "' is not 64 lowercase hexadecimal digits");
    revision.source_sha256 = std::string(sha256);
    const std::string_view transactional = optional("transactional");
    if (transactional == "0")
        revision.transactional = false;
    else if (!transactional.empty() && transactional != "1")
        throw fail("transactional=" + std::string(transactional) + " is neither 0 nor 1");
    revision.path = path;
    return revision;
}

namespace {

/// A plugin file read as far as its metadata section: nothing in it is judged or parsed yet.
struct SectionOfFile {
    std::string path;
    std::string section;
    ElfPlatform platform;
    struct stat status {};
};

/// Step one of reading a plugin: the file open as `open`, which `path` (absolute) names, is judged
/// by its type and permissions, then its metadata section is read from that open file.
SectionOfFile read_section_of(const detail::OpenFile& open, std::string path, PermissionCheck check,
                              uid_t effective_uid) {
    if (!open.is_open()) detail::throw_cannot_open("plugin file " + path, open.error());
    SectionOfFile read;
    read.status = open.status();
    detail::require_regular_file(path, read.status);
    if (check == PermissionCheck::enforce)
        check_permissions(path, TrustedPath::plugin_file, read.status.st_mode, read.status.st_uid,
                          effective_uid);
    read.section = read_elf_section(open.fd(), static_cast<std::uint64_t>(read.status.st_size),
                                    path, MIGRATOR_METADATA_SECTION, read.platform);
    read.path = std::move(path);
    return read;
}

/// Step two: the section becomes a plugin. With `signatures`, the plugin must be listed under
/// `name` by a trusted signature file with the metadata section it holds, before that section is
/// parsed. When the platform is refused, `refuse_if_corrupt` is called first: one damaged byte of
/// the header can look like another machine, and a file whose seal does not match is called
/// corrupt, as the loader's checks would call it.
PluginFile plugin_of(SectionOfFile read, PermissionCheck check,
                     const DirectorySignatures* signatures, const std::string& name,
                     const std::function<void(const SectionOfFile&)>& refuse_if_corrupt) {
    PluginFile plugin;
    // Not one byte of an unsigned or modified plugin's metadata reaches the graph.
    if (signatures != nullptr)
        plugin.signed_sha256 =
            signatures->require_signed(name, read.path, read.section, plugin.signer);
    plugin.revision = parse_metadata(read.section, read.path);
    // Before anything is loaded, and on every command that reads plugins (history too): a
    // foreign plugin is refused here, by the platform it names, not later by the dynamic loader.
    try {
        check_plugin_platform(plugin.revision, read.platform, read.path);
    } catch (const PluginError&) {
        refuse_if_corrupt(read);
        throw;
    }
    if (plugin.revision.platform.empty()) plugin.revision.platform = read.platform.name();
    plugin.identity = detail::identity_of(read.status);
    plugin.path = std::move(read.path);
    plugin.permission_check = check;
    return plugin;
}

/// plugin_of's seal check for a file still open as `open`.
std::function<void(const SectionOfFile&)> seal_check_of(const detail::OpenFile& open) {
    return [&open](const SectionOfFile& read) {
        detail::refuse_if_corrupt(open.fd(), static_cast<std::uint64_t>(read.status.st_size),
                                  read.path);
    };
}

/// Whether `entry`, of the directory open as `dir_fd`, is a regular file or a symlink to one.
/// Asks the file system only when readdir's type says nothing or says symlink, and
/// never opens the entry, so a FIFO or device named like a plugin is not even opened.
bool is_regular_entry(int dir_fd, const dirent& entry) {
    if (entry.d_type == DT_REG) return true;
    if (entry.d_type != DT_LNK && entry.d_type != DT_UNKNOWN) return false;
    struct stat status {};
    // A dangling symlink is skipped like any other non-plugin entry.
    return ::fstatat(dir_fd, entry.d_name, &status, 0) == 0 && S_ISREG(status.st_mode);
}

/// Whether `entry`, of the directory open as `dir_fd`, is a symlink.
bool is_symlink_entry(int dir_fd, const dirent& entry) {
    if (entry.d_type != DT_UNKNOWN) return entry.d_type == DT_LNK;
    struct stat status {};
    return ::fstatat(dir_fd, entry.d_name, &status, AT_SYMLINK_NOFOLLOW) == 0 &&
           S_ISLNK(status.st_mode);
}

}  // namespace

PluginFile read_plugin_file(const std::filesystem::path& file, PermissionCheck check) {
    std::error_code error;
    std::filesystem::path path = std::filesystem::absolute(file, error);
    if (error)
        throw PluginError("plugin file " + file.string() + " cannot be located (" +
                          error.message() + ")");
    if (check == PermissionCheck::enforce) {
        std::set<std::string> judged;
        detail::check_directories_on_path(path.string(), TrustedPath::plugin_file, judged);
    }
    const detail::OpenFile open(AT_FDCWD, path.c_str());
    return plugin_of(read_section_of(open, path.string(), check, ::geteuid()), check, nullptr, {},
                     seal_check_of(open));
}

std::vector<PluginFile> scan_versions_dir(const std::filesystem::path& dir, PermissionCheck check,
                                          const std::vector<PublicKey>& trusted_keys) {
    const std::string name = dir.string();
    std::error_code error;
    const std::filesystem::path absolute_dir = std::filesystem::absolute(dir, error);
    if (error)
        throw PluginError("versions directory " + name + " cannot be located (" + error.message() +
                          ")");
    // The directory is opened once, judged by fstat and listed from that open directory, so the
    // directory checked is the directory read.
    detail::OpenFile open(AT_FDCWD, absolute_dir.c_str(), O_DIRECTORY);
    if (!open.is_open()) {
        if (open.error() == ENOTDIR)
            throw PluginError("versions directory " + name + " is not a directory");
        if (open.error() == ENOENT)
            throw PluginError("versions directory " + name + " does not exist");
        throw PluginError("versions directory " + name + " cannot be read (" +
                          std::strerror(open.error()) + ")");
    }
    // The directories above it, and above each symlinked plugin's target: whoever may replace
    // one of them may replace the plugins.
    std::set<std::string> judged;
    if (check == PermissionCheck::enforce) {
        check_permissions(absolute_dir, TrustedPath::versions_dir, open.status().st_mode,
                          open.status().st_uid, ::geteuid());
        detail::check_directories_on_path(absolute_dir, TrustedPath::versions_dir, judged);
    }
    std::string prefix = absolute_dir.string();
    if (prefix.empty() || prefix.back() != '/') prefix += '/';

    const std::unique_ptr<DIR, int (*)(DIR*)> listing(::fdopendir(open.fd()), &::closedir);
    if (!listing)
        throw PluginError("versions directory " + name + " cannot be read (" +
                          std::strerror(errno) + ")");
    open.release();  // closedir closes it now
    const int dir_fd = ::dirfd(listing.get());

    // With trusted keys, the signature files are read and checked (one signature over a file of
    // about 190 bytes per plugin) on another thread while this one lists the directory and the
    // readers read the plugins' metadata sections; no section is judged or parsed before the
    // check is done.
    std::shared_future<std::unique_ptr<DirectorySignatures>> pending_signatures;
    const auto read_signatures = [&] {
        return std::make_unique<DirectorySignatures>(dir_fd, absolute_dir.string(), trusted_keys);
    };
    if (!trusted_keys.empty()) {
        try {
            pending_signatures = std::async(std::launch::async, read_signatures).share();
        } catch (const std::system_error&) {
            pending_signatures = std::async(std::launch::deferred, read_signatures).share();
        }
    }

    std::vector<std::string> names;
    while (true) {
        errno = 0;
        const dirent* entry = ::readdir(listing.get());
        if (entry == nullptr) {
            if (errno != 0)
                throw PluginError("versions directory " + name + " cannot be read (" +
                                  std::strerror(errno) + ")");
            break;
        }
        if (!has_plugin_extension(entry->d_name)) continue;
        if (!is_regular_entry(dir_fd, *entry)) continue;
        names.emplace_back(entry->d_name);
        if (check == PermissionCheck::enforce && is_symlink_entry(dir_fd, *entry))
            detail::check_directories_on_path(prefix + entry->d_name, TrustedPath::plugin_file,
                                              judged);
    }

    std::sort(names.begin(), names.end());
    std::vector<PluginFile> plugins(names.size());
    const uid_t effective_uid = ::geteuid();
    // A file whose platform is refused after it was closed is opened again for its seal, if it
    // is still the file read.
    const auto seal_check_again = [dir_fd](const std::string& file_name) {
        return [dir_fd, &file_name](const SectionOfFile& read) {
            const detail::OpenFile again(dir_fd, file_name.c_str());
            if (again.is_open() &&
                detail::identity_of(again.status()) == detail::identity_of(read.status))
                detail::refuse_if_corrupt(
                    again.fd(), static_cast<std::uint64_t>(read.status.st_size), read.path);
        };
    };
    // Reads names[begin, end) into plugins, one file open at a time per reader, so a versions
    // directory of 10,000 revisions never holds 10,000 descriptors. With signatures, every
    // metadata section is read first, while the signature files are checked, and each is judged
    // and parsed once the check is done; a failure in the first step is reported after the files
    // before it have taken the second, so the first failing file in name order is the one
    // reported.
    const auto read_range = [&](std::size_t begin, std::size_t end) {
        const bool with_signatures = pending_signatures.valid();
        std::vector<SectionOfFile> sections;
        if (with_signatures) sections.reserve(end - begin);
        std::exception_ptr failure;
        for (std::size_t i = begin; i < end && !failure; ++i) {
            try {
                const detail::OpenFile plugin(dir_fd, names[i].c_str());
                SectionOfFile read =
                    read_section_of(plugin, prefix + names[i], check, effective_uid);
                if (with_signatures)
                    sections.push_back(std::move(read));
                else
                    plugins[i] =
                        plugin_of(std::move(read), check, nullptr, names[i], seal_check_of(plugin));
            } catch (...) {
                failure = std::current_exception();
            }
        }
        if (with_signatures) {
            const DirectorySignatures& signatures = *pending_signatures.get();
            for (std::size_t k = 0; k < sections.size(); ++k)
                plugins[begin + k] =
                    plugin_of(std::move(sections[k]), check, &signatures, names[begin + k],
                              seal_check_again(names[begin + k]));
        }
        if (failure) std::rethrow_exception(failure);
    };
    // The cost is system calls (open, fstat, pread, close: ~10 us each file on this kind of
    // machine), which run in parallel on other cores: large directories are read by up to four
    // readers, each a contiguous range, so the first failing file in name order is the one
    // reported, as with one reader.
    const std::size_t cores = std::max(1U, std::thread::hardware_concurrency());
    const std::size_t readers = names.size() < parallel_scan_threshold
                                    ? 1
                                    : std::min<std::size_t>({cores, max_readers, names.size()});
    std::vector<std::exception_ptr> failures(readers);
    std::vector<std::thread> threads;
    const auto run_reader = [&](std::size_t reader) {
        try {
            read_range(names.size() * reader / readers, names.size() * (reader + 1) / readers);
        } catch (...) {
            failures[reader] = std::current_exception();
        }
    };
    try {
        for (std::size_t reader = 1; reader < readers; ++reader)
            threads.emplace_back(run_reader, reader);
    } catch (const std::system_error&) {
        // No thread to spare: the readers not started run here, after the first.
    }
    run_reader(0);
    for (std::size_t reader = threads.size() + 1; reader < readers; ++reader) run_reader(reader);
    for (auto& thread : threads) thread.join();
    // A signature file's failure comes first: no plugin is judged without the check.
    if (pending_signatures.valid()) pending_signatures.get();
    for (const auto& failure : failures)
        if (failure) std::rethrow_exception(failure);
    return plugins;
}

}  // namespace migrator
