package io.dr4j.examples.cli;

import io.dr4j.backup.Repository;
import io.dr4j.backup.RepositoryStats;
import io.dr4j.backup.SnapshotFilter;
import io.dr4j.backup.SnapshotId;
import io.dr4j.storage.BlobStore;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code dr4j stats [SNAPSHOT...]}: raw size, distinct and stored size, chunk and pack counts and
 * the dedup and compression ratios of the whole repository or of the chosen snapshots
 * ({@link Repository#stats}, whose {@link RepositoryStats} javadoc defines every figure). Reads the
 * index and the manifests, never a pack.
 */
@Command(name = "stats", description = {"Show the raw size, stored size, chunk and pack counts and the dedup and compression"
        + " ratios of the repository, or of the given snapshots (each shared chunk counted once).",
    "Reads the index and the manifests only, no pack."})
final class StatsCommand extends RepoCommand {

    @Parameters(arity = "0..*", paramLabel = "SNAPSHOT", description = "Snapshot ids, prefixes or 'latest' (default: every snapshot).")
    List<String> snapshots = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        try (BlobStore store = openStore(false); Repository repo = openRepository(store)) {
            boolean whole = snapshots.isEmpty();
            RepositoryStats s;
            if (whole) {
                s = repo.stats();
            } else {
                List<SnapshotId> ids = new ArrayList<>();
                for (String snapshot : snapshots) {
                    ids.add(resolve(repo, snapshot, SnapshotFilter.ALL));
                }
                s = repo.stats(ids);
            }
            if (json) {
                printJson(json(s, whole));
            } else {
                print(s, whole);
            }
            if (s.missingChunks() > 0) {
                root.err.println("dr4j: " + s.missingChunks() + " chunk(s) these snapshots need are not in the repository's"
                        + " packs; run dr4j verify");
            }
            return ExitCode.OK;
        }
    }

    private void print(RepositoryStats s, boolean whole) {
        RepositoryStats.Store r = s.repository();
        root.out.printf("%-22s %d of %d%n", "snapshots", s.snapshots().size(), r.snapshots());
        root.out.printf("%-22s %d%n", "files", s.files());
        root.out.printf("%-22s %s (sum of the snapshots' file sizes)%n", "raw size", Units.bytes(s.rawBytes()));
        root.out.printf("%-22s %s in %d distinct chunks%n", "deduplicated size", Units.bytes(s.plainBytes()), s.chunks());
        root.out.printf("%-22s %s in %d packs (%s of pack objects)%n", "stored size", Units.bytes(s.storedBytes()), s.packs(),
                Units.bytes(s.packBytes()));
        root.out.printf("%-22s %s%n", "dedup ratio", ratio(s.dedupRatio()));
        root.out.printf("%-22s %s%n", "compression ratio", ratio(s.compressionRatio()));
        root.out.printf("%-22s %s%n", "total ratio", ratio(s.totalRatio()));
        if (s.missingChunks() > 0) {
            root.out.printf("%-22s %d%n", "missing chunks", s.missingChunks());
        }
        root.out.printf("%-22s %d chunks, %s deduplicated, %s stored; %d packs of %s; %d index files%n", "repository",
                r.chunks(), Units.bytes(r.plainBytes()), Units.bytes(r.storedBytes()), r.packs(), Units.bytes(r.packBytes()),
                r.indexFiles());
        if (whole) {
            root.out.printf("%-22s %s (prune reclaims it after the grace period)%n", "unreferenced",
                    Units.bytes(Math.max(0, r.storedBytes() - s.storedBytes())));
        }
    }

    private static String ratio(double r) {
        return String.format(Locale.ROOT, "%.2fx", r);
    }

    private static Map<String, Object> json(RepositoryStats s, boolean whole) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("scope", whole ? "repository" : "snapshots");
        m.put("snapshots", s.snapshots().stream().map(SnapshotId::value).toList());
        m.put("files", s.files());
        m.put("rawBytes", s.rawBytes());
        m.put("chunks", s.chunks());
        m.put("plainBytes", s.plainBytes());
        m.put("storedBytes", s.storedBytes());
        m.put("packs", s.packs());
        m.put("packBytes", s.packBytes());
        m.put("missingChunks", s.missingChunks());
        m.put("dedupRatio", round(s.dedupRatio()));
        m.put("compressionRatio", round(s.compressionRatio()));
        m.put("totalRatio", round(s.totalRatio()));
        RepositoryStats.Store r = s.repository();
        Map<String, Object> repo = new LinkedHashMap<>();
        repo.put("snapshots", r.snapshots());
        repo.put("chunks", r.chunks());
        repo.put("plainBytes", r.plainBytes());
        repo.put("storedBytes", r.storedBytes());
        repo.put("packs", r.packs());
        repo.put("packBytes", r.packBytes());
        repo.put("indexFiles", r.indexFiles());
        m.put("repository", repo);
        return m;
    }

    private static double round(double r) {
        return Math.round(r * 10_000) / 10_000.0;
    }
}
