import { connect, createServer, type Socket } from "node:net";

export interface SlowProxyOptions {
  /** Where it listens: a loopback address and port. */
  address: string;
  port: number;
  /** Where it forwards each connection. */
  target: { address: string; port: number };
  /** Every chunk the target sends reaches the client this much later (order kept; the client's side goes straight through). */
  delayMs: number;
}

export interface SlowProxy {
  address: string;
  port: number;
  /** Connections accepted so far. */
  connections(): number;
  stop(): Promise<void>;
}

/**
 * A TCP proxy that adds latency to every reply of the server behind it: an SMTP receiver whose
 * every answer (greeting, EHLO, each pipelined group, the reply to the final dot) comes `delayMs`
 * late, e.g. a slow destination for head-of-line blocking tests.
 */
export async function startSlowProxy(options: SlowProxyOptions): Promise<SlowProxy> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((client) => {
    accepted++;
    sockets.add(client);
    const upstream = connect({ host: options.target.address, port: options.target.port });
    sockets.add(upstream);
    let pending = 0;
    let upstreamEnded = false;
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("data", (d) => upstream.write(d));
    client.on("end", () => upstream.end());
    upstream.on("data", (d) => {
      pending++;
      setTimeout(() => {
        pending--;
        if (!client.destroyed) client.write(d);
        if (upstreamEnded && pending === 0) client.end();
      }, options.delayMs);
    });
    upstream.on("end", () => {
      upstreamEnded = true;
      if (pending === 0) client.end();
    });
    client.on("error", closeBoth);
    upstream.on("error", closeBoth);
    client.on("close", () => {
      sockets.delete(client);
      upstream.destroy();
    });
    upstream.on("close", () => sockets.delete(upstream));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: options.address, port: options.port }, () => resolve());
  });
  return {
    address: options.address,
    port: options.port,
    connections: () => accepted,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
