// Fuzz target: revision identifiers and ranges resolved against a small graph with every shape.
#include <cstddef>
#include <cstdint>
#include <migrator/common/errors.hpp>
#include <migrator/graph/graph.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace {

using Ids = std::vector<std::string>;

migrator::Revision revision(std::string id, Ids parents, Ids labels = {}, Ids depends_on = {}) {
    migrator::Revision r;
    r.id = std::move(id);
    r.parents = std::move(parents);
    r.branch_labels = std::move(labels);
    r.depends_on = std::move(depends_on);
    return r;
}

// 1975ea83b712 -> 27c6a30d7c24, a branch point, into two labelled branches:
//   billing:  3e0e4c7a4a0b -> 3e0e9f00aa01
//   accounts: ae1027a6acf2 -> ae10b5c6d7e8 (which depends on 5a1b2c3d4e5f, a base of its own)
// merged by cb3cf47d9259, followed by cb3cf47d9260. Ids share prefixes (3e0e, ae10, cb3cf47d92)
// so that prefixes can be unique, ambiguous, or unique on one branch only.
const migrator::RevisionGraph& graph() {
    static const migrator::RevisionGraph instance({
        revision("1975ea83b712", {}),
        revision("27c6a30d7c24", {"1975ea83b712"}),
        revision("3e0e4c7a4a0b", {"27c6a30d7c24"}, {"billing"}),
        revision("3e0e9f00aa01", {"3e0e4c7a4a0b"}),
        revision("ae1027a6acf2", {"27c6a30d7c24"}, {"accounts"}),
        revision("ae10b5c6d7e8", {"ae1027a6acf2"}, {}, {"5a1b2c3d4e5f"}),
        revision("5a1b2c3d4e5f", {}, {"audit"}),
        revision("cb3cf47d9259", {"3e0e9f00aa01", "ae10b5c6d7e8"}),
        revision("cb3cf47d9260", {"cb3cf47d9259"}),
    });
    return instance;
}

// Version rows a database can hold: base, one row on a branch, a row per branch, the rows of
// a database at both heads, and a row the graph does not know (its plugin was removed).
const std::vector<Ids>& current_rows() {
    static const std::vector<Ids> rows{
        {},
        {"3e0e4c7a4a0b"},
        {"3e0e9f00aa01", "ae1027a6acf2"},
        {"cb3cf47d9260", "5a1b2c3d4e5f"},
        {"0123456789ab"},
    };
    return rows;
}

template <typename Call>
void refused_or_done(Call call) {
    try {
        call();
    } catch (const migrator::Error&) {
        // Refusing with a sentence is the contract; any other exception escapes and is a bug.
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view expression(reinterpret_cast<const char*>(data), size);
    const migrator::RevisionGraph& revisions = graph();
    for (const Ids& current : current_rows()) {
        refused_or_done([&] { revisions.resolve_target(expression, current); });
        refused_or_done([&] { revisions.resolve_range(expression, current); });
        refused_or_done([&] {
            const Ids destination = revisions.upgrade_destination(expression, current);
            revisions.plan_upgrade(current, destination);
        });
        refused_or_done([&] {
            const Ids destination = revisions.downgrade_destination(expression, current);
            revisions.plan_downgrade(current, destination);
        });
    }
    return 0;
}
