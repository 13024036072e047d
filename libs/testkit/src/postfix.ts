import { execFile } from "node:child_process";
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./ports.ts";

const run = promisify(execFile);

export interface PostfixOptions {
  /** Where Postfix hands every message: `[127.0.0.1]:2525` (brackets: no MX lookup). */
  relayhost: string;
  /** Domains it accepts mail for from anyone and relays to the relayhost. */
  relayDomains: string[];
  /** Extra main.cf lines. */
  main?: Record<string, string>;
}

export interface PostfixInstance {
  /** The port of its SMTP listener on 127.0.0.1. */
  port: number;
  dir: string;
  maillog(): string;
  /** Resolves when the queue holds no message (everything handed on or bounced). */
  waitForEmptyQueue(timeoutMs?: number): Promise<void>;
  flush(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A private Postfix instance from Debian's package (its own config, queue and log under a temp
 * directory), listening on a free loopback port and relaying to `relayhost`. Needs root: Postfix
 * drops to the `postfix` user itself.
 */
export async function startPostfix(options: PostfixOptions): Promise<PostfixInstance> {
  if (!existsSync("/usr/sbin/postfix")) throw new Error("Postfix is not installed: run deploy/local/tools.sh");
  const dir = mkdtempSync(join(tmpdir(), "postline-postfix-"));
  const conf = join(dir, "conf");
  const data = join(dir, "data");
  chmodSync(dir, 0o755); // the postfix user's daemons must reach the queue and data below it
  mkdirSync(conf);
  mkdirSync(data);
  mkdirSync(join(dir, "queue"));
  chownSync(data, uid("postfix"), -1);
  const port = await freePort();
  const main: Record<string, string> = {
    compatibility_level: "3.6",
    queue_directory: join(dir, "queue"),
    data_directory: data,
    mail_owner: "postfix",
    setgid_group: "postdrop",
    myhostname: "relay.postline-test.invalid",
    mydomain: "postline-test.invalid",
    inet_interfaces: "127.0.0.1",
    inet_protocols: "ipv4",
    mydestination: "",
    mynetworks: "127.0.0.0/8",
    relay_domains: options.relayDomains.join(", "),
    relayhost: options.relayhost,
    smtp_dns_support_level: "disabled",
    maillog_file: join(dir, "maillog"),
    maillog_file_prefixes: dir,
    alternate_config_directories: conf,
    // Retry quickly: tests wait for deferred mail to go through.
    queue_run_delay: "1s",
    minimal_backoff_time: "1s",
    maximal_backoff_time: "2s",
    smtp_connect_timeout: "5s",
    ...options.main,
  };
  writeFileSync(join(conf, "main.cf"), Object.entries(main).map(([k, v]) => `${k} = ${v}`).join("\n") + "\n");
  copyFileSync("/etc/postfix/master.cf", join(conf, "master.cf"));
  const master = readFileSync(join(conf, "master.cf"), "utf8").replace(/^smtp\s+inet\s.*$/m, `${port} inet n - n - - smtpd`);
  writeFileSync(join(conf, "master.cf"), master);
  await run("/usr/sbin/postfix", ["-c", conf, "start"]);
  const instance: PostfixInstance = {
    port,
    dir,
    maillog: () => (existsSync(join(dir, "maillog")) ? readFileSync(join(dir, "maillog"), "utf8") : ""),
    async flush() {
      await run("/usr/sbin/postqueue", ["-c", conf, "-f"]);
    },
    async waitForEmptyQueue(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { stdout } = await run("/usr/sbin/postqueue", ["-c", conf, "-j"]);
        if (!stdout.trim()) return;
        if (Date.now() > deadline) throw new Error(`Postfix queue not empty after ${timeoutMs} ms:\n${stdout}\n${instance.maillog().slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async stop() {
      await run("/usr/sbin/postfix", ["-c", conf, "stop"]).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return instance;
}

function uid(user: string): number {
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${user}:`));
  if (!line) throw new Error(`no user ${user}`);
  return Number(line.split(":")[2]);
}
