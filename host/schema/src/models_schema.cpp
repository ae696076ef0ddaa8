// Runs the shipped sqlalchemy_schema.py with the team's Python and takes the SQL it prints.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <migrator/common/errors.hpp>
#include <migrator/schema/models_schema.hpp>
#include <string>
#include <vector>

extern char** environ;

namespace migrator {
namespace {

namespace fs = std::filesystem;

/// More declared schema than any application has; a runaway script is stopped there.
constexpr std::size_t max_output = 64u << 20;
/// Its diagnostics are read for their last line only.
constexpr std::size_t max_diagnostics = 64u << 10;

/// The Python that runs the script: $MIGRATOR_PYTHON (a path, or a name looked up in PATH), else
/// python3 from PATH, as a team's shell would find it.
std::string python_program() {
    const char* given = std::getenv("MIGRATOR_PYTHON");
    return given != nullptr && *given != '\0' ? std::string(given) : std::string("python3");
}

/// The last line of `text` that holds more than white space, trimmed.
std::string last_line(const std::string& text) {
    std::size_t end = text.size();
    while (end > 0) {
        const std::size_t start = text.rfind('\n', end - 1);
        const std::size_t from = start == std::string::npos ? 0 : start + 1;
        std::string line = text.substr(from, end - from);
        const auto first = line.find_first_not_of(" \t\r");
        if (first != std::string::npos)
            return line.substr(first, line.find_last_not_of(" \t\r") - first + 1);
        if (start == std::string::npos) break;
        end = start;
    }
    return {};
}

/// A pipe whose two ends are closed when it goes, unless taken.
struct Pipe {
    int ends[2] = {-1, -1};
    Pipe() {
        if (::pipe2(ends, O_CLOEXEC) != 0)
            throw ConfigError(std::string("cannot create a pipe for sqlalchemy_schema.py: ") +
                              std::strerror(errno));
    }
    ~Pipe() {
        for (int end : ends)
            if (end >= 0) ::close(end);
    }
    Pipe(const Pipe&) = delete;
    Pipe& operator=(const Pipe&) = delete;
    void close_end(int which) {
        ::close(ends[which]);
        ends[which] = -1;
    }
};

struct ChildOutput {
    std::string out;
    std::string err;
    bool too_long = false;
};

/// Reads the child's standard output and error until both close (or the output outgrows
/// max_output), polling both so that neither pipe fills while the other is read.
ChildOutput read_child(int out_fd, int err_fd) {
    ChildOutput output;
    pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
    char buffer[65536];
    while (fds[0].fd >= 0 || fds[1].fd >= 0) {
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0) continue;
            const ssize_t got = ::read(fds[i].fd, buffer, sizeof buffer);
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) {
                fds[i].fd = -1;
                continue;
            }
            std::string& into = i == 0 ? output.out : output.err;
            const std::size_t limit = i == 0 ? max_output : max_diagnostics;
            if (into.size() + static_cast<std::size_t>(got) > limit) {
                if (i == 0) {
                    output.too_long = true;
                    return output;
                }
                continue;  // diagnostics beyond the limit are dropped; the output goes on
            }
            into.append(buffer, static_cast<std::size_t>(got));
        }
    }
    return output;
}

}  // namespace

fs::path sqlalchemy_schema_script() {
    std::error_code error;
    const fs::path program = fs::read_symlink("/proc/self/exe", error);
    const fs::path folder = error ? fs::current_path() : program.parent_path();
    return (folder.parent_path() / "share" / "migrator" / "sqlalchemy_schema.py")
        .lexically_normal();
}

std::string models_schema_sql(const std::string& models, const std::string& dialect) {
    const fs::path script = sqlalchemy_schema_script();
    std::error_code error;
    if (!fs::is_regular_file(script, error))
        throw ConfigError("the SQLAlchemy schema script " + script.string() +
                          " does not exist; --models needs it (it is installed beside the "
                          "program, in share/migrator/)");
    const std::string python = python_program();
    std::vector<std::string> args{python, script.string(), models, "--dialect", dialect};
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);

    Pipe out, err;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out.ends[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, err.ends[1], STDERR_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    pid_t child = -1;
    // posix_spawnp: MIGRATOR_PYTHON may be a name found in PATH, as python3 is.
    const int spawned =
        ::posix_spawnp(&child, python.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    const std::string who =
        python + (std::getenv("MIGRATOR_PYTHON") != nullptr && *std::getenv("MIGRATOR_PYTHON")
                      ? " (MIGRATOR_PYTHON)"
                      : "");
    if (spawned != 0)
        throw ConfigError("cannot run " + who + " for --models " + models + ": " +
                          std::strerror(spawned) +
                          "; install Python 3 with SQLAlchemy, or set MIGRATOR_PYTHON to the "
                          "application's python");
    out.close_end(1);
    err.close_end(1);
    const ChildOutput output = read_child(out.ends[0], err.ends[0]);
    if (output.too_long) ::kill(child, SIGKILL);
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    if (output.too_long)
        throw ConfigError("sqlalchemy_schema.py printed more than 64 MiB for --models " + models +
                          "; stopped");
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return output.out;
    const std::string sentence = last_line(output.err);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 2 && !sentence.empty())
        throw ConfigError(sentence);
    // Anything else is a failure of the team's Python or of the models themselves (127: the
    // interpreter could not run the script): its last line says what.
    const std::string how = WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                              : "signal " + std::to_string(WTERMSIG(status));
    throw ConfigError(script.string() + " failed (" + how + ") under " + who + " for --models " +
                      models + (sentence.empty() ? std::string() : ": " + sentence));
}

}  // namespace migrator
