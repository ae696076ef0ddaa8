// Test support: run a program to completion and capture its exit status, stdout and stderr.
#ifndef MIGRATOR_TEST_PROCESS_HPP
#define MIGRATOR_TEST_PROCESS_HPP

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace testing {

struct ProcessResult {
    int exit_code = -1;  ///< exit status, or 128+signal when killed by a signal
    std::string out;
    std::string err;
};

/// Runs `argv` (argv[0] is a path) with `env` added to the current environment (an empty value
/// removes the variable), in `cwd` when not empty, and waits for it. Stdin is /dev/null. Throws
/// std::runtime_error, failing the test, when the program's stderr holds a sanitizer report.
ProcessResult run_process(const std::vector<std::string>& argv,
                          const std::map<std::string, std::string>& env = {},
                          const std::string& cwd = "");

/// Starts every command at the same moment (each child waits on one shared pipe until all are
/// forked) and waits for all of them; results in the order of `commands`. Throws like
/// run_process when any of them reports a sanitizer error.
std::vector<ProcessResult> run_concurrently(const std::vector<std::vector<std::string>>& commands,
                                            const std::map<std::string, std::string>& env = {},
                                            const std::string& cwd = "");

/// A program started in the background: signal it, then wait for its result.
class BackgroundProcess {
public:
    /// Starts `argv` as run_process does, without waiting for it.
    BackgroundProcess(const std::vector<std::string>& argv,
                      const std::map<std::string, std::string>& env = {},
                      const std::string& cwd = "");
    /// Kills (SIGKILL) and reaps the process if wait() was not called.
    ~BackgroundProcess();
    BackgroundProcess(const BackgroundProcess&) = delete;
    BackgroundProcess& operator=(const BackgroundProcess&) = delete;

    pid_t pid() const { return pid_; }
    /// Sends signal `number` to the process; throws if it is gone.
    void send_signal(int number) const;
    /// Waits for the process to end; call once.
    ProcessResult wait();

private:
    pid_t pid_ = -1;
    std::string out_path_;
    std::string err_path_;
    bool waited_ = false;
};

/// Lines of `text`, without the trailing newline characters.
std::vector<std::string> lines_of(const std::string& text);

/// How many times `needle` occurs in `text` (not overlapping).
std::size_t count_of(const std::string& text, const std::string& needle);

}  // namespace testing

#endif  // MIGRATOR_TEST_PROCESS_HPP
