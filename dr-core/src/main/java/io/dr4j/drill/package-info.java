/**
 * Recovery objectives and disaster-recovery drills: declare an RPO and an RTO once
 * ({@link io.dr4j.drill.RecoveryObjectives}), let a {@link io.dr4j.drill.DrillRunner} restore the
 * newest snapshot into scratch space, verify it, time it and judge it against the objectives
 * ({@link io.dr4j.drill.DrillReport}, JSON schema in {@code docs/drill-report.md}), run drills and
 * backups on the application's scheduler ({@link io.dr4j.drill.RecoverySchedule}), and watch the
 * current recovery point ({@link io.dr4j.drill.RecoveryPointMonitor}).
 */
package io.dr4j.drill;
