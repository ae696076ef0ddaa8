// Unit tests of plugins: the ELF section reader, metadata parsing, versions scans, the trust
// rule, plugin loading.
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <migrator/common/errors.hpp>
#include <migrator/plugins/plugins.hpp>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using migrator::PluginError;

namespace {

fs::path fixture(const std::string& relative) { return fs::path(MIGRATOR_FIXTURES_DIR) / relative; }

/// A fresh directory under the system temp directory, removed with everything in it.
class TempDir {
public:
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "migrator_plugins_test_XXXXXX").string();
        if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    fs::path operator/(const std::string& name) const { return path_ / name; }
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

std::string read_bytes(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_bytes(const fs::path& file, const std::string& bytes) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    REQUIRE(out.good());
}

std::uint64_t get_le(const std::string& bytes, std::size_t offset, std::size_t width) {
    std::uint64_t value = 0;
    for (std::size_t i = width; i-- > 0;)
        value = (value << 8) | static_cast<unsigned char>(bytes.at(offset + i));
    return value;
}

void put(std::string& bytes, std::size_t offset, std::size_t width, std::uint64_t value,
         bool big_endian = false) {
    for (std::size_t i = 0; i < width; ++i) {
        const std::size_t at = big_endian ? offset + width - 1 - i : offset + i;
        bytes.at(at) = static_cast<char>((value >> (8 * i)) & 0xff);
    }
}

/// The message of the PluginError `action` throws; fails the test if it throws nothing.
std::string plugin_error_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const PluginError& e) {
        return e.what();
    }
    FAIL("no PluginError was thrown");
    return {};
}

std::string read_error(const fs::path& file) {
    return plugin_error_of([&] { migrator::read_plugin_file(file); });
}

// Offsets of the ELF64 header and section header fields the hostile-file tests patch.
constexpr std::size_t e_shoff = 40;
constexpr std::size_t e_shentsize = 58;
constexpr std::size_t e_shnum = 60;
constexpr std::size_t e_shstrndx = 62;
constexpr std::size_t sh_name = 0;
constexpr std::size_t sh_type = 4;
constexpr std::size_t sh_offset = 24;
constexpr std::size_t sh_size = 32;

/// Offset of the section header (ELF64 LE) whose data starts with the metadata magic line.
std::size_t metadata_section_header(const std::string& elf) {
    const std::size_t data = elf.find("migrator-revision\n");
    REQUIRE(data != std::string::npos);
    const std::size_t table = get_le(elf, e_shoff, 8);
    const std::size_t count = get_le(elf, e_shnum, 2);
    for (std::size_t i = 0; i < count; ++i)
        if (get_le(elf, table + i * 64 + sh_offset, 8) == data) return table + i * 64;
    FAIL("the fixture has no section holding its metadata");
    return 0;
}

/// A minimal ELF file of either class and byte order: a null section, the section name table and
/// one section named migrator_meta holding `payload`; its machine is this program's unless given.
std::string make_elf(bool is_64, bool big_endian, const std::string& payload,
                     std::uint16_t machine = migrator::host_platform().machine) {
    const std::size_t header_size = is_64 ? 64 : 52;
    const std::size_t entry_size = is_64 ? 64 : 40;
    const std::size_t word = is_64 ? 8 : 4;
    const std::string names = std::string("\0.shstrtab\0migrator_meta\0", 25);
    std::string elf(header_size, '\0');
    elf[0] = '\x7f', elf[1] = 'E', elf[2] = 'L', elf[3] = 'F';
    elf[4] = is_64 ? 2 : 1;
    elf[5] = big_endian ? 2 : 1;
    elf[6] = 1;
    const std::size_t names_offset = elf.size();
    elf += names;
    const std::size_t payload_offset = elf.size();
    elf += payload;
    const std::size_t table = elf.size();
    elf += std::string(3 * entry_size, '\0');

    const auto set = [&](std::size_t offset, std::size_t width, std::uint64_t value) {
        put(elf, offset, width, value, big_endian);
    };
    set(16, 2, 3);  // ET_DYN
    set(18, 2, machine);
    set(20, 4, 1);  // EV_CURRENT
    set(is_64 ? 40 : 32, word, table);
    set(is_64 ? 52 : 40, 2, header_size);
    set(is_64 ? 58 : 46, 2, entry_size);
    set(is_64 ? 60 : 48, 2, 3);
    set(is_64 ? 62 : 50, 2, 1);
    const auto section = [&](std::size_t index, std::uint32_t name, std::uint32_t type,
                             std::size_t offset, std::size_t size) {
        const std::size_t base = table + index * entry_size;
        set(base, 4, name);
        set(base + 4, 4, type);
        set(base + (is_64 ? 24 : 16), word, offset);
        set(base + (is_64 ? 32 : 20), word, size);
    };
    section(1, 1, 3, names_offset, names.size());       // .shstrtab, SHT_STRTAB
    section(2, 11, 1, payload_offset, payload.size());  // migrator_meta, SHT_PROGBITS
    return elf;
}

/// The identity of `file` as the host records it, taken here with stat(2) independently.
migrator::FileIdentity identity_of(const fs::path& file) {
    struct stat status {};
    REQUIRE(::stat(file.c_str(), &status) == 0);
    migrator::FileIdentity identity;
    identity.device = status.st_dev;
    identity.inode = status.st_ino;
    identity.size = static_cast<std::uint64_t>(status.st_size);
    identity.mtime_ns =
        status.st_mtim.tv_sec * std::int64_t{1'000'000'000} + status.st_mtim.tv_nsec;
    return identity;
}

const std::string good_metadata =
    "migrator-revision\nabi=1\nid=abc123\ndown=\nmessage=create things\n";

/// The metadata text of a plugin file: its section up to the terminating NUL.
/// Seals `file` as the build does (plugin-api/cmake/seal_plugin.cmake).
void seal(const fs::path& file) {
    const std::string command = std::string("'") + MIGRATOR_CMAKE_COMMAND + "' -DPLUGIN='" +
                                file.string() + "' -P '" + MIGRATOR_SOURCE_DIR +
                                "/plugin-api/cmake/seal_plugin.cmake'";
    REQUIRE(std::system(command.c_str()) == 0);
}

std::string metadata_of(const migrator::PluginFile& plugin) {
    const std::string section = migrator::read_elf_section(plugin.path, MIGRATOR_METADATA_SECTION);
    return section.substr(0, section.find('\0'));
}

}  // namespace

TEST_CASE("A revision plugin's metadata is read from its file", "[plugins]") {
    SECTION("a base revision") {
        const auto plugin = migrator::read_plugin_file(fixture("chain/a1_create_item.so"));
        CHECK(plugin.path == fixture("chain/a1_create_item.so"));
        CHECK(fs::path(plugin.path).is_absolute());
        CHECK(plugin.revision.id == "a1a1a1a1a1a1");
        CHECK(plugin.revision.parents.empty());
        CHECK(plugin.revision.message == "create item");
        CHECK(plugin.revision.create_date == "2026-01-01 10:00:00");
        CHECK(plugin.revision.path == plugin.path);
        REQUIRE(plugin.revision.source_sha256.size() == 64);
        CHECK(plugin.revision.source_sha256.find_first_not_of("0123456789abcdef") ==
              std::string::npos);
        const std::string metadata = metadata_of(plugin);
        CHECK(metadata.rfind("migrator-revision\nabi=2\napi=" MIGRATOR_PLUGIN_API_VERSION
                             "\nplatform=" MIGRATOR_PLATFORM "\nid=a1a1a1a1a1a1\n",
                             0) == 0);
        CHECK(metadata.back() == '\n');
    }
    SECTION("a revision with a parent") {
        const auto plugin = migrator::read_plugin_file(fixture("chain/b2_add_price.so"));
        CHECK(plugin.revision.id == "b2b2b2b2b2b2");
        CHECK(plugin.revision.parents == std::vector<std::string>{"a1a1a1a1a1a1"});
    }
    SECTION("a plugin whose static initializer aborts, since no plugin code runs") {
        const auto plugin = migrator::read_plugin_file(fixture("static_abort/x3_abort_on_load.so"));
        CHECK(plugin.revision.id == "e3e3e3e3e3e3");
        CHECK(plugin.revision.parents == std::vector<std::string>{"b2b2b2b2b2b2"});
    }
    SECTION("a relative path, made absolute") {
        struct WorkingDirectory {
            fs::path previous = fs::current_path();
            ~WorkingDirectory() { fs::current_path(previous); }
        } restore;
        fs::current_path(fixture("chain"));
        const auto plugin = migrator::read_plugin_file("a1_create_item.so");
        CHECK(plugin.path == fixture("chain/a1_create_item.so"));
    }
}

