package dev.edgegateway.sandbox;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.neo4j.configuration.Config;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.dbms.DatabaseStateService;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilderImplementation;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.kernel.api.procedure.GlobalProcedures;
import org.neo4j.kernel.database.NamedDatabaseId;
import org.neo4j.kernel.internal.GraphDatabaseAPI;
import org.neo4j.logging.Level;
import org.neo4j.logging.log4j.Log4jLogProvider;

/**
 * One embedded Neo4j Community DBMS (Bolt + HTTP with the Query API) with a fixed home directory
 * and fixed ports, so it can be stopped and started again on the same data and ports.
 */
final class Instance {
    final String name;
    final int boltPort;
    final int httpPort;
    final Path home;
    private final String password;
    private final Map<String, String> extraSettings;
    private final List<String> procedureClasses;
    private final PrintStream log;
    private volatile boolean readOnly;

    private DatabaseManagementService dbms;
    private Log4jLogProvider userLog;

    Instance(String name, int boltPort, int httpPort, Path home, String password, boolean readOnly,
             Map<String, String> extraSettings, List<String> procedureClasses, PrintStream log) {
        this.name = name;
        this.boltPort = boltPort;
        this.httpPort = httpPort;
        this.home = home;
        this.password = password;
        this.readOnly = readOnly;
        this.extraSettings = extraSettings;
        this.procedureClasses = List.copyOf(procedureClasses);
        this.log = log;
    }

    /** The settings of this instance, as raw neo4j.conf style strings. */
    Map<String, String> settings() {
        Map<String, String> s = new LinkedHashMap<>();
        // Connectors: loopback only, Bolt (which also speaks WebSocket on the same port) and plain HTTP.
        s.put("server.default_listen_address", "127.0.0.1");
        s.put("server.default_advertised_address", "127.0.0.1");
        s.put("server.bolt.enabled", "true");
        s.put("server.bolt.listen_address", "127.0.0.1:" + boltPort);
        s.put("server.bolt.advertised_address", "127.0.0.1:" + boltPort);
        s.put("server.bolt.tls_level", "DISABLED");
        s.put("server.http.enabled", "true");
        s.put("server.http.listen_address", "127.0.0.1:" + httpPort);
        s.put("server.http.advertised_address", "127.0.0.1:" + httpPort);
        s.put("server.https.enabled", "false");
        // The Query API (POST /db/{db}/query/v2) is an HTTP module. BROWSER is left out: the
        // browser assets are not on the classpath.
        s.put("server.http_enabled_modules", "TRANSACTIONAL_ENDPOINTS,UNMANAGED_EXTENSIONS,QUERY_API_ENDPOINTS");
        // Auth on; the neo4j user's password is set right after start (see start()).
        s.put("dbms.security.auth_enabled", "true");
        s.put("dbms.security.auth_minimum_password_length", "1");
        // No lock-out after wrong passwords: tests deliberately send bad credentials.
        s.put("dbms.security.auth_max_failed_attempts", "0");
        // Small footprint: several instances share one JVM.
        s.put("server.memory.pagecache.size", "24m");
        s.put("server.memory.pagecache.scan.prefetchers", "1");
        s.put("dbms.memory.transaction.total.max", "128m");
        s.put("db.memory.transaction.max", "64m");
        s.put("db.tx_state.memory_allocation", "ON_HEAP");
        // Transaction logs are preallocated in 256 MiB files by default: ~0.5 GiB of disk per instance.
        s.put("db.tx_log.preallocate", "false");
        s.put("db.tx_log.rotation.size", "16m");
        s.put("server.memory.query_cache.per_db_cache_num_entries", "100");
        s.put("server.bolt.thread_pool_min_size", "1");
        s.put("server.bolt.thread_pool_max_size", "50");
        s.put("server.threads.worker_count", "4");
        s.put("internal.dbms.bolt.netty_server_shutdown_quiet_period", "0");
        s.put("internal.dbms.bolt.netty_server_shutdown_timeout", "5s");
        // No phoning home, no query log noise.
        s.put("dbms.usage_report.enabled", "false");
        s.put("internal.dbms.usage_report.udc_network_enabled", "false");
        s.put("db.logs.query.enabled", "OFF");
        s.put("internal.server.logs.user.duplication_to_debug", "false");
        // Always start writable: a brand-new database must write its token indexes on first start
        // and fails to start when read-only. readOnly is applied dynamically right after start.
        s.put("server.databases.default_to_read_only", "false");
        s.putAll(extraSettings);
        return s;
    }

