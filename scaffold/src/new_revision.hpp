// The steps scaffold new and autogenerate share: finding revisions/, choosing the parents,
// checking the id and labels.
#ifndef MIGRATOR_SCAFFOLD_NEW_REVISION_HPP
#define MIGRATOR_SCAFFOLD_NEW_REVISION_HPP

#include <filesystem>
#include <iosfwd>
#include <migrator/graph/graph.hpp>
#include <migrator/scaffold/scaffold.hpp>
#include <string>

#include "revision_source.hpp"

namespace migrator::scaffold {

/// The new revision `options` ask for, on top of the sources' `graph` in `dir`: its id (random
/// unless given), parents, labels, dependencies and create date; its code left to the caller.
/// Throws migrator::Error for an invalid or taken id or label, RevisionError for parents.
NewRevision prepare_revision(const RevisionGraph& graph, const std::filesystem::path& dir,
                             const NewOptions& options);

/// Writes `revision` into `dir` and prints a "Generating PATH ... done" line per file on `out`.
void write_revision(const std::filesystem::path& dir, const NewRevision& revision,
                    std::ostream& out);

}  // namespace migrator::scaffold

#endif  // MIGRATOR_SCAFFOLD_NEW_REVISION_HPP
