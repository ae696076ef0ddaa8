// The command_line part: completion from a CLI11 definition, and the "did you mean" of a mistake.
#include <catch2/catch.hpp>
#include <migrator/command_line/completion.hpp>
#include <migrator/command_line/errors.hpp>
#include <string>
#include <vector>

using migrator::complete_command_line;
using Words = std::vector<std::string>;

namespace {

// A small program shaped like migrator: a global option, two commands with options of their own.
struct Program {
    CLI::App app{"program"};
    std::string url, sql_target, tag;
    bool sql = false;
    Program() {
        app.add_option("--url", url);
        CLI::App* upgrade = app.add_subcommand("upgrade");
        upgrade->add_flag("--sql", sql);
        upgrade->add_option("--tag", tag);
        app.add_subcommand("history");
    }
};

const migrator::PositionalCandidates revisions = [](const migrator::CompletionContext& context) {
    Words ids{"ae1027a6acf2", "1975ea83b712"};
    // What was given to --url before the word reaches the candidates.
    if (context.values.count("--url")) ids.push_back("url=" + context.values.at("--url"));
    return ids;
};

}  // namespace

TEST_CASE("completion offers the commands that start with the word", "[command_line]") {
    Program program;
    CHECK(complete_command_line(program.app, {""}, revisions) == Words{"upgrade", "history"});
    CHECK(complete_command_line(program.app, {"hi"}, revisions) == Words{"history"});
}

TEST_CASE("completion offers a command's options and the program's", "[command_line]") {
    Program program;
    const Words options = complete_command_line(program.app, {"upgrade", "--"}, revisions);
    CHECK(std::find(options.begin(), options.end(), "--sql") != options.end());
    CHECK(std::find(options.begin(), options.end(), "--tag") != options.end());
    CHECK(std::find(options.begin(), options.end(), "--url") != options.end());
    CHECK(complete_command_line(program.app, {"upgrade", "--s"}, revisions) == Words{"--sql"});
}

TEST_CASE("completion offers positional candidates with the option values given before",
          "[command_line]") {
    Program program;
    CHECK(complete_command_line(program.app, {"upgrade", "ae"}, revisions) ==
          Words{"ae1027a6acf2"});
    CHECK(complete_command_line(program.app, {"--url", "sqlite://", "upgrade", "url"}, revisions) ==
          Words{"url=sqlite://"});
    CHECK(complete_command_line(program.app, {"--url=x.db", "upgrade", "url"}, revisions) ==
          Words{"url=x.db"});
}

TEST_CASE("completion offers nothing for the value of an option", "[command_line]") {
    Program program;
    CHECK(complete_command_line(program.app, {"upgrade", "--tag", ""}, revisions).empty());
}

TEST_CASE("a mistyped name is answered with the closest known one", "[command_line]") {
    const Words commands{"history", "heads", "upgrade", "downgrade"};
    CHECK(migrator::edit_distance("histroy", "history") == 1);
    CHECK(migrator::closest_name("histroy", commands) == "history");
    CHECK(migrator::closest_name("down", commands) == "downgrade");
    CHECK(migrator::closest_name("xyzzy", commands).empty());
}