TEST_CASE("A large versions directory is read by several readers, in name order", "[plugins]") {
    // Above 512 plugins the scan splits the files between threads; the result and the error
    // reported must not depend on which reader finishes first.
    TempDir dir;
    constexpr int count = 1200;
    const auto name_of = [](int i) {
        char name[32];
        std::snprintf(name, sizeof name, "p%04d.so", i);
        return std::string(name);
    };
    for (int i = 0; i < count; ++i)
        fs::create_hard_link(
            fixture(i % 2 == 0 ? "chain/a1_create_item.so" : "chain/b2_add_price.so"),
            dir / name_of(i));

    SECTION("every file is read, sorted by name") {
        const auto plugins = migrator::scan_versions_dir(dir.path());
        REQUIRE(plugins.size() == count);
        for (int i = 0; i < count; ++i) {
            INFO("file " << i);
            CHECK(plugins[i].path == dir / name_of(i));
            CHECK(plugins[i].revision.id == (i % 2 == 0 ? "a1a1a1a1a1a1" : "b2b2b2b2b2b2"));
        }
    }
    SECTION("of several bad files, the first by name is reported") {
        for (const int bad : {1100, 700, 150}) {
            fs::remove(dir / name_of(bad));
            write_bytes(dir / name_of(bad), "garbage " + std::to_string(bad));
        }
        for (int run = 0; run < 5; ++run)
            CHECK_THAT(plugin_error_of([&] { migrator::scan_versions_dir(dir.path()); }),
                       Contains((dir / name_of(150)).string()) && Contains("bad magic"));
    }
}

TEST_CASE("A stripped plugin keeps its metadata, and loads once it is sealed again", "[plugins]") {
    TempDir dir;
    const fs::path copy = dir / "a1_create_item.so";
    fs::copy_file(fixture("chain/a1_create_item.so"), copy);
    REQUIRE(std::system(("strip '" + copy.string() + "'").c_str()) == 0);
    REQUIRE(fs::file_size(copy) < fs::file_size(fixture("chain/a1_create_item.so")));

    const auto original = migrator::read_plugin_file(fixture("chain/a1_create_item.so"));
    const auto stripped = migrator::read_plugin_file(copy);
    CHECK(stripped.revision.id == original.revision.id);
    CHECK(metadata_of(stripped) == metadata_of(original));
    // strip rewrote the file and dropped the seal past its ELF contents.
    CHECK_THAT(
        plugin_error_of([&] { migrator::LoadedPlugin plugin(stripped); }),
        Contains(copy.string()) && Contains("carries no integrity seal") && Contains("rebuild it"));

    seal(copy);
    const migrator::LoadedPlugin loaded(migrator::read_plugin_file(copy));
    CHECK(loaded.step(migrator::Direction::upgrade) != nullptr);
}

TEST_CASE("A plugin file gets every check of the loader without being loaded", "[plugins]") {
    const auto refusal = [](const fs::path& path) {
        return plugin_error_of(
            [&] { migrator::check_plugin_file(migrator::read_plugin_file(path)); });
    };
    SECTION("a sealed plugin passes") {
        CHECK_NOTHROW(migrator::check_plugin_file(
            migrator::read_plugin_file(fixture("chain/a1_create_item.so"))));
    }
    SECTION("a position-independent executable is refused") {
        const fs::path path = fixture("executable/e2_executable.so");
        CHECK_THAT(refusal(path),
                   Contains(path.string()) && Contains("is an executable (it names a program "
                                                       "interpreter), not a shared library"));
    }
    SECTION("a relocatable object file is refused") {
        const fs::path path = fixture("object/e2_object.so");
        CHECK_THAT(refusal(path), Contains(path.string()) &&
                                      Contains("is a relocatable object file (ELF type ET_REL)"));
    }
    SECTION("a shared library without the entry point is refused") {
        const fs::path path = fixture("not_a_plugin/not_a_plugin.so");
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        REQUIRE(fd >= 0);
        CHECK_THAT(plugin_error_of([&] {
                       migrator::check_plugin_image(fd, fs::file_size(path), path.string());
                   }),
                   Contains("does not export migrator_plugin_entry"));
        ::close(fd);
    }
    SECTION("a plugin with one byte changed anywhere is called corrupt") {
        TempDir dir;
        const std::string good = read_bytes(fixture("chain/b2_add_price.so"));
        const fs::path copy = dir / "b2_add_price.so";
        // The ELF header, code, the metadata section, the section table, the seal itself.
        for (const std::size_t at : {std::size_t{20}, good.size() / 3, good.find("add price"),
                                     good.size() - 200, good.size() - 10}) {
            CAPTURE(at);
            std::string bytes = good;
            bytes[at] = static_cast<char>(bytes[at] ^ 0x01);
            write_bytes(copy, bytes);
            migrator::PluginFile file;
            file.path = copy;
            file.identity = identity_of(copy);
            CHECK_THAT(plugin_error_of([&] { migrator::check_plugin_file(file); }),
                       Contains(copy.string()) &&
                           Contains("is corrupt or was modified after it was built: its content "
                                    "does not match the digest its build embedded"));
        }
    }
    SECTION("a plugin built for another platform is refused by name") {
        TempDir dir;
        const fs::path file = dir / "synthetic.so";
        const auto host = migrator::host_platform();
        migrator::ElfPlatform other = host;
        other.elf_class = host.elf_class == 2 ? 1 : 2;
        write_bytes(file, make_elf(other.elf_class == 2, host.byte_order == 2,
                                   good_metadata + std::string(1, '\0')));
        seal(file);
        CHECK_THAT(refusal(file), Contains("plugin file " + file.string() + " was built for " +
                                           other.name() + ", but this migrator runs on " +
                                           MIGRATOR_PLATFORM "; rebuild it on this platform"));
        other = host;
        other.byte_order = host.byte_order == 2 ? 1 : 2;
        write_bytes(file, make_elf(host.elf_class == 2, other.byte_order == 2,
                                   good_metadata + std::string(1, '\0')));
        seal(file);
        CHECK_THAT(refusal(file),
                   Contains(file.string()) && Contains("was built for " + other.name() + ", but"));
    }
}

namespace {

/// A copy of the sealed fixture plugin `source` in `dir`, with `edit` applied to its bytes and
/// sealed again: a plugin as a build for another platform would have left it, seal intact.
fs::path foreign_copy(const TempDir& dir, const fs::path& source,
                      const std::function<void(std::string&)>& edit) {
    std::string bytes = read_bytes(source);
    const std::string seal_line = "\nmigrator-seal-v1 sha256:";
    const std::size_t sealed_at = bytes.rfind(seal_line);
    REQUIRE(sealed_at != std::string::npos);
    bytes.resize(sealed_at);
    edit(bytes);
    const fs::path copy = dir / source.filename().string();
    write_bytes(copy, bytes);
    seal(copy);
    return copy;
}

/// Patches e_machine (offset 18, in the byte order of ident byte 5) to `machine`.
void patch_machine(std::string& elf, std::uint16_t machine) {
    put(elf, 18, 2, machine, elf.at(5) == 2);
}

}  // namespace

