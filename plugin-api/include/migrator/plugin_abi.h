/* migrator plugin ABI: the only contract between the host program and a revision plugin. */
#ifndef MIGRATOR_PLUGIN_ABI_H
#define MIGRATOR_PLUGIN_ABI_H

/*
 * Pure C, no third-party header.
 *
 * Compatibility policy. A plugin is a historical artefact: a host loads, upgrades and downgrades
 * with every plugin built against any earlier version of this header, for as long as it is
 * released. The host accepts every ABI version from 1 to its own MIGRATOR_ABI_VERSION and refuses,
 * naming both versions, a plugin built for a newer one. Structs only ever grow at the end: no
 * field is removed, reordered or retyped, and each group of fields is marked with the ABI version
 * that added it. Each struct carries its size, and a reader touches a field only where that size
 * shows the other side has it (MIGRATOR_HOST_HAS). Metadata keys are only added; unknown keys are
 * ignored. The frozen copy of the version-1 header in tests/fixtures/abi_v1/ is built into a
 * plugin that every test run loads, so a change that breaks an old plugin fails the tests.
 *
 * A plugin file carries two things:
 *   1. a read-only ELF section named MIGRATOR_METADATA_SECTION holding the metadata text
 *      (see below); the host reads it from the file without loading the plugin;
 *   2. one exported function, MIGRATOR_ENTRY_SYMBOL, returning a migrator_plugin whose metadata
 *      points at that section (which also keeps the section in a plugin linked with
 *      --gc-sections, as migrator_add_revision links them).
 *
 * Metadata text: NUL-terminated UTF-8, one "key=value" per line, first line
 * MIGRATOR_METADATA_MAGIC.
 *   abi=2                     ABI version the plugin was built for (required)
 *   api=0.2.0                 plugin-api version of the headers it was built with (ABI 2)
 *   platform=x86_64-elf64-le  machine, ELF class and byte order it was built for (ABI 2); the
 *                             host refuses a plugin whose platform or ELF header is not its own
 *   id=ae1027a6acf2           revision id, 1-32 characters of [0-9A-Za-z_] (required)
 *   down=1975ea83b712         parent revision ids separated by ',', empty for a base (required)
 *   labels=billing            branch labels separated by ',' (optional)
 *   depends_on=5a1b2c3d4e5f   revisions to apply first that are not parents, ',' separated
 *   message=add email         one line (required, may be empty)
 *   created=2026-11-25 15:48:00
 *   sha256=<64 hex digits>    SHA-256 of the revision's source file, embedded by the build
 *   transactional=0           the revision runs outside a transaction (default 1)
 * Unknown keys are ignored, so later versions can add keys without breaking older hosts.
 */

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ABI versions: 1 (migrator 0.1), 2 (migrator 0.2: operations as data, row errors, platform). */
#define MIGRATOR_ABI_VERSION 2
/* Version of the plugin-api headers, recorded in every plugin's metadata (api=). */
#define MIGRATOR_PLUGIN_API_VERSION "0.2.0"
#define MIGRATOR_METADATA_SECTION "migrator_meta"
#define MIGRATOR_METADATA_MAGIC "migrator-revision"
#define MIGRATOR_ENTRY_SYMBOL "migrator_plugin_entry"

/*
 * The integrity seal. After linking (and after any strip), the build appends to every plugin file
 * the line "\n" MIGRATOR_SEAL_MAGIC "<64 lowercase hexadecimal digits>\n": the SHA-256 of every
 * byte of the file before that line (plugin-api/cmake/seal_plugin.cmake writes it). The host checks
 * it on the file it is about to load and refuses a plugin whose seal is missing or does not match.
 * The dynamic loader ignores bytes past the ELF contents, so the seal costs the plugin nothing.
 */
#define MIGRATOR_SEAL_MAGIC "migrator-seal-v1 sha256:"

/* Status returned by every function that crosses the boundary. */
#define MIGRATOR_OK 0
#define MIGRATOR_ERROR 1

/* Log levels for migrator_host.log. */
#define MIGRATOR_LOG_INFO 0
#define MIGRATOR_LOG_WARNING 1

/*
 * The platform a plugin is built for, "<machine>-<ELF class>-<byte order>", from the compiler's
 * own predefined macros; the host compares it (and the file's ELF header) with its own.
 */
