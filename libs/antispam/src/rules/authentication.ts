import type { Rule, RuleHit } from "./rule.ts";

/** SPF, DKIM, DMARC and ARC results of mailauth as symbols. */
export const authenticationRule: Rule = {
  name: "authentication",
  sources: ["inbound"],
  check({ auth }) {
    if (!auth) return [];
    const hits: RuleHit[] = [];

    const spf = auth.spf ? auth.spf.status.result : "none";
    const spfDomain = auth.spf ? auth.spf.domain : undefined;
    if (spf === "pass") hits.push({ name: "SPF_PASS", detail: spfDomain });
    if (spf === "fail") hits.push({ name: "SPF_FAIL", detail: spfDomain });
    if (spf === "softfail") hits.push({ name: "SPF_SOFTFAIL", detail: spfDomain });

    const signatures = auth.dkim.results ?? [];
    const passed = signatures.filter((s) => s.status.result === "pass");
    // mailauth reports a body hash mismatch as neutral in its default (lenient) mode
    const failed = signatures.filter(
      (s) => s.status.result === "fail" || (s.status.result === "neutral" && s.status.comment === "body hash did not verify"),
    );
    if (passed.length > 0) hits.push({ name: "DKIM_PASS", detail: passed.map((s) => s.signingDomain).join(",") });
    if (failed.length > 0) hits.push({ name: "DKIM_FAIL", detail: failed.map((s) => `${s.signingDomain}: ${s.status.comment || "fail"}`).join(",") });

    const dmarc = auth.dmarc;
    if (dmarc) {
      const result = dmarc.status.result;
      if (result === "pass") hits.push({ name: "DMARC_PASS", detail: dmarc.domain });
      if (result === "fail") {
        const policy = dmarc.policy;
        const name = policy === "reject" ? "DMARC_REJECT" : policy === "quarantine" ? "DMARC_QUARANTINE" : "DMARC_FAIL_NONE";
        hits.push({ name, detail: `${dmarc.status.header?.from ?? dmarc.domain} p=${policy}` });
      }
    }

    const arc = auth.arc ? auth.arc.status.result : "none";
    if (arc === "pass") hits.push({ name: "ARC_PASS", detail: `i=${auth.arc && auth.arc.i}` });
    if (arc === "fail") hits.push({ name: "ARC_FAIL", detail: auth.arc ? auth.arc.status.comment || undefined : undefined });

    return hits;
  },
};
