// The lines a StepSupervisor writes (see failure_lines.hpp).
#include "failure_lines.hpp"

#include <migrator/common/terminal_text.hpp>

namespace migrator::detail {
namespace {

std::string describe_seconds(std::chrono::milliseconds duration) {
    const auto ms = duration.count();
    std::string text = std::to_string(ms / 1000);
    if (ms % 1000 != 0) {
        std::string fraction = std::to_string(1000 + ms % 1000).substr(1);
        while (fraction.back() == '0') fraction.pop_back();
        text += "." + fraction;
    }
    return text + " s";
}

constexpr std::string_view signal_placeholder = StepFailureLines::signal_placeholder;

}  // namespace

std::string describe_heads(const std::vector<std::string>& heads) {
    if (heads.empty()) return "base";
    std::string text;
    for (const auto& head : heads) text += (text.empty() ? "" : ", ") + head;
    return text;
}

StepFailureLines step_failure_lines(const Step& step, const Revision& revision,
                                    const std::string& outcome, std::chrono::milliseconds timeout) {
    const char* direction = to_string(step.direction);
    StepFailureLines lines;
    const std::string message = printable(revision.message);
    lines.signalled = "error: revision " + step.revision + " (" + message + ") " +
                      std::string(signal_placeholder) + " during " + direction + "; " + outcome;
    if (timeout.count() > 0)
        lines.timed_out = "error: " + std::string(direction) + " of revision " + step.revision +
                          " (" + message + ") did not finish within --step-timeout " +
                          describe_seconds(timeout) + ", so migrator stopped; " + outcome;
    return lines;
}

StepFailureLines plugin_failure_lines(const std::string& file, const std::string& revision,
                                      bool loading, const std::string& outcome) {
    StepFailureLines lines;
    lines.signalled = "error: plugin " + file + " (revision " + revision + ") " +
                      std::string(signal_placeholder) +
                      (loading ? " while being loaded (in its static constructors); "
                               : " while being unloaded (in its static destructors); ") +
                      outcome;
    lines.progress_line_open = false;
    return lines;
}

StepFailureLines run_failure_lines(const std::string& activity, const std::string& outcome,
                                   bool progress_line_open) {
    StepFailureLines lines;
    lines.signalled =
        "error: migrator " + std::string(signal_placeholder) + " " + activity + "; " + outcome;
    lines.progress_line_open = progress_line_open;
    return lines;
}

}  // namespace migrator::detail
