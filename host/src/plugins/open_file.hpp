// Private to plugins: a file opened once, and the fstat status its checks and reads all use.
#ifndef MIGRATOR_PLUGINS_OPEN_FILE_HPP
#define MIGRATOR_PLUGINS_OPEN_FILE_HPP

#include <fcntl.h>
#include <sys/stat.h>

#include <filesystem>
#include <migrator/plugins.hpp>
#include <string>

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

/// The identity (device, inode, size, mtime) of the file fstat described.
FileIdentity identity_of(const struct stat& status);

/// Throws PluginError: "`subject` does not exist" or "`subject` cannot be opened (reason)", where
/// `subject` is e.g. "plugin file /v/a.so" and `error` an errno.
[[noreturn]] void throw_cannot_open(const std::string& subject, int error);

/// Throws PluginError "plugin file `file` is not a regular file" unless `status` is one.
void require_regular_file(const std::string& file, const struct stat& status);

}  // namespace migrator::detail

#endif  // MIGRATOR_PLUGINS_OPEN_FILE_HPP