TEST_CASE("ELF machines are named as MIGRATOR_PLATFORM names them", "[plugins]") {
    const auto named = [](std::uint16_t machine, unsigned char elf_class, unsigned char order) {
        migrator::ElfPlatform platform;
        platform.machine = machine;
        platform.elf_class = elf_class;
        platform.byte_order = order;
        return platform.name();
    };
    CHECK(migrator::host_platform().name() == MIGRATOR_PLATFORM);
    CHECK(named(62, 2, 1) == "x86_64-elf64-le");
    CHECK(named(183, 2, 1) == "aarch64-elf64-le");
    CHECK(named(3, 1, 1) == "i386-elf32-le");
    CHECK(named(40, 1, 1) == "arm-elf32-le");
    CHECK(named(243, 2, 1) == "riscv64-elf64-le");
    CHECK(named(21, 2, 2) == "ppc64-elf64-be");
    CHECK(named(22, 2, 2) == "s390x-elf64-be");
    CHECK(named(4660, 2, 1) == "machine 4660-elf64-le");
}

TEST_CASE("A plugin built for another platform is refused before it is loaded", "[plugins]") {
    TempDir dir;
    const fs::path source = fixture("chain/a1_create_item.so");
    const auto host = migrator::host_platform();
    const std::uint16_t foreign_machine = host.machine == 183 ? 62 : 183;
    migrator::ElfPlatform foreign = host;
    foreign.machine = foreign_machine;

    SECTION("another machine in the ELF header, as an aarch64 build on x86-64 has") {
        const fs::path copy = foreign_copy(
            dir, source, [&](std::string& elf) { patch_machine(elf, foreign_machine); });
        const std::string expected = "plugin file " + copy.string() + " was built for " +
                                     foreign.name() + ", but this migrator runs on " +
                                     MIGRATOR_PLATFORM "; rebuild it on this platform";
        // Metadata reading (every command, history too), the loader's checks, and loading.
        CHECK_THAT(plugin_error_of([&] { migrator::read_plugin_file(copy); }), Contains(expected));
        CHECK_THAT(plugin_error_of([&] { migrator::scan_versions_dir(dir.path()); }),
                   Contains(expected));
        const int fd = ::open(copy.c_str(), O_RDONLY | O_CLOEXEC);
        REQUIRE(fd >= 0);
        CHECK_THAT(plugin_error_of([&] {
                       migrator::check_plugin_image(fd, fs::file_size(copy), copy.string());
                   }),
                   Contains(expected));
        ::close(fd);
        migrator::PluginFile file;
        file.path = copy;
        file.identity = identity_of(copy);
        CHECK_THAT(plugin_error_of([&] { migrator::LoadedPlugin plugin(file); }),
                   Contains(expected));
    }
    SECTION("another platform in the metadata, with a native ELF header") {
        const std::string native = "platform=" MIGRATOR_PLATFORM "\n";
        std::string other = native;
        // Same length, other byte order: the text the compiler would have written there.
        const std::size_t order = other.rfind('-') + 1;
        other.replace(order, 2, other.compare(order, 2, "le") == 0 ? "be" : "le");
        const fs::path copy = foreign_copy(dir, source, [&](std::string& elf) {
            const std::size_t at = elf.find(native);
            REQUIRE(at != std::string::npos);
            elf.replace(at, native.size(), other);
        });
        const std::string other_platform = other.substr(9, other.size() - 10);
        CHECK_THAT(plugin_error_of([&] { migrator::read_plugin_file(copy); }),
                   Contains("plugin file " + copy.string() + " was built for " + other_platform +
                            " (its metadata says so; its ELF header says " MIGRATOR_PLATFORM
                            "), but this migrator runs on " MIGRATOR_PLATFORM
                            "; rebuild it on this platform"));
    }
    SECTION("a plugin of ABI 1 has no platform line: its ELF header alone is judged") {
        const fs::path v1 = fixture("abi_v1/v1_frozen_abi.so");
        const auto plugin = migrator::read_plugin_file(v1);
        CHECK(plugin.revision.abi == 1);
        CHECK(plugin.revision.plugin_api.empty());
        CHECK(plugin.revision.platform == MIGRATOR_PLATFORM);  // from the header
        const fs::path copy =
            foreign_copy(dir, v1, [&](std::string& elf) { patch_machine(elf, foreign_machine); });
        CHECK_THAT(plugin_error_of([&] { migrator::read_plugin_file(copy); }),
                   Contains(copy.string()) && Contains("was built for " + foreign.name()));
    }
    SECTION("a damaged machine byte under an intact seal is called corrupt, not foreign") {
        std::string bytes = read_bytes(source);
        patch_machine(bytes, foreign_machine);
        const fs::path copy = dir / "a1_create_item.so";
        write_bytes(copy, bytes);
        CHECK_THAT(plugin_error_of([&] { migrator::read_plugin_file(copy); }),
                   Contains(copy.string()) && Contains("is corrupt or was modified after it was "
                                                       "built"));
    }
    SECTION("the platform check itself") {
        migrator::Revision revision;
        CHECK_NOTHROW(migrator::check_plugin_platform(revision, host, "x.so"));
        revision.platform = MIGRATOR_PLATFORM;
        CHECK_NOTHROW(migrator::check_plugin_platform(revision, host, "x.so"));
        CHECK_THAT(
            plugin_error_of([&] { migrator::check_plugin_platform(revision, foreign, "v/x.so"); }),
            Contains("plugin file v/x.so was built for " + foreign.name() +
                     ", but this migrator runs on " MIGRATOR_PLATFORM));
        revision.platform = "mips64-elf64-be";
        CHECK_THAT(
            plugin_error_of([&] { migrator::check_plugin_platform(revision, host, "v/x.so"); }),
            Contains("plugin file v/x.so was built for mips64-elf64-be (its metadata says"));
    }
}

TEST_CASE("The ELF reader handles both classes and both byte orders", "[plugins]") {
    TempDir dir;
    const std::string payload = good_metadata + std::string(1, '\0');
    for (const bool is_64 : {false, true}) {
        for (const bool big_endian : {false, true}) {
            const fs::path file = dir / "synthetic.so";
            write_bytes(file, make_elf(is_64, big_endian, payload));
            CAPTURE(is_64, big_endian);
            CHECK(migrator::read_elf_section(file, "migrator_meta") == payload);
            const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
            REQUIRE(fd >= 0);
            CHECK(migrator::read_elf_section(fd, fs::file_size(file), file, "migrator_meta") ==
                  payload);
            ::close(fd);
            // Read by the ELF reader whatever the platform; taken as a plugin only if native.
            const auto host = migrator::host_platform();
            if (is_64 == (host.elf_class == 2) && big_endian == (host.byte_order == 2))
                CHECK(migrator::read_plugin_file(file).revision.id == "abc123");
            else
                CHECK_THAT(plugin_error_of([&] { migrator::read_plugin_file(file); }),
                           Contains(file.string()) && Contains("was built for") &&
                               Contains("but this migrator runs on " MIGRATOR_PLATFORM));
            CHECK_THAT(plugin_error_of([&] { migrator::read_elf_section(file, "other"); }),
                       Contains("has no other section"));
        }
    }
}

