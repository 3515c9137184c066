package dev.edgegateway.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.regex.Pattern;

/**
 * Starts N named Neo4j Community instances in one JVM and controls them over stdin/stdout.
 *
 * <p>Usage: {@code Launcher '<json spec>'} or {@code Launcher --spec spec.json}. Exactly one
 * JSON line (the ready line) is written to stdout once all instances are up; after that every
 * JSON command line read from stdin is answered by exactly one JSON line. Everything else
 * (Neo4j logs, diagnostics) goes to stderr or to files under each instance's home.
 */
public final class Launcher {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]{1,64}");

    /** The real stdout; System.out is pointed at stderr so nothing else can write here. */
    private static PrintStream protocol;

    private final Map<String, Instance> instances = new LinkedHashMap<>();
    private Path dataDir;
    private boolean deleteDataDir;
    private boolean shutDown;

    public static void main(String[] args) {
        protocol = new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);
        System.setOut(System.err);
        int code;
        try {
            code = new Launcher().run(args);
        } catch (Throwable t) {
            t.printStackTrace(System.err);
            code = 1;
        }
        System.exit(code);
    }

    private int run(String[] args) throws Exception {
        JsonNode spec;
        try {
            spec = readSpec(args);
            configure(spec);
        } catch (Exception e) {
            e.printStackTrace(System.err);
            if (deleteDataDir && dataDir != null) {
                deleteRecursively(dataDir);
            }
            send(readyFailure("invalid spec: " + e.getMessage()));
            return 2;
        }
        installSignalHandlers();
        System.err.println("[sandbox] data dir " + dataDir + (deleteDataDir ? " (temporary, deleted on exit)" : ""));

        // stdin is read from the start, so EOF (parent gone) also aborts a start in progress.
        // Commands sent before the ready line are queued and answered after it.
        Thread reader = new Thread(this::readStdin, "sandbox-stdin");
        reader.setDaemon(true);
        reader.start();

        String failure = startAll();
        if (isShutDown()) {
            return 0; // stopped by a signal or stdin EOF while starting
        }
        if (failure != null) {
            send(readyFailure(failure));
            shutdownAll();
            return 1;
        }
        ObjectNode ready = JSON.createObjectNode();
        ready.put("ready", true);
        ready.put("startMs", ManagementFactory.getRuntimeMXBean().getUptime());
        ObjectNode list = ready.putObject("instances");
        for (Instance i : instances.values()) {
            list.set(i.name, describe(i));
        }
        if (!deleteDataDir) {
            ready.put("dataDir", dataDir.toString());
        }
        send(ready);

        controlLoop();
        shutdownAll();
        return 0;
    }

    // ---------------------------------------------------------------- spec

    private static JsonNode readSpec(String[] args) throws IOException {
        if (args.length == 0) {
            throw new IllegalArgumentException("usage: Launcher '<json spec>' | --spec <file.json>");
        }
        String text;
        if ("--spec".equals(args[0])) {
            if (args.length < 2) {
                throw new IllegalArgumentException("--spec needs a file name");
            }
            text = Files.readString(Path.of(args[1]));
        } else if (args[0].trim().startsWith("{")) {
            text = args[0];
        } else {
            text = Files.readString(Path.of(args[0]));
        }
        JsonNode spec = JSON.readTree(text);
        if (spec == null || !spec.isObject()) {
            throw new IllegalArgumentException("spec must be a JSON object");
        }
        return spec;
    }

    private void configure(JsonNode spec) throws IOException {
        String password = spec.path("password").asText("sandbox-pass");
        if (password.isEmpty()) {
            throw new IllegalArgumentException("password must not be empty");
        }
        if (spec.hasNonNull("dataDir")) {
            dataDir = Path.of(spec.get("dataDir").asText()).toAbsolutePath();
            Files.createDirectories(dataDir);
            deleteDataDir = spec.path("deleteDataDir").asBoolean(false);
        } else {
            dataDir = Files.createTempDirectory("neo4j-sandbox-");
            deleteDataDir = true;
        }
        Map<String, String> globalSettings = settingsOf(spec.path("settings"));

        JsonNode list = spec.path("instances");
        if (!list.isArray() || list.isEmpty()) {
            throw new IllegalArgumentException("spec.instances must be a non-empty array");
        }
        List<ServerSocket> reserved = new ArrayList<>();
        try {
            for (JsonNode n : list) {
                String name = n.path("name").asText("");
                if (!NAME.matcher(name).matches()) {
                    throw new IllegalArgumentException("bad instance name '" + name + "' (use [A-Za-z0-9_.-])");
                }
                if (instances.containsKey(name)) {
                    throw new IllegalArgumentException("duplicate instance name '" + name + "'");
                }
                int bolt = port(n.path("boltPort").asInt(0), reserved);
                int http = port(n.path("httpPort").asInt(0), reserved);
                Map<String, String> settings = new LinkedHashMap<>(globalSettings);
                settings.putAll(settingsOf(n.path("settings")));
                List<String> procedureClasses = new ArrayList<>();
                for (JsonNode c : n.path("procedureClasses")) {
                    procedureClasses.add(c.asText());
                }
                instances.put(name, new Instance(name, bolt, http, dataDir.resolve(name), password,
                        n.path("readOnly").asBoolean(false), settings, procedureClasses, System.err));
            }
        } finally {
            for (ServerSocket s : reserved) {
                s.close();
            }
        }
    }

    private static Map<String, String> settingsOf(JsonNode node) {
        Map<String, String> out = new LinkedHashMap<>();
        if (node.isObject()) {
            Iterator<Map.Entry<String, JsonNode>> it = node.fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> e = it.next();
                out.put(e.getKey(), e.getValue().asText());
            }
        }
        return out;
    }

    /** A fixed port as given, or a free loopback port kept bound until all ports are chosen. */
    private static int port(int requested, List<ServerSocket> reserved) throws IOException {
        if (requested > 0) {
            return requested;
        }
        ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"));
        reserved.add(s);
        return s.getLocalPort();
    }

    // ---------------------------------------------------------------- lifecycle

    /** Starts all instances in parallel; returns null on success or an error message. */
    private String startAll() throws InterruptedException {
        ExecutorService pool = Executors.newFixedThreadPool(instances.size(), r -> {
            Thread t = new Thread(r, "sandbox-start");
            t.setDaemon(true);
            return t;
        });
        Map<String, Future<?>> futures = new LinkedHashMap<>();
        for (Instance i : instances.values()) {
            futures.put(i.name, pool.submit(() -> {
                i.start();
                return null;
            }));
        }
        List<String> errors = new ArrayList<>();
        for (Map.Entry<String, Future<?>> f : futures.entrySet()) {
            try {
                f.getValue().get();
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                cause.printStackTrace(System.err);
                errors.add(f.getKey() + ": " + rootMessage(cause));
            }
        }
        pool.shutdown();
        return errors.isEmpty() ? null : String.join("; ", errors);
    }

    private synchronized void shutdownAll() {
        if (shutDown) {
            return;
        }
        shutDown = true;
        List<Thread> threads = new ArrayList<>();
        for (Instance i : instances.values()) {
            Thread t = new Thread(() -> {
                try {
                    i.stop();
                } catch (Throwable e) {
                    System.err.println("[sandbox] stopping " + i.name + " failed: " + e);
                }
            }, "sandbox-stop-" + i.name);
            t.start();
            threads.add(t);
        }
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (deleteDataDir && dataDir != null) {
            deleteRecursively(dataDir);
        }
        System.err.flush();
    }

    private synchronized boolean isShutDown() {
        return shutDown;
    }

    private void installSignalHandlers() {
        // SIGTERM/SIGINT: stop everything and exit 0. The shutdown hook covers other exits
        // (SIGHUP, System.exit from elsewhere); its exit status is the JVM's default.
        sun.misc.SignalHandler handler = sig -> {
            System.err.println("[sandbox] SIG" + sig.getName() + " received, stopping");
            shutdownAll();
            System.exit(0);
        };
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(name), handler);
            } catch (IllegalArgumentException e) {
                System.err.println("[sandbox] cannot handle SIG" + name + ": " + e.getMessage());
            }
        }
        Runtime.getRuntime().addShutdownHook(new Thread(this::shutdownAll, "sandbox-shutdown"));
    }

    private static void deleteRecursively(Path root) {
        try {
            if (!Files.exists(root)) {
                return;
            }
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                    Files.deleteIfExists(dir);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            System.err.println("[sandbox] could not delete " + root + ": " + e);
        }
    }

    // ---------------------------------------------------------------- control protocol

    private static final String EOF = new String("<eof>");
    private final BlockingQueue<String> commands = new LinkedBlockingQueue<>();
    private volatile boolean ready;

    private void readStdin() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                if (!line.isBlank()) {
                    commands.add(line);
                }
            }
        } catch (IOException e) {
            System.err.println("[sandbox] reading stdin failed: " + e);
        }
        commands.add(EOF);
        if (!ready) {
            System.err.println("[sandbox] stdin closed before ready, stopping");
            shutdownAll();
            System.exit(0);
        }
    }

    private void controlLoop() throws InterruptedException {
        ready = true;
        for (;;) {
            String line = commands.take();
            if (line == EOF) {
                break;
            }
            send(handle(line));
        }
        System.err.println("[sandbox] stdin closed, stopping");
    }

    private ObjectNode handle(String line) {
        String cmd = null;
        String name = null;
        try {
            JsonNode req = JSON.readTree(line);
            if (req == null || !req.isObject()) {
                return error(null, null, "command must be a JSON object");
            }
            cmd = req.path("cmd").asText(null);
            name = req.path("name").asText(null);
            if ("ping".equals(cmd)) {
                ObjectNode ok = ok(cmd, null);
                ObjectNode list = ok.putObject("instances");
                for (Instance i : instances.values()) {
                    ObjectNode d = describe(i);
                    d.put("running", i.isRunning());
                    d.put("readOnly", i.readOnly());
                    list.set(i.name, d);
                }
                return ok;
            }
            if (cmd == null) {
                return error(null, name, "missing cmd");
            }
            if (isShutDown()) {
                return error(cmd, name, "sandbox is shutting down");
            }
            if (!List.of("stop", "start", "readOnly").contains(cmd)) {
                return error(cmd, name, "unknown cmd '" + cmd + "'");
            }
            Instance inst = name == null ? null : instances.get(name);
            if (inst == null) {
                return error(cmd, name, "unknown instance '" + name + "'");
            }
            switch (cmd) {
                case "stop" -> inst.stop();
                case "start" -> {
                    if (inst.isRunning()) {
                        return error(cmd, name, "instance '" + name + "' is already running");
                    }
                    inst.start();
                }
                case "readOnly" -> {
                    JsonNode v = req.get("value");
                    if (v == null || !v.isBoolean()) {
                        return error(cmd, name, "readOnly needs a boolean 'value'");
                    }
                    inst.setReadOnly(v.booleanValue());
                }
                default -> throw new IllegalStateException();
            }
            ObjectNode ok = ok(cmd, name);
            if ("readOnly".equals(cmd)) {
                ok.put("value", inst.readOnly());
            }
            return ok;
        } catch (Exception e) {
            e.printStackTrace(System.err);
            return error(cmd, name, rootMessage(e));
        }
    }

    private static ObjectNode describe(Instance i) {
        ObjectNode d = JSON.createObjectNode();
        d.put("bolt", i.boltPort);
        d.put("http", i.httpPort);
        d.put("boltUri", "bolt://127.0.0.1:" + i.boltPort);
        d.put("httpUri", "http://127.0.0.1:" + i.httpPort);
        return d;
    }

    private static ObjectNode ok(String cmd, String name) {
        ObjectNode o = JSON.createObjectNode();
        o.put("ok", true);
        o.put("cmd", cmd);
        if (name != null) {
            o.put("name", name);
        }
        return o;
    }

    private static ObjectNode error(String cmd, String name, String message) {
        ObjectNode o = JSON.createObjectNode();
        o.put("ok", false);
        if (cmd != null) {
            o.put("cmd", cmd);
        }
        if (name != null) {
            o.put("name", name);
        }
        o.put("error", message);
        return o;
    }

    private static ObjectNode readyFailure(String message) {
        ObjectNode o = JSON.createObjectNode();
        o.put("ready", false);
        o.put("error", message);
        return o;
    }

    private static String rootMessage(Throwable t) {
        StringBuilder sb = new StringBuilder(String.valueOf(t.getMessage()));
        Throwable c = t.getCause();
        int depth = 0;
        while (c != null && c != t && depth++ < 5) {
            if (c.getMessage() != null && !sb.toString().contains(c.getMessage())) {
                sb.append(" <- ").append(c.getMessage());
            }
            t = c;
            c = c.getCause();
        }
        return sb.toString();
    }

    private static void send(JsonNode node) {
        String text;
        try {
            text = JSON.writeValueAsString(node);
        } catch (IOException e) {
            text = "{\"ok\":false,\"error\":\"cannot serialise response\"}";
        }
        synchronized (Launcher.class) {
            protocol.print(text);
            protocol.print('\n');
            protocol.flush();
        }
    }
}
