import { type BayesStore, type ClassifyResult, type SpamClass } from "@postline/antispam";
import type { Logger } from "@postline/telemetry";
import { Counter, type Registry } from "prom-client";
import type { ObservedVerdict, VerdictObserver } from "./policies.ts";
import { WriteBehind, type WriteBehindMetrics } from "./policy/write-behind.ts";

export interface AutolearnOptions {
  /** Learn as spam when the score without the Bayes symbols is at least this. */
  spamScore: number;
  /** Learn as ham when it is at most this. */
  hamScore: number;
  /**
   * Learn in batches, one transaction every flushMs (POSTLINE_SPAM_OBSERVER_FLUSH_MS, as the other
   * observers; 0 = one transaction per message as it is classified).
   */
  flushMs?: number;
  logger?: Logger;
  registry?: Registry;
  writeBehindMetrics?: WriteBehindMetrics;
}

/** Every symbol of the statistical models (chi-square and logistic): never part of the autolearn decision (as in SpamAssassin). */
export const isBayesSymbol = (name: string): boolean => name.startsWith("BAYES_") || name.startsWith("LOGREG_");

/** The class autolearn gives a verdict, or null (unsure, or decided by Bayes itself). */
export function autolearnClass(result: Pick<ClassifyResult, "symbols">, options: Pick<AutolearnOptions, "spamScore" | "hamScore">): SpamClass | null {
  const withoutBayes = result.symbols.filter((s) => !isBayesSymbol(s.name)).reduce((sum, s) => sum + s.score, 0);
  if (withoutBayes >= options.spamScore) return "spam";
  if (withoutBayes <= options.hamScore) return "ham";
  return null;
}

/**
 * Autolearn: the global Bayes model learns inbound mail whose verdict is clear without the Bayes
 * symbols (so the classifier never confirms itself), keyed by the mail id: a redelivered
 * mail.received learns nothing twice, and a user's later correction (the learner) is about the
 * account model, not this one. Learned in batches (write-behind): a crash loses at most one
 * interval of autolearning, which the next messages make up for.
 */
export function autolearnObserver(store: BayesStore, options: AutolearnOptions): VerdictObserver {
  const existing = options.registry?.getSingleMetric("postline_spam_autolearn_total") as Counter<"class" | "outcome"> | undefined;
  const learned = existing ?? (options.registry
    ? new Counter({
        name: "postline_spam_autolearn_total",
        help: "Messages the global Bayes model learned from verdicts, by class and outcome",
        labelNames: ["class", "outcome"],
        registers: [options.registry],
      })
    : null);
  const pending = new WriteBehind<{ cls: SpamClass; hashes: string[] }>({
    name: "bayes-autolearn",
    intervalMs: options.flushMs ?? 0,
    merge: (_older, newer) => newer,
    write: async (batch) => {
      const outcomes = await store.learnMany(
        null,
        batch.map(([messageKey, { cls, hashes }]) => ({ messageKey, cls, hashes })),
      );
      for (const [i, [mailId, { cls }]] of batch.entries()) {
        learned?.inc({ class: cls, outcome: outcomes[i]! });
        options.logger?.debug({ mailId, class: cls, outcome: outcomes[i] }, "bayes autolearn");
      }
    },
    logger: options.logger,
    metrics: options.writeBehindMetrics,
  });
  return {
    name: "bayes-autolearn",
    async observe({ event, source, result }: ObservedVerdict) {
      if (source !== "inbound") return;
      const cls = autolearnClass(result, options);
      if (!cls) return;
      // The hashes the Bayes rule computed for this content (memoized): no second tokenization.
      await pending.add(event.id, { cls, hashes: store.hashesOf(result.content) });
    },
    close: () => pending.close(),
  };
}