#if defined(__x86_64__)
#define MIGRATOR_PLATFORM_MACHINE "x86_64"
#elif defined(__aarch64__)
#define MIGRATOR_PLATFORM_MACHINE "aarch64"
#elif defined(__i386__)
#define MIGRATOR_PLATFORM_MACHINE "i386"
#elif defined(__arm__)
#define MIGRATOR_PLATFORM_MACHINE "arm"
#elif defined(__riscv) && defined(__LP64__)
#define MIGRATOR_PLATFORM_MACHINE "riscv64"
#elif defined(__powerpc64__)
#define MIGRATOR_PLATFORM_MACHINE "ppc64"
#elif defined(__s390x__)
#define MIGRATOR_PLATFORM_MACHINE "s390x"
#else
#define MIGRATOR_PLATFORM_MACHINE "unknown"
#endif
#if defined(__LP64__) || defined(_LP64)
#define MIGRATOR_PLATFORM_CLASS "elf64"
#else
#define MIGRATOR_PLATFORM_CLASS "elf32"
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define MIGRATOR_PLATFORM_BYTE_ORDER "be"
#else
#define MIGRATOR_PLATFORM_BYTE_ORDER "le"
#endif
#define MIGRATOR_PLATFORM \
    MIGRATOR_PLATFORM_MACHINE "-" MIGRATOR_PLATFORM_CLASS "-" MIGRATOR_PLATFORM_BYTE_ORDER

/*
 * What a row callback returns: NEXT receives the next row; STOP stops early, and the query still
 * returns MIGRATOR_OK; FAILED (ABI 2) fails the query, which returns MIGRATOR_ERROR. For a plugin
 * built for ABI 1, any non-zero value means STOP.
 */
#define MIGRATOR_ROW_NEXT 0
#define MIGRATOR_ROW_STOP 1
#define MIGRATOR_ROW_FAILED 2

/*
 * Called once per result row. values[i] is NULL for an SQL NULL; every value is text.
 * Returns one of MIGRATOR_ROW_*.
 */
typedef int (*migrator_row_fn)(void* user, int column_count, const char* const* values,
                               const char* const* column_names);

/* What the host hands to upgrade/downgrade. Owned by the host; valid only during the call. */
typedef struct migrator_host {
    uint32_t abi_version; /* MIGRATOR_ABI_VERSION of the host */
    uint32_t struct_size; /* sizeof(migrator_host) as the host knows it */
    void* session;        /* opaque; pass back to every function below */
    const char* dialect;  /* "sqlite" or "postgresql" */
    int offline;          /* non-zero when the host only prints SQL (--sql) */
    /* Runs one or more SQL statements. MIGRATOR_OK or MIGRATOR_ERROR (see last_error). */
    int (*execute)(void* session, const char* sql);
    /* Runs one statement and calls on_row for each row. MIGRATOR_OK or MIGRATOR_ERROR. */
    int (*query)(void* session, const char* sql, migrator_row_fn on_row, void* user);
    /* Text of the last error of execute/query; valid until the next call. Never NULL. */
    const char* (*last_error)(void* session);
    /* Writes one line to the host's output, indented under the running step. */
    void (*log)(void* session, int level, const char* message);

    /* ---- ABI 2 ---- */
    /*
     * Runs one portable operation (create_table, add_column, ...) described as data, in the
     * encoding of plugin-api/operation_encoding.md: the host renders it for the dialect (and
     * rebuilds a SQLite table where it must). MIGRATOR_OK or MIGRATOR_ERROR (see last_error).
     */
    int (*run_operation)(void* session, const void* operation, size_t operation_size);

    /* ---- ABI 2, added after migrator 0.2.0 (read it only where MIGRATOR_HOST_HAS) ---- */
    /*
     * The value the command line gave as `-x key=value` (Alembic's -x), NUL-terminated, valid
     * until the step returns; NULL when `key` was not given.
     */
    const char* (*argument)(void* session, const char* key);
} migrator_host;

/* True when the host that handed over `host` has the named field (it is ABI 2 or later for a
   field added in ABI 2): read a field added after version 1 only where this holds. */
#define MIGRATOR_HOST_HAS(host, field) \
    ((host)->struct_size >= offsetof(migrator_host, field) + sizeof((host)->field))

/*
 * upgrade/downgrade: return MIGRATOR_OK, or MIGRATOR_ERROR with a NUL-terminated message written
 * into error (at most error_size bytes including the NUL). Must not throw or longjmp.
 */
typedef int (*migrator_step_fn)(const migrator_host* host, char* error, size_t error_size);

/* Returned by the entry point. Static storage in the plugin; the host never frees it. */
typedef struct migrator_plugin {
    uint32_t abi_version; /* MIGRATOR_ABI_VERSION the plugin was built for */
    uint32_t struct_size; /* sizeof(migrator_plugin) as the plugin knows it */
    const char* metadata; /* the same text as the metadata section */
    size_t metadata_size; /* strlen(metadata) */
    migrator_step_fn upgrade;
    migrator_step_fn downgrade;
} migrator_plugin;

typedef const migrator_plugin* (*migrator_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* MIGRATOR_PLUGIN_ABI_H */
