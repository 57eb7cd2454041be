package io.dr4j.examples.cli;

import io.dr4j.backup.BackupOptions;
import io.dr4j.backup.ForgetResult;
import io.dr4j.backup.InitOptions;
import io.dr4j.backup.PruneResult;
import io.dr4j.backup.Repository;
import io.dr4j.backup.RepositoryOptions;
import io.dr4j.backup.RestoreOptions;
import io.dr4j.backup.RestoreResult;
import io.dr4j.backup.RetentionPolicy;
import io.dr4j.backup.Snapshot;
import io.dr4j.backup.SnapshotDiff;
import io.dr4j.backup.SnapshotFilter;
import io.dr4j.backup.SnapshotId;
import io.dr4j.backup.VerifyLevel;
import io.dr4j.backup.VerifyReport;
import io.dr4j.drill.DrillReport;
import io.dr4j.drill.DrillRunner;
import io.dr4j.drill.RecoveryObjectives;
import io.dr4j.replication.ConsistencyCheck;
import io.dr4j.replication.MemberStatus;
import io.dr4j.replication.RepairReport;
import io.dr4j.replication.ReplicatedBlobStore;
import io.dr4j.replication.ReplicationStatus;
import io.dr4j.storage.BlobStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The subcommands of {@code dr4j}. */
final class Commands {

    private Commands() {
    }

    @Command(name = "init", description = "Create a new, empty repository.")
    static final class Init extends RepoCommand {
        @Option(names = "--generate-key", description = "Write a new random key to the --key-file path first (refused if the file exists).")
        boolean generateKey;

        @Option(names = "--no-tensor-codec", description = "Store BF16/F16/F32 safetensors chunks as plain zstd-or-raw "
                + "chunks instead of with the lossless tensor codec (on by default; fixed for the repository's life).")
        boolean noTensorCodec;

        @Option(names = "--pack-size", paramLabel = "SIZE", description = "Target size of the pack objects chunks are "
                + "stored in, 4MiB to 128MiB (default 16MiB; fixed for the repository's life): larger packs mean fewer objects "
                + "and requests, more memory per backup worker and a coarser prune. A whole number of MiB, KiB or bytes; "
                + "M and MB are refused as ambiguous.")
        String packSize;

        @Override
        public Integer call() throws Exception {
            // checked before a key file or a store directory is created
            InitOptions init = InitOptions.defaults().withTensorCodec(!noTensorCodec);
            if (packSize != null) {
                init = init.withPackSize((int) Units.parseExactBytes("--pack-size", packSize, InitOptions.MIN_PACK_SIZE,
                        InitOptions.MAX_PACK_SIZE));
            }
            if (generateKey) {
                if (key.keyFile == null) {
                    throw new IllegalArgumentException("--generate-key needs --key-file FILE to write the key to");
                }
                writeNewKey(key.keyFile);
            }
            try (BlobStore store = openStore(true); Repository repo = initRepository(store, init)) {
                if (json) {
                    printJson(Map.of("repository", repo.id(), "store", store.name(), "packSize", init.packSize()));
                } else {
                    root.out.println("created repository " + repo.id() + " in " + store.name() + ", packs of "
                            + Units.exact(init.packSize()));
                    if (generateKey) {
                        root.out.println("key written to " + key.keyFile + " - keep a copy somewhere safe: without it "
                                + "the backups cannot be read");
                    }
                }
            }
            return ExitCode.OK;
        }

        private static void writeNewKey(Path file) throws java.io.IOException {
            byte[] k = new byte[32];
            new SecureRandom().nextBytes(k);
            byte[] hex = (HexFormat.of().formatHex(k) + "\n").getBytes(StandardCharsets.US_ASCII);
            try {
                Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            } catch (UnsupportedOperationException e) {
                Files.createFile(file);
            }
            Files.write(file, hex, StandardOpenOption.TRUNCATE_EXISTING);
        }
    }

