// A helper program run without a shell, its two outputs read together (poll) and bounded.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <migrator/common/errors.hpp>
#include <migrator/common/helper_program.hpp>

extern char** environ;

namespace migrator {
namespace {

/// A helper's diagnostics are read for their last lines only.
constexpr std::size_t max_diagnostics = 64u << 10;

/// A pipe whose two ends are closed when it goes, unless closed before.
struct Pipe {
    int ends[2] = {-1, -1};
    Pipe() {
        if (::pipe2(ends, O_CLOEXEC) != 0)
            throw Error(std::string("cannot create a pipe to run a helper program: ") +
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

/// Reads both outputs until they close, or until standard output outgrows `max_output`.
void read_outputs(int out_fd, int err_fd, std::size_t max_output, HelperRun& run) {
    pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
    char buffer[65536];
    while (fds[0].fd >= 0 || fds[1].fd >= 0) {
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return;
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0) continue;
            const ssize_t got = ::read(fds[i].fd, buffer, sizeof buffer);
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) {
                fds[i].fd = -1;
                continue;
            }
            std::string& into = i == 0 ? run.out : run.err;
            const std::size_t limit = i == 0 ? max_output : max_diagnostics;
            if (into.size() + static_cast<std::size_t>(got) > limit) {
                if (i == 0) {
                    run.too_long = true;
                    return;
                }
                continue;  // diagnostics past the limit are dropped; the output goes on
            }
            into.append(buffer, static_cast<std::size_t>(got));
        }
    }
}

}  // namespace

std::string HelperRun::how_it_ended() const {
    return exit_status >= 0 ? "exit status " + std::to_string(exit_status)
                            : "signal " + std::to_string(signal);
}

HelperRun run_helper_program(const std::vector<std::string>& argv, std::size_t max_output) {
    std::vector<std::string> args(argv);
    std::vector<char*> pointers;
    for (auto& arg : args) pointers.push_back(arg.data());
    pointers.push_back(nullptr);

    HelperRun run;
    Pipe out, err;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out.ends[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, err.ends[1], STDERR_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    pid_t child = -1;
    run.spawn_error =
        ::posix_spawnp(&child, pointers[0], &actions, nullptr, pointers.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (run.spawn_error != 0) return run;
    out.close_end(1);
    err.close_end(1);
    read_outputs(out.ends[0], err.ends[0], max_output, run);
    if (run.too_long) ::kill(child, SIGKILL);
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status)) {
        run.exit_status = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        run.signal = WTERMSIG(status);
    }
    return run;
}

std::string python_program(bool described) {
    const char* given = std::getenv("MIGRATOR_PYTHON");
    if (given != nullptr && *given != '\0')
        return std::string(given) + (described ? " (MIGRATOR_PYTHON)" : "");
    return "python3";
}

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

}  // namespace migrator
