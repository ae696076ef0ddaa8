// Crash reports and the step watchdog around one plugin call (see process_supervisor.hpp).
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <iterator>
#include <migrator/runner/process_supervisor.hpp>
#include <mutex>
#include <string_view>
#include <thread>

namespace migrator {
namespace {

struct GuardedSignal {
    int number;
    const char* event;  ///< what replaces "{signal}" in the line
    bool asynchronous;  ///< sent by someone else; left alone when the process ignores it
};

constexpr GuardedSignal guarded_signals[] = {
    {SIGSEGV, "crashed (SIGSEGV)", false},        {SIGBUS, "crashed (SIGBUS)", false},
    {SIGFPE, "crashed (SIGFPE)", false},          {SIGILL, "crashed (SIGILL)", false},
    {SIGABRT, "crashed (SIGABRT)", false},        {SIGINT, "was interrupted (SIGINT)", true},
    {SIGTERM, "was interrupted (SIGTERM)", true}, {SIGHUP, "was interrupted (SIGHUP)", true},
};
constexpr std::size_t guarded_count = std::size(guarded_signals);
constexpr std::string_view signal_placeholder = StepFailureLines::signal_placeholder;
constexpr std::size_t longest_event = 32;

/// One live guard, formatted before it becomes active: the signal handler only copies from it.
struct StepGuardState {
    std::string before;               ///< the signalled line up to "{signal}"
    std::string after;                ///< the rest of it, newline included
    std::string buffer;               ///< room for the whole line, filled by the handler
    std::string timed_out;            ///< the timeout line, newline included
    StepGuardState* outer = nullptr;  ///< the guard this one nests in
    bool armed = false;               ///< this guard armed the watchdog
    const std::string* outer_alarm = nullptr;
    std::chrono::steady_clock::time_point outer_deadline;
};

std::atomic<StepGuardState*> active_state{nullptr};
static_assert(std::atomic<StepGuardState*>::is_always_lock_free,
              "the signal handler reads the active guard");

/// Writes all of `data` to stderr with write(2) alone: callable from a signal handler.
void write_to_stderr(const char* data, std::size_t size) {
    while (size > 0) {
        const ssize_t written = ::write(STDERR_FILENO, data, size);
        if (written < 0 && errno == EINTR) continue;
        if (written <= 0) return;
        data += written;
        size -= static_cast<std::size_t>(written);
    }
}

/// Copies a NUL-terminated text to `out`, returning its length; a loop, as memcpy's
/// async-signal-safety is recent in POSIX.
std::size_t copy_text(char* out, const char* text, std::size_t size) {
    for (std::size_t i = 0; i < size; ++i) out[i] = text[i];
    return size;
}

std::size_t text_length(const char* text) {
    std::size_t size = 0;
    while (text[size] != '\0') ++size;
    return size;
}

bool is_fault(int signal) {
    return signal == SIGSEGV || signal == SIGBUS || signal == SIGFPE || signal == SIGILL;
}

/// The actions the guarded signals had before the first guard, and which of them the handler
/// replaced. Written once, before the handler can run.
struct sigaction original_actions[guarded_count];
bool replaced[guarded_count];

void restore_original_actions() {
    for (std::size_t i = 0; i < guarded_count; ++i)
        if (replaced[i]) sigaction(guarded_signals[i].number, &original_actions[i], nullptr);
}

extern "C" void on_guarded_signal(int number, siginfo_t* info, void* /*context*/) {
    const int saved_errno = errno;
    if (StepGuardState* state = active_state.load()) {
        const char* event = "was ended by a signal";
        for (const auto& guarded : guarded_signals)
            if (guarded.number == number) event = guarded.event;
        char* out = state->buffer.data();
        std::size_t size = copy_text(out, state->before.data(), state->before.size());
        size += copy_text(out + size, event, text_length(event));
        size += copy_text(out + size, state->after.data(), state->after.size());
        write_to_stderr(out, size);
    }
    // From here on (and outside guards altogether) the signal does what it did before.
    restore_original_actions();
    // A fault raised by the processor (si_code > 0) happens again when the handler returns, now
    // under the restored action, with its own address intact for a core dump or a sanitizer;
    // a signal that was sent (kill, raise, abort) is sent again, and arrives once we return.
    if (!(is_fault(number) && info != nullptr && info->si_code > 0)) raise(number);
    errno = saved_errno;
}

/// Puts the handler in for every guarded signal, once per process (the first guard): a
/// per-step sigaction would cost more system calls than the rest of the guard. An asynchronous
/// signal the process ignores (nohup, a background job of a non-interactive shell) stays ignored.
void install_handler_once() {
    static const bool installed = [] {
        struct sigaction action {};
        action.sa_sigaction = &on_guarded_signal;
        action.sa_flags = SA_SIGINFO | SA_ONSTACK;
        // One line, even when a second signal comes while the first is being reported.
        sigemptyset(&action.sa_mask);
        for (const auto& guarded : guarded_signals) sigaddset(&action.sa_mask, guarded.number);
        for (std::size_t i = 0; i < guarded_count; ++i) {
            struct sigaction& original = original_actions[i];
            if (sigaction(guarded_signals[i].number, nullptr, &original) != 0) continue;
            const bool ignored =
                !(original.sa_flags & SA_SIGINFO) && original.sa_handler == SIG_IGN;
            if (guarded_signals[i].asynchronous && ignored) continue;
            replaced[i] = true;
        }
        // Every original is recorded before the handler can run and read them.
        for (std::size_t i = 0; i < guarded_count; ++i)
            if (replaced[i]) sigaction(guarded_signals[i].number, &action, nullptr);
        return true;
    }();
    static_cast<void>(installed);
}

/// A stack overflow in a plugin still reaches the handler: it runs on a stack of its own, set up
/// for the first thread that runs a step (plugins run on one thread), unless that thread has one
/// already (e.g. a sanitizer's).
void ensure_alternate_signal_stack() {
    alignas(16) static char alternate_stack[64 * 1024];
    static std::atomic<bool> claimed{false};
    thread_local bool checked = false;
    if (checked) return;
    checked = true;
    stack_t current{};
    if (sigaltstack(nullptr, &current) == 0 && !(current.ss_flags & SS_DISABLE)) return;
    if (claimed.exchange(true)) return;
    stack_t stack{};
    stack.ss_sp = alternate_stack;
    stack.ss_size = sizeof alternate_stack;
    sigaltstack(&stack, nullptr);
}

/// Whether stdout and stderr are one file (a terminal, or `2>&1`): the step's progress line is
/// then still open, and the guard's line must start on a line of its own.
bool stderr_shares_stdout() {
    static const bool shared = [] {
        struct stat out {};
        struct stat err {};
        return fstat(STDOUT_FILENO, &out) == 0 && fstat(STDERR_FILENO, &err) == 0 &&
               out.st_dev == err.st_dev && out.st_ino == err.st_ino;
    }();
    return shared;
}

/// The one thread that ends the process when a step outlives its timeout. It is never joined
/// or destroyed: it may still be waiting when the process exits.
class Watchdog {
public:
    static Watchdog& instance() {
        static Watchdog* const watchdog = new Watchdog;
        return *watchdog;
    }

