// Private to plugins: a file opened once, and the fstat status its checks and reads all use.
#ifndef MIGRATOR_PLUGINS_OPEN_FILE_HPP
#define MIGRATOR_PLUGINS_OPEN_FILE_HPP

#include <fcntl.h>
#include <sys/stat.h>

#include <filesystem>
#include <migrator/plugins/plugins.hpp>
#include <set>
#include <string>
#include <string_view>

namespace migrator::detail {

/// One file opened read-only and close-on-exec, following a symlink, and what fstat said about
/// the file opened; closes it when destroyed. Never throws: a failed open or fstat leaves the
/// object closed with error() set.
class OpenFile {
public:
    /// Opens `name` relative to the directory open as `dir_fd` (AT_FDCWD: the working directory),
    /// adding `extra_flags` (O_DIRECTORY) to O_RDONLY|O_CLOEXEC|O_NONBLOCK|O_NOCTTY.
    OpenFile(int dir_fd, const char* name, int extra_flags = 0);
    ~OpenFile();
    OpenFile(const OpenFile&) = delete;
    OpenFile& operator=(const OpenFile&) = delete;

    bool is_open() const { return fd_ >= 0; }
    /// The errno of the open or fstat that failed; 0 when open.
    int error() const { return error_; }
    int fd() const { return fd_; }
    const struct stat& status() const { return status_; }
    /// Hands the descriptor over to the caller, who closes it.
    int release();

private:
    int fd_ = -1;
    int error_ = 0;
    struct stat status_ {};
};

/// Reads exactly `size` bytes at `offset` of `fd` with pread (the file offset is left alone),
/// retrying after signals; false when the file ends sooner or a read fails.
bool pread_exactly(int fd, char* into, std::size_t size, std::uint64_t offset);

/// The identity (device, inode, size, mtime) of the file fstat described.
FileIdentity identity_of(const struct stat& status);

/// Throws PluginError: "`subject` does not exist" or "`subject` cannot be opened (reason)", where
/// `subject` is e.g. "plugin file /v/a.so" and `error` an errno.
[[noreturn]] void throw_cannot_open(const std::string& subject, int error);

/// Throws PluginError "plugin file `file` is not a regular file" unless `status` is one.
void require_regular_file(const std::string& file, const struct stat& status);

/// OpenSSH's StrictModes for the directories above a trusted file: resolves every symlink of
/// `path` (a plugin file or the versions directory, as `kind` says) and judges each directory on
/// the resolved path, from the file's own up to /, with the rule of check_permissions, except
/// that a sticky directory (as /tmp) may be writable by others. Directories in `judged` (and so
/// those above them) are not judged again; those judged now are added. Throws PluginError naming
/// the directory, `path`, what is wrong and the fix. A path that cannot be resolved is left to
/// the open that follows, which reports it.
void check_directories_on_path(const std::string& path, TrustedPath kind,
                               std::set<std::string>& judged);

/// The checks of `open`, the file `file.path` opened again to be loaded or checked: throws
/// PluginError when it could not be opened (naming the open-file limit when that is why), is not
/// the file whose metadata was read, or (unless file.permission_check is skip) is no longer
/// trusted.
void check_reopened(const PluginFile& file, const OpenFile& open);

/// Throws the "is corrupt or was modified after it was built" PluginError when the file open as
/// `fd` (`size` bytes) carries a seal that does not match its content (integrity.cpp); a missing
/// seal is left to check_plugin_image.
void refuse_if_corrupt(int fd, std::uint64_t size, const std::string& file);

/// The ELF part of check_plugin_image: throws PluginError unless the file open as `fd` could be
/// loaded as a shared library of this process and defines `entry_symbol`. (Object-format-specific:
/// it lives with the ELF reader.)
void check_loadable_elf(int fd, std::uint64_t size, const std::string& file,
                        std::string_view entry_symbol);

}  // namespace migrator::detail

#endif  // MIGRATOR_PLUGINS_OPEN_FILE_HPP
