// End to end: signed revisions. With trusted keys, the real migrator refuses every plugin that no
// trusted key signed, or that changed since, before it reaches the graph or is loaded (exit 4,
// one line naming the file); keys come from scaffold keygen, signatures from scaffold sign and
// from the build (sign_plugins.cmake), and from a key compiled into migrator.
#include <elf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <fstream>

#include "e2e.hpp"

using namespace testing;
using Catch::Matchers::Contains;

namespace {

void set_mode(const fs::path& path, unsigned mode) {
    REQUIRE(::chmod(path.c_str(), static_cast<mode_t>(mode)) == 0);
}

ProcessResult scaffold(const std::vector<std::string>& args) {
    std::vector<std::string> argv{SCAFFOLD_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv, {{"MIGRATOR_SIGNING_KEY", ""}});
}

/// A key pair written by scaffold keygen into `dir`.
struct KeyPair {
    explicit KeyPair(const fs::path& dir)
        : secret(dir / "migrator-signing.key"), public_key(dir / "migrator-signing.pub") {
        const auto made = scaffold({"keygen", dir.string()});
        REQUIRE(made.exit_code == 0);
    }
    fs::path secret;
    fs::path public_key;
    std::string base64() const { return read_file(public_key).substr(17, 44); }
};

/// Copies the plugins of a fixture scenario into `dir` (created, mode 0755; plugins 0644).
void copy_plugins(const std::string& scenario, const fs::path& dir) {
    fs::create_directories(dir);
    set_mode(dir, 0755);
    for (const auto& entry : fs::directory_iterator(fixture_dir(scenario))) {
        if (entry.path().extension() != ".so") continue;
        fs::copy_file(entry.path(), dir / entry.path().filename());
        set_mode(dir / entry.path().filename(), 0644);
    }
}

void sign(const KeyPair& key, const std::vector<std::string>& paths,
          const std::string& output = "") {
    std::vector<std::string> args{"sign", "--key", key.secret.string()};
    if (!output.empty()) args.insert(args.end(), {"--output", output});
    args.insert(args.end(), paths.begin(), paths.end());
    const auto signed_run = scaffold(args);
    INFO(signed_run.err);
    REQUIRE(signed_run.exit_code == 0);
}

/// A scratch folder with keys/ (a fresh key pair) and versions/ (the chain a1 -> b2 -> c3, signed
/// with that key into versions/migrator.signatures).
class SignedChain {
public:
    SignedChain() : key_(scratch_.path() / "keys"), versions_(scratch_.path() / "versions") {
        copy_plugins("chain", versions_);
        sign(key_, {versions_.string()});
    }
    const KeyPair& key() const { return key_; }
    const fs::path& versions() const { return versions_; }
    fs::path operator/(const std::string& name) const { return versions_ / name; }
    fs::path scratch() const { return scratch_.path(); }

private:
    ScratchDir scratch_;
    KeyPair key_;
    fs::path versions_;
};

std::string bytes_of(const fs::path& file) { return read_file(file); }

void write_bytes(const fs::path& file, const std::string& bytes) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    REQUIRE(out.good());
}

/// Replaces the integrity seal at the end of `file` with a fresh one over its bytes, as an
/// attacker who changed the file would.
void reseal(const fs::path& file) {
    std::string bytes = bytes_of(file);
    bytes.resize(bytes.size() - 90);  // "\nmigrator-seal-v1 sha256:" + 64 digits + "\n"
    write_bytes(file, bytes);
    const auto sealed =
        run_process({MIGRATOR_CMAKE_COMMAND, "-DPLUGIN=" + file.string(), "-P",
                     std::string(MIGRATOR_SOURCE_DIR) + "/plugin-api/cmake/seal_plugin.cmake"});
    REQUIRE(sealed.exit_code == 0);
}

/// The file offset of the .text section of a 64-bit ELF file's bytes.
std::size_t text_offset(const std::string& bytes) {
    Elf64_Ehdr header;
    std::memcpy(&header, bytes.data(), sizeof header);
    Elf64_Shdr names;
    std::memcpy(&names, bytes.data() + header.e_shoff + header.e_shstrndx * sizeof(Elf64_Shdr),
                sizeof names);
    for (unsigned i = 0; i < header.e_shnum; ++i) {
        Elf64_Shdr section;
        std::memcpy(&section, bytes.data() + header.e_shoff + i * sizeof(Elf64_Shdr),
                    sizeof section);
        if (std::strcmp(bytes.data() + names.sh_offset + section.sh_name, ".text") == 0)
            return section.sh_offset;
    }
    FAIL("no .text section");
    return 0;
}

