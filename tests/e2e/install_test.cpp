// End to end: install this build, stamp an outside project with scaffold init, build it against
// the installed package, bundle it, and migrate a database with the bundle moved elsewhere.
#include <catch2/catch.hpp>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "e2e.hpp"

using namespace testing;
using Catch::Matchers::Contains;

namespace {

ProcessResult cmake(const std::vector<std::string>& args, const std::string& cwd = "") {
    std::vector<std::string> argv{MIGRATOR_CMAKE_COMMAND};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv, {}, cwd);
}

/// The program of the CMake installation running the tests (cpack, ctest) by its name.
std::string cmake_tool(const std::string& name) {
    return (fs::path(MIGRATOR_CMAKE_COMMAND).parent_path() / name).string();
}

/// The revision source `scaffold new` reports it generated.
fs::path generated_source(const std::string& scaffold_output) {
    std::smatch match;
    REQUIRE(std::regex_search(scaffold_output, match, std::regex("Generating (\\S+\\.cpp) ")));
    return match[1].str();
}

/// Makes the raw-SQL revision in `source` (scaffold new --raw-sql) create `table` on upgrade and
/// drop it on downgrade.
void create_table_in(const fs::path& source, const std::string& table) {
    replace_in_file(
        source, "    // ctx.execute(\"CREATE TABLE ...\");",
        "    ctx.execute(\"CREATE TABLE " + table + " (id INTEGER PRIMARY KEY, name TEXT)\");");
    replace_in_file(source, "    // ctx.execute(\"DROP TABLE ...\");",
                    "    ctx.execute(\"DROP TABLE " + table + "\");");
}

/// The same with the portable operations of the revision scaffold new stamps by default.
void create_table_with_operations_in(const fs::path& source, const std::string& table) {
    replace_in_file(source, "    migrator::Operations op(ctx);\n    // op.create_table(",
                    "    migrator::Operations op(ctx);\n"
                    "    op.create_table(Table(\"" +
                        table +
                        "\")\n"
                        "                        .column(Column(\"id\", Type::integer()))\n"
                        "                        .column(Column(\"name\", Type::text()))\n"
                        "                        .primary_key({\"id\"}));\n"
                        "    // op.create_table(");
    replace_in_file(source, "    // op.drop_table(\"account\");",
                    "    op.drop_table(\"" + table + "\");");
}

/// The names of the ELF sections of `file`, as readelf (binutils) lists them.
std::vector<std::string> section_names(const fs::path& file) {
    const auto listed =
        run_process({"/usr/bin/readelf", "--section-headers", "--wide", file.string()});
    REQUIRE(listed.exit_code == 0);
    std::vector<std::string> names;
    const std::regex row(R"(\[\s*[0-9]+\]\s+(\S+))");
    for (std::sregex_iterator it(listed.out.begin(), listed.out.end(), row), end; it != end; ++it)
        names.push_back((*it)[1].str());
    REQUIRE_FALSE(names.empty());
    return names;
}

/// Whether `file` has a .debug_* section (DWARF debug information).
bool has_debug_info(const fs::path& file) {
    for (const auto& name : section_names(file))
        if (name.rfind(".debug_", 0) == 0) return true;
    return false;
}

}  // namespace

