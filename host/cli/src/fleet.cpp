// Fleets: targets read from a file or matched among a database's schemas, run by a pool of forked
// workers that each run one target at a time.
#include "fleet.hpp"

#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <migrator/common/errors.hpp>
#include <migrator/db/database_url.hpp>
#include <optional>
#include <set>
#include <thread>

#include "format.hpp"

namespace migrator::cli {
namespace {

std::string trimmed(const std::string& text) {
    const auto first = text.find_first_not_of(" \t\r");
    if (first == std::string::npos) return {};
    return text.substr(first, text.find_last_not_of(" \t\r") - first + 1);
}

/// The URLs of a targets file: one a line; blank lines and lines starting with '#' are skipped.
std::vector<std::string> read_targets_file(const std::string& name) {
    std::ifstream file;
    std::istream* in = &std::cin;
    if (name != "-") {
        file.open(name);
        if (!file)
            throw ConfigError("targets file " + name + " cannot be read: " + std::strerror(errno));
        in = &file;
    }
    const std::string shown = name == "-" ? "targets (standard input)" : "targets file " + name;
    std::vector<std::string> urls;
    std::map<std::string, std::size_t> line_of;
    std::string line;
    for (std::size_t number = 1; std::getline(*in, line); ++number) {
        const std::string text = trimmed(line);
        if (text.empty() || text[0] == '#') continue;
        std::string key;
        try {
            const DatabaseUrl url = DatabaseUrl::parse(text);
            key = url.masked() + '\n' + url.password;
        } catch (const DatabaseError& e) {
            throw ConfigError(shown + ", line " + std::to_string(number) + ": " + e.what());
        }
        if (const auto [it, added] = line_of.emplace(key, number); !added)
            throw ConfigError(shown + ", line " + std::to_string(number) + ": " +
                              mask_password(text) + " is already listed on line " +
                              std::to_string(it->second) + "; list each database once");
        urls.push_back(text);
    }
    if (urls.empty())
        throw ConfigError(shown + " lists no database URL (one a line; '#' starts a comment)");
    return urls;
}

bool is_pattern(const std::string& name) { return name.find_first_of("*?[") != std::string::npos; }

/// The schemas of `url`'s database that `patterns` match, in name order (no pg_* or
/// information_schema).
std::vector<std::string> matching_schemas(const GlobalOptions& options, const std::string& url,
                                          const std::vector<std::string>& patterns) {
    GlobalOptions reading = options;
    reading.url = url;
    reading.target_schema.clear();
    const auto db = open(reading, true);
    std::vector<std::string> names;
    db->query(
        "SELECT nspname FROM pg_catalog.pg_namespace WHERE nspname !~ '^pg_' AND nspname <> "
        "'information_schema' ORDER BY nspname",
        [&](const std::vector<std::string>&, const std::vector<std::optional<std::string>>& row) {
            if (row.at(0)) names.push_back(*row.at(0));
            return true;
        });
    std::vector<std::string> matched;
    for (const auto& name : names)
        for (const auto& pattern : patterns)
            if (fnmatch(pattern.c_str(), name.c_str(), 0) == 0) {
                matched.push_back(name);
                break;
            }
    return matched;
}

}  // namespace

std::vector<FleetTarget> read_targets(const GlobalOptions& options, const FleetOptions& fleet) {
    const std::vector<std::string> urls =
        fleet.targets_file.empty() ? std::vector<std::string>{resolve_database_url(options)}
                                   : read_targets_file(fleet.targets_file);
    std::vector<FleetTarget> targets;
    for (const auto& url : urls) {
        const DatabaseUrl parsed = DatabaseUrl::parse(url);
        if (fleet.schemas.empty()) {
            targets.push_back({url, "", parsed.masked()});
            continue;
        }
        if (parsed.dialect != "postgresql")
            throw ConfigError("--target-schemas names PostgreSQL schemas, but " + parsed.masked() +
                              " is a " + parsed.dialect + " database");
        std::vector<std::string> patterns;
        std::set<std::string> schemas;
        for (const auto& name : fleet.schemas) {
            if (is_pattern(name))
                patterns.push_back(name);
            else
                schemas.insert(name);
        }
        if (!patterns.empty())
            for (auto& name : matching_schemas(options, url, patterns)) schemas.insert(name);
        for (const auto& schema : schemas)
            targets.push_back({url, schema, parsed.masked() + " schema " + schema});
    }
    if (targets.empty())
        throw ConfigError(
            "--target-schemas " + join(fleet.schemas, ",") + " matches no schema of " +
            (urls.size() == 1 ? mask_password(urls[0]) : std::string("the targets' databases")) +
            ": there is nothing to run on");
    return targets;
}

namespace {

/// The workers running, for the signal handler to pass a signal on to (0: a free slot).
std::atomic<pid_t> worker_pids[max_fleet_jobs];
volatile std::sig_atomic_t fleet_signal = 0;

extern "C" void pass_signal_on(int signal) {
    fleet_signal = signal;
    for (auto& pid : worker_pids)
        if (const pid_t worker = pid.load(); worker > 0) kill(worker, signal);
}

constexpr int passed_signals[] = {SIGINT, SIGTERM, SIGHUP};

/// What became of one target.
struct Outcome {
    enum class State { not_run, ok, failed } state = State::not_run;
    int exit_status = 0;
    std::optional<std::vector<std::string>> from, to;
    std::size_t steps = 0;
    double elapsed_ms = 0;
    std::string error;
    std::string output;  ///< what the worker printed (warnings, a crash line), masked
};

/// A worker process: it runs the targets it is handed, one at a time, until its task pipe closes.
/// Forked once per job (and again only after one died), so a target costs no fork.
struct Worker {
    pid_t pid = -1;
    int task_fd = -1;    ///< the parent writes a target's index here (a std::uint32_t)
    int done_fd = -1;    ///< the worker writes a byte here when a target's report is complete
    int result_fd = -1;  ///< a memory file: the last target's TargetResult and error as JSON
    int output_fd = -1;  ///< a memory file: the last target's stdout and stderr
    std::optional<std::size_t> index;  ///< the target it is running
    std::chrono::steady_clock::time_point started;
};

/// The whole content of a memory file (at most its last `limit` bytes). pread: the file offset
/// is the worker's, shared with this process.
std::string read_all(int fd, std::size_t limit) {
    struct stat status {};
    if (fstat(fd, &status) != 0 || status.st_size <= 0) return {};
    const auto size = static_cast<std::size_t>(status.st_size);
    const std::size_t start = size > limit ? size - limit : 0;
    std::string text(size - start, '\0');
    std::size_t got = 0;
    while (got < text.size()) {
        const ssize_t n =
            pread(fd, text.data() + got, text.size() - got, static_cast<off_t>(start + got));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
    }
    text.resize(got);
    return text;
}

int memory_file(const char* name) {
    const int fd = memfd_create(name, MFD_CLOEXEC);
    if (fd < 0)
        throw std::runtime_error(std::string("cannot create a memory file for a worker: ") +
                                 std::strerror(errno));
    return fd;
}

std::optional<std::vector<std::string>> heads_of(const boost::json::value* value) {
    if (value == nullptr || !value->is_array()) return std::nullopt;
    std::vector<std::string> heads;
    for (const auto& item : value->as_array())
        if (item.is_string()) heads.emplace_back(item.as_string().c_str());
    return heads;
}

/// The last "error: ..." line of a worker's output, without its prefix (a crash or timeout line).
std::string last_error_line(const std::string& output) {
    std::string found;
    std::size_t start = 0;
    while (start < output.size()) {
        auto end = output.find('\n', start);
        if (end == std::string::npos) end = output.size();
        const std::string line = output.substr(start, end - start);
        if (line.rfind("error: ", 0) == 0) found = line.substr(7);
        start = end + 1;
    }
    return found;
}

const char* signal_name(int signal) {
    switch (signal) {
        case SIGINT:
            return "SIGINT";
        case SIGTERM:
            return "SIGTERM";
        case SIGHUP:
            return "SIGHUP";
        case SIGKILL:
            return "SIGKILL";
        case SIGSEGV:
            return "SIGSEGV";
        case SIGABRT:
            return "SIGABRT";
        case SIGBUS:
            return "SIGBUS";
        default:
            return "a signal";
    }
}

/// Reads exactly `size` bytes; false at the end of the pipe.
bool read_exact(int fd, void* data, std::size_t size) {
    auto* bytes = static_cast<char*>(data);
    for (std::size_t got = 0; got < size;) {
        const ssize_t n = read(fd, bytes + got, size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        got += static_cast<std::size_t>(n);
    }
    return true;
}

/// In a worker: runs the command on each target it is handed, writing each report, and ends
/// when its task pipe closes.
[[noreturn]] void serve_targets(GlobalOptions& options, const std::vector<FleetTarget>& targets,
                                const std::function<int()>& command, const Worker& worker) {
    for (const int signal : passed_signals) std::signal(signal, SIG_DFL);
    std::signal(SIGPIPE, SIG_DFL);
    dup2(worker.output_fd, STDOUT_FILENO);
    dup2(worker.output_fd, STDERR_FILENO);
    options.quiet = true;
    options.json = false;
    std::uint32_t index = 0;
    while (read_exact(worker.task_fd, &index, sizeof index) && index < targets.size()) {
        // A new report: both files emptied (stdout and stderr share the output file's offset).
        if (ftruncate(worker.output_fd, 0) != 0 || ftruncate(worker.result_fd, 0) != 0 ||
            lseek(worker.output_fd, 0, SEEK_SET) != 0)
            _exit(exit_internal);
        const FleetTarget& target = targets[index];
        options.url = target.url;
        options.target_schema = target.schema;
        TargetResult result;
        options.result = &result;
        int status = exit_ok;
        std::string error;
        try {
            status = command();
        } catch (...) {
            const ErrorReport report = report_of_current_exception();
            status = report.status;
            error = report.message;
        }
        options.result = nullptr;
        boost::json::object document{{"status", status},
                                     {"error", error},
                                     {"detail", mask_password(result.detail)},
                                     {"steps", result.steps}};
        if (result.from) document["from"] = boost::json::value_from(*result.from);
        if (result.to) document["to"] = boost::json::value_from(*result.to);
        const std::string text = boost::json::serialize(document);
        std::cout.flush();
        std::cout.clear();
        std::cerr.flush();
        std::fflush(nullptr);
        for (std::size_t written = 0; written < text.size();) {
            const ssize_t put = pwrite(worker.result_fd, text.data() + written,
                                       text.size() - written, static_cast<off_t>(written));
            if (put < 0 && errno == EINTR) continue;
            if (put <= 0) _exit(exit_internal);
            written += static_cast<std::size_t>(put);
        }
        const char done = 'x';
        while (write(worker.done_fd, &done, 1) < 0 && errno == EINTR) {
        }
    }
    // No exit handlers and no static destructors: they are the parent's (its plugins, its
    // buffers), and it goes on.
    _exit(exit_ok);
}

/// The report of the target `worker` ran: from its result file, or, when the worker died on it
/// (`wait_status`: a crash, a signal, --step-timeout), from how it ended and what it printed.
Outcome outcome_of(const Worker& worker, std::optional<int> wait_status) {
    Outcome outcome;
    outcome.elapsed_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - worker.started)
            .count();
    outcome.output = mask_password(read_all(worker.output_fd, 64 * 1024));
    std::string detail;
    if (!wait_status) {
        boost::system::error_code failed;
        const boost::json::value document =
            boost::json::parse(read_all(worker.result_fd, 1024 * 1024), failed);
        if (!failed && document.is_object()) {
            const auto& object = document.as_object();
            outcome.from = heads_of(object.if_contains("from"));
            outcome.to = heads_of(object.if_contains("to"));
            if (const auto* status = object.if_contains("status"); status && status->is_number())
                outcome.exit_status = status->to_number<int>();
            if (const auto* steps = object.if_contains("steps"); steps && steps->is_number())
                outcome.steps = steps->to_number<std::size_t>();
            if (const auto* error = object.if_contains("error"); error && error->is_string())
                outcome.error = error->as_string().c_str();
            if (const auto* text = object.if_contains("detail"); text && text->is_string())
                detail = text->as_string().c_str();
        } else {
            outcome.exit_status = exit_internal;
            outcome.error = "its worker's report cannot be read";
        }
    } else if (WIFEXITED(*wait_status)) {
        outcome.exit_status = WEXITSTATUS(*wait_status);
    } else if (WIFSIGNALED(*wait_status)) {
        outcome.exit_status = 128 + WTERMSIG(*wait_status);
        if (last_error_line(outcome.output).empty())
            outcome.error =
                std::string("its worker was ended by ") + signal_name(WTERMSIG(*wait_status));
    }
    outcome.state = outcome.exit_status == 0 ? Outcome::State::ok : Outcome::State::failed;
    if (outcome.state == Outcome::State::failed && outcome.error.empty())
        outcome.error = !detail.empty() ? detail : last_error_line(outcome.output);
    if (outcome.state == Outcome::State::failed && outcome.error.empty())
        outcome.error = "it ended with exit status " + std::to_string(outcome.exit_status);
    return outcome;
}

std::string position_or_unknown(const std::optional<std::vector<std::string>>& heads) {
    return heads ? position_text(*heads) : "unknown";
}

/// "ok      URL: base -> ae1027a6acf2 (head), 4 steps in 18.8 ms"
std::string outcome_line(const std::string& command, const FleetTarget& target,
                         const Outcome& outcome, const Colours& colours) {
    const bool ok = outcome.state == Outcome::State::ok;
    std::string line = ok ? colours.green("ok    ") : colours.red("FAILED");
    line += " " + printable(target.shown) + ": ";
    const bool runs = command == "upgrade" || command == "downgrade" || command == "converge";
    const bool moves = runs || command == "stamp";
    if (moves && outcome.from && outcome.to && *outcome.from != *outcome.to)
        line += position_text(*outcome.from) + " -> " + position_text(*outcome.to);
    else if (outcome.to)
        line += (moves && ok ? "already at " : "at ") + position_text(*outcome.to);
    else
        line += "position unknown";
    if (runs)
        line += ", " + std::to_string(outcome.steps) + (outcome.steps == 1 ? " step" : " steps");
    line += " in " + format_duration(outcome.elapsed_ms);
    if (!ok) line += "; " + printable(outcome.error);
    return line;
}

boost::json::object outcome_json(const FleetTarget& target, const Outcome& outcome) {
    const char* state = outcome.state == Outcome::State::ok       ? "ok"
                        : outcome.state == Outcome::State::failed ? "failed"
                                                                  : "not_run";
    const auto heads = [](const std::optional<std::vector<std::string>>& value) {
        return value ? boost::json::value_from(*value) : boost::json::value(nullptr);
    };
    return {{"event", "target"},
            {"target", mask_password(target.url)},
            {"schema", target.schema.empty() ? boost::json::value(nullptr)
                                             : boost::json::value(target.schema)},
            {"status", state},
            {"exit_status", outcome.exit_status},
            {"from", heads(outcome.from)},
            {"to", heads(outcome.to)},
            {"steps", outcome.steps},
            {"elapsed_ms", outcome.elapsed_ms},
            {"error", outcome.error.empty() ? boost::json::value(nullptr)
                                            : boost::json::value(outcome.error)},
            {"output", outcome.output}};
}

/// "[37/100] targets done, 4 running, 1 failed" on a terminal, rewritten in place.
class ProgressLine {
public:
    ProgressLine() : shown_(isatty(STDERR_FILENO) == 1) {}
    void update(std::size_t done, std::size_t total, std::size_t running, std::size_t failed) {
        if (!shown_) return;
        std::cerr << "\r\033[K[" << done << "/" << total << "] targets done, " << running
                  << " running" << (failed > 0 ? ", " + std::to_string(failed) + " failed" : "")
                  << std::flush;
    }
    void clear() {
        if (shown_) std::cerr << "\r\033[K" << std::flush;
    }

private:
    bool shown_;
};

}  // namespace

int run_fleet(GlobalOptions& options, const FleetOptions& fleet, const std::string& command_name,
              const std::string& target, bool allow_stale, const std::function<int()>& command) {
    if (fleet.jobs > max_fleet_jobs)
        throw ConfigError("--jobs " + std::to_string(fleet.jobs) + " is more than the " +
                          std::to_string(max_fleet_jobs) + " targets migrator runs at once");
    const std::vector<FleetTarget> targets = read_targets(options, fleet);
    prepare_for_fleet(options, command_name, target, allow_stale);
    const std::size_t jobs = std::min<std::size_t>(
        targets.size(),
        fleet.jobs != 0 ? fleet.jobs : std::max(1U, std::thread::hardware_concurrency()));
    const bool json = options.json;
    const Colours colours{Colours::enabled_for(STDOUT_FILENO)};

    struct sigaction previous[std::size(passed_signals)];
    struct sigaction passing {};
    passing.sa_handler = pass_signal_on;
    sigemptyset(&passing.sa_mask);
    for (std::size_t i = 0; i < std::size(passed_signals); ++i)
        sigaction(passed_signals[i], &passing, &previous[i]);
    // A worker that died while idle must not end this process when it is handed a target.
    const auto previous_sigpipe = std::signal(SIGPIPE, SIG_IGN);

    std::vector<Outcome> outcomes(targets.size());
    std::vector<Worker> workers(jobs);  // by slot; pid -1: none
    std::size_t next = 0, done = 0, failed = 0, busy = 0;
    bool stop_starting = false;
    ProgressLine progress;
    const auto fleet_start = std::chrono::steady_clock::now();

    const auto pipe_pair = [](int(&ends)[2]) {
        if (pipe2(ends, O_CLOEXEC) != 0)
            throw std::runtime_error(std::string("cannot create a pipe for a worker: ") +
                                     std::strerror(errno));
    };
    const auto start_worker = [&](Worker& worker) {
        int tasks[2], reports[2];
        pipe_pair(tasks);
        pipe_pair(reports);
        worker.result_fd = memory_file("migrator-target-result");
        worker.output_fd = memory_file("migrator-target-output");
        // Whatever this process has buffered must not be printed again by the worker.
        std::cout.flush();
        std::cerr.flush();
        std::fflush(nullptr);
        const pid_t pid = fork();
        if (pid < 0)
            throw std::runtime_error(std::string("cannot start a worker process: ") +
                                     std::strerror(errno));
        if (pid == 0) {
            close(tasks[1]);
            close(reports[0]);
            // Other workers' pipes, inherited, are closed so that each sees its own end.
            for (const auto& other : workers)
                if (&other != &worker && other.pid > 0) {
                    close(other.task_fd);
                    close(other.done_fd);
                }
            worker.task_fd = tasks[0];
            worker.done_fd = reports[1];
            serve_targets(options, targets, command, worker);
        }
        close(tasks[0]);
        close(reports[1]);
        worker.pid = pid;
        worker.task_fd = tasks[1];
        worker.done_fd = reports[0];
        worker_pids[&worker - workers.data()].store(pid);
    };
    const auto stop_worker = [&](Worker& worker) {
        close(worker.task_fd);
        close(worker.done_fd);
        close(worker.result_fd);
        close(worker.output_fd);
        worker_pids[&worker - workers.data()].store(0);
        worker = Worker{};
    };
    const auto report = [&](const Worker& worker, std::optional<int> wait_status) {
        const std::size_t index = *worker.index;
        Outcome& outcome = outcomes[index] = outcome_of(worker, wait_status);
        ++done;
        --busy;
        if (outcome.state == Outcome::State::failed) {
            ++failed;
            if (fleet.fail_fast) stop_starting = true;
        }
        progress.clear();
        if (json) {
            print_json(outcome_json(targets[index], outcome));
            std::cout.flush();
        } else if (!options.quiet || outcome.state == Outcome::State::failed) {
            std::cout << outcome_line(command_name, targets[index], outcome, colours) << '\n'
                      << std::flush;
        }
    };

    for (;;) {
        if (fleet_signal != 0) stop_starting = true;
        // Hand each idle worker the next target, forking workers as they are needed.
        for (auto& worker : workers) {
            if (stop_starting || next >= targets.size()) break;
            if (worker.index) continue;
            if (worker.pid < 0) start_worker(worker);
            const auto index = static_cast<std::uint32_t>(next);
            worker.started = std::chrono::steady_clock::now();
            if (write(worker.task_fd, &index, sizeof index) != sizeof index) {
                // It died while idle (SIGPIPE is ignored here): a fresh one takes the target.
                const pid_t pid = worker.pid;
                stop_worker(worker);
                while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
                }
                start_worker(worker);
                if (write(worker.task_fd, &index, sizeof index) != sizeof index)
                    throw std::runtime_error(std::string("cannot hand a worker its target: ") +
                                             std::strerror(errno));
            }
            worker.index = next++;
            ++busy;
        }
        if (busy == 0) break;
        progress.update(done, targets.size(), busy, failed);
        std::vector<pollfd> polled;
        std::vector<Worker*> polled_worker;
        for (auto& worker : workers)
            if (worker.index) {
                polled.push_back({worker.done_fd, POLLIN, 0});
                polled_worker.push_back(&worker);
            }
        if (poll(polled.data(), polled.size(), -1) < 0) {
            if (errno == EINTR) continue;
            throw std::runtime_error(std::string("cannot wait for the workers: ") +
                                     std::strerror(errno));
        }
        for (std::size_t i = 0; i < polled.size(); ++i) {
            if (polled[i].revents == 0) continue;
            Worker& worker = *polled_worker[i];
            char byte = 0;
            const ssize_t got = read(worker.done_fd, &byte, 1);
            if (got == 1) {
                report(worker, std::nullopt);
                worker.index.reset();
            } else if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) {
                // The worker died on its target: a crash, a signal, --step-timeout.
                int wait_status = 0;
                while (waitpid(worker.pid, &wait_status, 0) < 0 && errno == EINTR) {
                }
                report(worker, wait_status);
                stop_worker(worker);
            }
        }
    }
    // Idle workers end when their task pipe closes.
    for (auto& worker : workers)
        if (worker.pid > 0) {
            const pid_t pid = worker.pid;
            stop_worker(worker);
            while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
            }
        }
    progress.clear();
    for (std::size_t i = 0; i < std::size(passed_signals); ++i)
        sigaction(passed_signals[i], &previous[i], nullptr);
    std::signal(SIGPIPE, previous_sigpipe);

    const double elapsed_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - fleet_start)
            .count();
    const std::size_t not_run = targets.size() - done;
    std::size_t ok = done - failed;
    if (json) {
        for (std::size_t i = 0; i < targets.size(); ++i)
            if (outcomes[i].state == Outcome::State::not_run)
                print_json(outcome_json(targets[i], outcomes[i]));
        print_json({{"event", "summary"},
                    {"command", command_name},
                    {"targets", targets.size()},
                    {"ok", ok},
                    {"failed", failed},
                    {"not_run", not_run},
                    {"jobs", jobs},
                    {"elapsed_ms", elapsed_ms}});
    } else if (!options.quiet) {
        // Where the targets are now, most common position first.
        std::map<std::string, std::size_t> positions;
        for (const auto& outcome : outcomes)
            if (outcome.state != Outcome::State::not_run)
                ++positions[position_or_unknown(outcome.to)];
        std::vector<std::pair<std::string, std::size_t>> by_count(positions.begin(),
                                                                  positions.end());
        std::stable_sort(by_count.begin(), by_count.end(),
                         [](const auto& a, const auto& b) { return a.second > b.second; });
        std::cout << "\n"
                  << command_name << " on " << targets.size()
                  << (targets.size() == 1 ? " target" : " targets") << " in "
                  << format_duration(elapsed_ms) << " (" << jobs << (jobs == 1 ? " job" : " jobs")
                  << "):\n";
        const auto row = [](const std::string& label, std::size_t count) {
            char text[32];
            std::snprintf(text, sizeof text, "%8zu  ", count);
            return std::string(text) + label + "\n";
        };
        std::cout << row("ok", ok) << row("failed", failed) << row("not run", not_run);
        if (!by_count.empty()) std::cout << "Positions:\n";
        for (const auto& [position, count] : by_count) std::cout << row(position, count);
        if (failed > 0) {
            std::cout << "Failed:\n";
            for (std::size_t i = 0; i < targets.size(); ++i)
                if (outcomes[i].state == Outcome::State::failed)
                    std::cout << "  " << printable(targets[i].shown) << ": "
                              << printable(outcomes[i].error) << '\n';
        }
    }
    std::cout.flush();
    release_fleet_scripts();
    if (fleet_signal != 0) {
        std::cerr << "error: migrator was interrupted (" << signal_name(fleet_signal)
                  << "): " << not_run << " of " << targets.size()
                  << " targets were not run; run the same command again to finish them\n";
        const int signal = fleet_signal;
        std::signal(signal, SIG_DFL);
        std::raise(signal);
    }
    if (failed > 0 || not_run > 0) {
        std::cerr << "error: " << failed << " of " << targets.size()
                  << (targets.size() == 1 ? " target" : " targets") << " failed"
                  << (not_run > 0
                          ? " and " + std::to_string(not_run) + " were not run (--fail-fast)"
                          : std::string())
                  << "; running the same command again does only what is left\n";
        return exit_targets_failed;
    }
    return exit_ok;
}

}  // namespace migrator::cli