TEST_CASE("Hostile plugin files are refused with an error naming the file", "[plugins]") {
    TempDir dir;
    const fs::path file = dir / "hostile.so";
    const std::string good = read_bytes(fixture("chain/a1_create_item.so"));
    REQUIRE(good.size() > 1024);
    const auto refused_with = [&](const std::string& bytes, const std::string& fragment) {
        write_bytes(file, bytes);
        const std::string message = read_error(file);
        CHECK_THAT(message, Contains(file.string()) && Contains(fragment));
    };

    SECTION("an empty file") { refused_with("", "is empty"); }
    SECTION("random garbage") {
        std::mt19937 random(42);
        std::string garbage(4096, '\0');
        for (auto& c : garbage) c = static_cast<char>(random() & 0xff);
        garbage[0] = 'x';
        refused_with(garbage, "is not an ELF shared object (bad magic)");
    }
    SECTION("a text file") { refused_with("#!/bin/sh\necho hello\n", "bad magic"); }
    SECTION("the ELF magic and little else") {
        refused_with("\x7f", "bad magic");
        refused_with(
            "\x7f"
            "ELF",
            "truncated");
        refused_with(
            "\x7f"
            "ELF\x02\x01\x01",
            "truncated");
        refused_with(good.substr(0, 16), "truncated");
    }
    SECTION("an unknown class, byte order or version") {
        std::string bad = good;
        bad[4] = 7;
        refused_with(bad, "unknown ELF class 7");
        bad = good;
        bad[5] = 0;
        refused_with(bad, "unknown byte order 0");
        bad = good;
        bad[6] = 2;
        refused_with(bad, "unknown ELF version 2");
    }
    SECTION("a real plugin truncated") {
        // Cut short of its ELF contents (what lies past them, the seal, is no concern of the
        // metadata reader).
        const std::size_t elf_size = good.rfind("\n" MIGRATOR_SEAL_MAGIC);
        REQUIRE(elf_size != std::string::npos);
        for (const std::size_t length : {std::size_t{16}, std::size_t{40}, std::size_t{64},
                                         elf_size / 2, elf_size - 64, elf_size - 1}) {
            CAPTURE(length);
            refused_with(good.substr(0, length), "is truncated");
        }
    }
    SECTION("a section table that lies past the end of the file") {
        for (const std::uint64_t offset :
             {std::uint64_t{good.size()}, std::uint64_t{good.size() + 4096},
              ~std::uint64_t{0} - 16}) {
            CAPTURE(offset);
            std::string bad = good;
            put(bad, e_shoff, 8, offset);
            refused_with(bad, "its section table lies past the end of the file");
        }
    }
    SECTION("too many sections for the file") {
        std::string bad = good;
        put(bad, e_shnum, 2, 0xfeff);
        refused_with(bad, "its section table lies past the end of the file");
    }
    SECTION("no section table") {
        std::string bad = good;
        put(bad, e_shoff, 8, 0);
        refused_with(bad, "has no section table");
    }
    SECTION("a wrong section header size") {
        std::string bad = good;
        put(bad, e_shentsize, 2, 16);
        refused_with(bad, "malformed section table");
    }
    SECTION("a section name table index out of range") {
        std::string bad = good;
        put(bad, e_shstrndx, 2, get_le(good, e_shnum, 2) + 5);
        refused_with(bad, "is out of range");
        put(bad, e_shstrndx, 2, 0xff10);
        refused_with(bad, "reserved section name table index");
    }
    SECTION("a section name table that is not a string table") {
        std::string bad = good;
        const std::size_t names = get_le(good, e_shoff, 8) + get_le(good, e_shstrndx, 2) * 64;
        put(bad, names + sh_type, 4, 8);
        refused_with(bad, "is not a string table");
    }
    SECTION("a section name table of absurd size") {
        std::string bad = good;
        const std::size_t names = get_le(good, e_shoff, 8) + get_le(good, e_shstrndx, 2) * 64;
        put(bad, names + sh_size, 8, ~std::uint64_t{0});
        refused_with(bad, "its section name table lies past the end of the file");
    }
    SECTION("a metadata section of absurd size") {
        const std::size_t header = metadata_section_header(good);
        for (const std::uint64_t size :
             {std::uint64_t{good.size()}, ~std::uint64_t{0}, ~std::uint64_t{0} - 0x100}) {
            CAPTURE(size);
            std::string bad = good;
            put(bad, header + sh_size, 8, size);
            refused_with(bad, "its migrator_meta section lies past the end of the file");
        }
    }
    SECTION("a metadata section with no contents in the file") {
        std::string bad = good;
        put(bad, metadata_section_header(good) + sh_type, 4, 8);
        refused_with(bad, "SHT_NOBITS");
    }
    SECTION("a section name outside the name table") {
        std::string bad = good;
        put(bad, metadata_section_header(good) + sh_name, 4, 0xffffffff);
        refused_with(bad, "lies outside the section name table");
    }
    SECTION("a section name that is not NUL-terminated") {
        std::string bad = good;
        const std::size_t names = get_le(good, e_shoff, 8) + get_le(good, e_shstrndx, 2) * 64;
        const std::size_t names_size = get_le(good, names + sh_size, 8);
        put(bad, names + sh_size, 8, names_size - 1);  // cut off the last name's NUL
        refused_with(bad, "is not NUL-terminated");
    }
    SECTION("two metadata sections") {
        std::string bad = good;
        const std::size_t header = metadata_section_header(good);
        const std::size_t table = get_le(good, e_shoff, 8);
        const std::size_t other = header == table + 64 ? table + 128 : table + 64;
        put(bad, other + sh_name, 4, get_le(good, header + sh_name, 4));
        refused_with(bad, "more than one migrator_meta section");
    }
    SECTION("a directory named like a plugin") {
        fs::create_directory(dir / "directory.so");
        CHECK_THAT(read_error(dir / "directory.so"), Contains("is not a regular file"));
    }
    SECTION("a missing file") {
        CHECK_THAT(read_error(dir / "missing.so"),
                   Contains((dir / "missing.so").string()) && Contains("does not exist"));
    }
}

TEST_CASE("Randomly damaged plugins never crash the reader", "[plugins]") {
    TempDir dir;
    const fs::path file = dir / "damaged.so";
    const std::string good = read_bytes(fixture("chain/a1_create_item.so"));
    const std::size_t table = get_le(good, e_shoff, 8);
    std::mt19937 random(1234);
    int read = 0;
    int refused = 0;
    constexpr int attempts = 500;
    for (int attempt = 0; attempt < attempts; ++attempt) {
        std::string bad = good;
        // Damage the header or the section table, where every offset the reader follows lives.
        const int flips = 1 + static_cast<int>(random() % 6);
        for (int i = 0; i < flips; ++i) {
            const std::size_t at =
                random() % 2 == 0 ? random() % 64 : table + random() % (good.size() - table);
            bad[at] = static_cast<char>(random() & 0xff);
        }
        write_bytes(file, bad);
        try {
            migrator::read_plugin_file(file);
            ++read;
        } catch (const PluginError& e) {
            if (std::string(e.what()).find(file.string()) != std::string::npos) ++refused;
        }
    }
    CHECK(read + refused == attempts);
    CHECK(refused > 0);
}

TEST_CASE("Plugins that are not revisions of this ABI are refused by name", "[plugins]") {
    SECTION("a plugin built for another ABI version") {
        const fs::path file = fixture("wrong_abi/w1_wrong_abi.so");
        CHECK_THAT(read_error(file),
                   Contains("plugin file " + file.string() +
                            " was built for plugin ABI version 99, but this migrator supports "
                            "versions 1 to 2; rebuild it"));
    }
    SECTION("a shared library with no metadata section") {
        const fs::path file = fixture("not_a_plugin/not_a_plugin.so");
        CHECK_THAT(read_error(file), Contains(file.string()) &&
                                         Contains("has no migrator_meta section; was it built with "
                                                  "migrator_add_revision()?"));
    }
}

