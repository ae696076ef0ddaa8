// End to end: a revision that fails leaves the database exactly at the revision before it.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "e2e.hpp"

using namespace testing;
using Catch::Matchers::Contains;

namespace {

const std::string a1 = "a1a1a1a1a1a1";

// File modes bind every user but root: as root, the runs that must meet them run as nobody.
constexpr uid_t nobody = 65534;

/// `argv` run as a user whom file modes bind: as it is for an ordinary user, under setpriv as
/// nobody for root.
std::vector<std::string> unprivileged(std::vector<std::string> argv) {
    if (geteuid() != 0) return argv;
    argv.insert(argv.begin(),
                {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"});
    return argv;
}

/// Gives `path` the mode `mode`, and for root, to the user unprivileged() runs as.
void hand_over(const fs::path& path, mode_t mode) {
    if (geteuid() == 0) REQUIRE(chown(path.c_str(), nobody, nobody) == 0);
    REQUIRE(chmod(path.c_str(), mode) == 0);
}

/// Runs `script` (sh) in a mount namespace of its own, where it may mount file systems that
/// vanish with it; "$1" is the sandbox's folder and "$@" after a `shift` migrator's command line
/// (on the sandbox's database, whose file is in that folder).
/// The script unmounts what it mounted on "$1" when it ends, so that nothing outlives it even
/// where its mounts propagate (see below).
ProcessResult in_mount_namespace(const Sandbox& sandbox, const std::string& script) {
    const auto run = [&](bool private_mounts) {
        std::vector<std::string> argv{"/usr/bin/unshare", "--mount"};
        if (!private_mounts) argv.insert(argv.end(), {"--propagation", "unchanged"});
        if (geteuid() != 0) argv.push_back("--map-root-user");
        argv.insert(argv.end(), {"sh", "-c", "trap 'umount -l \"$1\" 2>/dev/null' EXIT\n" + script,
                                 "sh", sandbox.dir().string()});
        const auto command = sandbox.migrator_command({});
        argv.insert(argv.end(), command.begin(), command.end());
        return run_process(argv, Sandbox::clean_environment(), "/");
    };
    auto result = run(true);
    // In a chroot (a fresh root made with debootstrap, say) "/" is no mount point, so unshare
    // cannot make the new namespace's mounts private, and fails before running anything. There,
    // as root, the mounts keep the propagation they have, and the trap above unmounts them.
    if (result.exit_code != 0 && geteuid() == 0 &&
        result.err.find("cannot change root filesystem propagation") != std::string::npos)
        result = run(false);
    return result;
}

}  // namespace

TEST_CASE("a failing revision in the middle of upgrade head stops at the revision before it",
          "[e2e][failure]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, fixture_dir("failing"));
    const auto result = sandbox.migrator({"upgrade", "head"});

    CHECK(result.exit_code == 1);
    CHECK_THAT(result.err, Contains("f3f3f3f3f3f3"));
    CHECK_THAT(result.err, Contains("no_such_table"));
    CHECK_THAT(result.err, Contains("the database is at b2b2b2b2b2b2"));
    CHECK(lines_of(result.err).size() == 1);
    CHECK_THAT(result.out, Contains("[3/4] Running upgrade b2b2b2b2b2b2 -> f3f3f3f3f3f3"));
    CHECK_THAT(result.out, Contains("FAILED"));
    CHECK_THAT(result.out, !Contains("d4d4d4d4d4d4"));

    // Version table, history table and schema agree: b2 is the last completed revision.
    CHECK(sandbox.version_rows() == std::vector<std::string>{"b2b2b2b2b2b2"});
    CHECK(sandbox.tables() == std::set<std::string>{"item"});
    CHECK(sandbox.has_column("item", "price"));
    CHECK(sandbox.column("SELECT count(*) FROM item") == std::vector<std::string>{"0"});
    CHECK(sandbox.column("SELECT revision || ' ' || success FROM migrator_version_history "
                         "ORDER BY id") ==
          std::vector<std::string>{"a1a1a1a1a1a1 1", "b2b2b2b2b2b2 1", "f3f3f3f3f3f3 0"});
    CHECK_THAT(sandbox.column("SELECT error FROM migrator_version_history WHERE success = 0").at(0),
               Contains("no_such_table"));

    SECTION("running it again fails the same way and changes nothing") {
        const auto again = sandbox.migrator({"upgrade", "head"});
        CHECK(again.exit_code == 1);
        CHECK(sandbox.version_rows() == std::vector<std::string>{"b2b2b2b2b2b2"});
        CHECK(sandbox.tables() == std::set<std::string>{"item"});
    }
    SECTION("current reports the last completed revision") {
        CHECK(sandbox.migrator({"current"}).out == "b2b2b2b2b2b2\n");
    }
}

TEST_CASE("a revision that throws is rolled back and its message reported", "[e2e][failure]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, fixture_dir("throwing"));
    const auto result = sandbox.migrator({"upgrade", "head"});
    CHECK(result.exit_code == 1);
    CHECK_THAT(result.err, Contains("t2t2t2t2t2t2 (throws) failed: price table is missing its "
                                    "currency column"));
    CHECK(sandbox.version_rows() == std::vector<std::string>{"a1a1a1a1a1a1"});
    CHECK(sandbox.tables() == std::set<std::string>{"item"});
}

TEST_CASE("upgrade +1 runs exactly one revision and loads exactly one plugin", "[e2e][failure]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, fixture_dir("chain"));
    const auto log = sandbox.dir() / "loads.log";
    const auto result =
        sandbox.migrator({"upgrade", "+1"}, {{"MIGRATOR_TEST_LOAD_LOG", log.string()}});
    REQUIRE(result.exit_code == 0);
    CHECK(sandbox.version_rows() == std::vector<std::string>{"a1a1a1a1a1a1"});
    CHECK(lines_of(read_file(log)) == std::vector<std::string>{"a1a1a1a1a1a1"});
}

TEST_CASE("a database the user cannot write is a database failure that says what to fix",
          "[e2e][failure]") {
    Sandbox sandbox("sqlite", fixture_dir("chain"));
    // The plugins where the unprivileged user can read them: the build tree may be in a home
    // folder only its owner may read, as /root is.
    const auto versions = sandbox.dir() / "versions";
    fs::copy(fixture_dir("chain"), versions, fs::copy_options::recursive);
    sandbox.set_versions_dir(versions);
    REQUIRE(sandbox.migrator({"upgrade", a1}).exit_code == 0);
    const auto db = sandbox.dir() / "test.db";
    std::string expected;
    SECTION("a read-only file") {
        hand_over(sandbox.dir(), 0755);
        hand_over(db, 0444);
        expected = db.string() +
                   " is read-only: make the file and its directory writable by this "
                   "user";
    }
    SECTION("a read-only directory, which the revision that needs a journal meets") {
        hand_over(db, 0644);
        hand_over(sandbox.dir(), 0555);
        expected =
            "error: upgrade of revision b2b2b2b2b2b2 (add price to item) failed: the "
            "directory of " +
            db.string() +
            " is read-only, so SQLite cannot create the database's journal in it: make "
            "the directory writable by this user (on a file system mounted read-write) "
            "(SQLite: attempt to write a readonly database); it was rolled back and the "
            "database is at " +
            a1;
    }
    const auto result = run_process(unprivileged(sandbox.migrator_command({"upgrade", "head"})),
                                    Sandbox::clean_environment(), sandbox.dir().string());
    REQUIRE(chmod(sandbox.dir().c_str(), 0755) == 0);
    CHECK(result.exit_code == 5);
    CHECK(lines_of(result.err).size() == 1);
    CHECK_THAT(result.err, Contains(expected));
    CHECK(sandbox.version_rows() == std::vector<std::string>{a1});
}

TEST_CASE("a full disk or a read-only mount is a database failure that says what to fix",
          "[e2e][failure]") {
    std::string scenario = "chain";
    std::string mount;  // sh commands that mount a file system on "$dir", the sandbox's folder
    std::string expected;
    SECTION("a full disk: the revision that fills it is named") {
        // A 512 KiB file system: room for a1, not for l2's 4 MB table.
        scenario = "large_table";
        mount = "mount -t tmpfs -o size=512k tmpfs \"$dir\" || exit 99\n";
        expected =
            "error: upgrade of revision 12121212aaaa (large table) failed: the disk "
            "holding <db> is full: free space on it, then run again";
    }
    SECTION("a file system mounted read-only") {
        mount =
            "mount -t tmpfs tmpfs \"$dir\" || exit 99\n"
            "\"$@\" upgrade a1a1a1a1a1a1 >/dev/null || exit 98\n"
            "mount -o remount,ro \"$dir\" || exit 97\n";
        expected =
            "<db> is read-only: make the file and its directory writable by this user (on "
            "a file system mounted read-write)";
    }
    Sandbox sandbox("sqlite", fixture_dir(scenario));
    const std::string db = (sandbox.dir() / "test.db").string();
    expected.replace(expected.find("<db>"), 4, db);
    const auto result = in_mount_namespace(sandbox, "dir=$1\nshift\n" + mount +
                                                        "\"$@\" upgrade head\n"
                                                        "echo \"upgrade exited $?\"\n"
                                                        "\"$@\" current\n");
    INFO(result.out << result.err);
    CHECK_THAT(result.out, Contains("upgrade exited 5\n" + a1 + "\n"));
    CHECK(lines_of(result.err).size() == 1);
    CHECK_THAT(result.err, Contains(expected));
}

TEST_CASE("a SQLite path that is a FIFO or a directory is refused at once", "[e2e][failure]") {
    Sandbox sandbox("sqlite", fixture_dir("chain"));
    const auto db = sandbox.dir() / "test.db";
    std::string kind;
    SECTION("a FIFO") {
        REQUIRE(mkfifo(db.c_str(), 0644) == 0);
        kind = "a FIFO (named pipe)";
    }
    SECTION("a directory") {
        fs::create_directory(db);
        kind = "a directory";
    }
    for (const std::string command : {"current", "upgrade"}) {
        // `timeout`: a regression must fail the test, not hang it.
        auto argv = sandbox.migrator_command({command});
        if (command == "upgrade") argv.push_back("head");
        argv.insert(argv.begin(), {"/usr/bin/timeout", "60"});
        const auto result = run_process(argv, Sandbox::clean_environment(), sandbox.dir().string());
        CHECK(result.exit_code == 5);
        CHECK(result.err == "error: SQLite database " + db.string() + " is " + kind +
                                ", not a database file; point the URL at a database file, or at "
                                "a path where migrator may create one\n");
    }
}

TEST_CASE("a PostgreSQL transaction that may only read is a database failure naming the revision",
          "[e2e][failure]") {
    Sandbox sandbox("postgresql", fixture_dir("chain"));
    REQUIRE(sandbox.migrator({"upgrade", a1}).exit_code == 0);
    // As on a standby: every transaction of the session is read-only.
    const std::string url = sandbox.url() +
                            (sandbox.url().find('?') == std::string::npos ? "?" : "&") +
                            "options=-c%20default_transaction_read_only%3Don";
    const auto result = run_process({MIGRATOR_BIN, "--url", url, "--versions-dir",
                                     fixture_dir("chain").string(), "upgrade", "head"},
                                    Sandbox::clean_environment(), sandbox.dir().string());
    CHECK(result.exit_code == 5);
    CHECK(lines_of(result.err).size() == 1);
    CHECK_THAT(result.err, Contains("error: upgrade of revision b2b2b2b2b2b2 (add price to item) "
                                    "failed: cannot execute ALTER TABLE in a read-only "
                                    "transaction; the PostgreSQL server at "));
    CHECK_THAT(result.err, Contains(" only allows reading (a standby, or "
                                    "default_transaction_read_only): connect to the primary with "
                                    "a role allowed to write; it was rolled back and the database "
                                    "is at " +
                                    a1));
    CHECK(sandbox.version_rows() == std::vector<std::string>{a1});
}