/// Runs `args` with the chain's key trusted and checks the refusal: status 4, one line on stderr
/// holding `file` and `reason`, nothing on stdout, and the database not even created.
void check_refused(const SignedChain& chain, const std::string& backend,
                   const std::vector<std::string>& args, const fs::path& file,
                   const std::string& reason) {
    Sandbox sandbox(backend, chain.versions());
    std::vector<std::string> with_key{"--trusted-keys", chain.key().public_key.string()};
    with_key.insert(with_key.end(), args.begin(), args.end());
    const auto refused = sandbox.migrator(with_key);
    INFO(refused.err);
    CHECK(refused.exit_code == 4);
    CHECK(lines_of(refused.err).size() == 1);
    CHECK_THAT(refused.err, Contains(file.string()) && Contains(reason));
    CHECK(refused.out.empty());
    CHECK_FALSE(sandbox.touched());
}

}  // namespace

TEST_CASE("scaffold keygen writes a secret key only its owner can read and a one-line public key",
          "[e2e][signing]") {
    ScratchDir scratch;
    const KeyPair key(scratch.path() / "keys");
    struct stat status {};
    REQUIRE(::stat(key.secret.c_str(), &status) == 0);
    CHECK((status.st_mode & 0777) == 0600);
    const auto lines = lines_of(read_file(key.public_key));
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].rfind("migrator-ed25519 ", 0) == 0);
    CHECK(lines[0].size() == 17 + 44);
    CHECK(read_file(key.secret).rfind("migrator-ed25519-secret ", 0) == 0);

    const auto again = scaffold({"keygen", (scratch.path() / "keys").string()});
    CHECK(again.exit_code != 0);
    CHECK_THAT(again.err, Contains("never overwrites a key"));
    CHECK(read_file(key.public_key) == lines[0] + "\n");
}

TEST_CASE("a signed versions directory migrates with its key trusted, and verify names the key",
          "[e2e][signing]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    const SignedChain chain;
    Sandbox sandbox(backend, chain.versions());
    const std::vector<std::string> trust{"--trusted-keys", chain.key().public_key.string()};

    const auto verified = sandbox.migrator({trust[0], trust[1], "verify"});
    INFO(verified.err);
    REQUIRE(verified.exit_code == 0);
    for (const std::string line : {"signed: a1_create_item.so (a1a1a1a1a1a1) by key ",
                                   "signed: b2_add_price.so (b2b2b2b2b2b2) by key ",
                                   "signed: c3_index_name.so (c3c3c3c3c3c3) by key "})
        CHECK_THAT(verified.out, Contains(line + chain.key().base64()));

    const auto upgraded = sandbox.migrator({trust[0], trust[1], "upgrade", "head"});
    INFO(upgraded.err);
    CHECK(upgraded.exit_code == 0);
    CHECK(sandbox.version_rows() == std::vector<std::string>{"c3c3c3c3c3c3"});
    CHECK(sandbox.migrator({trust[0], trust[1], "downgrade", "base"}).exit_code == 0);
    CHECK(sandbox.version_rows().empty());

    // Without trusted keys nothing changes: the same directory, and an unsigned one, run as before.
    const auto unchecked = sandbox.migrator({"verify"});
    CHECK(unchecked.exit_code == 0);
    CHECK_THAT(unchecked.out, Contains("signatures: not checked"));
    fs::remove(chain / "migrator.signatures");
    CHECK(sandbox.migrator({"upgrade", "head"}).exit_code == 0);
}