    synchronized boolean isRunning() {
        return dbms != null;
    }

    synchronized void start() throws Exception {
        if (dbms != null) {
            throw new IllegalStateException("instance '" + name + "' is already running");
        }
        Files.createDirectories(home);
        userLog = new Log4jLogProvider(new PrefixingStream(log, "[" + name + "] "), Level.INFO);
        DatabaseManagementService m;
        try {
            m = new DatabaseManagementServiceBuilderImplementation(home)
                    .setConfigRaw(settings())
                    .setUserLogProvider(userLog)
                    .build();
        } catch (Exception | Error e) {
            closeLog();
            throw e;
        }
        try {
            setPassword(m);
            // build() returns after the default database was started (or failed to start).
            String dbName = defaultDatabase(m);
            GraphDatabaseService db = m.database(dbName);
            if (!db.isAvailable(TimeUnit.SECONDS.toMillis(10))) {
                String cause = failureOf(m, dbName);
                throw new IllegalStateException("database '" + dbName + "' is not available"
                        + (cause == null ? "" : ": " + cause));
            }
            registerProcedures(m);
            if (readOnly) {
                config(m).setDynamic(GraphDatabaseSettings.read_only_database_default, true, "sandbox");
            }
        } catch (Exception | Error e) {
            try {
                m.shutdown();
            } finally {
                closeLog();
            }
            throw e;
        }
        dbms = m;
    }

    synchronized void stop() {
        if (dbms == null) {
            return;
        }
        try {
            dbms.shutdown();
        } finally {
            dbms = null;
            closeLog();
        }
    }

    /** Makes the default database(s) of this instance read-only or writable, at runtime if running. */
    synchronized void setReadOnly(boolean value) {
        readOnly = value;
        if (dbms != null) {
            config(dbms).setDynamic(GraphDatabaseSettings.read_only_database_default, value, "sandbox");
        }
    }

    boolean readOnly() {
        return readOnly;
    }

    /**
     * Registers the procedures of the classes this instance was given (e.g. "apoc.util.Utils" for
     * apoc.util.sleep). Embedded Neo4j does not scan the classpath for procedures, so nothing else
     * on the classpath becomes callable.
     */
    private void registerProcedures(DatabaseManagementService m) throws Exception {
        if (procedureClasses.isEmpty()) {
            return;
        }
        GlobalProcedures procedures = ((GraphDatabaseAPI) m.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME))
                .getDependencyResolver().resolveDependency(GlobalProcedures.class);
        for (String className : procedureClasses) {
            procedures.registerProcedure(Class.forName(className));
        }
    }

    private static Config config(DatabaseManagementService m) {
        return ((GraphDatabaseAPI) m.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME))
                .getDependencyResolver().resolveDependency(Config.class);
    }

    private static String defaultDatabase(DatabaseManagementService m) {
        return config(m).get(GraphDatabaseSettings.initial_default_database);
    }

    private static String failureOf(DatabaseManagementService m, String dbName) {
        try {
            DatabaseStateService states = ((GraphDatabaseAPI) m.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME))
                    .getDependencyResolver().resolveDependency(DatabaseStateService.class);
            for (NamedDatabaseId id : states.stateOfAllDatabases().keySet()) {
                if (id.name().equals(dbName)) {
                    Throwable t = states.causeOfFailure(id).orElse(null);
                    while (t != null && t.getCause() != null && t.getCause() != t) {
                        t = t.getCause();
                    }
                    return t == null ? null : t.toString();
                }
            }
        } catch (RuntimeException ignored) {
            // diagnostics only
        }
        return null;
    }

    private void setPassword(DatabaseManagementService m) {
        GraphDatabaseService system = m.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME);
        try {
            system.executeTransactionally("ALTER USER neo4j SET PASSWORD $pw CHANGE NOT REQUIRED", Map.of("pw", password));
        } catch (RuntimeException e) {
            // On a restart over existing data the password is already set: Neo4j refuses to
            // "change" a password to the same value. Anything else is a real failure.
            String msg = String.valueOf(e.getMessage()).toLowerCase();
            if (!(msg.contains("old password") && msg.contains("same"))) {
                throw e;
            }
        }
    }

    private void closeLog() {
        if (userLog != null) {
            try {
                userLog.close();
            } catch (Exception ignored) {
                // best effort
            }
            userLog = null;
        }
    }
}