TEST_CASE("an installed migrator builds and bundles an outside project made by scaffold init",
          "[e2e][install]") {
    // One story rather than SECTIONs: each step needs the one before, and builds are slow.
    ScratchDir install_root;
    const fs::path prefix = install_root.path() / "prefix";
    const auto installed = cmake({"--install", MIGRATOR_BUILD_DIR, "--prefix", prefix.string()});
    REQUIRE(installed.exit_code == 0);
    CHECK(fs::exists(prefix / "bin" / "migrator"));
    CHECK(fs::exists(prefix / "bin" / "scaffold"));
    CHECK(fs::exists(prefix / "include" / "migrator" / "revision.hpp"));
    CHECK(fs::exists(prefix / "include" / "migrator" / "plugin_abi.h"));
    CHECK_THAT(read_file(prefix / "share" / "man" / "man1" / "migrator.1"),
               Contains("Seconds to wait for another migrator"));  // from migrator --help
    CHECK(fs::exists(prefix / "share" / "man" / "man1" / "scaffold.1"));
    for (const char* section : {".SH ENVIRONMENT", ".SH FILES", ".SH \"EXIT STATUS\"",
                                ".SH EXAMPLES", "MIGRATOR_REVISIONS_DIR"})
        CHECK_THAT(read_file(prefix / "share" / "man" / "man1" / "migrator.1"), Contains(section));
    for (const char* program : {"migrator", "scaffold"})
        CHECK_THAT(read_file(prefix / "share" / "bash-completion" / "completions" / program),
                   Contains("complete -F _migrator_complete migrator scaffold"));
    CHECK_THAT(read_file(prefix / "share" / "zsh" / "vendor-completions" / "_migrator"),
               Contains("#compdef migrator scaffold"));
    for (const char* file :
         {"migratorConfig.cmake", "migratorConfigVersion.cmake", "MigratorRevision.cmake",
          "source_sha256.cmake", "revision.map", "sign_plugins.cmake"})
        CHECK(fs::exists(prefix / "lib" / "cmake" / "migrator" / file));
    // Tests, fixtures and the host's private headers stay out of an installation.
    CHECK_FALSE(fs::exists(prefix / "bin" / "e2e_tests"));
    CHECK_FALSE(fs::exists(prefix / "bin" / "unit_tests"));
    CHECK_FALSE(fs::exists(prefix / "include" / "migrator" / "graph.hpp"));
    CHECK_FALSE(fs::exists(prefix / "versions"));

    // scaffold init stamps the project and says how to build it against this installation.
    ScratchDir work;
    const fs::path project = work.path() / "shop-migrations";
    const auto init =
        run_process({(prefix / "bin" / "scaffold").string(), "init", project.string()});
    REQUIRE(init.exit_code == 0);
    CHECK_THAT(init.out, Contains("-DCMAKE_PREFIX_PATH=" + prefix.string()));
    const std::string lists = read_file(project / "CMakeLists.txt");
    CHECK_THAT(lists, Contains("find_package(migrator REQUIRED)"));
    CHECK_THAT(lists, Contains("CONFIGURE_DEPENDS"));
    CHECK(fs::exists(project / "revisions" / ".gitkeep"));
    CHECK_THAT(read_file(project / "migrator.ini"), Contains("versions_dir = build/versions"));
    CHECK_THAT(read_file(project / ".gitignore"), Contains("build/"));

    // scaffold new works inside it as it does in this repository.
    const std::string scaffold = (prefix / "bin" / "scaffold").string();
    const auto first =
        run_process({scaffold, "new", "create customer", "--rev-id", "c0ffee000001", "--raw-sql"},
                    {}, project.string());
    REQUIRE(first.exit_code == 0);
    const auto second = run_process({scaffold, "new", "create orders", "--rev-id", "c0ffee000002"},
                                    {}, project.string());
    REQUIRE(second.exit_code == 0);
    const fs::path customer = generated_source(first.out);
    const fs::path orders = generated_source(second.out);
    CHECK_THAT(read_file(orders), Contains("MIGRATOR_DOWN_REVISION(\"c0ffee000001\")"));
    create_table_in(customer, "customer");
    create_table_with_operations_in(orders, "orders");
    // The declared schema, where autogenerate reads it, travels with the plugins by default:
    // into build/versions and the bundle.
    std::ofstream(project / "revisions" / "schema.sql")
        << "CREATE TABLE customer (id INTEGER PRIMARY KEY, name TEXT);\n"
           "CREATE TABLE orders (id INTEGER PRIMARY KEY, name TEXT);\n";

    // Signed at build time (sign_plugins.cmake), with the test-only key of tests/fixtures/keys.
    const fs::path keys = MIGRATOR_TEST_KEYS_DIR;
    const fs::path build = project / "build";
    const auto configured = cmake(
        {"-S", project.string(), "-B", build.string(), "-DCMAKE_PREFIX_PATH=" + prefix.string(),
         "-DMIGRATOR_SIGNING_KEY=" + (keys / "test-signing.key").string()});
    INFO(configured.out + configured.err);
    REQUIRE(configured.exit_code == 0);
    const auto built = cmake({"--build", build.string(), "-j2"});
    INFO(built.out + built.err);
    REQUIRE(built.exit_code == 0);
    CHECK(fs::exists(build / "versions" / "c0ffee000001_create_customer.so"));
    CHECK(fs::exists(build / "versions" / "c0ffee000002_create_orders.so"));
    CHECK(fs::exists(build / "versions" / "schema.sql"));
    CHECK_THAT(read_file(build / "versions" / "migrator.signatures"),
               Contains(" c0ffee000002 c0ffee000002_create_orders.so\n"));

    // Inside the project, migrator.ini points the installed migrator at build/versions.
    const auto history = run_process({(prefix / "bin" / "migrator").string(), "history"},
                                     Sandbox::clean_environment(), project.string());
    CHECK(history.exit_code == 0);
    CHECK(history.out ==
          "c0ffee000001 -> c0ffee000002 (head), create orders\n"
          "<base> -> c0ffee000001, create customer\n");
    // check --schema finds the declared schema by default, beside the sources, as autogenerate.
    const auto project_migrator = [&](const std::vector<std::string>& args) {
        std::vector<std::string> argv{(prefix / "bin" / "migrator").string(), "--url",
                                      "sqlite:///" + (project / "app.db").string()};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_process(argv, Sandbox::clean_environment(), project.string());
    };
    REQUIRE(project_migrator({"upgrade", "head"}).exit_code == 0);
    const auto schema_checked = project_migrator({"check", "--schema"});
    INFO(schema_checked.out << schema_checked.err);
    CHECK(schema_checked.exit_code == 0);
    CHECK_THAT(schema_checked.out,
               Contains("its schema matches " + (project / "revisions" / "schema.sql").string()));

    const auto bundled = cmake({"--build", build.string(), "--target", "bundle"});
    INFO(bundled.out + bundled.err);
    REQUIRE(bundled.exit_code == 0);
    const fs::path archive = build / "shop-migrations-bundle.tar.gz";
    REQUIRE(fs::exists(archive));
    const auto listing = cmake({"-E", "tar", "tf", archive.string()});
    CHECK_THAT(listing.out, Contains("bin/migrator"));
    CHECK_THAT(listing.out, Contains("lib/migrator/postgresql_backend.so"));
    CHECK_THAT(listing.out, Contains("versions/c0ffee000001_create_customer.so"));
    CHECK_THAT(listing.out, Contains("versions/c0ffee000002_create_orders.so"));
    CHECK_THAT(listing.out, Contains("versions/schema.sql"));
    CHECK_THAT(listing.out, Contains("versions/migrator.signatures"));

    // The build tree's plugins keep their debug information (RelWithDebInfo, the template's
    // default); the bundled copies carry none, and are sealed again after stripping (verify and
    // upgrade below refuse a plugin whose seal does not match).
    for (const char* name : {"c0ffee000001_create_customer.so", "c0ffee000002_create_orders.so"}) {
        INFO(name);
        CHECK(has_debug_info(build / "versions" / name));
        CHECK_FALSE(has_debug_info(build / "bundle" / "versions" / name));
        CHECK(fs::file_size(build / "bundle" / "versions" / name) <
              fs::file_size(build / "versions" / name));
    }

    // The bundle stands alone: moved away, with the installation and the project build gone.
    ScratchDir elsewhere;
    const fs::path release = elsewhere.path() / "release";
    fs::rename(build / "bundle", release);
    fs::remove_all(prefix);
    fs::remove_all(build);

    Sandbox sandbox("sqlite", release / "versions");
    const std::string migrator = (release / "bin" / "migrator").string();
    // The bundle's signatures list the stripped, resealed copies it ships.
    const std::string trust = "--trusted-keys=" + (keys / "test-signing.pub").string();
    const auto verified =
        run_process({migrator, trust, "verify"}, Sandbox::clean_environment(), "/");
    INFO(verified.err);
    CHECK(verified.exit_code == 0);
    CHECK_THAT(verified.out,
               Contains("OK: 2 revision plugins in " + (release / "versions").string()));
    CHECK_THAT(verified.out, Contains("signed: c0ffee000001_create_customer.so (c0ffee000001)"));
    const auto up = run_process({migrator, trust, "--url", sandbox.url(), "upgrade", "head"},
                                Sandbox::clean_environment(), "/");
    INFO(up.out + up.err);
    REQUIRE(up.exit_code == 0);
    CHECK_THAT(up.out, Contains("[1/2] Running upgrade  -> c0ffee000001, create customer"));
    CHECK_THAT(up.out,
               Contains("[2/2] Running upgrade c0ffee000001 -> c0ffee000002, create orders"));
    CHECK(sandbox.tables() == std::set<std::string>{"customer", "orders"});
    CHECK(sandbox.version_rows() == std::vector<std::string>{"c0ffee000002"});
    const auto checked = run_process({migrator, "--url", sandbox.url(), "check", "--schema"},
                                     Sandbox::clean_environment(), "/");
    INFO(checked.out + checked.err);
    CHECK(checked.exit_code == 0);
    CHECK_THAT(checked.out,
               Contains("its schema matches " + (release / "versions" / "schema.sql").string()));

    // Its PostgreSQL backend came along: the module is loaded from the bundle's lib/migrator/.
    Sandbox postgresql("postgresql", release / "versions");
    const auto pg_up = run_process({migrator, trust, "--url", postgresql.url(), "upgrade", "head"},
                                   Sandbox::clean_environment(), "/");
    INFO(pg_up.out + pg_up.err);
    REQUIRE(pg_up.exit_code == 0);
    CHECK(postgresql.tables() == std::set<std::string>{"customer", "orders"});
}