TEST_CASE("with trusted keys, every tampered, added, renamed or replaced plugin is refused by name",
          "[e2e][signing]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    const SignedChain chain;
    const fs::path b2 = chain / "b2_add_price.so";
    const fs::path c3 = chain / "c3_index_name.so";
    const std::vector<std::string> upgrade{"upgrade", "head"};
    const std::vector<std::string> history{"history"};

    SECTION("a changed code byte") {
        std::string bytes = bytes_of(b2);
        bytes[text_offset(bytes) + 8] ^= 0x01;
        write_bytes(b2, bytes);
        check_refused(chain, backend, upgrade, b2, "is corrupt or was modified after it was built");
    }
    SECTION("a changed code byte, resealed") {
        std::string bytes = bytes_of(b2);
        bytes[text_offset(bytes) + 8] ^= 0x01;
        write_bytes(b2, bytes);
        reseal(b2);
        check_refused(chain, backend, upgrade, b2,
                      "does not match its signature: its content differs from the content signed");
        check_refused(chain, backend, {"verify"}, b2, "does not match its signature");
    }
    SECTION("a changed metadata byte, resealed, refused before the graph is built") {
        replace_in_file(b2, "id=b2b2b2b2b2b2", "id=b2b2b2b2b2b3");
        reseal(b2);
        check_refused(chain, backend, history, b2, "its metadata differ from the metadata signed");
        check_refused(chain, backend, upgrade, b2, "its metadata differ from the metadata signed");
    }
    SECTION("a plugin added to the directory is never loaded") {
        // Its static initializer aborts the process if it is ever loaded.
        const fs::path added = chain / "x3_abort_on_load.so";
        fs::copy_file(fixture_dir("static_abort") / "x3_abort_on_load.so", added);
        set_mode(added, 0644);
        check_refused(chain, backend, upgrade, added, "is not signed");
        check_refused(chain, backend, history, added, "is not signed");
    }
    SECTION("a plugin renamed") {
        const fs::path renamed = chain / "c3_renamed.so";
        fs::rename(c3, renamed);
        check_refused(chain, backend, upgrade, renamed, "is not signed");
    }
    SECTION("a signed plugin copied over another one's name") {
        fs::copy_file(b2, c3, fs::copy_options::overwrite_existing);
        check_refused(chain, backend, upgrade, c3, "its metadata differ from the metadata signed");
    }
    SECTION("a signature file whose lines were swapped") {
        const fs::path file = chain / "migrator.signatures";
        auto lines = lines_of(read_file(file));
        REQUIRE(lines.size() == 6);
        std::swap(lines[4], lines[5]);
        std::string text;
        for (const auto& line : lines) text += line + "\n";
        write_bytes(file, text);
        check_refused(chain, backend, upgrade, file, "does not verify with the key it names");
    }
    SECTION("a signature file that does not verify is named before a plugin's own fault") {
        // The plugins' sections are read while the signature files are checked; the check's
        // verdict comes first, whichever finishes first.
        set_mode(chain / "a1_create_item.so", 0666);
        replace_in_file(chain / "migrator.signatures", "b2_add_price.so", "b2_add_prize.so");
        check_refused(chain, backend, history, chain / "migrator.signatures",
                      "does not verify with the key it names");
    }
    SECTION("a downgrade to an older signed build") {
        // An older release, signed with the same trusted key: b2 built from an edited source.
        const fs::path older = chain.scratch() / "older";
        copy_plugins("edited", older);
        sign(chain.key(), {older.string()});
        fs::copy_file(older / "b2_add_price_edited.so", b2, fs::copy_options::overwrite_existing);
        check_refused(chain, backend, upgrade, b2, "its metadata differ from the metadata signed");
        // Another revision's older build under c3's name.
        fs::copy_file(older / "a1_create_item.so", c3, fs::copy_options::overwrite_existing);
        check_refused(chain, backend, upgrade, b2, "does not match its signature");
        // The older signature file brought along cannot vouch for it either.
        fs::copy_file(older / "migrator.signatures", chain / "older.signatures");
        replace_in_file(chain / "older.signatures", "b2_add_price_edited.so", "b2_add_price.so");
        check_refused(chain, backend, upgrade, chain / "older.signatures",
                      "does not verify with the key it names");
    }
    SECTION("plugins signed by a key that is not trusted") {
        const KeyPair stranger(chain.scratch() / "stranger");
        sign(stranger, {chain.versions().string()});
        check_refused(chain, backend, upgrade, chain / "a1_create_item.so",
                      "by key " + stranger.base64() + ", which is not a trusted key");
    }
}