TEST_CASE("Metadata text is parsed into a revision", "[plugins]") {
    const fs::path file = "/versions/x.so";
    const auto error_of = [&](const std::string& text) {
        return plugin_error_of([&] { migrator::parse_metadata(text, file); });
    };

    SECTION("with or without a terminating NUL and anything after it") {
        for (const std::string& text : {good_metadata, good_metadata + std::string(1, '\0'),
                                        good_metadata + std::string("\0id=evil\n", 9)}) {
            const auto revision = migrator::parse_metadata(text, file);
            CHECK(revision.id == "abc123");
            CHECK(revision.parents.empty());
            CHECK(revision.message == "create things");
            CHECK(revision.create_date.empty());
            CHECK(revision.source_sha256.empty());
            CHECK(revision.path == "/versions/x.so");
        }
    }
    SECTION("optional keys and unknown keys") {
        const std::string sha(64, 'f');
        const auto revision =
            migrator::parse_metadata(good_metadata + "created=2026-01-01 10:00:00\nsha256=" + sha +
                                         "\nfuture=key=value\ntransactional=0\n",
                                     file);
        CHECK(revision.create_date == "2026-01-01 10:00:00");
        CHECK(revision.source_sha256 == sha);
        CHECK(migrator::parse_metadata(good_metadata + "sha256=\n", file).source_sha256.empty());
    }
    SECTION("a message containing '=' keeps everything after the first '='") {
        const auto revision = migrator::parse_metadata(
            "migrator-revision\nabi=1\nid=a\ndown=\nmessage=set x=1\n", file);
        CHECK(revision.message == "set x=1");
    }
    SECTION("a merge revision's parents, with spaces trimmed") {
        const auto revision = migrator::parse_metadata(
            "migrator-revision\nabi=1\nid=m\ndown= a , b_2\nmessage=merge\n", file);
        CHECK(revision.parents == std::vector<std::string>{"a", "b_2"});
    }
    SECTION("a missing or wrong magic line") {
        CHECK_THAT(error_of("abi=1\nid=a\ndown=\nmessage=\n"),
                   Contains(file.string()) && Contains("does not start with the line"));
        CHECK_THAT(error_of(""), Contains("is empty"));
        CHECK_THAT(error_of("migrator-revisionX\nabi=1\n"), Contains("does not start"));
    }
    SECTION("a missing required key") {
        for (const std::string key : {"abi", "id", "down", "message"}) {
            CAPTURE(key);
            std::string text = good_metadata;
            const std::size_t at = text.find("\n" + key + "=");
            text.erase(at + 1, text.find('\n', at + 1) - at);
            CHECK_THAT(error_of(text),
                       Contains(file.string()) && Contains("'" + key + "' is missing"));
        }
    }
    SECTION("a malformed revision id") {
        for (const std::string& id :
             std::vector<std::string>{"", "has space", "dash-ed", std::string(33, 'a'), "é"}) {
            CAPTURE(id);
            CHECK_THAT(error_of("migrator-revision\nabi=1\nid=" + id + "\ndown=\nmessage=\n"),
                       Contains("is not 1 to 32 characters"));
        }
        CHECK(migrator::parse_metadata(
                  "migrator-revision\nabi=1\nid=" + std::string(32, 'Z') + "\ndown=\nmessage=\n",
                  file)
                  .id == std::string(32, 'Z'));
    }
    SECTION("a malformed down revision") {
        for (const std::string down : {"a,", ",a", "a,,b", "a;b", "a b"}) {
            CAPTURE(down);
            CHECK_THAT(error_of("migrator-revision\nabi=1\nid=c\ndown=" + down + "\nmessage=\n"),
                       Contains("down revision"));
        }
        CHECK_THAT(error_of("migrator-revision\nabi=1\nid=c\ndown=a,a\nmessage=\n"),
                   Contains("listed twice"));
    }
    SECTION("a duplicate key") {
        CHECK_THAT(error_of(good_metadata + "id=other\n"),
                   Contains(file.string()) && Contains("'id' appears more than once"));
    }
    SECTION("a line that is not key=value") {
        CHECK_THAT(error_of(good_metadata + "garbage\n"), Contains("line 6"));
    }
    SECTION("a bad checksum") {
        for (const std::string& sha :
             {std::string(64, 'F'), std::string(63, 'a'), std::string("x")})
            CHECK_THAT(error_of(good_metadata + "sha256=" + sha + "\n"),
                       Contains("64 lowercase hexadecimal digits"));
    }
    SECTION("every ABI version from 1 to this migrator's, with what it records") {
        const auto v1 = migrator::parse_metadata(good_metadata, file);
        CHECK(v1.abi == 1);
        CHECK(v1.plugin_api.empty());
        CHECK(v1.platform.empty());
        for (unsigned abi = 1; abi <= MIGRATOR_ABI_VERSION; ++abi)
            CHECK(migrator::parse_metadata(
                      "migrator-revision\nabi=" + std::to_string(abi) + "\nid=a\ndown=\nmessage=\n",
                      file)
                      .abi == abi);
        const auto v2 = migrator::parse_metadata(
            "migrator-revision\nabi=2\napi=0.2.0\nplatform=x86_64-elf64-le\nid=a\ndown=\n"
            "message=\n",
            file);
        CHECK(v2.abi == 2);
        CHECK(v2.plugin_api == "0.2.0");
        CHECK(v2.platform == "x86_64-elf64-le");
    }
    SECTION("another ABI version") {
        CHECK_THAT(error_of("migrator-revision\nabi=0\nid=a\ndown=\nmessage=\n"),
                   Contains("plugin file /versions/x.so was built for plugin ABI version 0, but "
                            "this migrator supports versions 1 to 2; rebuild it"));
        CHECK_THAT(error_of("migrator-revision\nabi=99\nid=a\ndown=\nmessage=\n"),
                   Contains("plugin file /versions/x.so was built for plugin ABI version 99, but "
                            "this migrator supports versions 1 to 2; rebuild it"));
        CHECK_THAT(error_of("migrator-revision\nabi=one\nid=a\ndown=\nmessage=\n"),
                   Contains("'one' is not a number"));
    }
}

TEST_CASE("A versions directory scan reads every plugin in it and nothing else", "[plugins]") {
    TempDir dir;
    fs::copy_file(fixture("chain/b2_add_price.so"), dir / "b2_add_price.so");
    fs::copy_file(fixture("chain/a1_create_item.so"), dir / "a1_create_item.so");
    // The revision that aborts when loaded proves that a scan runs no plugin code.
    fs::copy_file(fixture("static_abort/x3_abort_on_load.so"), dir / "x3_abort_on_load.so");
    write_bytes(dir / "README.txt", "not a plugin\n");
    write_bytes(dir / "a1_create_item.so.bak", "not a plugin either\n");
    write_bytes(dir / "a1_create_item.so.1", "a versioned soname is not a revision\n");
    fs::create_directory(dir / "nested.so");
    fs::create_symlink(dir / "nowhere.so", dir / "dangling.so");
    REQUIRE(::mkfifo((dir / "pipe.so").c_str(), 0600) == 0);  // never opened, so never blocks
    fs::create_directory(dir / "sub");
    fs::copy_file(fixture("chain/c3_index_name.so"), dir / "sub" / "c3_index_name.so");

    SECTION("plugins are found, sorted by path") {
        const auto plugins = migrator::scan_versions_dir(dir.path());
        REQUIRE(plugins.size() == 3);
        CHECK(plugins[0].revision.id == "a1a1a1a1a1a1");
        CHECK(plugins[1].revision.id == "b2b2b2b2b2b2");
        CHECK(plugins[2].revision.id == "e3e3e3e3e3e3");
        CHECK(plugins[0].path == dir / "a1_create_item.so");
    }
    SECTION("a bad plugin is named") {
        write_bytes(dir / "zz_broken.so", "garbage");
        CHECK_THAT(plugin_error_of([&] { migrator::scan_versions_dir(dir.path()); }),
                   Contains((dir / "zz_broken.so").string()) && Contains("bad magic"));
    }
    SECTION("a missing directory") {
        CHECK_THAT(
            plugin_error_of([&] { migrator::scan_versions_dir(dir / "missing"); }),
            Contains("versions directory " + (dir / "missing").string() + " does not exist"));
    }
    SECTION("a file instead of a directory") {
        CHECK_THAT(plugin_error_of([&] { migrator::scan_versions_dir(dir / "README.txt"); }),
                   Contains("is not a directory"));
    }
}

