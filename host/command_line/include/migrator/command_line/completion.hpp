// Shell completion answered by the programs themselves: `PROGRAM __complete WORD...` prints the
// candidates for the last word, one a line, from the very CLI11 definition that parses the command
// line, so the bash and zsh scripts (host/completion/) are thin and never drift from the options.
// Shared by migrator and scaffold; header-only, as it needs CLI11.
#ifndef MIGRATOR_COMMAND_LINE_COMPLETION_HPP
#define MIGRATOR_COMMAND_LINE_COMPLETION_HPP

#include <CLI/CLI.hpp>
#include <algorithm>
#include <functional>
#include <iostream>
#include <map>
#include <migrator/command_line/errors.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace migrator {

/// The first argument that asks a program for completions instead of running a command.
inline constexpr std::string_view completion_request = "__complete";

/// Where the words before the one being completed lead.
struct CompletionContext {
    const CLI::App* command = nullptr;  ///< the deepest command named (or the program itself)
    /// Values given to options so far, by every spelling of the option ("--versions-dir").
    std::map<std::string, std::string> values;
};

/// Gives the candidates for a positional word of `context.command` (e.g. revision ids); empty
/// when the command takes none that can be listed.
using PositionalCandidates = std::function<std::vector<std::string>(const CompletionContext&)>;

namespace detail {

/// The option of `command` or a parent (options fall through) spelled `word`, if any.
inline const CLI::Option* option_spelled(const CLI::App* command, const std::string& word) {
    for (; command != nullptr; command = command->get_parent())
        for (const CLI::Option* option : command->get_options())
            if (option->check_name(word)) return option;
    return nullptr;
}

inline bool starts_with(std::string_view text, std::string_view prefix) {
    return text.substr(0, prefix.size()) == prefix;
}

}  // namespace detail

/// The candidates for the last of `words` (the arguments after the program's name; the last may
/// be empty): option spellings for a word starting with '-', command names before a command is
/// named, `positional` after; none after an option that takes a value (the shell then offers
/// files). Only candidates starting with the word are returned.
inline std::vector<std::string> complete_command_line(const CLI::App& app,
                                                      const std::vector<std::string>& words,
                                                      const PositionalCandidates& positional) {
    CompletionContext context;
    context.command = &app;
    const std::string current = words.empty() ? std::string() : words.back();
    const CLI::Option* awaiting = nullptr;  // an option whose value is the next word
    for (std::size_t i = 0; i + 1 < words.size(); ++i) {
        const std::string& word = words[i];
        if (awaiting != nullptr) {
            for (const auto& name : awaiting->get_lnames()) context.values["--" + name] = word;
            awaiting = nullptr;
            continue;
        }
        if (word.size() > 1 && word[0] == '-') {
            const auto equals = word.find('=');
            const CLI::Option* option =
                detail::option_spelled(context.command, word.substr(0, equals));
            if (option != nullptr && option->get_type_size() != 0) {
                if (equals == std::string::npos)
                    awaiting = option;
                else
                    for (const auto& name : option->get_lnames())
                        context.values["--" + name] = word.substr(equals + 1);
            }
            continue;
        }
        for (const CLI::App* sub :
             context.command->get_subcommands([](const CLI::App*) { return true; }))
            if (sub->check_name(word)) {
                context.command = sub;
                break;
            }
    }
    std::vector<std::string> candidates;
    if (awaiting != nullptr) return candidates;
    if (detail::starts_with(current, "-")) {
        candidates = detail::option_names(context.command);
    } else {
        candidates = detail::command_names(*context.command);
        if (candidates.empty() && positional) candidates = positional(context);
    }
    std::vector<std::string> matching;
    for (const auto& candidate : candidates)
        if (detail::starts_with(candidate, current) &&
            std::find(matching.begin(), matching.end(), candidate) == matching.end())
            matching.push_back(candidate);
    return matching;
}

/// Answers `PROGRAM __complete WORD...` when argv asks for it: prints the candidates, one a line,
/// and returns true (the program then exits 0); false for any other command line.
inline bool answer_completion_request(const CLI::App& app, int argc, char** argv,
                                      const PositionalCandidates& positional = {}) {
    if (argc < 2 || argv[1] != completion_request) return false;
    const std::vector<std::string> words(argv + 2, argv + argc);
    try {
        for (const auto& candidate : complete_command_line(app, words, positional))
            std::cout << candidate << '\n';
    } catch (const std::exception&) {
        // A completion that cannot be computed offers nothing; the shell falls back to files.
    }
    return true;
}

}  // namespace migrator

#endif  // MIGRATOR_COMMAND_LINE_COMPLETION_HPP
