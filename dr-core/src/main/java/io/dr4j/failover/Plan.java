package io.dr4j.failover;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;

/**
 * An immutable routing plan: which endpoints of which priority level take what share of new
 * calls, computed from the endpoints' states whenever one changes (rarely) and read by every
 * pick (often).
 *
 * <p>Envoy's rules: a level's health is {@code min(100, overprovisioning × healthy weight /
 * total weight)}; level 0 takes its health in percent of the traffic, the next level takes as
 * much of the rest as its health allows, and so on. If the levels' health sums to less than 100
 * the shares are normalized to it. If that sum is below the panic threshold, the plan panics:
 * every endpoint, healthy or not, takes traffic (levels share by health, or level 0 takes all
 * when nothing is healthy), rather than concentrating all load on the few healthy ones or failing
 * everything.
 */
final class Plan<E> {

    /** Eligible endpoints per level, most preferred level first. */
    final Slot<E>[][] levels;
    /** All (non-draining) endpoints per level: the fallback when the eligible ones were tried. */
    final Slot<E>[][] allByLevel;
    /** Cumulative percent per level; the last is 100 (or 0 when nothing is eligible). */
    final int[] cumulative;
    final int[] load;
    final int[] priorities;
    final boolean panic;
    final int healthPercent;
    final Slot<E>[] recovering;
    final Slot<E>[] ejected;
    final boolean hasExpiry;
    final long nextExpiry;
    final long version;

    private Plan(Slot<E>[][] levels, Slot<E>[][] allByLevel, int[] load, int[] priorities, boolean panic, int healthPercent,
                 Slot<E>[] recovering, Slot<E>[] ejected, long version) {
        this.levels = levels;
        this.allByLevel = allByLevel;
        this.load = load;
        this.priorities = priorities;
        this.panic = panic;
        this.healthPercent = healthPercent;
        this.recovering = recovering;
        this.ejected = ejected;
        this.version = version;
        this.cumulative = new int[load.length];
        int sum = 0;
        for (int i = 0; i < load.length; i++) {
            sum += load[i];
            cumulative[i] = sum;
        }
        long next = 0;
        boolean any = false;
        for (Slot<E> s : ejected) {
            long until = s.ejectedUntil;
            if (!any || until - next < 0) {
                next = until;
                any = true;
            }
        }
        this.hasExpiry = any;
        this.nextExpiry = next;
    }

    /**
     * Computes the plan of {@code slots} (draining ones already excluded).
     *
     * @param overprovisioning Envoy's factor, e.g. 1.4
     * @param panicThreshold percent below which the plan panics; 0 disables panic
     */
    public static <E> Plan<E> compute(Slot<E>[] slots, double overprovisioning, int panicThreshold, long version) {
        TreeMap<Integer, List<Slot<E>>> byPriority = new TreeMap<>();
        List<Slot<E>> recovering = new ArrayList<>();
        List<Slot<E>> ejected = new ArrayList<>();
        for (Slot<E> s : slots) {
            byPriority.computeIfAbsent(s.endpoint().priority(), p -> new ArrayList<>()).add(s);
            int st = s.state.get();
            if (st == Slot.RECOVERING) {
                recovering.add(s);
            } else if (st == Slot.EJECTED) {
                ejected.add(s);
            }
        }
        int n = byPriority.size();
        int[] priorities = new int[n];
        int[] health = new int[n];
        Slot<E>[][] healthy = Slot.matrix(n);
        Slot<E>[][] all = Slot.matrix(n);
        int level = 0;
        int totalHealth = 0;
        for (var entry : byPriority.entrySet()) {
            List<Slot<E>> members = entry.getValue();
            List<Slot<E>> ok = new ArrayList<>();
            long totalWeight = 0;
            long healthyWeight = 0;
            for (Slot<E> s : members) {
                totalWeight += s.endpoint().weight();
                if (s.state.get() == Slot.HEALTHY) {
                    ok.add(s);
                    healthyWeight += s.endpoint().weight();
                }
            }
            priorities[level] = entry.getKey();
            health[level] = (int) Math.min(100, Math.floor(overprovisioning * 100.0 * healthyWeight / totalWeight));
            healthy[level] = ok.toArray(Slot.<E>array(0));
            all[level] = members.toArray(Slot.<E>array(0));
            totalHealth += health[level];
            level++;
        }
        totalHealth = Math.min(100, totalHealth);
        int[] load = new int[n];
        boolean panic = n > 0 && panicThreshold > 0 && totalHealth < panicThreshold;
        if (n == 0) {
            return new Plan<>(healthy, all, load, priorities, false, 0, recovering.toArray(Slot.<E>array(0)), ejected.toArray(Slot.<E>array(0)), version);
        }
        if (totalHealth == 0) {
            if (panic) {
                load[0] = 100;
            }
        } else {
            distribute(health, totalHealth, load);
        }
        Slot<E>[][] levels = panic ? all : healthy;
        return new Plan<>(levels, all, load, priorities, panic, totalHealth,
                recovering.toArray(Slot.<E>array(0)), ejected.toArray(Slot.<E>array(0)), version);
    }

    /** Envoy's spill-over: each level takes what its health allows of what is left; normalized when the sum is short. */
    static void distribute(int[] health, int totalHealth, int[] load) {
        int remaining = 100;
        for (int i = 0; i < health.length; i++) {
            int scaled = totalHealth >= 100 ? health[i] : (int) ((long) health[i] * 100 / totalHealth);
            load[i] = Math.min(remaining, scaled);
            remaining -= load[i];
        }
        // Rounding residue of the normalization goes to the first level that has any health.
        if (remaining > 0) {
            for (int i = 0; i < health.length; i++) {
                if (health[i] > 0) {
                    load[i] += remaining;
                    break;
                }
            }
        }
    }

    public boolean panic() {
        return panic;
    }

    public int healthPercent() {
        return healthPercent;
    }

    public List<Integer> loadList() {
        return boxed(load);
    }

    public List<Integer> priorityList() {
        return boxed(priorities);
    }

    /**
     * A loop, not {@code Arrays.stream(a).boxed().toList()}: these lists go into the
     * {@link FailoverEvent.Failover} that an ejection emits, and a first stream pipeline of its
     * kind loads some 25 classes (about 10 ms in a fresh JVM) on the ejecting thread.
     */
    private static List<Integer> boxed(int[] a) {
        Integer[] b = new Integer[a.length];
        for (int i = 0; i < a.length; i++) {
            b[i] = a[i];
        }
        return List.of(b);
    }

    boolean sameSplit(Plan<?> other) {
        return Arrays.equals(load, other.load) && Arrays.equals(priorities, other.priorities);
    }
}
