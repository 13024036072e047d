import { Option, type Command } from "commander";
import { txtStrings, type DkimAlgorithm, type DkimKeyView } from "@postline/dkim";
import { withBackend } from "../open-backend.ts";
import { emit, table } from "../output.ts";
import { wantsJson } from "./common.ts";

const ALGORITHMS: Record<string, DkimAlgorithm | "both"> = {
  rsa: "rsa-sha256",
  ed25519: "ed25519-sha256",
  both: "both",
  "rsa-sha256": "rsa-sha256",
  "ed25519-sha256": "ed25519-sha256",
};

/** The record as a zone-file line: the value split into ≤255-byte strings. */
export function zoneLine(k: DkimKeyView): string {
  return `${k.dnsRecord.name}. IN TXT ( ${txtStrings(k.dnsRecord.value).map((s) => `"${s}"`).join(" ")} )`;
}

export function registerDkim(program: Command): void {
  const dkim = program
    .command("dkim")
    .description(
      "manage DKIM signing keys of a domain. Rotation: generate a new key and publish its record (the old one keeps " +
        "signing), retire the old key (it stops signing but stays valid), remove it later and then withdraw its record",
    );

  dkim
    .command("generate <domain>")
    .description("create a key pair (the private key stays in the database) and print the DNS TXT record(s) to publish")
    .addOption(new Option("--algorithm <algorithm>", "rsa (RSA-2048), ed25519, or both (signed side by side)").choices(["rsa", "ed25519", "both"]).default("rsa"))
    .option("--selector <selector>", "the selector (with both: <selector>-rsa and <selector>-ed); default pl<yyyymmdd>-rsa / -ed")
    .action(async (domain: string, opts: { algorithm: string; selector?: string }, cmd: Command) => {
      const algorithm = ALGORITHMS[opts.algorithm] ?? "rsa-sha256";
      const keys = await withBackend((b) => b.generateDkimKey(domain, { algorithm, ...(opts.selector !== undefined ? { selector: opts.selector } : {}) }));
      emit(wantsJson(cmd), keys, () =>
        [
          `generated ${keys.map((k) => `${k.algorithm} key ${k.selector}`).join(" and ")} for ${keys[0]?.domain ?? domain}`,
          "publish in DNS:",
          ...keys.flatMap((k) => ["", `  name:  ${k.dnsRecord.name}`, `  type:  TXT`, `  value: ${k.dnsRecord.value}`, "", `  ${zoneLine(k)}`]),
        ].join("\n"),
      );
    });

  dkim
    .command("list <domain>")
    .description("list the domain's keys (active ones sign; retired ones stay valid until removed)")
    .action(async (domain: string, _opts, cmd: Command) => {
      const keys = await withBackend((b) => b.listDkimKeys(domain));
      emit(wantsJson(cmd), keys, () =>
        keys.length === 0
          ? `no DKIM keys for ${domain}`
          : table(
              ["SELECTOR", "ALGORITHM", "STATE", "CREATED", "RECORD"],
              keys.map((k) => [k.selector, k.algorithm, k.active ? "active" : "retired", k.createdAt, k.dnsRecord.name]),
            ),
      );
    });

  dkim
    .command("retire <domain> <selector>")
    .description("stop signing with a key; it stays valid (keep its DNS record) until removed")
    .action(async (domain: string, selector: string, _opts, cmd: Command) => {
      const k = await withBackend((b) => b.retireDkimKey(domain, selector));
      emit(wantsJson(cmd), k, () => `retired DKIM key ${k.selector} of ${k.domain}; keep ${k.dnsRecord.name} published until you remove the key`);
    });

  dkim
    .command("remove <domain> <selector>")
    .description("delete a key; its DNS record can then be withdrawn")
    .action(async (domain: string, selector: string, _opts, cmd: Command) => {
      await withBackend((b) => b.removeDkimKey(domain, selector));
      emit(wantsJson(cmd), { removed: { domain, selector } }, () => `removed DKIM key ${selector} of ${domain}`);
    });
}
