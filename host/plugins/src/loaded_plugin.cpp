// Loading one revision plugin with Boost.DLL from the very file whose metadata was read, and
// checking its entry point against that metadata.
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <boost/dll/shared_library.hpp>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <migrator/common/errors.hpp>
#include <migrator/plugins/plugins.hpp>
#include <string>

#include "open_file.hpp"

namespace migrator {
namespace {

// Descriptors a run needs beside those of its loaded plugins: the database (SQLite's journal
// and WAL files, libpq's socket and certificates), the loader's own brief open of each plugin,
// standard streams. Refusing to load a plugin that would eat into them turns what would be an
// obscure failure in the middle of a run into a clear refusal before anything has changed.
constexpr std::uint64_t reserved_descriptors = 32;

/// Plugins loaded and not yet unloaded in this process, for the open-file-limit message.
std::atomic<std::size_t> live_plugins{0};

/// The name through which the dynamic loader opens the file open as `fd`: that open file itself,
/// whatever is at its path now. (Linux; glibc has no fdlopen.)
std::string loader_name(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

/// The refusal for a process that may not open enough files to keep the plan's plugins loaded.
PluginError too_many_files(const std::string& name) {
    rlimit limit{};
    ::getrlimit(RLIMIT_NOFILE, &limit);
    const auto text = [](rlim_t value) {
        return value == RLIM_INFINITY ? std::string("unlimited") : std::to_string(value);
    };
    const std::size_t loaded = live_plugins.load();
    std::string message = "cannot load plugin " + name + ": ";
    if (loaded > 0) message += std::to_string(loaded) + " plugins are loaded already and ";
    message += "this process may have only " + text(limit.rlim_cur) + " files open (hard limit " +
               text(limit.rlim_max) + ", of which migrator keeps " +
               std::to_string(reserved_descriptors) +
               " for the database); raise the hard limit (ulimit -Hn, or LimitNOFILE= for a "
               "systemd service)";
    if (loaded > 0)
        message += " or migrate at most " + std::to_string(loaded) +
                   " revisions at a time (upgrade +" + std::to_string(loaded) + ", downgrade -" +
                   std::to_string(loaded) + ")";
    return PluginError(message);
}

/// Whether taking descriptor `fd` leaves fewer than reserved_descriptors free. Descriptors are
/// handed out lowest first, so `fd` is about how many are open.
bool eats_into_reserve(int fd) {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return false;
    return static_cast<std::uint64_t>(fd) + reserved_descriptors >= limit.rlim_cur;
}

/// glibc's dlopen hands back an object already loaded under the same name without opening the
/// file at all. A plugin that was unloaded but stayed resident (RTLD_NODELETE, unique symbols)
/// keeps the name /proc/self/fd/N of a descriptor since closed and now given to another file;
/// loading that name would return the old plugin. Moves `fd` to a number no loaded object is
/// named after and returns it (or -1 with errno set).
int unclaimed_descriptor(int fd) {
    while (true) {
        const std::string name = loader_name(fd);
        // RTLD_NOLOAD runs no code: it finds a loaded object by name, or by the file's device
        // and inode (the same plugin file loaded already, which is the one we want anyway).
        void* resident = ::dlopen(name.c_str(), RTLD_LAZY | RTLD_LOCAL | RTLD_NOLOAD);
        if (resident == nullptr) return fd;
        link_map* map = nullptr;
        const bool same_name = ::dlinfo(resident, RTLD_DI_LINKMAP, &map) == 0 && map != nullptr &&
                               map->l_name != nullptr && name == map->l_name;
        ::dlclose(resident);
        if (!same_name) return fd;
        const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, fd + 1);
        const int saved = errno;
        ::close(fd);
        if (moved < 0) {
            errno = saved;
            return -1;
        }
        fd = moved;
    }
}

}  // namespace

struct LoadedPlugin::Library {
    /// Kept open while the library is loaded: its number is the library's name to the loader,
    /// and a number closed early could be given to the next plugin, which would then be "found".
    int fd = -1;
    boost::dll::shared_library library;
    ~Library() {
        library.unload();  // before the descriptor that names it goes
        if (fd >= 0) ::close(fd);
    }
};

namespace detail {

void check_reopened(const PluginFile& file, const OpenFile& open) {
    const std::string& name = file.path;
    if (!open.is_open()) {
        if (open.error() == EMFILE || open.error() == ENFILE) throw too_many_files(name);
        if (open.error() == ENOENT)
            throw PluginError("plugin " + name + " was removed since it was read; run again");
        throw_cannot_open("plugin file " + name, open.error());
    }
    if (identity_of(open.status()) != file.identity)
        throw PluginError("plugin " + name + " changed since it was read; run again");
    if (file.permission_check == PermissionCheck::enforce)
        check_permissions(file.path, TrustedPath::plugin_file, open.status().st_mode,
                          open.status().st_uid, ::geteuid());
}

}  // namespace detail

void check_plugin_file(const PluginFile& file) {
    const detail::OpenFile open(AT_FDCWD, file.path.c_str());
    detail::check_reopened(file, open);
    check_plugin_image(open.fd(), file.identity.size, file.path, file.signed_sha256);
}

LoadedPlugin::LoadedPlugin(const PluginFile& file) : file_(file), library_(new Library) {
    const std::string& name = file_.path;
    {
        detail::OpenFile open(AT_FDCWD, name.c_str());
        detail::check_reopened(file_, open);
        // From the descriptor that is loaded below: the bytes checked are the bytes loaded.
        check_plugin_image(open.fd(), file_.identity.size, name, file_.signed_sha256);
        library_->fd = unclaimed_descriptor(open.release());
        if (library_->fd < 0) {
            if (errno == EMFILE || errno == ENFILE) throw too_many_files(name);
            throw PluginError("cannot load plugin " + name + ": " + std::strerror(errno));
        }
        if (eats_into_reserve(library_->fd)) throw too_many_files(name);
    }
    try {
        // RTLD_LOCAL keeps one revision's symbols from resolving another's; RTLD_NOW reports a
        // missing symbol here rather than in the middle of a migration.
        library_->library.load(boost::dll::fs::path(loader_name(library_->fd)),
                               boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
    } catch (const std::exception& e) {
        if (::access("/proc/self/fd", F_OK) != 0)
            throw PluginError("cannot load plugin " + name +
                              ": migrator loads plugins through /proc/self/fd, and /proc is not "
                              "mounted");
        throw PluginError("cannot load plugin " + name + ": " + e.what());
    }
    if (!library_->library.has(MIGRATOR_ENTRY_SYMBOL))
        throw PluginError("plugin " + name +
                          " does not export " MIGRATOR_ENTRY_SYMBOL
                          "; was it built with migrator_add_revision()?");
    const auto entry = library_->library.get<const migrator_plugin*()>(MIGRATOR_ENTRY_SYMBOL);
    entry_ = entry();
    if (entry_ == nullptr)
        throw PluginError("plugin " + name + ": " MIGRATOR_ENTRY_SYMBOL " returned nothing");
    // The magic-block check of PostgreSQL modules: refuse before calling anything else.
    if (entry_->abi_version < 1 || entry_->abi_version > MIGRATOR_ABI_VERSION)
        throw PluginError(
            abi_refusal("plugin " + name + " (its entry point)", entry_->abi_version));
    // The fields of ABI 1 are all a host reads: a plugin of any version has at least those.
    if (entry_->struct_size < offsetof(migrator_plugin, downgrade) + sizeof(migrator_step_fn))
        throw PluginError("plugin " + name + " returned an incomplete plugin description (" +
                          std::to_string(entry_->struct_size) + " bytes); rebuild it");
    // The section is read again from the very file loaded (its descriptor is still open), rather
    // than kept from discovery for every plugin of the versions directory.
    const std::string section =
        read_elf_section(library_->fd, file_.identity.size, name, MIGRATOR_METADATA_SECTION);
    if (entry_->metadata == nullptr || std::string_view(entry_->metadata, entry_->metadata_size) !=
                                           std::string_view(section).substr(0, section.find('\0')))
        throw PluginError("plugin " + name +
                          ": the metadata its entry point returns differs from its metadata "
                          "section; the file was built incorrectly or tampered with");
    // From the section just read, the very bytes the entry point was compared with.
    const unsigned section_abi = parse_metadata(section, name).abi;
    if (entry_->abi_version != section_abi)
        throw PluginError("plugin " + name + ": its entry point says plugin ABI version " +
                          std::to_string(entry_->abi_version) + " but its metadata says " +
                          std::to_string(section_abi) +
                          "; the file was built incorrectly or tampered with");
    if (entry_->upgrade == nullptr || entry_->downgrade == nullptr)
        throw PluginError("plugin " + name + " has no upgrade or downgrade function");
    ++live_plugins;
}

LoadedPlugin::~LoadedPlugin() { --live_plugins; }

std::string_view LoadedPlugin::entry_metadata() const {
    return std::string_view(entry_->metadata, entry_->metadata_size);
}

std::string LoadedPlugin::image() const {
    std::string bytes(file_.identity.size, '\0');
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t got =
            ::pread(library_->fd, &bytes[done], bytes.size() - done, static_cast<off_t>(done));
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0)
            throw PluginError("cannot read plugin " + file_.path + ": " +
                              (got < 0 ? std::strerror(errno) : "it is shorter than it was"));
        done += static_cast<std::size_t>(got);
    }
    return bytes;
}

std::string LoadedPlugin::seal_digest() const {
    return read_plugin_seal(library_->fd, file_.identity.size, file_.path);
}

std::uint32_t LoadedPlugin::abi_version() const { return entry_->abi_version; }

migrator_step_fn LoadedPlugin::step(Direction direction) const {
    return direction == Direction::upgrade ? entry_->upgrade : entry_->downgrade;
}

}  // namespace migrator
