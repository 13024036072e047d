import type { BusLogger } from "../src/index.ts";

export interface RecordedLog {
  level: "debug" | "warn" | "error";
  msg: string | undefined;
  fields: Record<string, unknown>;
}

/** What the buses of this test process logged at debug, warn and error (tests look for their own topic). */
export const recordedLogs: RecordedLog[] = [];

const record = (level: RecordedLog["level"]) => (obj: object, msg?: string) => {
  recordedLogs.push({ level, msg, fields: { ...obj } });
};

/** Handler failures are expected in these tests; only errors are worth printing. */
const errorsOnly: BusLogger = {
  debug: record("debug"),
  info: () => {},
  warn: record("warn"),
  error: (obj, msg) => {
    record("error")(obj, msg);
    process.stderr.write(`${JSON.stringify({ level: "error", msg, ...obj })}\n`);
  },
};

/** Short timeouts so group changes and retries happen within a test's patience. */
export const EMBEDDED_TEST_OPTIONS = {
  sessionTimeoutMs: 1_500,
  heartbeatIntervalMs: 150,
  pollIntervalMs: 50,
  trimIntervalMs: 0,
  retry: { initialMs: 50, maxMs: 500 },
  logger: errorsOnly,
};

/** 6 s is the broker's smallest session timeout (group.min.session.timeout.ms). */
export const KAFKA_TEST_OPTIONS = {
  sessionTimeoutMs: 6_000,
  heartbeatIntervalMs: 500,
  rebalanceTimeoutMs: 6_000,
  maxWaitTimeMs: 250,
  retry: { initialMs: 50, maxMs: 500 },
  logger: errorsOnly,
};

/** The same settings for a child process (JSON on its command line). */
export const embeddedChildOptions = {
  sessionTimeoutMs: EMBEDDED_TEST_OPTIONS.sessionTimeoutMs,
  heartbeatIntervalMs: EMBEDDED_TEST_OPTIONS.heartbeatIntervalMs,
  pollIntervalMs: EMBEDDED_TEST_OPTIONS.pollIntervalMs,
};

export const kafkaChildOptions = {
  sessionTimeoutMs: KAFKA_TEST_OPTIONS.sessionTimeoutMs,
  heartbeatIntervalMs: KAFKA_TEST_OPTIONS.heartbeatIntervalMs,
  rebalanceTimeoutMs: KAFKA_TEST_OPTIONS.rebalanceTimeoutMs,
  maxWaitTimeMs: KAFKA_TEST_OPTIONS.maxWaitTimeMs,
};
