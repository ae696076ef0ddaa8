// What the scaffold program and `migrator revision` share: stamping a new revision under
// revisions/.
#ifndef MIGRATOR_SCAFFOLD_HPP
#define MIGRATOR_SCAFFOLD_HPP

#include <iosfwd>
#include <migrator/errors.hpp>
#include <string>
#include <vector>

namespace migrator::scaffold {

/// What a new revision is asked to be (`scaffold new`, `scaffold merge`, `migrator revision`).
struct NewOptions {
    std::string message;
    std::string head;           ///< the parent; empty: the single head of the sources
    std::string rev_id;         ///< empty: a random id
    std::string revisions_dir;  ///< empty: ./revisions
    bool splice = false;
    std::vector<std::string> branch_labels;
    std::vector<std::string> depends_on;
    std::vector<std::string> merge;  ///< `scaffold merge`: the revisions to join
};

/// Writes a new revision project (folder, CMakeLists.txt, source) whose parent is the head of
/// the sources (or --head, or the merged revisions), and prints a "Generating PATH ... done" line
/// per file on `out`. Throws migrator::Error (RevisionError for revision identifiers) with a
/// sentence naming what is wrong.
void create_revision(const NewOptions& options, std::ostream& out);

}  // namespace migrator::scaffold

#endif  // MIGRATOR_SCAFFOLD_HPP