TEST_CASE("A plugin is loaded only when its entry point agrees with its metadata", "[plugins]") {
    SECTION("a good plugin loads") {
        const auto file = migrator::read_plugin_file(fixture("chain/a1_create_item.so"));
        const migrator::LoadedPlugin plugin(file);
        CHECK(plugin.file().revision.id == "a1a1a1a1a1a1");
        CHECK(plugin.step(migrator::Direction::upgrade) != nullptr);
        CHECK(plugin.step(migrator::Direction::downgrade) != nullptr);
    }
    SECTION("a plugin whose entry point returns other metadata is refused") {
        const fs::path path = fixture("mismatch/m1_metadata_mismatch.so");
        const auto file = migrator::read_plugin_file(path);
        CHECK(file.revision.id == "5ec7105ec710");
        CHECK_THAT(plugin_error_of([&] { migrator::LoadedPlugin plugin(file); }),
                   Contains(path.string()) && Contains("differs from its metadata section"));
    }
    SECTION("a plugin of another ABI is refused even if its metadata was never read") {
        const fs::path path = fixture("wrong_abi/w1_wrong_abi.so");
        migrator::PluginFile file;
        file.path = path;
        file.identity = identity_of(path);
        CHECK_THAT(plugin_error_of([&] { migrator::LoadedPlugin plugin(file); }),
                   Contains("plugin " + path.string() +
                            " (its entry point) was built for plugin ABI version 99, but this "
                            "migrator supports versions 1 to " +
                            std::to_string(MIGRATOR_ABI_VERSION) + "; rebuild it"));
    }
    SECTION("a plugin of ABI 1, built against the frozen version-1 headers, loads") {
        const auto file = migrator::read_plugin_file(fixture("abi_v1/v1_frozen_abi.so"));
        CHECK(file.revision.abi == 1);
        const migrator::LoadedPlugin plugin(file);
        CHECK(plugin.abi_version() == 1);
        CHECK(plugin.step(migrator::Direction::upgrade) != nullptr);
    }
    SECTION("a plugin built with clang loads") {
        const auto file = migrator::read_plugin_file(fixture("clang/c4_built_with_clang.so"));
        CHECK(file.revision.abi == MIGRATOR_ABI_VERSION);
        CHECK(file.revision.plugin_api == MIGRATOR_PLUGIN_API_VERSION);
        const migrator::LoadedPlugin plugin(file);
        CHECK(plugin.abi_version() == MIGRATOR_ABI_VERSION);
    }
}

namespace {

/// Sets the soft limit on open files for the length of a test and restores it afterwards.
class SoftOpenFileLimit {
public:
    explicit SoftOpenFileLimit(rlim_t soft) {
        REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved_) == 0);
        rlimit changed = saved_;
        changed.rlim_cur = soft;
        REQUIRE(::setrlimit(RLIMIT_NOFILE, &changed) == 0);
    }
    ~SoftOpenFileLimit() { ::setrlimit(RLIMIT_NOFILE, &saved_); }
    SoftOpenFileLimit(const SoftOpenFileLimit&) = delete;
    SoftOpenFileLimit& operator=(const SoftOpenFileLimit&) = delete;

private:
    rlimit saved_{};
};

/// The number of a descriptor of this process open on `file`, or -1 if there is none.
int descriptor_open_on(const fs::path& file) {
    const fs::path wanted = fs::canonical(file);
    for (const auto& entry : fs::directory_iterator("/proc/self/fd")) {
        std::error_code error;
        if (fs::read_symlink(entry.path(), error) == wanted && !error)
            return std::stoi(entry.path().filename().string());
    }
    return -1;
}

/// The lowest descriptor number free now: the one the next open gets.
int next_descriptor() {
    const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    ::close(fd);
    return fd;
}

/// A copy of a fixture plugin in `dir`, writable by its owner only whatever the umask.
fs::path copy_plugin(const TempDir& dir, const std::string& relative, const std::string& name) {
    const fs::path copy = dir / name;
    fs::copy_file(fixture(relative), copy);
    fs::permissions(copy, fs::perms(0644));
    return copy;
}

void set_mode(const fs::path& path, unsigned mode) {
    REQUIRE(::chmod(path.c_str(), static_cast<mode_t>(mode)) == 0);
}

}  // namespace

TEST_CASE("The trust rule accepts only what root or the effective user alone can change",
          "[plugins][trust]") {
    using migrator::TrustedPath;
    const fs::path file = "/versions/a1.so";
    const auto refusal = [](const fs::path& path, TrustedPath kind, unsigned mode,
                            std::uint32_t owner, std::uint32_t effective_uid) {
        return plugin_error_of(
            [&] { migrator::check_permissions(path, kind, mode, owner, effective_uid); });
    };

    SECTION("files and directories of root or of the user, writable by the owner alone") {
        for (const unsigned mode : {S_IFREG | 0644u, S_IFREG | 0755u, S_IFREG | 0400u,
                                    S_IFREG | 0700u, S_IFDIR | 0755u, S_IFDIR | 0700u}) {
            CAPTURE(mode);
            CHECK_NOTHROW(migrator::check_permissions(file, TrustedPath::plugin_file, mode, 0, 0));
            CHECK_NOTHROW(
                migrator::check_permissions(file, TrustedPath::plugin_file, mode, 1000, 1000));
            CHECK_NOTHROW(
                migrator::check_permissions(file, TrustedPath::plugin_file, mode, 0, 1000));
        }
    }
    SECTION("writable by others") {
        CHECK_THAT(refusal(file, TrustedPath::plugin_file, S_IFREG | 0646, 0, 0),
                   Contains("plugin file /versions/a1.so is writable by others (mode 0646)") &&
                       Contains("run chmod go-w /versions/a1.so") &&
                       Contains("or skip this check with --no-permission-check"));
    }
    SECTION("writable by the group") {
        CHECK_THAT(refusal(file, TrustedPath::plugin_file, S_IFREG | 0664, 1000, 1000),
                   Contains("plugin file /versions/a1.so is writable by its group (mode 0664)"));
    }
    SECTION("writable by both") {
        CHECK_THAT(
            refusal(file, TrustedPath::plugin_file, S_IFREG | 0666, 0, 1000),
            Contains(
                "plugin file /versions/a1.so is writable by its group and others (mode 0666)"));
    }
    SECTION("owned by another user") {
        CHECK_THAT(refusal(file, TrustedPath::plugin_file, S_IFREG | 0644, 65534, 0),
                   Contains("plugin file /versions/a1.so is owned by uid 65534, not by root or you "
                            "(uid 0)") &&
                       Contains("run chown 0 /versions/a1.so"));
        // Another user's file is not trusted even if root may also write it.
        CHECK_THAT(refusal(file, TrustedPath::plugin_file, S_IFREG | 0644, 1000, 1001),
                   Contains("is owned by uid 1000, not by root or you (uid 1001)") &&
                       Contains("run chown 1001 /versions/a1.so"));
    }
    SECTION("both wrong: one sentence, both fixes") {
        const std::string message =
            refusal(file, TrustedPath::plugin_file, S_IFREG | 0666, 65534, 0);
        CHECK_THAT(message, Contains("is owned by uid 65534, not by root or you (uid 0) and is "
                                     "writable by its group and others (mode 0666)") &&
                                Contains("run chown 0 /versions/a1.so && chmod go-w "
                                         "/versions/a1.so"));
        CHECK(message.find('\n') == std::string::npos);
    }
    SECTION("the versions directory") {
        CHECK_THAT(refusal("/versions", TrustedPath::versions_dir, S_IFDIR | 0757, 0, 0),
                   Contains("versions directory /versions is writable by others (mode 0757)") &&
                       Contains("could add or replace the plugins") &&
                       Contains("run chmod go-w /versions"));
        CHECK_THAT(refusal("/tmp", TrustedPath::versions_dir, S_IFDIR | 01777, 0, 0),
                   Contains("is writable by its group and others (mode 1777)"));
        CHECK_THAT(refusal("/versions", TrustedPath::versions_dir, S_IFDIR | 0755, 65534, 0),
                   Contains("versions directory /versions is owned by uid 65534"));
    }
    SECTION("a path the fix must quote for the shell") {
        CHECK_THAT(
            refusal("/srv/my versions/it's.so", TrustedPath::plugin_file, S_IFREG | 0646, 0, 0),
            Contains("run chmod go-w '/srv/my versions/it'\\''s.so',"));
    }
}

