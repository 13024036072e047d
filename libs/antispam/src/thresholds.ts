export type Action = "deliver" | "junk" | "quarantine" | "reject";

/** Scores at or above which each action applies. */
export interface Thresholds {
  junk: number;
  quarantine: number;
  reject: number;
}

export const defaultThresholds: Thresholds = { junk: 5, quarantine: 10, reject: 15 };

const severity: Record<Action, number> = { deliver: 0, junk: 1, quarantine: 2, reject: 3 };

export function actionForScore(score: number, thresholds: Thresholds): Action {
  if (score >= thresholds.reject) return "reject";
  if (score >= thresholds.quarantine) return "quarantine";
  if (score >= thresholds.junk) return "junk";
  return "deliver";
}

export function strongerAction(a: Action, b: Action): Action {
  return severity[a] >= severity[b] ? a : b;
}
