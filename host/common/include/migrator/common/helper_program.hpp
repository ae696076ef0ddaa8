// Running a helper program (the team's Python, for the shipped scripts of share/migrator/): no
// shell, standard input from /dev/null, both outputs read and bounded.
#ifndef MIGRATOR_HELPER_PROGRAM_HPP
#define MIGRATOR_HELPER_PROGRAM_HPP

#include <cstddef>
#include <string>
#include <vector>

namespace migrator {

/// How a helper program ran.
struct HelperRun {
    int spawn_error = 0;    ///< errno when it could not be started (then nothing else is set)
    int exit_status = -1;   ///< its exit status; -1 when a signal ended it
    int signal = 0;         ///< the signal that ended it, 0 if none
    std::string out;        ///< standard output, whole
    std::string err;        ///< standard error, its first 64 KiB
    bool too_long = false;  ///< standard output passed the limit: the program was killed

    bool succeeded() const { return spawn_error == 0 && exit_status == 0 && !too_long; }
    /// "exit status 3" or "signal 9".
    std::string how_it_ended() const;
};

/// Runs `argv` (argv[0] looked up in PATH as a shell would) in the current directory and waits
/// for it, reading standard output (at most `max_output` bytes: past that it is killed) and
/// standard error at once, so that neither pipe fills while the other is read. Throws
/// migrator::Error when no pipe can be made.
HelperRun run_helper_program(const std::vector<std::string>& argv, std::size_t max_output);

/// The Python that runs migrator's scripts: $MIGRATOR_PYTHON (a path, or a name looked up in
/// PATH) when set, else python3; `described` adds " (MIGRATOR_PYTHON)" when it came from there.
std::string python_program(bool described = false);

/// The last line of `text` that holds more than white space, trimmed ("" for none).
std::string last_line(const std::string& text);

}  // namespace migrator

#endif  // MIGRATOR_HELPER_PROGRAM_HPP
