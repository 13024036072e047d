import { logLevel, type logCreator } from "kafkajs";
import type { BusLogger } from "../logger.ts";

export type KafkaLogLevel = "nothing" | "error" | "warn" | "info" | "debug";

const LEVELS: Record<KafkaLogLevel, logLevel> = {
  nothing: logLevel.NOTHING,
  error: logLevel.ERROR,
  warn: logLevel.WARN,
  info: logLevel.INFO,
  debug: logLevel.DEBUG,
};

export const kafkaLogLevel = (level: KafkaLogLevel): logLevel => LEVELS[level];

// Error responses the group protocol expects during every rebalance; kafkajs handles them.
const ROUTINE_RESPONSE_ERRORS =
  /rebalanc|not aware of this member|generation id is not valid|not the correct coordinator|coordinator is (loading|not available)|no leader/i;

/**
 * Routes kafkajs's own log lines into our logger. kafkajs is chatty at INFO (every join,
 * every connection), so its INFO goes to our debug; and it logs every error response of the
 * broker at ERROR, although the layer above retries or rejoins: those become debug (routine
 * rebalance answers) or warn (the rest; what really fails surfaces as a thrown error).
 */
export function kafkaLogCreator(logger: BusLogger): logCreator {
  return () =>
    ({ namespace, level, log }) => {
      const { message, timestamp: _timestamp, logger: _name, ...fields } = log as { message: string } & Record<string, unknown>;
      const obj = { component: "kafkajs", namespace, ...fields };
      const msg = `kafkajs: ${message}`;
      let severity = level;
      if (namespace === "Connection" && message.startsWith("Response ") && level === logLevel.ERROR) {
        severity = ROUTINE_RESPONSE_ERRORS.test(String(fields.error ?? "")) ? logLevel.DEBUG : logLevel.WARN;
      }
      if (severity === logLevel.ERROR) logger.error(obj, msg);
      else if (severity === logLevel.WARN) logger.warn(obj, msg);
      else logger.debug(obj, msg);
    };
}
