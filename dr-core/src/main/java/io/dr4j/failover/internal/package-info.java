/**
 * Machinery of {@link io.dr4j.failover.FailoverRouter}: per-endpoint state, the routing plan,
 * the retry budget and the latency histogram. Not API: may change without notice.
 */
package io.dr4j.failover.internal;
