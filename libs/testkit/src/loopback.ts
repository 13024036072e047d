import { connect, createServer } from "node:net";

/**
 * One TCP port that is free on every given loopback address (all of 127/8 is local on Linux), for
 * receivers that must share a port, e.g. several test MX hosts reached on the one SMTP port the
 * delivery service uses (POSTLINE_DELIVERY_SMTP_PORT), each on its own address.
 */
export async function freeSharedPort(addresses: string[]): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await listenOnce("127.0.0.1", 0);
    let free = true;
    for (const address of addresses) {
      if (!(await listenOnce(address, port).then(() => true, () => false))) {
        free = false;
        break;
      }
    }
    if (free) return port;
  }
  throw new Error(`no port free on all of ${addresses.join(", ")}`);
}

function listenOnce(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen({ host, port, exclusive: true }, () => {
      const a = server.address();
      server.close(() => resolve(typeof a === "object" && a ? a.port : 0));
    });
  });
}

/** Resolves once something accepts TCP connections on host:port. */
export async function waitForListener(host: string, port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host, port });
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
