import { BayesStore } from "@postline/antispam";
import type { Db } from "@postline/db";
import type { Logger } from "@postline/telemetry";
import { Counter, type Registry } from "prom-client";
import type { SpamFilterSettings } from "./settings.ts";

/**
 * Runs `BayesStore.expire` every POSTLINE_SPAM_BAYES_EXPIRE_INTERVAL_SECONDS, the first run after a
 * random part of the interval so that replicas spread out (a second replica's run finds little
 * left). Returns the function that stops it and waits for a run in progress.
 */
export function startBayesExpiry(deps: { db: Db; settings: SpamFilterSettings; logger: Logger; registry: Registry }): () => Promise<void> {
  const { settings, logger } = deps;
  const every = settings.POSTLINE_SPAM_BAYES_EXPIRE_INTERVAL_SECONDS * 1000;
  if (!settings.POSTLINE_SPAM_BAYES || every <= 0) return async () => {};
  const expired = new Counter({
    name: "postline_spam_bayes_expired_total",
    help: "Bayes tokens and learned-message records dropped by expiry",
    labelNames: ["kind"],
    registers: [deps.registry],
  });
  const store = new BayesStore(deps.db);
  const options = {
    tokenDays: settings.POSTLINE_SPAM_BAYES_EXPIRE_DAYS,
    maxCount: settings.POSTLINE_SPAM_BAYES_EXPIRE_MAX_COUNT,
    recordDays: settings.POSTLINE_SPAM_BAYES_RECORD_DAYS,
  };
  let running: Promise<void> | undefined;
  const run = () => {
    running ??= store
      .expire(options)
      .then((r) => {
        expired.inc({ kind: "token" }, r.tokens);
        expired.inc({ kind: "record" }, r.records);
        if (r.models > 0) logger.info({ ...r }, "bayes expiry");
      })
      .catch((err: unknown) => logger.warn({ err }, "bayes expiry failed"))
      .finally(() => {
        running = undefined;
      });
  };
  const first = setTimeout(run, Math.floor(Math.random() * every));
  const interval = setInterval(run, every);
  first.unref();
  interval.unref();
  return async () => {
    clearTimeout(first);
    clearInterval(interval);
    await running;
  };
}
