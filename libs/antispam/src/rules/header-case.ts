import type { Rule } from "./rule.ts";

/**
 * Mail programs write the common header names as the RFCs do ("MIME-Version"), capitalized
 * ("Mime-Version"), or all in one case. Some bulk-mailing software varies the case
 * ("MiME-Version", "SUbject") to slip past filters that compare header names exactly; no mailer
 * writes them that way.
 */
const COMMON = ["From", "To", "Cc", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type", "Content-Transfer-Encoding", "Reply-To"];
const WRITTEN = new Map<string, Set<string>>(
  COMMON.map((name) => {
    const lower = name.toLowerCase();
    const capitalized = lower.replace(/(^|-)([a-z])/g, (_, dash: string, ch: string) => dash + ch.toUpperCase());
    return [lower, new Set([name, lower, name.toUpperCase(), capitalized, lower[0]!.toUpperCase() + lower.slice(1)])];
  }),
);

export const headerCaseRule: Rule = {
  name: "header-case",
  check({ content }) {
    for (const { key, line } of content.parsed.headerLines ?? []) {
      const usual = WRITTEN.get(key);
      const written = line.slice(0, line.indexOf(":")).trim();
      if (usual && !usual.has(written)) return [{ name: "HEADER_CASE_ODD", detail: written.slice(0, 40) }];
    }
    return [];
  },
};
