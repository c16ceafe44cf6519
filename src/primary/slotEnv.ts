/**
 * The environment variable through which a worker learns its slot. On its own
 * so a worker reads it without loading the primary's cluster watch.
 */
export const SLOT_ENV = 'OTEL_CLUSTER_EXPORTER_SLOT';