TEST_CASE("A scan refuses plugin files and versions directories others can write",
          "[plugins][trust]") {
    using migrator::PermissionCheck;
    TempDir dir;  // mkdtemp: mode 0700 whatever the umask
    const fs::path a1 = copy_plugin(dir, "chain/a1_create_item.so", "a1_create_item.so");
    REQUIRE(migrator::scan_versions_dir(dir.path()).size() == 1);
    const auto scan_error = [&] {
        return plugin_error_of([&] { migrator::scan_versions_dir(dir.path()); });
    };
    const auto accepted_when_skipped = [&] {
        const auto plugins = migrator::scan_versions_dir(dir.path(), PermissionCheck::skip);
        REQUIRE(plugins.size() == 1);
        CHECK(plugins[0].revision.id == "a1a1a1a1a1a1");
        CHECK(plugins[0].permission_check == PermissionCheck::skip);
    };

    SECTION("a plugin writable by others") {
        set_mode(a1, 0646);
        CHECK_THAT(scan_error(),
                   Contains("plugin file " + a1.string() + " is writable by others (mode 0646)") &&
                       Contains("chmod go-w " + a1.string()));
        CHECK_THAT(read_error(a1), Contains("is writable by others"));
        CHECK(migrator::read_plugin_file(a1, PermissionCheck::skip).revision.id == "a1a1a1a1a1a1");
        accepted_when_skipped();
    }
    SECTION("a plugin writable by its group") {
        set_mode(a1, 0664);
        CHECK_THAT(scan_error(), Contains("plugin file " + a1.string() +
                                          " is writable by its group (mode 0664)"));
        accepted_when_skipped();
    }
    SECTION("a versions directory writable by its group") {
        set_mode(dir.path(), 0770);
        CHECK_THAT(scan_error(), Contains("versions directory " + dir.path().string() +
                                          " is writable by its group (mode 0770)"));
        accepted_when_skipped();
    }
    SECTION("a versions directory writable by others, sticky or not") {
        for (const unsigned mode : {0707u, 01777u}) {
            CAPTURE(mode);
            set_mode(dir.path(), mode);
            CHECK_THAT(scan_error(),
                       Contains("versions directory " + dir.path().string() + " is writable by"));
            accepted_when_skipped();
        }
    }
    SECTION("permissions are judged before anything is read from the file") {
        write_bytes(dir / "zz_garbage.so", "not even ELF");
        set_mode(dir / "zz_garbage.so", 0666);
        const std::string message = scan_error();
        CHECK_THAT(message, Contains("zz_garbage.so") && Contains("is writable by"));
        CHECK_THAT(message, !Contains("bad magic"));
    }
    SECTION("a scan that passes records each file's identity and the rule it passed") {
        const auto plugins = migrator::scan_versions_dir(dir.path());
        REQUIRE(plugins.size() == 1);
        CHECK(plugins[0].identity == identity_of(a1));
        CHECK(plugins[0].permission_check == PermissionCheck::enforce);
    }
}

TEST_CASE("Plugin files and versions directories owned by another user are refused",
          "[plugins][trust]") {
    TempDir dir;
    const fs::path a1 = copy_plugin(dir, "chain/a1_create_item.so", "a1_create_item.so");
    if (::geteuid() == 0) {
        REQUIRE(::chown(a1.c_str(), 65534, 65534) == 0);
        CHECK_THAT(plugin_error_of([&] { migrator::scan_versions_dir(dir.path()); }),
                   Contains("plugin file " + a1.string() +
                            " is owned by uid 65534, not by root or you (uid 0)") &&
                       Contains("run chown 0 " + a1.string()));
        CHECK(migrator::scan_versions_dir(dir.path(), migrator::PermissionCheck::skip).size() == 1);
        REQUIRE(::chown(a1.c_str(), 0, 0) == 0);
        REQUIRE(::chown(dir.path().c_str(), 65534, 65534) == 0);
        CHECK_THAT(plugin_error_of([&] { migrator::scan_versions_dir(dir.path()); }),
                   Contains("versions directory " + dir.path().string() +
                            " is owned by uid 65534, not by root or you (uid 0)"));
    } else {
        // Without root no file can be given away: the user's own files pass through the real
        // fstat path, and another owner is refused by the rule itself, given the uids.
        const auto plugins = migrator::scan_versions_dir(dir.path());
        REQUIRE(plugins.size() == 1);
        struct stat status {};
        REQUIRE(::stat(a1.c_str(), &status) == 0);
        CHECK(status.st_uid == ::geteuid());
        CHECK_THAT(plugin_error_of([&] {
                       migrator::check_permissions(a1, migrator::TrustedPath::plugin_file,
                                                   status.st_mode, ::geteuid() + 1, ::geteuid());
                   }),
                   Contains("plugin file " + a1.string() + " is owned by uid " +
                            std::to_string(::geteuid() + 1)));
    }
}

TEST_CASE("A symlinked plugin is judged by the file it points to", "[plugins][trust]") {
    TempDir dir;
    const fs::path versions = dir / "versions";
    fs::create_directory(versions);
    set_mode(versions, 0755);
    fs::create_directory(dir / "store");
    const fs::path target = copy_plugin(dir, "chain/a1_create_item.so", "store/a1.so");
    const fs::path link = versions / "a1_create_item.so";
    fs::create_symlink(target, link);

    SECTION("a target only its owner can write is accepted, under the link's name") {
        const auto plugins = migrator::scan_versions_dir(versions);
        REQUIRE(plugins.size() == 1);
        CHECK(plugins[0].path == link);
        CHECK(plugins[0].identity == identity_of(target));
        const migrator::LoadedPlugin loaded(plugins[0]);
        CHECK(loaded.entry_metadata() == metadata_of(plugins[0]));
    }
    SECTION("a target others can write is refused, naming the link and the target") {
        set_mode(target, 0666);
        CHECK_THAT(plugin_error_of([&] { migrator::scan_versions_dir(versions); }),
                   Contains("plugin file " + link.string() + " (a symlink to " +
                            fs::canonical(target).string() +
                            ") is writable by its group and others (mode 0666)"));
    }
    SECTION("a target in a directory others can write, not sticky, is refused by name") {
        set_mode(dir / "store", 0777);
        const std::string refusal =
            "directory " + fs::canonical(dir / "store").string() + " on the path of plugin file " +
            link.string() + " (resolved: " + fs::canonical(target).string() +
            ") is writable by its group and others (mode 0777, not sticky), so someone else "
            "could replace the plugins migrator runs; run chmod go-w ";
        CHECK_THAT(plugin_error_of([&] { migrator::scan_versions_dir(versions); }),
                   Contains(refusal));
        CHECK_THAT(plugin_error_of([&] { migrator::read_plugin_file(link); }), Contains(refusal));
        CHECK(migrator::scan_versions_dir(versions, migrator::PermissionCheck::skip).size() == 1);
    }
    SECTION("a target in a sticky directory others can write, as /tmp, is accepted") {
        set_mode(dir / "store", 01777);
        CHECK(migrator::scan_versions_dir(versions).size() == 1);
    }
    SECTION("a directory above the target owned by another user is refused") {
        if (::geteuid() != 0) return;  // only root can give a directory away
        REQUIRE(::chown((dir / "store").c_str(), 65534, 65534) == 0);
        CHECK_THAT(plugin_error_of([&] { migrator::scan_versions_dir(versions); }),
                   Contains("directory " + fs::canonical(dir / "store").string()) &&
                       Contains("is owned by uid 65534, not by root or you (uid 0)"));
    }
    SECTION("a link pointed elsewhere between scan and load is refused") {
        const auto plugins = migrator::scan_versions_dir(versions);
        const fs::path other = copy_plugin(dir, "chain/b2_add_price.so", "store/b2.so");
        fs::remove(link);
        fs::create_symlink(other, link);
        CHECK_THAT(plugin_error_of([&] { migrator::LoadedPlugin plugin(plugins.at(0)); }),
                   Contains("plugin " + link.string() + " changed since it was read; run again"));
    }
}

