// Revision sources read back by scaffold: the host's metadata rules, applied to what a source's
// MIGRATOR_REVISION(...) compiles into, so that scaffold refuses exactly what migrator would.
#include "revision_source.hpp"

#include <migrator/plugin_abi.h>

#include <catch2/catch.hpp>
#include <migrator/common/errors.hpp>
#include <migrator/plugins/plugins.hpp>
#include <string>

using namespace migrator;
using Catch::Matchers::Contains;
using Catch::Matchers::Equals;

namespace {

/// A revision source whose metadata macros hold `id`, `down` and `message` as written (C escapes
/// and all).
std::string source_of(const std::string& id, const std::string& down, const std::string& message) {
    return "#include <migrator/revision.hpp>\n"
           "MIGRATOR_REVISION(MIGRATOR_REVISION_ID(\"" +
           id + "\")\n                  MIGRATOR_DOWN_REVISION(\"" + down +
           "\")\n                  MIGRATOR_MESSAGE(\"" + message +
           "\")\n                  MIGRATOR_CREATE_DATE(\"2024-05-01 12:00:00\"));\n"
           "void upgrade(migrator::Context&) {}\nvoid downgrade(migrator::Context&) {}\n";
}

/// The metadata the compiler embeds for the same macros (message already unescaped).
std::string metadata_of(const std::string& id, const std::string& down,
                        const std::string& message) {
    return MIGRATOR_METADATA_MAGIC "\nabi=2\nid=" + id + "\ndown=" + down + "\nmessage=" + message +
           "\ncreated=2024-05-01 12:00:00\n";
}

/// What follows "has invalid metadata: " in `refusal`: the rule that was broken.
std::string broken_rule(const std::string& refusal) {
    const std::string marker = "has invalid metadata: ";
    const auto at = refusal.find(marker);
    return at == std::string::npos ? refusal : refusal.substr(at + marker.size());
}

std::string scaffold_refusal(const std::string& source) {
    try {
        scaffold::read_revision_text(source, "revisions/x/x.cpp");
    } catch (const Error& e) {
        return e.what();
    }
    return "accepted";
}

std::string host_refusal(const std::string& metadata) {
    try {
        parse_metadata(metadata, "versions/x.so");
    } catch (const PluginError& e) {
        return e.what();
    }
    return "accepted";
}

}  // namespace

TEST_CASE("scaffold reads a revision source's metadata as migrator reads its plugin's",
          "[scaffold][metadata]") {
    const auto revision = scaffold::read_revision_text(
        source_of("b2b2", "a1a1, c3c3", R"(say \"hi\"\tand \x41\101)"), "revisions/b2/b2.cpp");
    CHECK(revision.id == "b2b2");
    CHECK(revision.parents == std::vector<std::string>{"a1a1", "c3c3"});
    CHECK(revision.message == "say \"hi\"\tand AA");
    CHECK(revision.path == "revisions/b2/b2.cpp");
}

// Each of these was read by scaffold (as a head to build on, or a parent) while migrator refused
// the plugin built from it.
TEST_CASE(
    "scaffold refuses a revision source for what migrator refuses its plugin for, in the "
    "same words",
    "[scaffold][metadata]") {
    struct Case {
        const char* what;
        std::string id, down, source_message, message;
        const char* rule;
    };
    const Case cases[] = {
        {"an id with a dash", "b2-b2", "a1a1", "m", "m",
         "the revision id 'b2-b2' is not 1 to 32 characters of [0-9A-Za-z_]"},
        {"an id of 33 characters", std::string(33, 'a'), "a1a1", "m", "m",
         "is not 1 to 32 characters of [0-9A-Za-z_]"},
        {"a parent listed twice", "b2b2", "a1a1,a1a1", "m", "m",
         "the down revision 'a1a1' is listed twice"},
        {"an empty parent between commas", "b2b2", "a1a1,,c3c3", "m", "m",
         "the down revision '' in 'down=a1a1,,c3c3' is not 1 to 32 characters of [0-9A-Za-z_]"},
        {"a message whose escaped newline starts a second id line", "b2b2", "a1a1", R"(m\nid=c3c3)",
         "m\nid=c3c3", "the key 'id' appears more than once"},
    };
    for (const auto& c : cases) {
        SECTION(c.what) {
            const std::string from_scaffold =
                scaffold_refusal(source_of(c.id, c.down, c.source_message));
            const std::string from_host = host_refusal(metadata_of(c.id, c.down, c.message));
            CHECK_THAT(from_scaffold, Contains("revision source revisions/x/x.cpp has invalid "
                                               "metadata: "));
            CHECK_THAT(from_host, Contains("plugin file versions/x.so has invalid metadata: "));
            CHECK_THAT(broken_rule(from_scaffold), Contains(c.rule));
            CHECK(broken_rule(from_scaffold) == broken_rule(from_host));
        }
    }
}

TEST_CASE("scaffold refuses a new revision's id or branch label in migrator's words",
          "[scaffold][metadata]") {
    CHECK(name_refusal("revision id", "b2b2").empty());
    CHECK_THAT(name_refusal("branch label", "my-label"),
               Equals("the branch label 'my-label' is not 1 to 32 characters of [0-9A-Za-z_]"));
    scaffold::NewRevision revision;
    revision.id = "b2b2";
    revision.parents = {"a1a1"};
    revision.branch_labels = {"feature", "feature"};
    revision.message = "m";
    const std::string source = scaffold::revision_source_text(revision);
    CHECK_THAT(scaffold_refusal(source), Contains("the branch label 'feature' is listed twice"));
}
