// Whether a plugin file or the versions directory can be trusted: opened once, judged by fstat
// with OpenSSH's rule for key files; and the open-file limit that loaded plugins count against.
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <migrator/common/errors.hpp>
#include <migrator/plugins/plugins.hpp>
#include <set>
#include <string>
#include <vector>

#include "open_file.hpp"

namespace migrator {
namespace detail {

OpenFile::OpenFile(int dir_fd, const char* name, int extra_flags) {
    // O_NONBLOCK: opening a FIFO must not block before fstat can refuse it; O_NOCTTY: a terminal
    // named like a plugin must not become the controlling terminal.
    fd_ = ::openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | extra_flags);
    if (fd_ < 0) {
        error_ = errno;
        return;
    }
    if (::fstat(fd_, &status_) != 0) {
        error_ = errno;
        ::close(fd_);
        fd_ = -1;
    }
}

OpenFile::~OpenFile() {
    if (fd_ >= 0) ::close(fd_);
}

int OpenFile::release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
}

bool pread_exactly(int fd, char* into, std::size_t size, std::uint64_t offset) {
    std::size_t done = 0;
    while (done < size) {
        const ssize_t got =
            ::pread(fd, into + done, size - done, static_cast<off_t>(offset + done));
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return false;
        done += static_cast<std::size_t>(got);
    }
    return true;
}

FileIdentity identity_of(const struct stat& status) {
    FileIdentity identity;
    identity.device = static_cast<std::uint64_t>(status.st_dev);
    identity.inode = static_cast<std::uint64_t>(status.st_ino);
    identity.size = static_cast<std::uint64_t>(status.st_size);
    identity.mtime_ns = static_cast<std::int64_t>(status.st_mtim.tv_sec) * 1'000'000'000 +
                        static_cast<std::int64_t>(status.st_mtim.tv_nsec);
    return identity;
}

void throw_cannot_open(const std::string& subject, int error) {
    if (error == ENOENT) throw PluginError(subject + " does not exist");
    throw PluginError(subject + " cannot be opened (" + std::strerror(error) + ")");
}

void require_regular_file(const std::string& file, const struct stat& status) {
    // A FIFO or a device would block or never end; only plain files can be plugins.
    if (!S_ISREG(status.st_mode))
        throw PluginError("plugin file " + file + " is not a regular file");
}

}  // namespace detail

