// Test support: fork/exec a program with captured output (see process.hpp).
#include "process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace testing {
namespace {

std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

/// A child started by start_child: its pid and the files holding its output.
struct Child {
    pid_t pid = -1;
    std::string out_path;
    std::string err_path;
};

/// Forks a child that, when `gate` is not -1, first blocks until it can read one byte from it.
Child start_child(const std::vector<std::string>& argv,
                  const std::map<std::string, std::string>& env, const std::string& cwd, int gate) {
    char out_path[] = "/tmp/migrator-test-out-XXXXXX";
    char err_path[] = "/tmp/migrator-test-err-XXXXXX";
    const int out_fd = mkstemp(out_path);
    const int err_fd = mkstemp(err_path);
    if (out_fd < 0 || err_fd < 0) throw std::runtime_error("cannot create capture files");

    const pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        if (gate >= 0) {
            char byte;
            if (read(gate, &byte, 1) != 1) _exit(125);
            close(gate);
        }
        const int null_fd = open("/dev/null", O_RDONLY);
        dup2(null_fd, 0);
        dup2(out_fd, 1);
        dup2(err_fd, 2);
        for (const auto& [name, value] : env) {
            if (value.empty())
                unsetenv(name.c_str());
            else
                setenv(name.c_str(), value.c_str(), 1);
        }
        if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(126);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execv(args[0], args.data());
        _exit(127);
    }
    close(out_fd);
    close(err_fd);
    return Child{pid, out_path, err_path};
}

// A sanitizer (ASan, LSan, UBSan) in a child writes its report to stderr and ends it, with a status
// a test might take for one of migrator's own; the report is what makes it a failure.
void require_no_sanitizer_report(const std::vector<std::string>& argv,
                                 const ProcessResult& result) {
    for (const char* marker :
         {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", ": runtime error: "})
        if (result.err.find(marker) != std::string::npos)
            throw std::runtime_error(argv.front() + " reported a sanitizer error (exit status " +
                                     std::to_string(result.exit_code) + "):\n" + result.err);
}

ProcessResult wait_child(const Child& child) {
    int status = 0;
    waitpid(child.pid, &status, 0);
    ProcessResult result;
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    result.out = read_all(child.out_path);
    result.err = read_all(child.err_path);
    std::remove(child.out_path.c_str());
    std::remove(child.err_path.c_str());
    return result;
}

}  // namespace

ProcessResult run_process(const std::vector<std::string>& argv,
                          const std::map<std::string, std::string>& env, const std::string& cwd) {
    ProcessResult result = wait_child(start_child(argv, env, cwd, -1));
    require_no_sanitizer_report(argv, result);
    return result;
}

std::vector<ProcessResult> run_concurrently(const std::vector<std::vector<std::string>>& commands,
                                            const std::map<std::string, std::string>& env,
                                            const std::string& cwd) {
    int gate[2];
    if (pipe2(gate, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    std::vector<Child> children;
    for (const auto& argv : commands) children.push_back(start_child(argv, env, cwd, gate[0]));
    close(gate[0]);
    const std::string go(commands.size(), 'g');
    if (write(gate[1], go.data(), go.size()) != static_cast<ssize_t>(go.size()))
        throw std::runtime_error("cannot release the children");
    close(gate[1]);
    std::vector<ProcessResult> results;
    for (const auto& child : children) results.push_back(wait_child(child));
    for (std::size_t i = 0; i < results.size(); ++i)
        require_no_sanitizer_report(commands[i], results[i]);
    return results;
}

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& argv,
                                     const std::map<std::string, std::string>& env,
                                     const std::string& cwd) {
    const Child child = start_child(argv, env, cwd, -1);
    pid_ = child.pid;
    out_path_ = child.out_path;
    err_path_ = child.err_path;
}

BackgroundProcess::~BackgroundProcess() {
    if (waited_) return;
    kill(pid_, SIGKILL);
    wait();
}

void BackgroundProcess::send_signal(int number) const {
    if (kill(pid_, number) != 0) throw std::runtime_error("cannot signal the background process");
}

ProcessResult BackgroundProcess::wait() {
    waited_ = true;
    return wait_child(Child{pid_, out_path_, err_path_});
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

std::size_t count_of(const std::string& text, const std::string& needle) {
    std::size_t count = 0;
    for (auto at = text.find(needle); at != std::string::npos && !needle.empty();
         at = text.find(needle, at + needle.size()))
        ++count;
    return count;
}

}  // namespace testing
