// Revision sources: read MIGRATOR_REVISION(...) metadata back, stamp new revision projects.
#include "revision_source.hpp"

#include <migrator/plugin_abi.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <migrator/common/errors.hpp>
#include <migrator/common/text.hpp>
#include <migrator/plugins/plugins.hpp>
#include <optional>
#include <random>
#include <regex>
#include <sstream>

namespace migrator::scaffold {
namespace fs = std::filesystem;
namespace {

std::string read_text(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw Error("cannot read revision source " + file.string());
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

/// `text` as the compiler reads the inside of a string literal: its escape sequences replaced by
/// the characters they stand for.
std::string unescape(const std::string& text) {
    std::string value;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '\\' || i + 1 == text.size()) {
            value += text[i];
            continue;
        }
        const char c = text[++i];
        if (c == 'x' || (c >= '0' && c <= '7')) {
            const bool hex = c == 'x';
            const std::size_t start = hex ? i + 1 : i;
            std::size_t end = start;
            while (end < text.size() && end - start < (hex ? 2u : 3u) &&
                   (hex ? std::isxdigit(static_cast<unsigned char>(text[end])) != 0
                        : text[end] >= '0' && text[end] <= '7'))
                ++end;
            value += static_cast<char>(
                std::stoi(text.substr(start, end - start), nullptr, hex ? 16 : 8));
            i = end - 1;
            continue;
        }
        const std::string_view simple = "n\nt\tr\ra\ab\bf\fv\v";
        const auto at = simple.find(c);
        value += at != std::string_view::npos && at % 2 == 0 ? simple[at + 1] : c;
    }
    return value;
}

/// The string literal argument of `macro("...")` in `source`, unescaped; nullopt if absent.
std::optional<std::string> macro_argument(const std::string& source, const std::string& macro) {
    const std::regex pattern(macro + R"(\s*\(\s*"((?:[^"\\]|\\.)*)\"\s*\))");
    std::smatch match;
    if (!std::regex_search(source, match, pattern)) return std::nullopt;
    return unescape(match[1].str());
}

/// The metadata text MIGRATOR_REVISION(...) in `source` compiles into, as the host reads it from
/// the plugin (plugin-api's revision.hpp): one key=value line a metadata macro.
std::string compiled_metadata(const std::string& source) {
    std::string text =
        MIGRATOR_METADATA_MAGIC "\nabi=" + std::to_string(MIGRATOR_ABI_VERSION) + "\n";
    for (const auto& [macro, key] : {std::pair{"MIGRATOR_REVISION_ID", "id"},
                                     {"MIGRATOR_DOWN_REVISION", "down"},
                                     {"MIGRATOR_BRANCH_LABELS", "labels"},
                                     {"MIGRATOR_DEPENDS_ON", "depends_on"},
                                     {"MIGRATOR_MESSAGE", "message"},
                                     {"MIGRATOR_CREATE_DATE", "created"}})
        if (const auto value = macro_argument(source, macro))
            text += std::string(key) + "=" + *value + "\n";
    if (std::regex_search(source, std::regex(R"(MIGRATOR_NON_TRANSACTIONAL\s*\(\s*\))")))
        text += "transactional=0\n";
    return text;
}

/// Escapes text for a C string literal on one line.
std::string c_string(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
    }
    return out;
}

void write_file(const fs::path& file, const std::string& content) {
    std::ofstream out(file, std::ios::binary);
    out << content;
    if (!out) throw Error("cannot write " + file.string());
}

}  // namespace

Revision read_revision_source(const fs::path& file) {
    return read_revision_text(read_text(file), file.string());
}

Revision read_revision_text(const std::string& source, const std::string& file) {
    if (!macro_argument(source, "MIGRATOR_REVISION_ID"))
        throw Error("revision source " + file + " declares no MIGRATOR_REVISION_ID");
    // The host's rules, read from what the build will embed: a source is refused here for exactly
    // what its plugin would be refused for. The refusal is scaffold's own (a source to fix), not
    // one of an unusable plugin file.
    try {
        return parse_metadata(compiled_metadata(source), "revision source " + file, file);
    } catch (const PluginError& e) {
        throw Error(e.what());
    }
}

std::vector<Revision> read_revision_sources(const fs::path& revisions_dir) {
    std::vector<fs::path> sources;
    for (const auto& folder : fs::directory_iterator(revisions_dir)) {
        if (!folder.is_directory()) continue;
        for (const auto& entry : fs::directory_iterator(folder.path())) {
            if (entry.path().extension() != ".cpp") continue;
            if (read_text(entry.path()).find("MIGRATOR_REVISION(") == std::string::npos) continue;
            sources.push_back(entry.path());
        }
    }
    std::sort(sources.begin(), sources.end());
    std::vector<Revision> revisions;
    for (const auto& source : sources) revisions.push_back(read_revision_source(source));
    return revisions;
}

std::string revision_stem(std::string_view id, std::string_view message) {
    std::string slug;
    for (char c : message) {
        if (std::isalnum(static_cast<unsigned char>(c)))
            slug += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        else if (!slug.empty() && slug.back() != '_')
            slug += '_';
    }
    if (slug.size() > 40) slug.resize(40);
    while (!slug.empty() && slug.back() == '_') slug.pop_back();
    return slug.empty() ? std::string(id) : std::string(id) + "_" + slug;
}

std::string new_revision_id() {
    std::random_device device;
    std::uniform_int_distribution<int> digit(0, 15);
    std::string id;
    for (int i = 0; i < 12; ++i) id += "0123456789abcdef"[digit(device)];
    return id;
}

RevisionCode operations_example_code() {
    RevisionCode code;
    code.includes = {"migrator/operations.hpp"};
    code.preamble =
        "using namespace migrator::schema;  // Table, Column, Type, Index, ForeignKey\n";
    code.upgrade =
        "    migrator::Operations op(ctx);\n"
        "    // op.create_table(Table(\"account\")\n"
        "    //                     .column(Column(\"id\", Type::integer()).auto_increment())\n"
        "    //                     .column(Column(\"name\", Type::varchar(80)).not_null())\n"
        "    //                     .primary_key({\"id\"}));\n"
        "    //\n"
        "    // Operations are rendered for the database's dialect (SQLite or PostgreSQL) by\n"
        "    // migrator. SQL of your own runs as it is written, beside them or instead:\n"
        "    // ctx.execute(\"CREATE INDEX ix_account_name ON account (name)\");\n";
    code.downgrade =
        "    migrator::Operations op(ctx);\n"
        "    // op.drop_table(\"account\");\n";
    code.uses_context = true;
    return code;
}

std::string revision_source_text(const NewRevision& revision) {
    const std::string stem = revision_stem(revision.id, revision.message);
    const auto comma_list = [](const std::vector<std::string>& names) { return join(names, ","); };
    const std::string parents = comma_list(revision.parents);
    const bool merge = revision.parents.size() > 1;
    const RevisionCode& code = revision.code;
    const std::string context =
        code.uses_context ? "migrator::Context& ctx" : "[[maybe_unused]] migrator::Context& ctx";

    std::ostringstream source;
    source << "// Revision " << revision.id << ": " << c_string(revision.message) << "\n"
           << "//\n"
           << "// Revises: " << (parents.empty() ? "<base>" : parents) << "\n"
           << "// Create Date: " << revision.create_date << "\n"
           << "//\n"
           << "// The build turns this file into versions/" << stem << ".so. Keep the metadata\n"
           << "// below as it is: migrator reads it from the plugin without running any code.\n";
    if (!code.comment.empty()) source << "//\n" << code.comment;
    source << "#include <migrator/revision.hpp>\n";
    for (const auto& header : code.includes) source << "#include <" << header << ">\n";
    source << "\n";
    if (!code.preamble.empty()) source << code.preamble << "\n";
    source << "MIGRATOR_REVISION(MIGRATOR_REVISION_ID(\"" << revision.id << "\")\n"
           << "                  MIGRATOR_DOWN_REVISION(\"" << parents << "\")\n";
    if (!revision.branch_labels.empty())
        source << "                  MIGRATOR_BRANCH_LABELS(\""
               << comma_list(revision.branch_labels) << "\")\n";
    if (!revision.depends_on.empty())
        source << "                  MIGRATOR_DEPENDS_ON(\"" << comma_list(revision.depends_on)
               << "\")\n";
    source << "                  MIGRATOR_MESSAGE(\"" << c_string(revision.message) << "\")\n"
           << "                  MIGRATOR_CREATE_DATE(\"" << revision.create_date << "\"));\n\n"
           << (merge ? "// A merge revision joins branches; it usually changes nothing itself.\n"
                     : "")
           << "// Upgrade: bring the schema from the parent revision to this one. It runs in one\n"
           << "// transaction with the version-table change: if anything throws (ctx.execute\n"
           << "// throws on an SQL error), all of it is rolled back.\n"
           << "void upgrade(" << context << ") {\n"
           << code.upgrade << "}\n\n"
           << "// Downgrade: undo exactly what upgrade did, in reverse order.\n"
           << "void downgrade(" << context << ") {\n"
           << code.downgrade << "}\n";
    return source.str();
}

std::vector<fs::path> write_revision_project(const fs::path& revisions_dir,
                                             const NewRevision& revision) {
    const std::string stem = revision_stem(revision.id, revision.message);
    const fs::path folder = revisions_dir / stem;
    if (fs::exists(folder)) throw Error("revision folder " + folder.string() + " already exists");

    std::ostringstream cmake;
    cmake << "# Revision " << revision.id << ": builds " << stem << ".cpp into versions/" << stem
          << ".so\n"
          << "migrator_add_revision(" << stem << ".cpp)\n";

    const fs::path cpp = folder / (stem + ".cpp");
    const fs::path lists = folder / "CMakeLists.txt";
    // Nothing is written that the build would turn into a plugin the host refuses.
    const std::string source = revision_source_text(revision);
    read_revision_text(source, cpp.string());
    fs::create_directories(folder);
    write_file(lists, cmake.str());
    write_file(cpp, source);
    return {lists, cpp};
}

}  // namespace migrator::scaffold
