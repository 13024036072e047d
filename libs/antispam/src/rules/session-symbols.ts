import type { Rule } from "./rule.ts";

/** Symbols the SMTP session already decided (e.g. EARLY_TALKER), scored like any other. */
export const sessionSymbolsRule: Rule = {
  name: "session-symbols",
  check: ({ sessionSymbols }) => [...new Set(sessionSymbols)].map((name) => ({ name })),
};