TEST_CASE("A plugin file that changed between scan and load is not loaded", "[plugins][trust]") {
    TempDir dir;
    const fs::path a1 = copy_plugin(dir, "chain/a1_create_item.so", "a1_create_item.so");
    const auto plugins = migrator::scan_versions_dir(dir.path());
    REQUIRE(plugins.size() == 1);
    const migrator::PluginFile& scanned = plugins[0];
    const auto load_error = [&](const migrator::PluginFile& file) {
        return plugin_error_of([&] { migrator::LoadedPlugin plugin(file); });
    };
    const std::string changed = "plugin " + a1.string() + " changed since it was read; run again";

    SECTION("unchanged, it loads") {
        const migrator::LoadedPlugin plugin(scanned);
        CHECK(plugin.entry_metadata() == metadata_of(scanned));
    }
    SECTION("another plugin renamed over it") {
        copy_plugin(dir, "chain/b2_add_price.so", "incoming.tmp");
        fs::rename(dir / "incoming.tmp", a1);
        CHECK_THAT(load_error(scanned), Contains(changed));
    }
    SECTION("a copy of the same plugin renamed over it (the same bytes, another file)") {
        copy_plugin(dir, "chain/a1_create_item.so", "incoming.tmp");
        fs::rename(dir / "incoming.tmp", a1);
        CHECK_THAT(load_error(scanned), Contains(changed));
    }
    SECTION("rewritten in place") {
        std::ofstream(a1, std::ios::binary | std::ios::app) << '\0';
        CHECK_THAT(load_error(scanned), Contains(changed));
    }
    SECTION("the same bytes with another modification time") {
        fs::last_write_time(a1, fs::last_write_time(a1) + std::chrono::seconds(5));
        CHECK_THAT(load_error(scanned), Contains(changed));
    }
    SECTION("removed") {
        fs::remove(a1);
        CHECK_THAT(load_error(scanned),
                   Contains("plugin " + a1.string() + " was removed since it was read"));
    }
    SECTION("made writable by others (chmod leaves the identity alone)") {
        set_mode(a1, 0646);
        CHECK(identity_of(a1) == scanned.identity);
        CHECK_THAT(load_error(scanned), Contains("is writable by others (mode 0646)"));
        migrator::PluginFile unchecked = scanned;
        unchecked.permission_check = migrator::PermissionCheck::skip;
        const migrator::LoadedPlugin plugin(unchecked);
        CHECK(plugin.entry_metadata() == metadata_of(scanned));
    }
}

TEST_CASE("Plugins loaded one after the other are different plugins", "[plugins]") {
    const auto a1 = migrator::read_plugin_file(fixture("chain/a1_create_item.so"));
    const auto b2 = migrator::read_plugin_file(fixture("chain/b2_add_price.so"));
    const auto c3 = migrator::read_plugin_file(fixture("chain/c3_index_name.so"));
    // Loaded through /proc/self/fd/N, a plugin is known to the loader by that name: were its
    // descriptor closed after loading, the next plugin would get the same N and the loader would
    // hand back the first plugin (which the metadata check would then refuse).
    const migrator::LoadedPlugin first(a1);
    const migrator::LoadedPlugin second(b2);
    const migrator::LoadedPlugin third(c3);
    CHECK(first.entry_metadata() == metadata_of(a1));
    CHECK(second.entry_metadata() == metadata_of(b2));
    CHECK(third.entry_metadata() == metadata_of(c3));
    CHECK_THAT(std::string(second.entry_metadata()), Contains("id=b2b2b2b2b2b2\n"));
    CHECK(first.entry_metadata() != second.entry_metadata());
    CHECK(first.step(migrator::Direction::upgrade) != second.step(migrator::Direction::upgrade));
    CHECK(second.step(migrator::Direction::upgrade) != third.step(migrator::Direction::upgrade));
    // Each keeps its own file open while it is loaded.
    const int fds[] = {descriptor_open_on(a1.path), descriptor_open_on(b2.path),
                       descriptor_open_on(c3.path)};
    CHECK(fds[0] >= 0);
    CHECK(fds[1] >= 0);
    CHECK(fds[2] >= 0);
    CHECK(fds[0] != fds[1]);
    CHECK(fds[1] != fds[2]);
}

TEST_CASE("A plugin is not mistaken for one that stayed resident under its descriptor's name",
          "[plugins]") {
    TempDir dir;
    const auto a1 = migrator::read_plugin_file(
        copy_plugin(dir, "chain/a1_create_item.so", "a1_create_item.so"));
    const auto b2 =
        migrator::read_plugin_file(copy_plugin(dir, "chain/b2_add_price.so", "b2_add_price.so"));
    int used = -1;
    {
        const migrator::LoadedPlugin first(a1);
        used = descriptor_open_on(a1.path);
        REQUIRE(used >= 0);
        // What a plugin with unique symbols does to itself: it stays loaded after its dlclose,
        // under the name /proc/self/fd/<used>, once that descriptor is closed.
        void* pin = ::dlopen(("/proc/self/fd/" + std::to_string(used)).c_str(),
                             RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
        REQUIRE(pin != nullptr);
        ::dlclose(pin);
    }
    REQUIRE(next_descriptor() == used);  // so b2's file is opened as that number again
    const migrator::LoadedPlugin second(b2);
    CHECK(second.entry_metadata() == metadata_of(b2));
    CHECK(descriptor_open_on(b2.path) != used);
}

TEST_CASE("Loading stops short of the open-file limit and says what to do", "[plugins]") {
    const auto plugins = migrator::scan_versions_dir(fixture("long_chain"));
    REQUIRE(plugins.size() == 60);
    // Room for ten plugins beside the descriptors kept for the database.
    const int first_free = next_descriptor();
    const SoftOpenFileLimit limit(static_cast<rlim_t>(first_free + 32 + 10));
    std::vector<std::unique_ptr<migrator::LoadedPlugin>> loaded;
    std::string message;
    try {
        for (const auto& plugin : plugins)
            loaded.push_back(std::make_unique<migrator::LoadedPlugin>(plugin));
    } catch (const PluginError& e) {
        message = e.what();
    }
    REQUIRE_FALSE(message.empty());
    // Fewer when descriptors inherited from the test runner sit in between.
    CHECK(loaded.size() >= 5);
    CHECK(loaded.size() <= 10);
    const std::string count = std::to_string(loaded.size());
    CHECK_THAT(message, Contains("cannot load plugin " + plugins.at(loaded.size()).path) &&
                            Contains(count + " plugins are loaded already") &&
                            Contains("files open") && Contains("ulimit -Hn") &&
                            Contains("upgrade +" + count));
    // Unloading gives the descriptors back.
    loaded.clear();
    CHECK(next_descriptor() == first_free);
}

TEST_CASE("The soft open-file limit is raised to the hard limit", "[plugins]") {
    rlimit original{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &original) == 0);
    REQUIRE((original.rlim_max == RLIM_INFINITY || original.rlim_max > 64));
    const SoftOpenFileLimit lowered(64);
    const std::uint64_t now = migrator::raise_open_file_limit();
    rlimit raised{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &raised) == 0);
    CHECK(raised.rlim_max == original.rlim_max);
    if (original.rlim_max != RLIM_INFINITY) CHECK(raised.rlim_cur == original.rlim_max);
    CHECK(raised.rlim_cur > 64);
    CHECK(now == raised.rlim_cur);
}