namespace {

/// `path` as a shell word, quoted only when it needs to be, for a command to copy and paste.
std::string shell_word(const std::string& path) {
    const bool plain = !path.empty() && path.find_first_not_of(
                                            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                            "0123456789_./+-=:,@%") == std::string::npos;
    if (plain) return path;
    std::string quoted = "'";
    for (const char c : path) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return quoted + "'";
}

/// How messages name a kind of trusted path, and what trusting it wrongly would risk.
struct TrustedPathWords {
    const char* subject;
    const char* risk;
};

TrustedPathWords words_of(TrustedPath kind) {
    switch (kind) {
        case TrustedPath::plugin_file:
            return {"plugin file ", "someone else could change the code migrator runs"};
        case TrustedPath::versions_dir:
            return {"versions directory ",
                    "someone else could add or replace the plugins migrator runs"};
        case TrustedPath::config_file:
            return {"config file ", "its permission_check = false may not be yours"};
        case TrustedPath::key_file:
            return {"key file ", "someone else could make migrator trust their signatures"};
        case TrustedPath::schema_file:
            return {"schema file ",
                    "someone else could change the SQL migrator runs on your database"};
    }
    return {"file ", "someone else could change it"};
}

/// "plugin file P", "versions directory P", ..., and the target when P is a symlink (the file
/// whose status was judged).
std::string subject_of(const std::string& path, TrustedPath kind) {
    std::string subject = words_of(kind).subject + path;
    std::error_code error;
    if (std::filesystem::is_symlink(path, error)) {
        const auto target = std::filesystem::canonical(path, error);
        if (!error) subject += " (a symlink to " + target.string() + ")";
    }
    return subject;
}

std::string octal_mode(std::uint32_t mode) {
    char text[8];
    std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
    return text;
}

/// The verdict of the trust rule on one file or directory; throws with `subject` and `risk`.
/// `sticky_ok`: a directory others may write is trusted when it is sticky (as /tmp is), since
/// only an entry's owner may then rename or remove it.
void judge(const std::string& path, const std::string& subject, const char* risk,
           std::uint32_t mode, std::uint32_t owner_uid, std::uint32_t effective_uid,
           bool sticky_ok) {
    const bool owner_ok = owner_uid == 0 || owner_uid == effective_uid;
    const bool writable = (mode & (S_IWGRP | S_IWOTH)) != 0 && !(sticky_ok && (mode & S_ISVTX));
    // Discovery judges every plugin on every command: the usual verdict builds no text.
    if (owner_ok && !writable) return;
    std::vector<std::string> wrong;
    std::vector<std::string> fixes;
    const std::string word = shell_word(path);
    if (owner_uid != 0 && owner_uid != effective_uid) {
        wrong.push_back("is owned by uid " + std::to_string(owner_uid) +
                        ", not by root or you (uid " + std::to_string(effective_uid) + ")");
        fixes.push_back("chown " + std::to_string(effective_uid) + " " + word);
    }
    const bool group = (mode & S_IWGRP) != 0;
    const bool others = (mode & S_IWOTH) != 0;
    if (writable) {
        wrong.push_back(std::string("is writable by ") +
                        (group && others ? "its group and others"
                         : group         ? "its group"
                                         : "others") +
                        " (mode " + octal_mode(mode) + (sticky_ok ? ", not sticky" : "") + ")");
        fixes.push_back("chmod go-w " + word);
    }
    if (wrong.empty()) return;
    std::string what = wrong.front();
    if (wrong.size() > 1) what += " and " + wrong.back();
    std::string fix = fixes.front();
    if (fixes.size() > 1) fix += " && " + fixes.back();
    throw PluginError(subject + " " + what + ", so " + risk + "; run " + fix +
                      ", or skip this check with --no-permission-check");
}

}  // namespace

void check_permissions(const std::string& path, TrustedPath kind, std::uint32_t mode,
                       std::uint32_t owner_uid, std::uint32_t effective_uid) {
    judge(path, subject_of(path, kind), words_of(kind).risk, mode, owner_uid, effective_uid, false);
}

namespace detail {

void check_directories_on_path(const std::string& path, TrustedPath kind,
                               std::set<std::string>& judged) {
    std::error_code error;
    const std::filesystem::path resolved = std::filesystem::canonical(path, error);
    if (error) return;  // opening the file reports what is wrong with it
    const uid_t effective_uid = ::geteuid();
    std::string subject_tail = " on the path of " + std::string(words_of(kind).subject) + path;
    if (resolved != std::filesystem::path(path))
        subject_tail += " (resolved: " + resolved.string() + ")";
    for (std::filesystem::path dir = resolved.parent_path();; dir = dir.parent_path()) {
        // A directory judged before was judged with all those above it.
        if (!judged.insert(dir.string()).second) return;
        struct stat status {};
        if (::stat(dir.c_str(), &status) == 0)
            judge(dir.string(), "directory " + dir.string() + subject_tail,
                  "someone else could replace the plugins migrator runs", status.st_mode,
                  status.st_uid, effective_uid, true);
        if (dir == dir.root_path() || dir.empty()) return;
    }
}

}  // namespace detail

std::uint64_t raise_open_file_limit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
    rlim_t wanted = limit.rlim_max;
    if (wanted == RLIM_INFINITY) {
        // Linux refuses a soft limit above fs.nr_open even when the hard limit is unlimited.
        std::ifstream nr_open("/proc/sys/fs/nr_open");
        unsigned long long most = 0;
        if (nr_open >> most && most > 0) wanted = static_cast<rlim_t>(most);
    }
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < wanted) {
        rlimit raised = limit;
        raised.rlim_cur = wanted;
        // A limit that cannot be raised is not an error yet: LoadedPlugin refuses, naming the
        // limit, only when a plan really needs more files than it allows.
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit.rlim_cur = wanted;
    }
    return limit.rlim_cur == RLIM_INFINITY ? UINT64_MAX
                                           : static_cast<std::uint64_t>(limit.rlim_cur);
}

}  // namespace migrator
