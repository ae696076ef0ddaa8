/* migrator plugin ABI: the only contract between the host program and a revision plugin. */
#ifndef MIGRATOR_PLUGIN_ABI_H
#define MIGRATOR_PLUGIN_ABI_H

/*
 * Pure C, no third-party header. Structs only ever grow at the end; each carries its own size so
 * that either side can tell which fields the other one knows.
 *
 * A plugin file carries two things:
 *   1. a read-only ELF section named MIGRATOR_METADATA_SECTION holding the metadata text
 *      (see below); the host reads it from the file without loading the plugin;
 *   2. one exported function, MIGRATOR_ENTRY_SYMBOL, returning a migrator_plugin.
 *
 * Metadata text: NUL-terminated UTF-8, one "key=value" per line, first line
 * MIGRATOR_METADATA_MAGIC. abi=1                     ABI version the plugin was built for
 * (required) id=ae1027a6acf2           revision id, 1-32 characters of [0-9A-Za-z_] (required)
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

#define MIGRATOR_ABI_VERSION 1
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
 * Called once per result row. values[i] is NULL for an SQL NULL; every value is text.
 * Return 0 to receive the next row, non-zero to stop early (query still returns MIGRATOR_OK).
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
} migrator_host;

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