TEST_CASE("scaffold init refuses a folder that is not empty", "[e2e][install][scaffold]") {
    ScratchDir root;
    {  // A folder with anything in it is left alone.
        const fs::path taken = root.path() / "taken";
        fs::create_directories(taken);
        std::ofstream(taken / "notes.txt") << "keep me\n";
        const auto refused = run_process({SCAFFOLD_BIN, "init", taken.string()});
        CHECK(refused.exit_code == 2);
        CHECK_THAT(refused.err, Contains("not empty"));
        CHECK_FALSE(fs::exists(taken / "CMakeLists.txt"));
    }
    {  // So is a file.
        const fs::path file = root.path() / "file";
        std::ofstream(file) << "x";
        const auto refused = run_process({SCAFFOLD_BIN, "init", file.string()});
        CHECK(refused.exit_code == 2);
        CHECK_THAT(refused.err, Contains("not a folder"));
    }
    {  // An existing empty folder is fine; a relative path is taken from the working directory.
        fs::create_directories(root.path() / "empty");
        const auto created = run_process({SCAFFOLD_BIN, "init", "empty"}, {}, root.path().string());
        CHECK(created.exit_code == 0);
        CHECK(fs::exists(root.path() / "empty" / "CMakeLists.txt"));
        CHECK_THAT(read_file(root.path() / "empty" / "CMakeLists.txt"),
                   Contains("project(empty LANGUAGES CXX)"));
    }
    {  // The command line needs the folder.
        const auto missing = run_process({SCAFFOLD_BIN, "init"});
        CHECK(missing.exit_code == 2);
    }
}