    /// Makes `line` (or nothing, for nullptr) the alarm at `deadline`; returns the one it replaces.
    const std::string* set(const std::string* line, std::chrono::steady_clock::time_point deadline,
                           std::chrono::steady_clock::time_point& previous_deadline) {
        const std::lock_guard<std::mutex> lock(mutex_);
        const std::string* previous = line_;
        previous_deadline = deadline_;
        line_ = line;
        deadline_ = deadline;
        // Wake the thread only when it would look too late: steps shorter than the timeout
        // follow each other without a wake-up, and disarming needs none.
        if (line != nullptr && deadline < waiting_until_) wake_.notify_one();
        return previous;
    }

private:
    Watchdog() {
        // Signals go to the thread running the step, never to this one.
        sigset_t all;
        sigset_t previous;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &previous);
        std::thread([this] { watch(); }).detach();
        pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    }

    [[noreturn]] void watch() {
        std::unique_lock<std::mutex> lock(mutex_);
        for (;;) {
            if (line_ == nullptr) {
                waiting_until_ = std::chrono::steady_clock::time_point::max();
                wake_.wait(lock);
            } else if (std::chrono::steady_clock::now() < deadline_) {
                waiting_until_ = deadline_;
                wake_.wait_until(lock, deadline_);
            } else {
                // The mutex stays held: the guard cannot end, so its caller cannot commit.
                write_to_stderr(line_->data(), line_->size());
                _exit(step_timeout_exit_status);
            }
        }
    }