TEST_CASE("two trusted keys: plugins signed by either run, from the flag, environment or config",
          "[e2e][signing]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    ScratchDir scratch;
    const KeyPair old_key(scratch.path() / "old");
    const KeyPair new_key(scratch.path() / "new");
    const fs::path versions = scratch.path() / "versions";
    copy_plugins("chain", versions);
    sign(old_key,
         {(versions / "a1_create_item.so").string(), (versions / "b2_add_price.so").string()},
         "release-1.signatures");
    sign(new_key, {(versions / "c3_index_name.so").string()}, "release-2.signatures");
    Sandbox sandbox(backend, versions);

    // Only the old key: c3 is refused by name.
    const auto refused =
        sandbox.migrator({"--trusted-keys", old_key.public_key.string(), "upgrade", "head"});
    CHECK(refused.exit_code == 4);
    CHECK_THAT(refused.err, Contains("c3_index_name.so") && Contains("not a trusted key"));
    CHECK_FALSE(sandbox.touched());

    SECTION("--trusted-keys, given twice") {
        const auto run =
            sandbox.migrator({"--trusted-keys", old_key.public_key.string(), "--trusted-keys",
                              new_key.public_key.string(), "upgrade", "head"});
        INFO(run.err);
        CHECK(run.exit_code == 0);
    }
    SECTION("MIGRATOR_TRUSTED_KEYS") {
        const auto run = sandbox.migrator(
            {"upgrade", "head"}, {{"MIGRATOR_TRUSTED_KEYS", old_key.public_key.string() + ":" +
                                                                new_key.public_key.string()}});
        INFO(run.err);
        CHECK(run.exit_code == 0);
    }
    SECTION("trusted_keys in the config file, or one file of both keys") {
        const fs::path both = scratch.path() / "trusted.pub";
        write_bytes(both, read_file(old_key.public_key) + read_file(new_key.public_key));
        const fs::path config = scratch.path() / "migrator.ini";
        write_bytes(config, "trusted_keys = trusted.pub\n");
        const auto run = sandbox.migrator({"--config", config.string(), "upgrade", "head"});
        INFO(run.err);
        CHECK(run.exit_code == 0);
    }
    CHECK(sandbox.version_rows() == std::vector<std::string>{"c3c3c3c3c3c3"});
}

TEST_CASE(
    "plugins signed at build time run in a moved bundle whose migrator has the key compiled in",
    "[e2e][signing]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    // Signed by the build (tests/fixtures/CMakeLists.txt, MIGRATOR_SIGNING_KEY).
    REQUIRE(fs::exists(fixture_dir("signed_at_build") / "migrator.signatures"));
    ScratchDir scratch;
    const fs::path bundle = scratch.path() / "bundle";
    fs::create_directories(bundle / "bin");
    set_mode(bundle, 0755);
    set_mode(bundle / "bin", 0755);
    fs::copy_file(MIGRATOR_RELEASE_KEY_BIN, bundle / "bin" / "migrator");
    fs::create_directories(bundle / "lib");
    fs::copy(fs::path(MIGRATOR_BUILD_DIR) / "lib" / "migrator", bundle / "lib" / "migrator");
    copy_plugins("signed_at_build", bundle / "versions");
    fs::copy_file(fixture_dir("signed_at_build") / "migrator.signatures",
                  bundle / "versions" / "migrator.signatures");

    const fs::path moved = scratch.path() / "moved";
    fs::rename(bundle, moved);
    Sandbox sandbox(backend, moved / "versions");
    // No --versions-dir, no key file: the bundle's own versions/ and the compiled-in key.
    const auto run = [&](const std::vector<std::string>& args) {
        std::vector<std::string> argv{(moved / "bin" / "migrator").string(), "--url",
                                      sandbox.url()};
        argv.insert(argv.end(), args.begin(), args.end());
        auto env = Sandbox::clean_environment();
        return run_process(argv, env, sandbox.dir().string());
    };
    const auto verified = run({"verify"});
    INFO(verified.err);
    CHECK(verified.exit_code == 0);
    const std::string test_key = read_file(fs::path(MIGRATOR_TEST_KEYS_DIR) / "test-signing.pub");
    CHECK_THAT(verified.out, Contains("by key " + test_key.substr(17, 44)));
    const auto upgraded = run({"upgrade", "head"});
    INFO(upgraded.err);
    CHECK(upgraded.exit_code == 0);
    CHECK(sandbox.version_rows() == std::vector<std::string>{"c3c3c3c3c3c3"});

    // A plugin dropped into the bundle is refused although no key was configured.
    fs::copy_file(fixture_dir("static_abort") / "x3_abort_on_load.so",
                  moved / "versions" / "x3_abort_on_load.so");
    set_mode(moved / "versions" / "x3_abort_on_load.so", 0644);
    const auto refused = run({"history"});
    CHECK(refused.exit_code == 4);
    CHECK_THAT(refused.err, Contains("x3_abort_on_load.so is not signed"));
}