TEST_CASE("cpack packages the installed tool as a .tar.gz and a .deb", "[e2e][install][package]") {
    ScratchDir out;
    const auto packed = run_process({cmake_tool("cpack"), "--config",
                                     (fs::path(MIGRATOR_BUILD_DIR) / "CPackConfig.cmake").string(),
                                     "-B", out.path().string()});
    INFO(packed.out + packed.err);
    REQUIRE(packed.exit_code == 0);

    fs::path tgz, deb;
    for (const auto& entry : fs::directory_iterator(out.path())) {
        const std::string name = entry.path().filename().string();
        if (std::regex_match(name, std::regex("migrator-[0-9.]+-Linux\\.tar\\.gz")))
            tgz = entry.path();
        if (std::regex_match(name, std::regex("migrator_[0-9.]+_[a-z0-9]+\\.deb")))
            deb = entry.path();
    }
    REQUIRE_FALSE(tgz.empty());
    REQUIRE_FALSE(deb.empty());

    const auto listing = run_process({MIGRATOR_CMAKE_COMMAND, "-E", "tar", "tf", tgz.string()});
    CHECK_THAT(listing.out, Contains("/bin/migrator"));
    CHECK_THAT(listing.out, Contains("/bin/scaffold"));
    CHECK_THAT(listing.out, Contains("/lib/migrator/postgresql_backend.so"));
    CHECK_THAT(listing.out, Contains("/include/migrator/revision.hpp"));
    CHECK_THAT(listing.out, Contains("/lib/cmake/migrator/migratorConfig.cmake"));
    CHECK_THAT(listing.out, !Contains("e2e_tests"));

    // dpkg-shlibdeps worked out the runtime libraries the programs link.
    const auto control = run_process({"/usr/bin/dpkg-deb", "--field", deb.string()});
    REQUIRE(control.exit_code == 0);
    CHECK_THAT(control.out, Contains("Package: migrator"));
    CHECK_THAT(control.out, Contains("Maintainer: "));
    CHECK_THAT(control.out, Contains("libpqxx"));
    CHECK_THAT(control.out, Contains("libboost-filesystem"));
    const auto files = run_process({"/usr/bin/dpkg-deb", "--contents", deb.string()});
    CHECK_THAT(files.out, Contains("./usr/bin/migrator"));
    CHECK_THAT(files.out, Contains("./usr/lib/migrator/postgresql_backend.so"));
    CHECK_THAT(files.out, Contains("./usr/lib/cmake/migrator/MigratorRevision.cmake"));
}

