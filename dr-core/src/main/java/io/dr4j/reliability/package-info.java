/**
 * Reliability arithmetic for a deployment's design review: how likely the data is to survive a
 * year and how much of the year the service is up, with every assumption stated.
 *
 * <ul>
 *   <li>{@link io.dr4j.reliability.IndependentFailures}: N components that each fail with
 *       probability p — P(all fail) = p<sup>N</sup>, P(at least one fails), binomial tails.
 *   <li>{@link io.dr4j.reliability.Availability}: steady-state availability from MTTF/MTTR,
 *       composed in series, in parallel and k-of-n; nines and downtime per year.
 *   <li>{@link io.dr4j.reliability.ReplicaDurabilityModel}: R replicas with MTTF and repair time,
 *       as a birth–death Markov chain; exact MTTDL, annual loss probability and nines
 *       ({@link io.dr4j.reliability.Durability}).
 * </ul>
 *
 * <p>All types are immutable values and thread-safe. The models assume independent failures;
 * the project's {@code docs/reliability.md} gives the formulas, their validity and a worked
 * example.
 */
package io.dr4j.reliability;