    @Command(name = "backup", description = "Back up a checkpoint directory (or file), incrementally.")
    static final class Backup extends RepoCommand {
        @Parameters(index = "0", paramLabel = "SOURCE", description = "Directory or file to back up.")
        Path source;

        @Option(names = "--tag", paramLabel = "TAG", description = "Tag to attach (repeatable).")
        List<String> tags = new ArrayList<>();

        @Option(names = "--label", paramLabel = "KEY=VALUE", description = "Label to attach, e.g. model=llama-3-8b (repeatable).")
        Map<String, String> labels = new TreeMap<>();

        @Option(names = "--exclude", paramLabel = "GLOB", description = "Do not back up paths matching GLOB, relative to "
                + "SOURCE, e.g. 'optimizer/**' or '*.tmp' (repeatable; syntax in docs/guide.md).")
        List<String> excludes = new ArrayList<>();

        @Option(names = "--exclude-file", paramLabel = "FILE", description = "Read exclude patterns from FILE, one per "
                + "line; blank lines and lines starting with # are ignored (repeatable).")
        List<Path> excludeFiles = new ArrayList<>();

        @Option(names = "--allow-empty", description = "Store a snapshot even if the excludes leave no file "
                + "(refused by default).")
        boolean allowEmpty;

        @Override
        public Integer call() throws Exception {
            List<String> patterns = ExcludeFiles.patterns(excludes, excludeFiles);
            try (BlobStore store = openStore(false); Repository repo = openRepository(store);
                    ProgressBar bar = progressBar("backup ")) {
                BackupOptions.Builder b = BackupOptions.builder().progress(listener(bar)).allowEmpty(allowEmpty);
                tags.forEach(b::tag);
                labels.forEach(b::label);
                patterns.forEach(b::exclude);
                Snapshot s = repo.backup(source, b.build());
                bar.finish();
                if (json) {
                    printJson(snapshotJson(s));
                } else {
                    root.out.printf("snapshot %s saved: %d files, %s; %s new in %d chunks (%d reused), %s%n", s.id(),
                            s.stats().files(), Units.bytes(s.totalBytes()), Units.bytes(s.stats().newBytesStored()),
                            s.stats().newChunks(), s.stats().reusedChunks(), Units.duration(s.stats().duration()));
                    // per dtype: what the tensor codec (or zstd) made of each kind of bytes read
                    s.stats().byDtype().forEach((dtype, d) -> root.out.printf("  %-5s %s read, %s stored (%.3f of read)%n",
                            dtype, Units.bytes(d.bytesRead()), Units.bytes(d.bytesStored()), d.ratio()));
                }
            }
            return ExitCode.OK;
        }
    }

    @Command(name = "restore", description = "Restore a snapshot into a directory, all or nothing.")
    static final class Restore extends RepoCommand {
        @Parameters(index = "0", paramLabel = "SNAPSHOT", description = "Snapshot id, unique prefix, or 'latest'.")
        String snapshot;

        @Parameters(index = "1", paramLabel = "TARGET", description = "Directory to restore into (must be empty or absent unless --replace).")
        Path target;

        @Option(names = "--replace", description = "Replace a non-empty target (atomically, when complete).")
        boolean replace;

        @Option(names = "--no-delta", description = "Download every chunk even if the target already holds it.")
        boolean noDelta;

        @Option(names = "--durability", paramLabel = "LEVEL", defaultValue = "power-loss",
                description = "power-loss (default): fsync the new tree before swapping it in, so a finished restore survives "
                        + "a power cut; process-crash: no fsync, atomic only against a killed process (faster, for scratch restores).")
        String durability;

        @Option(names = "--tag", paramLabel = "TAG", description = "With 'latest': only snapshots with this tag.")
        List<String> tags = new ArrayList<>();

        @Option(names = "--label", paramLabel = "KEY=VALUE", description = "With 'latest': only snapshots with this label.")
        Map<String, String> labels = new TreeMap<>();

