// Revision sources: read MIGRATOR_REVISION(...) metadata back, stamp new revision projects.
#include "revision_source.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <migrator/errors.hpp>
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

/// The string literal argument of `macro("...")` in `source`, unescaped; nullopt if absent.
std::optional<std::string> macro_argument(const std::string& source, const std::string& macro) {
    const std::regex pattern(macro + R"(\s*\(\s*"((?:[^"\\]|\\.)*)\"\s*\))");
    std::smatch match;
    if (!std::regex_search(source, match, pattern)) return std::nullopt;
    std::string value;
    const std::string raw = match[1].str();
    for (std::size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] == '\\' && i + 1 < raw.size()) ++i;
        value += raw[i];
    }
    return value;
}

std::vector<std::string> split_ids(const std::string& text) {
    std::vector<std::string> ids;
    std::stringstream in(text);
    for (std::string id; std::getline(in, id, ',');) {
        id.erase(0, id.find_first_not_of(" \t"));
        id.erase(id.find_last_not_of(" \t") + 1);
        if (!id.empty()) ids.push_back(id);
    }
    return ids;
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
    const std::string source = read_text(file);
    Revision revision;
    auto id = macro_argument(source, "MIGRATOR_REVISION_ID");
    if (!id) throw Error("revision source " + file.string() + " declares no MIGRATOR_REVISION_ID");
    revision.id = *id;
    revision.parents = split_ids(macro_argument(source, "MIGRATOR_DOWN_REVISION").value_or(""));
    revision.branch_labels =
        split_ids(macro_argument(source, "MIGRATOR_BRANCH_LABELS").value_or(""));
    revision.depends_on = split_ids(macro_argument(source, "MIGRATOR_DEPENDS_ON").value_or(""));
    revision.message = macro_argument(source, "MIGRATOR_MESSAGE").value_or("");
    revision.create_date = macro_argument(source, "MIGRATOR_CREATE_DATE").value_or("");
    revision.path = file.string();
    return revision;
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
    const auto comma_list = [](const std::vector<std::string>& names) {
        std::string list;
        for (const auto& name : names) list += (list.empty() ? "" : ",") + name;
        return list;
    };
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

    fs::create_directories(folder);
    const fs::path cpp = folder / (stem + ".cpp");
    const fs::path lists = folder / "CMakeLists.txt";
    write_file(lists, cmake.str());
    write_file(cpp, revision_source_text(revision));
    return {lists, cpp};
}

}  // namespace migrator::scaffold
