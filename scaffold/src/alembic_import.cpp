// scaffold import-alembic: one revision project per Alembic script. The translation is Python's:
// scaffold/share/alembic_import.py reads the scripts with Python's own parser (ast) and writes the
// C++ bodies; this file runs it, checks what it returns as a revision history, and writes the
// projects as `scaffold new` does.
#include <boost/json.hpp>
#include <cstring>
#include <migrator/common/errors.hpp>
#include <migrator/common/helper_program.hpp>
#include <migrator/common/text.hpp>
#include <migrator/plugins/plugins.hpp>
#include <migrator/scaffold/scaffold.hpp>
#include <ostream>
#include <set>

#include "new_revision.hpp"
#include "revision_source.hpp"

namespace migrator::scaffold {
namespace fs = std::filesystem;

/// The text of scaffold/share/alembic_import.py, compiled in by the build (alembic_import_py.cpp).
extern const char* const alembic_import_script;

namespace {

std::vector<std::string> strings(const boost::json::value& list) {
    std::vector<std::string> out;
    for (const auto& item : list.as_array()) out.emplace_back(item.as_string().c_str());
    return out;
}

}  // namespace

ImportReport import_alembic(const ImportOptions& options, std::ostream& out) {
    const fs::path dir = find_revisions_dir(options.revisions_dir);
    const fs::path alembic_dir = fs::absolute(options.alembic_versions_dir).lexically_normal();
    if (!fs::is_directory(alembic_dir))
        throw Error("Alembic versions folder " + options.alembic_versions_dir +
                    " does not exist (pass the folder that holds the revision scripts, e.g. "
                    "alembic/versions)");

    // The translation is far smaller than this; a runaway interpreter is stopped there.
    constexpr std::size_t max_output = 256u << 20;
    const HelperRun run = run_helper_program(
        {python_program(), "-c", alembic_import_script, alembic_dir.string()}, max_output);
    if (run.spawn_error != 0)
        throw Error("scaffold import-alembic needs Python 3 to read the Alembic scripts, and " +
                    python_program(true) + " could not be run: " + std::strerror(run.spawn_error) +
                    " (install python3, or set MIGRATOR_PYTHON)");
    if (!run.succeeded())
        throw Error(last_line(run.err).empty()
                        ? "the translation of " + alembic_dir.string() + " failed (" +
                              run.how_it_ended() + ") under " + python_program(true)
                        : last_line(run.err));

    boost::json::value document;
    try {
        document = boost::json::parse(run.out);
    } catch (const std::exception& e) {
        throw Error("the translation of " + alembic_dir.string() +
                    " is not the JSON scaffold expects: " + e.what());
    }

    // The imported history must be a revision graph on its own and must not clash with the
    // sources already in the project: both are checked before any file is written.
    const auto existing = read_revision_sources(dir);
    std::set<std::string> taken;
    for (const auto& revision : existing) taken.insert(revision.id);
    std::vector<NewRevision> revisions;
    std::vector<Revision> graph_input;
    ImportReport report;
    for (const auto& entry : document.at("revisions").as_array()) {
        const auto& object = entry.as_object();
        NewRevision revision;
        const std::string file(object.at("file").as_string().c_str());
        revision.id = object.at("id").as_string().c_str();
        if (const auto refusal = name_refusal("revision id", revision.id); !refusal.empty())
            throw RevisionError(file + ": " + refusal);
        if (taken.count(revision.id))
            throw RevisionError(file + ": revision " + revision.id + " is already in " +
                                dir.string());
        revision.parents = strings(object.at("down_revision"));
        revision.branch_labels = strings(object.at("branch_labels"));
        for (const auto& label : revision.branch_labels)
            if (const auto refusal = name_refusal("branch label", label); !refusal.empty())
                throw RevisionError(file + ": " + refusal);
        revision.depends_on = strings(object.at("depends_on"));
        revision.message = object.at("message").as_string().c_str();
        if (revision.message.empty()) revision.message = "imported " + revision.id;
        revision.create_date = object.at("create_date").as_string().c_str();
        const auto translated = object.at("translated").to_number<std::size_t>();
        const auto& review = object.at("review").as_array();
        RevisionCode code;
        code.includes = {"migrator/operations.hpp"};
        code.preamble = "using namespace migrator::schema;  // Table, Column, Type, Index, ...\n";
        code.comment = "// Imported from Alembic's " + file +
                       " by scaffold import-alembic: " + count_of(translated, "statement") +
                       " translated" +
                       (review.empty() ? std::string(".\n")
                                       : ", " + count_of(review.size(), "statement") +
                                             " left for review (each fails the step until it is "
                                             "written in C++ here).\n");
        code.upgrade = object.at("upgrade").as_string().c_str();
        code.downgrade = object.at("downgrade").as_string().c_str();
        code.uses_context = true;
        revision.code = std::move(code);
        report.translated += translated;
        for (const auto& item : review)
            report.review.push_back({file, item.at("line").to_number<int>(),
                                     item.at("call").as_string().c_str(),
                                     item.at("why").as_string().c_str()});

        Revision node;
        node.id = revision.id;
        node.parents = revision.parents;
        node.branch_labels = revision.branch_labels;
        node.depends_on = revision.depends_on;
        node.message = revision.message;
        node.path = file;
        graph_input.push_back(std::move(node));
        taken.insert(revision.id);
        revisions.push_back(std::move(revision));
    }
    if (revisions.empty())
        throw Error(alembic_dir.string() +
                    " holds no Alembic revision script (a .py file that sets revision = '...')");
    // Parents and dependencies must be in the imported history (or the project); RevisionGraph
    // refuses one that is not, naming it.
    std::vector<Revision> whole = existing;
    whole.insert(whole.end(), graph_input.begin(), graph_input.end());
    const RevisionGraph graph(std::move(whole));
    for (auto& revision : revisions) {
        for (auto& dependency : revision.depends_on) dependency = graph.resolve_id(dependency);
        if (revision.create_date.empty()) revision.create_date = "1970-01-01 00:00:00";
    }

    for (const auto& revision : revisions) write_revision(dir, revision, out);
    report.revisions = revisions.size();
    return report;
}

}  // namespace migrator::scaffold