        @Option(names = "--allow-non-portable-paths", description = "Restore names that are unsafe only on Windows (':', CON, "
                + "trailing dots, case collisions...); never honoured on Windows.")
        boolean allowNonPortablePaths;

        @Override
        public Integer call() throws Exception {
            RestoreOptions.Durability level = switch (durability) {
                case "power-loss" -> RestoreOptions.Durability.POWER_LOSS;
                case "process-crash" -> RestoreOptions.Durability.PROCESS_CRASH;
                default -> throw new IllegalArgumentException("--durability must be power-loss or process-crash, not '"
                        + durability + "'");
            };
            try (BlobStore store = openStore(false); Repository repo = openRepository(store);
                    ProgressBar bar = progressBar("restore")) {
                SnapshotId id = resolve(repo, snapshot, filter(tags, labels));
                RestoreResult r = repo.restore(id, target, RestoreOptions.builder().replaceExisting(replace).delta(!noDelta)
                        .durability(level).progress(listener(bar)).allowNonPortablePaths(allowNonPortablePaths).build());
                bar.finish();
                if (json) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("snapshot", r.snapshot().value());
                    m.put("target", r.target().toString());
                    m.put("files", r.files());
                    m.put("bytes", r.bytes());
                    m.put("bytesDownloaded", r.bytesDownloaded());
                    m.put("bytesReused", r.bytesReused());
                    m.put("durationMillis", r.duration().toMillis());
                    m.put("storeReads", r.storeReads());
                    printJson(m);
                } else {
                    root.out.printf("restored snapshot %s to %s: %d files, %s (%s downloaded, %s reused) in %s, %s%n",
                            r.snapshot(), r.target(), r.files(), Units.bytes(r.bytes()), Units.bytes(r.bytesDownloaded()),
                            Units.bytes(r.bytesReused()), Units.duration(r.duration()), Units.rate(r.bytes(), r.duration()));
                }
            }
            return ExitCode.OK;
        }
    }

    @Command(name = "verify", description = "Check snapshots: manifests and chunk presence, or (--data) every byte.")
    static final class Verify extends RepoCommand {
        @Parameters(arity = "0..*", paramLabel = "SNAPSHOT", description = "Snapshots to check (id, prefix or 'latest'); default all.")
        List<String> snapshots = new ArrayList<>();

        @Option(names = "--data", description = "Read, authenticate and hash every chunk (slow; reads the whole repository).")
        boolean data;

        @Option(names = "--subset", paramLabel = "n/t|p%", description = "With --data, read only slice n of t of the packs "
                + "(t runs with n = 1..t read each once) or a random p% of them.")
        String subset;

        @Override
        public Integer call() throws Exception {
            VerifyLevel level = data ? VerifyLevel.DATA : VerifyLevel.METADATA;
            if (subset != null && !data) {
                throw new IllegalArgumentException("--subset selects the packs --data reads; give --data too");
            }
            io.dr4j.backup.PackSubset packs = subset == null ? io.dr4j.backup.PackSubset.ALL : io.dr4j.backup.PackSubset.parse(subset);
            try (BlobStore store = openStore(false); Repository repo = openRepository(store)) {
                List<SnapshotId> ids = snapshots.isEmpty()
                        ? repo.snapshots().stream().map(Snapshot::id).toList()
                        : snapshots.stream().map(s -> resolve(repo, s, SnapshotFilter.ALL)).toList();
                List<Map<String, Object>> results = new ArrayList<>();
                boolean ok = true;
                for (SnapshotId id : ids) {
                    VerifyReport r = repo.verify(id, io.dr4j.backup.VerifyOptions.builder().level(level).subset(packs).build());
                    ok &= r.ok();
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("snapshot", id.value());
                    m.put("level", level.name());
                    m.put("ok", r.ok());
                    m.put("chunksChecked", r.chunksChecked());
                    m.put("bytesChecked", r.bytesChecked());
                    if (data) {
                        m.put("subset", r.subset().toString());
                        m.put("packsRead", r.packsRead());
                        m.put("packsTotal", r.packsTotal());
                        m.put("storedBytesRead", r.storedBytesRead());
                        m.put("storedBytesTotal", r.storedBytesTotal());
                    }
                    m.put("problems", r.problems().stream().map(p -> Map.of("object", p.object(), "reason", p.reason(),
                            "affectedFiles", p.affectedFiles())).toList());
                    results.add(m);
                    if (!json) {
                        root.out.printf("%s %s: %d chunks%s%s%n", id, r.ok() ? "ok" : "DAMAGED", r.chunksChecked(),
                                data ? ", " + Units.bytes(r.bytesChecked()) + " read (" + r.packsRead() + " of " + r.packsTotal()
                                        + " packs, " + Units.bytes(r.storedBytesRead()) + " of " + Units.bytes(r.storedBytesTotal())
                                        + (packs.isAll() ? "" : ", subset " + r.subset()) + ")" : "",
                                r.ok() ? "" : ", " + r.problems().size() + " problems");
                        for (VerifyReport.Problem p : r.problems()) {
                            root.out.println("  " + p.object() + ": " + p.reason() + " (files: " + String.join(", ", p.affectedFiles()) + ")");
                        }
                    }
                }
                if (json) {
                    printJson(Map.of("ok", ok, "snapshots", results));
                } else if (ids.isEmpty()) {
                    root.out.println("no snapshots to verify");
                }
                return ok ? ExitCode.OK : ExitCode.CHECK_FAILED;
            }
        }
    }

    @Command(name = "snapshots", description = "List snapshots, oldest first.")
    static final class Snapshots extends RepoCommand {
        @Option(names = "--tag", paramLabel = "TAG", description = "Only snapshots with this tag (repeatable).")
        List<String> tags = new ArrayList<>();

        @Option(names = "--label", paramLabel = "KEY=VALUE", description = "Only snapshots with this label (repeatable).")
        Map<String, String> labels = new TreeMap<>();

        @Override
        public Integer call() throws Exception {
            try (BlobStore store = openStore(false); Repository repo = openRepository(store)) {
                List<Snapshot> list = repo.snapshots(filter(tags, labels));
                if (json) {
                    printJson(list.stream().map(RepoCommand::snapshotJson).toList());
                } else {
                    root.out.printf("%-10s  %-20s  %-12s  %10s  %s%n", "ID", "TIME", "HOST", "SIZE", "TAGS / LABELS");
                    for (Snapshot s : list) {
                        root.out.printf("%-10s  %-20s  %-12s  %10s  %s %s%n", s.id().value().substring(0, 8),
                                s.time().truncatedTo(java.time.temporal.ChronoUnit.SECONDS), s.host(),
                                Units.bytes(s.totalBytes()), String.join(",", new java.util.TreeSet<>(s.tags())), new TreeMap<>(s.labels()));
                    }
                    root.out.println(list.size() + " snapshots");
                }
            }
            return ExitCode.OK;
        }
    }

    @Command(name = "diff", description = "Show what changed between two snapshots.")
    static final class Diff extends RepoCommand {
        @Parameters(index = "0", paramLabel = "FROM")
        String from;

        @Parameters(index = "1", paramLabel = "TO")
        String to;

        @Override
        public Integer call() throws Exception {
            try (BlobStore store = openStore(false); Repository repo = openRepository(store)) {
                SnapshotDiff d = repo.diff(resolve(repo, from, SnapshotFilter.ALL), resolve(repo, to, SnapshotFilter.ALL));
                if (json) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("from", d.from().value());
                    m.put("to", d.to().value());
                    m.put("added", d.added());
                    m.put("removed", d.removed());
                    m.put("modified", d.modified());
                    m.put("unchanged", d.unchanged());
                    m.put("bytesAdded", d.bytesAdded());
                    printJson(m);
                } else {
                    d.added().forEach(p -> root.out.println("+ " + p));
                    d.removed().forEach(p -> root.out.println("- " + p));
                    d.modified().forEach(p -> root.out.println("M " + p));
                    root.out.printf("%d added, %d removed, %d modified, %d unchanged; %s of new chunks%n", d.added().size(),
                            d.removed().size(), d.modified().size(), d.unchanged(), Units.bytes(d.bytesAdded()));
                }
            }
            return ExitCode.OK;
        }
    }

    @Command(name = "forget", description = "Forget snapshots that no --keep rule keeps (then prune to free space).")
    static final class Forget extends RepoCommand {
        @Option(names = "--keep-last", paramLabel = "N") int last;
        @Option(names = "--keep-hourly", paramLabel = "N") int hourly;
        @Option(names = "--keep-daily", paramLabel = "N") int daily;
        @Option(names = "--keep-weekly", paramLabel = "N") int weekly;
        @Option(names = "--keep-monthly", paramLabel = "N") int monthly;
        @Option(names = "--keep-yearly", paramLabel = "N") int yearly;
        @Option(names = "--keep-within", paramLabel = "DURATION", converter = Durations.class) Duration within;
        @Option(names = "--keep-tag", paramLabel = "TAG") List<String> keepTags = new ArrayList<>();
        @Option(names = {"-n", "--dry-run"}, description = "Only show what would be forgotten.") boolean dryRun;
        @Option(names = "--prune", description = "Prune unreferenced chunks afterwards.") boolean prune;
        @Mixin PruneGrace grace;

        @Override
        void configure(RepositoryOptions.Builder options) {
            grace.applyTo(options);
        }

        @Override
        public Integer call() throws Exception {
            if (grace.given() && !prune) {
                throw new IllegalArgumentException("--grace sets how old the packs that the prune frees must be; give --prune too");
            }
            RetentionPolicy.Builder p = RetentionPolicy.builder();
            if (last > 0) {
                p.keepLast(last);
            }
            if (hourly > 0) {
                p.keepHourly(hourly);
            }
            if (daily > 0) {
                p.keepDaily(daily);
            }
            if (weekly > 0) {
                p.keepWeekly(weekly);
            }
            if (monthly > 0) {
                p.keepMonthly(monthly);
            }
            if (yearly > 0) {
                p.keepYearly(yearly);
            }
            if (within != null) {
                p.keepWithin(within);
            }
            if (!keepTags.isEmpty()) {
                p.keepTags(keepTags.toArray(String[]::new));
            }
            RetentionPolicy policy = p.build();
            try (BlobStore store = openStore(false); Repository repo = openRepository(store)) {
                ForgetResult r = repo.forget(policy, dryRun);
                PruneResult pruned = prune && !dryRun ? repo.prune(false) : null;
                if (json) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("dryRun", dryRun);
                    m.put("kept", r.kept().stream().map(k -> Map.of("id", k.snapshot().id().value(), "reasons", k.reasons())).toList());
                    m.put("removed", r.removed().stream().map(s -> s.id().value()).toList());
                    if (pruned != null) {
                        m.put("prune", pruneJson(pruned));
                    }
                    printJson(m);
                } else {
                    r.kept().forEach(k -> root.out.println("keep   " + k.snapshot().id() + "  " + String.join(", ", k.reasons())));
                    r.removed().forEach(s -> root.out.println((dryRun ? "would forget " : "forget ") + s.id()));
                    if (pruned != null) {
                        printPrune(root.out, pruned);
                    }
                }
            }
            return ExitCode.OK;
        }
    }

    @Command(name = "prune", description = "Free the space of chunks no snapshot references (older than the grace period): "
            + "delete unreferenced packs, repack partly referenced ones.")
    static final class Prune extends RepoCommand {
        @Option(names = {"-n", "--dry-run"}, description = "Only show what would be deleted.")
        boolean dryRun;

        @Mixin
        PruneGrace grace;

        @Override
        void configure(RepositoryOptions.Builder options) {
            grace.applyTo(options);
        }

        @Override
        public Integer call() throws Exception {
            try (BlobStore store = openStore(false); Repository repo = openRepository(store)) {
                PruneResult r = repo.prune(dryRun);
                if (json) {
                    printJson(pruneJson(r));
                } else {
                    printPrune(root.out, r);
                }
            }
            return ExitCode.OK;
        }
    }

    static Map<String, Object> pruneJson(PruneResult r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("dryRun", r.dryRun());
        m.put("snapshots", r.snapshots());
        m.put("referencedChunks", r.referencedChunks());
        m.put("deletedChunks", r.deletedChunks());
        m.put("deletedBytes", r.deletedBytes());
        m.put("youngUnreferencedChunks", r.youngUnreferencedChunks());
        m.put("packsDeleted", r.packsDeleted());
        m.put("packsRepacked", r.packsRepacked());
        m.put("packsWritten", r.packsWritten());
        return m;
    }

    static void printPrune(java.io.PrintStream out, PruneResult r) {
        out.printf("%s %d unreferenced chunks, freeing %s (%d packs deleted, %d repacked into %d new); %d snapshots reference "
                        + "%d chunks; %d young chunks kept%n",
                r.dryRun() ? "would delete" : "deleted", r.deletedChunks(), Units.bytes(r.deletedBytes()), r.packsDeleted(),
                r.packsRepacked(), r.packsWritten(), r.snapshots(), r.referencedChunks(), r.youngUnreferencedChunks());
    }

    @Command(name = "drill", description = "Run a DR drill: restore the newest snapshot into scratch space, verify it, "
            + "judge it against the RPO and RTO.")
    static final class Drill extends RepoCommand {
        @Option(names = "--scratch", paramLabel = "DIR", description = "Scratch directory (default: a dr4j-drill directory in the system temp dir).")
        Path scratch;

        @Option(names = "--rpo", paramLabel = "DURATION", converter = Durations.class, defaultValue = "24h",
                description = "Recovery point objective (default ${DEFAULT-VALUE}).")
        Duration rpo;

        @Option(names = "--rto", paramLabel = "DURATION", converter = Durations.class, defaultValue = "1h",
                description = "Recovery time objective (default ${DEFAULT-VALUE}).")
        Duration rto;

        @Option(names = "--set", paramLabel = "NAME", defaultValue = "default", description = "Checkpoint set name for the report.")
        String set;

        @Option(names = "--region", paramLabel = "REGION", description = "Region named in the report.")
        String region;

        @Option(names = "--snapshot", paramLabel = "ID", description = "Drill this snapshot instead of the newest.")
        String snapshot;

        @Option(names = "--tag", paramLabel = "TAG", description = "Only snapshots with this tag.")
        List<String> tags = new ArrayList<>();

        @Option(names = "--label", paramLabel = "KEY=VALUE", description = "Only snapshots with this label.")
        Map<String, String> labels = new TreeMap<>();

        @Option(names = "--verify-data", description = "Also read every chunk before restoring (names all bad objects up front).")
        boolean verifyData;

        @Option(names = "--verify-subset", paramLabel = "n/t|p%", description = "With --verify-data, read only slice n of t "
                + "of the packs, or a random p% of them (see verify --subset).")
        String verifySubset;

        @Option(names = "--report", paramLabel = "FILE", description = "Also write the JSON report to FILE.")
        Path reportFile;

        @Override
        public Integer call() throws Exception {
            RecoveryObjectives objectives = RecoveryObjectives.builder(set).snapshots(filter(tags, labels)).rpo(rpo).rto(rto).build();
            try (BlobStore store = openStore(false)) {
                DrillRunner.Builder b = DrillRunner.builder(store, keyProvider()).objectives(objectives)
                        .scratchDirectory(scratch != null ? scratch : Path.of(System.getProperty("java.io.tmpdir"), "dr4j-drill"));
                if (region != null) {
                    b.region(region);
                }
                if (verifyData) {
                    b.verifyBeforeRestore(VerifyLevel.DATA);
                }
                if (verifySubset != null) {
                    if (!verifyData) {
                        throw new IllegalArgumentException("--verify-subset selects the packs --verify-data reads; give --verify-data too");
                    }
                    b.verifySubset(io.dr4j.backup.PackSubset.parse(verifySubset));
                }
                DrillRunner runner = b.build();
                DrillReport report;
                if (snapshot != null) {
                    SnapshotId id;
                    try (Repository repo = openRepository(store)) {
                        id = resolve(repo, snapshot, SnapshotFilter.ALL);
                    }
                    report = runner.run(id);
                } else {
                    report = runner.run();
                }
                if (reportFile != null) {
                    Files.writeString(reportFile, report.toJson() + "\n");
                }
                root.out.print(json ? report.toJson() + "\n" : report.toText());
                if (report.has(DrillReport.Code.WRONG_KEY)) {
                    return ExitCode.WRONG_KEY;
                }
                if (report.has(DrillReport.Code.ROLLBACK_DETECTED)) {
                    return ExitCode.ROLLBACK;
                }
                return report.passed() ? ExitCode.OK : ExitCode.CHECK_FAILED;
            }
        }
    }

    @Command(name = "repair", description = "Replicated set: copy what lagging replicas miss, then show each replica's lag.")
    static final class Repair extends RepoCommand {
        @Option(names = "--contents", description = "Compare every object's checksum, not only listings and sizes (reads everything).")
        boolean contents;

        @Override
        public Integer call() throws Exception {
            try (BlobStore store = openStore(false)) {
                if (!(store instanceof ReplicatedBlobStore replicated)) {
                    throw new IllegalArgumentException("repair needs a replicated set: give --repo more than once, or "
                            + "replicated:URI,URI");
                }
                RepairReport r = replicated.repair(contents ? ConsistencyCheck.CONTENTS : ConsistencyCheck.SIZES);
                ReplicationStatus status = replicated.status();
                if (json) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("complete", r.complete());
                    m.put("objectsCopied", r.objectsCopied());
                    m.put("bytesCopied", r.bytesCopied());
                    m.put("objectsDeleted", r.objectsDeleted());
                    m.put("keysExamined", r.keysExamined());
                    m.put("owedAfter", r.owedAfter());
                    m.put("failures", r.failures());
                    m.put("elapsedMillis", r.elapsed().toMillis());
                    m.put("lagMillis", status.lag().toMillis());
                    m.put("members", status.members().stream().map(ms -> Map.of("name", ms.name(), "health",
                            ms.health().name(), "owedWrites", ms.owedWrites(), "lagMillis", ms.lag(status.at()).toMillis())).toList());
                    printJson(m);
                } else {
                    root.out.printf("repair %s: examined %d keys, copied %d objects (%s), deleted %d, %d writes still owed, %s%n",
                            r.complete() ? "complete" : "INCOMPLETE", r.keysExamined(), r.objectsCopied(), Units.bytes(r.bytesCopied()),
                            r.objectsDeleted(), r.owedAfter(), Units.duration(r.elapsed()));
                    r.failures().forEach(f -> root.out.println("  failed: " + f));
                    for (MemberStatus ms : status.members()) {
                        root.out.printf("  %-40s %-9s owes %d writes, lag %s%n", ms.name(), ms.health(), ms.owedWrites(),
                                Units.duration(ms.lag(status.at())));
                    }
                }
                return r.complete() ? ExitCode.OK : ExitCode.CHECK_FAILED;
            }
        }
    }
}