    std::mutex mutex_;
    std::condition_variable wake_;
    const std::string* line_ = nullptr;
    std::chrono::steady_clock::time_point deadline_;
    /// When the thread looks at the alarm next (max: only when woken).
    std::chrono::steady_clock::time_point waiting_until_ =
        std::chrono::steady_clock::time_point::max();
};

/// The state of a guard writing `lines`, formatted so that the handler only copies bytes.
std::unique_ptr<StepGuardState> formatted_state(const StepFailureLines& lines) {
    auto state = std::make_unique<StepGuardState>();
    const std::string start = lines.progress_line_open && stderr_shares_stdout() ? "\n" : "";
    const auto at = lines.signalled.find(signal_placeholder);
    state->before = start + lines.signalled.substr(0, at);
    state->after =
        (at == std::string::npos ? std::string()
                                 : lines.signalled.substr(at + signal_placeholder.size())) +
        "\n";
    state->buffer.assign(state->before.size() + longest_event + state->after.size(), '\0');
    if (!lines.timed_out.empty()) state->timed_out = start + lines.timed_out + "\n";
    return state;
}

/// One watch: while it lives, the handler writes its lines and the watchdog holds its deadline.
class StepGuard final : public StepSupervisor::Watch {
public:
    StepGuard(const StepFailureLines& lines, std::chrono::milliseconds timeout);
    ~StepGuard() override;
    /// The lines a signal handler may be reading stay alive until the new ones are in place.
    void set_lines(StepFailureLines lines) override;

private:
    std::unique_ptr<StepGuardState> state_;
};

StepGuard::StepGuard(const StepFailureLines& lines, std::chrono::milliseconds timeout)
    : state_(formatted_state(lines)) {
    StepGuardState& state = *state_;
    ensure_alternate_signal_stack();
    install_handler_once();
    state.outer = active_state.load();
    active_state.store(&state);

    if (timeout.count() > 0) {
        state.armed = true;
        state.outer_alarm = Watchdog::instance().set(
            &state.timed_out, std::chrono::steady_clock::now() + timeout, state.outer_deadline);
    }
}

StepGuard::~StepGuard() {
    StepGuardState& state = *state_;
    if (state.armed) {
        std::chrono::steady_clock::time_point ignored;
        Watchdog::instance().set(state.outer_alarm, state.outer_deadline, ignored);
    }
    active_state.store(state.outer);
}

void StepGuard::set_lines(StepFailureLines lines) {
    auto replacement = formatted_state(lines);
    replacement->outer = state_->outer;
    // The handler runs on this thread (the only one not blocking the signals a run handles), so
    // it sees either the old state or the new one, each whole; the old goes only after the swap.
    active_state.store(replacement.get());
    state_.swap(replacement);
}

}  // namespace

std::unique_ptr<StepSupervisor::Watch> ProcessSupervisor::watch(StepFailureLines lines,
                                                                std::chrono::milliseconds timeout) {
    return std::make_unique<StepGuard>(lines, timeout);
}

}  // namespace migrator
