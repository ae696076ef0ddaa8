// The least a PostgreSQL client can do for `migrator current`: load libpq, connect (TCP and
// password authentication), read the version rows, disconnect. bench/run times it beside
// migrator to show what no PostgreSQL command can go below on this machine.
#include <libpq-fe.h>

#include <cstdio>

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: migrator_bench_pq_connect URL QUERY\n");
        return 2;
    }
    PGconn* connection = PQconnectdb(argv[1]);
    if (PQstatus(connection) != CONNECTION_OK) {
        std::fprintf(stderr, "%s", PQerrorMessage(connection));
        PQfinish(connection);
        return 1;
    }
    PGresult* result = PQexec(connection, argv[2]);
    const bool ok = PQresultStatus(result) == PGRES_TUPLES_OK;
    if (!ok) std::fprintf(stderr, "%s", PQerrorMessage(connection));
    PQclear(result);
    PQfinish(connection);
    return ok ? 0 : 1;
}
