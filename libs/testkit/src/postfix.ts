import { execFile } from "node:child_process";
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./ports.ts";

const run = promisify(execFile);

export interface PostfixOptions {
  /** Where Postfix hands every message: `[127.0.0.1]:2525` (brackets: no MX lookup). Default: none. */
  relayhost?: string;
  /** Domains it accepts mail for from anyone and relays to the relayhost. */
  relayDomains?: string[];
  /** Domains Postfix delivers itself: every recipient's mail goes into one Maildir, read with `mailbox()`. */
  mailboxDomains?: string[];
  /** The loopback address its SMTP listener binds (default 127.0.0.1). */
  address?: string;
  /** Its SMTP port (default: a free one). */
  port?: number;
  /** Extra main.cf lines. */
  main?: Record<string, string>;
}

export interface PostfixInstance {
  /** The address and port of its SMTP listener (127.0.0.1 unless `address` was given). */
  address: string;
  port: number;
  dir: string;
  /** The messages it delivered for `mailboxDomains`, oldest first, as stored (Postfix adds Return-Path, Delivered-To and Received; LF line ends). */
  mailbox(): Buffer[];
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
  const address = options.address ?? "127.0.0.1";
  const port = options.port ?? (await freePort());
  const mailboxBase = join(dir, "mailbox");
  const mailboxDomains = options.mailboxDomains ?? [];
  if (mailboxDomains.length > 0) {
    mkdirSync(mailboxBase);
    chownSync(mailboxBase, uid("postfix"), gid("postfix"));
  }
  const main: Record<string, string> = {
    compatibility_level: "3.6",
    queue_directory: join(dir, "queue"),
    data_directory: data,
    mail_owner: "postfix",
    setgid_group: "postdrop",
    myhostname: "relay.postline-test.invalid",
    mydomain: "postline-test.invalid",
    // Postfix accepts only addresses of an interface here (127.0.0.1 for all of 127/8): another
    // loopback address is named in master.cf instead.
    inet_interfaces: "127.0.0.1",
    inet_protocols: "ipv4",
    mydestination: "",
    mynetworks: "127.0.0.0/8",
    relay_domains: (options.relayDomains ?? []).join(", "),
    relayhost: options.relayhost ?? "",
    ...(mailboxDomains.length > 0
      ? {
          virtual_mailbox_domains: mailboxDomains.join(", "),
          virtual_mailbox_base: mailboxBase,
          // Every recipient into one Maildir (the trailing slash), owned by the postfix user.
          virtual_mailbox_maps: "static:Maildir/",
          virtual_uid_maps: `static:${uid("postfix")}`,
          virtual_gid_maps: `static:${gid("postfix")}`,
          virtual_minimum_uid: "1",
        }
      : {}),
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
  const master = readFileSync(join(conf, "master.cf"), "utf8").replace(/^smtp\s+inet\s.*$/m, `${address === "127.0.0.1" ? "" : `${address}:`}${port} inet n - n - - smtpd`);
  writeFileSync(join(conf, "master.cf"), master);
  await run("/usr/sbin/postfix", ["-c", conf, "start"]);
  const instance: PostfixInstance = {
    address,
    port,
    dir,
    mailbox() {
      const files: Array<{ path: string; name: string }> = [];
      for (const sub of ["new", "cur"]) {
        const folder = join(mailboxBase, "Maildir", sub);
        if (existsSync(folder)) for (const name of readdirSync(folder)) files.push({ path: join(folder, name), name });
      }
      // Maildir names start with the delivery time in seconds, then a sequence part: good enough as an order.
      return files.sort((a, b) => a.name.localeCompare(b.name, "en", { numeric: true })).map((f) => readFileSync(f.path));
    },
    maillog: () => (existsSync(join(dir, "maillog")) ? readFileSync(join(dir, "maillog"), "utf8") : ""),
    async flush() {
      await run("/usr/sbin/postqueue", ["-c", conf, "-f"]);
    },
    async waitForEmptyQueue(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { stdout } = await run("/usr/sbin/postqueue", ["-c", conf, "-j"]);
        // postlogd writes the maillog after the fact: the queue can be empty before its "removed" lines are there
        if (!stdout.trim() && allRemovedLogged(instance.maillog())) return;
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

/** Every queue id the maillog mentions has its "removed" line (delivered, bounced or deleted, and logged). */
function allRemovedLogged(log: string): boolean {
  const ids = new Set([...log.matchAll(/postfix\/(?:smtpd|pickup|cleanup)\[\d+\]: ([0-9A-F]{6,}): /g)].map((m) => m[1]!));
  return [...ids].every((id) => log.includes(`: ${id}: removed`));
}

function gid(group: string): number {
  const line = readFileSync("/etc/group", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${group}:`));
  if (!line) throw new Error(`no group ${group}`);
  return Number(line.split(":")[2]);
}

function uid(user: string): number {
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${user}:`));
  if (!line) throw new Error(`no user ${user}`);
  return Number(line.split(":")[2]);
}
