// Runs one command and reports its wall time and peak RSS as the kernel accounts them (wait4).
//
//   migrator_bench_measure [--stdin FILE] [--stdout FILE] [--stderr FILE] -- COMMAND [ARG...]
//
// Prints one line, "<wall seconds> <peak RSS KiB> <exit status> <CPU seconds, user+sys>", on its
// own stdout (the CPU time counts the descendants the command waited for). The command's
// stdout goes to /dev/null and its stderr to the terminal unless redirected. An exit status of
// 128+N means the command was killed by signal N. bench/run uses this instead of /usr/bin/time,
// which a fresh Debian machine does not have.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

[[noreturn]] void usage() {
    std::fprintf(stderr,
                 "usage: migrator_bench_measure [--stdin FILE] [--stdout FILE] [--stderr FILE] "
                 "-- COMMAND [ARG...]\n");
    std::exit(2);
}

/// Opens `path` onto descriptor `target` in the child; exits 127 (as a shell would) on failure.
void redirect(const std::string& path, int target, int flags) {
    const int fd = ::open(path.c_str(), flags, 0644);
    if (fd < 0 || ::dup2(fd, target) < 0) {
        std::fprintf(stderr, "migrator_bench_measure: cannot open %s: %s\n", path.c_str(),
                     std::strerror(errno));
        ::_exit(127);
    }
    ::close(fd);
}

}  // namespace

int main(int argc, char** argv) {
    std::string in_path;
    std::string out_path = "/dev/null";
    std::string err_path;
    int at = 1;
    for (; at < argc; ++at) {
        const std::string arg = argv[at];
        if (arg == "--") {
            ++at;
            break;
        }
        if (at + 1 >= argc) usage();
        if (arg == "--stdin")
            in_path = argv[++at];
        else if (arg == "--stdout")
            out_path = argv[++at];
        else if (arg == "--stderr")
            err_path = argv[++at];
        else
            usage();
    }
    if (at >= argc) usage();
    std::vector<char*> command(argv + at, argv + argc);
    command.push_back(nullptr);

    const auto start = std::chrono::steady_clock::now();
    const pid_t child = ::fork();
    if (child < 0) {
        std::perror("migrator_bench_measure: fork");
        return 1;
    }
    if (child == 0) {
        if (!in_path.empty()) redirect(in_path, STDIN_FILENO, O_RDONLY);
        redirect(out_path, STDOUT_FILENO, O_WRONLY | O_CREAT | O_TRUNC);
        if (!err_path.empty()) redirect(err_path, STDERR_FILENO, O_WRONLY | O_CREAT | O_TRUNC);
        ::execvp(command[0], command.data());
        std::fprintf(stderr, "migrator_bench_measure: cannot run %s: %s\n", command[0],
                     std::strerror(errno));
        ::_exit(127);
    }
    int status = 0;
    rusage usage_of_child{};
    // wait4 gives this child's own rusage; ru_maxrss is its peak resident set in KiB (Linux).
    while (::wait4(child, &status, 0, &usage_of_child) < 0) {
        if (errno != EINTR) {
            std::perror("migrator_bench_measure: wait4");
            return 1;
        }
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    // CPU time of the child and of every descendant it waited for (a compiler driver's cc1plus,
    // as and ld): what a build costs on a loaded machine, where wall time mostly measures others.
    const auto cpu = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) / 1e6; };
    std::printf("%.6f %ld %d %.6f\n", seconds, usage_of_child.ru_maxrss, code,
                cpu(usage_of_child.ru_utime) + cpu(usage_of_child.ru_stime));
    return 0;
}
