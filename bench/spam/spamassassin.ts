/**
 * Debian's SpamAssassin for the spam benchmark: a spamd on loopback with its own site config, home
 * and Bayes database in a temp dir, local tests only (no DNS, DNSBL, Razor, Pyzor or DCC).
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort, waitForListener } from "@postline/testkit";
import type { CorpusMessage } from "./corpus.ts";

const run = promisify(execFile);

export interface SpamAssassin {
  port: number;
  /** sa-learn's time on the training messages. */
  trainSeconds: number;
  stop(): void;
}

/** spamd with its Bayes trained by sa-learn on `train`, so it scores with its score set for Bayes without network tests. */
export async function startSpamAssassin(train: CorpusMessage[]): Promise<SpamAssassin> {
  const dir = mkdtempSync(join(tmpdir(), "bench-spam-sa-"));
  let spamd: ChildProcess | undefined;
  const stop = () => {
    spamd?.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const site = join(dir, "site");
    const home = join(dir, "home");
    mkdirSync(site);
    mkdirSync(home);
    mkdirSync(join(dir, "bayes"));
    for (const f of readdirSync("/etc/spamassassin")) if (f.endsWith(".pre")) copyFileSync(join("/etc/spamassassin", f), join(site, f));
    writeFileSync(
      join(site, "local.cf"),
      [
        "use_bayes 1",
        "bayes_auto_learn 0",
        `bayes_path ${join(dir, "bayes", "bayes")}`,
        "bayes_file_mode 0777",
        "skip_rbl_checks 1",
        "dns_available no",
        "use_razor2 0",
        "use_pyzor 0",
        "use_dcc 0",
        "required_score 5.0",
        "",
      ].join("\n"),
    );
    // sa-learn reads directories of one-message files
    for (const cls of ["spam", "ham"]) mkdirSync(join(dir, `train-${cls}`));
    train.forEach((m, i) => writeFileSync(join(dir, `train-${m.label === "spam" ? "spam" : "ham"}`, `${i}.eml`), m.bytes));
    const started = performance.now();
    for (const cls of ["spam", "ham"]) {
      await run("sa-learn", [`--${cls}`, "--siteconfigpath", site, "--dbpath", join(dir, "bayes"), "--no-sync", join(dir, `train-${cls}`)], {
        env: { ...process.env, HOME: home },
        maxBuffer: 1 << 24,
      });
    }
    await run("sa-learn", ["--sync", "--siteconfigpath", site, "--dbpath", join(dir, "bayes")], { env: { ...process.env, HOME: home } });
    const trainSeconds = (performance.now() - started) / 1000;
    for (const f of readdirSync(join(dir, "bayes"))) chmodSync(join(dir, "bayes", f), 0o666);
    chmodSync(dir, 0o777);
    chmodSync(join(dir, "bayes"), 0o777);
    chmodSync(home, 0o777);

    const port = await freePort();
    spamd = spawn(
      "spamd",
      ["-L", "-x", "-u", "nobody", "--siteconfigpath", site, "-H", home, "--listen", `127.0.0.1:${port}`, "--max-children", String(Math.max(2, cpus().length)), "--min-children", "2"],
      { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, HOME: home } },
    );
    let spamdErr = "";
    spamd.stderr!.on("data", (d: Buffer) => (spamdErr = (spamdErr + d.toString()).slice(-4000)));
    await waitForListener("127.0.0.1", port, 60_000).catch((err: Error) => {
      throw new Error(`spamd did not start: ${err.message}\n${spamdErr}`);
    });
    return { port, trainSeconds, stop };
  } catch (err) {
    stop();
    throw err;
  }
}

function spamcOutput(port: number, flag: "-c" | "-R", bytes: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("spamc", ["-d", "127.0.0.1", "-p", String(port), flag, "-s", String(8 * 1024 * 1024)], { stdio: ["pipe", "pipe", "ignore"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("close", () => resolve(out));
    child.stdin.end(bytes);
  });
}

/** spamc -c: prints "score/threshold"; spam when score ≥ 5. */
export async function spamcIsSpam(port: number, bytes: Buffer): Promise<boolean> {
  const out = await spamcOutput(port, "-c", bytes);
  const score = Number(out.trim().split("/")[0]);
  if (!Number.isFinite(score) || out.startsWith("0/0")) throw new Error(`spamc answered "${out.trim()}"`);
  return score >= 5;
}

export interface RuleHit {
  name: string;
  points: number;
}

/** spamc -R: the report's table of rules that fired, each with the points it scored. */
export async function spamcRuleHits(port: number, bytes: Buffer): Promise<{ score: number; hits: RuleHit[] }> {
  const out = await spamcOutput(port, "-R", bytes);
  const score = Number(/^(-?[\d.]+)\/[\d.]+/.exec(out)?.[1]);
  if (!Number.isFinite(score)) throw new Error(`spamc answered "${out.slice(0, 200)}"`);
  const hits = [...out.matchAll(/^\s*(-?\d+(?:\.\d+)?)\s+([A-Z0-9_]+)\s/gm)].map((m) => ({ name: m[2]!, points: Number(m[1]) }));
  return { score, hits };
}
