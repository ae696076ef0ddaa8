// Command-line mistakes answered as git and Alembic answer them: an unknown command or option is
// named, with the closest known one ("did you mean") and the list of commands. Shared by the
// migrator and scaffold programs (both parse with CLI11); header-only, as it needs CLI11.
#ifndef MIGRATOR_COMMAND_LINE_ERRORS_HPP
#define MIGRATOR_COMMAND_LINE_ERRORS_HPP

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstddef>
#include <iostream>
#include <migrator/common/text.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace migrator {

/// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
/// neighbouring characters ("histroy" is one from "history").
inline std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
    for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    }
    return d[a.size()][b.size()];
}

/// The candidate closest to `word`, if it is close enough to be what was meant: at most a third
/// of the word's length away (and at least one edit), or a candidate that `word` begins (an
/// abbreviation such as "down" for "downgrade"). Empty when nothing is close.
inline std::string closest_name(std::string_view word, const std::vector<std::string>& candidates) {
    std::string best;
    std::size_t best_distance = std::max<std::size_t>(1, word.size() / 3) + 1;
    for (const auto& candidate : candidates) {
        if (word.size() >= 3 && candidate.size() > word.size() &&
            candidate.compare(0, word.size(), word) == 0)
            return candidate;
        const std::size_t distance = edit_distance(word, candidate);
        if (distance < best_distance) {
            best = candidate;
            best_distance = distance;
        }
    }
    return best;
}

namespace detail {

/// The subcommand the parse reached (the deepest one given), or `app` itself.
inline const CLI::App* reached_command(const CLI::App& app) {
    const CLI::App* reached = &app;
    for (bool deeper = true; deeper;) {
        deeper = false;
        for (const CLI::App* sub : reached->get_subcommands()) {
            reached = sub;
            deeper = true;
            break;
        }
    }
    return reached;
}

inline std::vector<std::string> command_names(const CLI::App& app) {
    std::vector<std::string> names;
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
        if (!sub->get_name().empty()) names.push_back(sub->get_name());
    return names;
}

/// Every spelling of the options `command` accepts, its parents' included (they fall through).
inline std::vector<std::string> option_names(const CLI::App* command) {
    std::vector<std::string> names;
    for (; command != nullptr; command = command->get_parent()) {
        for (const CLI::Option* option : command->get_options()) {
            for (const auto& name : option->get_lnames()) names.push_back("--" + name);
            for (const auto& name : option->get_snames()) names.push_back("-" + name);
        }
    }
    return names;
}

}  // namespace detail

/// Answers a failed parse and returns the exit status (0 for --help and --version, 2 otherwise).
/// An argument left over where a command was expected, or an option nobody declared, gets one
/// sentence naming it, the closest known name, and the commands; other errors CLI11's own text.
inline int report_command_line_error(CLI::App& app, const CLI::ParseError& error,
                                     const std::string& program) {
    if (error.get_exit_code() == 0) return app.exit(error);  // --help, --version
    const bool no_command =
        dynamic_cast<const CLI::RequiredError*>(&error) != nullptr &&
        std::string_view(error.what()).find("subcommand") != std::string_view::npos;
    const bool leftover = no_command || dynamic_cast<const CLI::ExtrasError*>(&error) != nullptr;
    std::vector<std::string> remaining;
    if (leftover) remaining = app.remaining(true);
    const CLI::App* reached = detail::reached_command(app);
    if (remaining.empty()) {
        if (no_command) {
            std::cerr << "error: no command given. Commands: " << join(detail::command_names(app))
                      << ". Run '" << program << " --help' for more.\n";
        } else if (reached != &app && (dynamic_cast<const CLI::RequiredError*>(&error) ||
                                       dynamic_cast<const CLI::ArgumentMismatch*>(&error))) {
            // A missing argument of a command: the sentence, then the command's usage.
            std::cerr << "error: " << reached->get_name() << ": " << error.what() << "\n"
                      << reached->help(program);
        } else {
            std::cerr << "error: " << error.what() << "\nRun '" << program
                      << " --help' for more.\n";
        }
        return 2;
    }
    const std::string& word = remaining.front();
    std::string sentence;
    std::string hint;
    if (word.size() > 1 && word[0] == '-') {
        const std::string name = word.substr(0, word.find('='));
        sentence = "unknown option '" + name + "'" +
                   (reached == &app ? std::string() : " for '" + reached->get_name() + "'");
        hint = closest_name(name, detail::option_names(reached));
    } else if (reached == &app) {
        sentence = "unknown command '" + word + "'";
        hint = closest_name(word, detail::command_names(app));
    } else {
        sentence = "unexpected argument '" + word + "' for '" + reached->get_name() + "'";
    }
    std::cerr << "error: " << sentence;
    if (!hint.empty()) std::cerr << "; did you mean '" << hint << "'?";
    std::cerr << '\n';
    if (reached == &app)
        std::cerr << "Commands: " << join(detail::command_names(app)) << ". Run '" << program
                  << " --help' for more.\n";
    else
        std::cerr << "Run '" << program << " " << reached->get_name()
                  << " --help' for its usage.\n";
    return 2;
}

}  // namespace migrator

#endif  // MIGRATOR_COMMAND_LINE_ERRORS_HPP
