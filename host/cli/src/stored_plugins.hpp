// Private to the migrator program: what a run stores with the revisions it applies, and how an
// older release reads those plugins back to undo revisions its versions directory lacks.
#ifndef MIGRATOR_CLI_STORED_PLUGINS_HPP
#define MIGRATOR_CLI_STORED_PLUGINS_HPP

#include <filesystem>
#include <migrator/db/db.hpp>
#include <migrator/graph/graph.hpp>
#include <migrator/plugins/plugins.hpp>
#include <migrator/releases/releases.hpp>
#include <migrator/runner/runner.hpp>
#include <string>
#include <vector>

namespace migrator::cli {

/// The signature files of `versions_dir` (those that parse; whether their keys are trusted is not
/// asked: an older release judges that) and the oldest release holding each revision of `plan`.
PluginProvenance provenance_of(const std::filesystem::path& versions_dir,
                               const RevisionGraph& graph, const ReleaseHistory& releases,
                               const std::vector<Step>& plan);

/// The sentence refusing to run on a database at rows (`unknown`) that the versions directory
/// `versions_dir` does not know: which release applied them (per the plugins stored with them),
/// and the command that brings the database back with those plugins; or, when some are not
/// stored, that the versions directory that applied them must undo them.
std::string ahead_refusal(Database& db, const std::vector<std::string>& unknown,
                          const std::filesystem::path& versions_dir, const RevisionGraph& graph,
                          const ReleaseHistory& releases);

/// The plugins stored in a database for revisions a versions directory lacks, written to a
/// private temporary directory (removed with this object) and read from there as a versions
/// directory is read, signatures required: each must be listed, with its metadata and content,
/// by a stored signature file signed with one of `trusted` keys.
class StoredPluginDir {
public:
    /// Throws PluginError when no key is trusted, a stored plugin or signature file is damaged,
    /// or a plugin is not signed by a trusted key; RevisionError when `unknown` rows have no
    /// stored plugin.
    StoredPluginDir(Database& db, const RevisionGraph& known,
                    const std::vector<std::string>& unknown, const std::vector<PublicKey>& trusted,
                    PermissionCheck check);
    ~StoredPluginDir();
    StoredPluginDir(const StoredPluginDir&) = delete;
    StoredPluginDir& operator=(const StoredPluginDir&) = delete;

    /// The stored plugins, read as scan_versions_dir reads a versions directory.
    std::vector<PluginFile> files;

private:
    std::filesystem::path dir_;
};

}  // namespace migrator::cli

#endif  // MIGRATOR_CLI_STORED_PLUGINS_HPP
