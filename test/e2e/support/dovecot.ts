import { execFile, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "@postline/testkit";

const run = promisify(execFile);
/** Debian's `mail` user and group. */
const MAIL_UID = 8;
const MAIL_GID = 8;

/**
 * A private Dovecot (Debian's dovecot-imapd and dovecot-pop3d) with its own config, ports on
 * 127.0.0.1, state and mail under a temporary directory: the reference server the IMAP
 * benchmark compares with, and the server the client scripts were first checked against.
 * One passwd-file user; its INBOX is a Maildir filled with the given messages in order, so UIDs
 * are 1..n as on ours. The master runs as root, the mail processes as Debian's `mail` user (8:8),
 * which owns the Maildir; plaintext
 * authentication is allowed on loopback; TLS on the implicit ports with the given key pair.
 */
export interface DovecotInstance {
  dir: string;
  imapPort: number;
  imapsPort: number;
  pop3Port: number;
  pop3sPort: number;
  child: ChildProcess;
  /** Memory of the master and all its processes now, in KB (sum of PSS, see treeRssKb). */
  rssKb(): Promise<number>;
  log(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * `passwordHash`: an argon2id PHC string (what libs/directory stores) to check logins against the
 * same hash, at the same cost, as ours does; without it the password is kept in plain text.
 */
export async function startDovecot(options: { user: string; password: string; passwordHash?: string; messages: Buffer[]; cert: string; key: string }): Promise<DovecotInstance> {
  const dir = await mkdtemp(join(tmpdir(), "postline-dovecot-"));
  // Dovecot's auth process runs as the dovecot user and reads the passwd file.
  await chmod(dir, 0o755);
  const [imapPort, imapsPort, pop3Port, pop3sPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  await mkdir(join(dir, "run"), { recursive: true });
  await mkdir(join(dir, "state"), { recursive: true });
  const maildir = join(dir, "mail", options.user);
  for (const sub of ["cur", "new", "tmp"]) await mkdir(join(maildir, sub), { recursive: true });
  // Names sort in order, and Dovecot gives new files UIDs in the order it lists them: write the
  // uidlist ourselves so UID n is message n whatever the directory order.
  const base = 1_767_225_600;
  const uidlist = [`3 V${base} N${options.messages.length + 1}`];
  for (let i = 0; i < options.messages.length; i++) {
    const name = `${base + i}.M${i}P1.bench,S=${options.messages[i]!.length}`;
    await writeFile(join(maildir, "cur", `${name}:2,`), options.messages[i]!);
    uidlist.push(`${i + 1} :${name}`);
  }
  await writeFile(join(maildir, "dovecot-uidlist"), `${uidlist.join("\n")}\n`);
  await run("chown", ["-R", `${MAIL_UID}:${MAIL_GID}`, join(dir, "mail")]);
  await writeFile(join(dir, "cert.pem"), options.cert);
  await writeFile(join(dir, "key.pem"), options.key, { mode: 0o600 });
  await writeFile(join(dir, "passwd"), `${options.user}:${options.passwordHash ? `{ARGON2ID}${options.passwordHash}` : `{PLAIN}${options.password}`}:${MAIL_UID}:${MAIL_GID}::${join(dir, "mail", options.user)}::\n`, { mode: 0o644 });
  const conf = `
base_dir = ${dir}/run
state_dir = ${dir}/state
instance_name = postline-${imapPort}
log_path = ${dir}/dovecot.log
protocols = imap pop3
listen = 127.0.0.1
ssl = yes
ssl_cert = <${dir}/cert.pem
ssl_key = <${dir}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
mail_location = maildir:${dir}/mail/%u
passdb {
  driver = passwd-file
  args = username_format=%u ${dir}/passwd
}
userdb {
  driver = passwd-file
  args = username_format=%u ${dir}/passwd
}
namespace inbox {
  inbox = yes
  separator = /
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${imapPort}
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = ${imapsPort}
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = ${pop3Port}
  }
  inet_listener pop3s {
    address = 127.0.0.1
    port = ${pop3sPort}
    ssl = yes
  }
}
service anvil {
  chroot =
}
service stats {
  unix_listener stats-writer {
    mode = 0666
  }
}
protocol imap {
  mail_max_userip_connections = 1000
}
protocol pop3 {
  pop3_uidl_format = %08Xu%08Xv
  mail_max_userip_connections = 1000
}
`;
  await writeFile(join(dir, "dovecot.conf"), conf);
  const child = spawn("/usr/sbin/dovecot", ["-F", "-c", join(dir, "dovecot.conf")], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  child.stdout!.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = once(child, "exit");
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`dovecot exited: ${stderr}${await readFile(join(dir, "dovecot.log"), "utf8").catch(() => "")}`);
    if (await accepts(imapPort)) break;
    if (Date.now() > deadline) throw new Error(`dovecot not listening: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    dir,
    imapPort,
    imapsPort,
    pop3Port,
    pop3sPort,
    child,
    rssKb: () => treeRssKb(child.pid!),
    log: () => readFile(join(dir, "dovecot.log"), "utf8").catch(() => ""),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/**
 * Memory of a process and all its descendants, in KB: the sum of their proportional set sizes
 * (PSS: each shared page divided among the processes sharing it), so that a server of many
 * processes (Dovecot) is not charged once per process for its shared libraries; for one process
 * it is its resident memory less the other processes' share of its shared pages.
 */
export async function treeRssKb(root: number): Promise<number> {
  const parents = new Map<number, number>();
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = await readFile(`/proc/${entry}/status`, "utf8");
      parents.set(Number(entry), Number(/^PPid:\s+(\d+)/m.exec(status)?.[1] ?? 0));
    } catch {
      // gone
    }
  }
  let total = 0;
  for (const pid of parents.keys()) {
    let inTree = false;
    for (let p: number | undefined = pid; p; p = parents.get(p)) {
      if (p === root) {
        inTree = true;
        break;
      }
    }
    if (!inTree) continue;
    try {
      const rollup = await readFile(`/proc/${pid}/smaps_rollup`, "utf8");
      total += Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
    } catch {
      // gone
    }
  }
  return total;
}