namespace {

/// The Debian package holding `library` (an absolute path ldd printed); "" if dpkg knows none.
std::string package_of(const std::string& library) {
    for (const std::string& path :
         {library, "/usr" + library, fs::weakly_canonical(library).string()}) {
        const auto owner = run_process({"/usr/bin/dpkg", "-S", path});
        if (owner.exit_code == 0) return owner.out.substr(0, owner.out.find(':'));
    }
    return "";
}

/// The packages of the libraries `file` links directly (its NEEDED entries, where ldd finds them).
std::set<std::string> direct_packages(const fs::path& file) {
    const auto dynamic = run_process({"/usr/bin/readelf", "-d", "--wide", file.string()});
    REQUIRE(dynamic.exit_code == 0);
    std::set<std::string> needed;
    const std::regex entry(R"(\(NEEDED\)\s+Shared library: \[([^\]]+)\])");
    for (std::sregex_iterator it(dynamic.out.begin(), dynamic.out.end(), entry), end; it != end;
         ++it)
        needed.insert((*it)[1].str());
    const auto resolved = run_process({"/usr/bin/ldd", file.string()});
    REQUIRE(resolved.exit_code == 0);
    std::set<std::string> packages;
    for (const auto& line : lines_of(resolved.out)) {
        const std::regex mapping(R"(^\s*(\S+) => (/\S+))");
        std::smatch match;
        if (!std::regex_search(line, match, mapping) || needed.count(match[1].str()) == 0) continue;
        const std::string package = package_of(match[2].str());
        INFO(line);
        CHECK_FALSE(package.empty());
        packages.insert(package);
    }
    return packages;
}

}  // namespace

TEST_CASE("the runtime packages the install page lists are the ones the programs link",
          "[e2e][install]") {
    const std::string page =
        read_file(fs::path(MIGRATOR_SOURCE_DIR) / "docs" / "install-and-bundles.md");
    const std::regex install_line(R"(`apt-get install (lib[^`]+)`)");
    std::smatch match;
    REQUIRE(std::regex_search(page, match, install_line));
    std::set<std::string> listed;
    std::istringstream words(match[1].str());
    for (std::string word; words >> word;) listed.insert(word);

    std::set<std::string> linked;
    for (const fs::path& file :
         {fs::path(MIGRATOR_BIN), fs::path(SCAFFOLD_BIN),
          fs::path(MIGRATOR_BUILD_DIR) / "lib" / "migrator" / "postgresql_backend.so"})
        for (const auto& package : direct_packages(file)) linked.insert(package);
    // On every Debian system (essential, or required by apt itself).
    for (const char* base : {"libc6", "libgcc-s1", "libstdc++6"}) linked.erase(base);
#ifdef MIGRATOR_SANITIZED_BUILD
    // This build links more than the shipped one (sanitizer runtimes, Boost libraries the
    // optimiser leaves out): every listed package must still be one it links.
    for (const auto& package : listed) {
        INFO(package);
        CHECK(linked.count(package) == 1);
    }
#else
    CHECK(listed == linked);
#endif
}
