package io.dr4j.failover;

/** Where an endpoint stands in the router's eyes. */
public enum EndpointState {
    /** Takes its share of traffic. */
    HEALTHY,
    /** Passively ejected after failures, for a time that grows with each ejection. */
    EJECTED,
    /** Its ejection ran out: it gets sparse trial calls (and health probes) until enough succeed in a row. */
    RECOVERING,
    /** Active health probes fail: no traffic until enough probes succeed in a row. */
    UNHEALTHY,
    /** Being drained: finishes its in-flight calls, gets no new ones. */
    DRAINING
}
