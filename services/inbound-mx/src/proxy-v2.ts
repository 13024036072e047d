import type { Socket } from "node:net";

/** The 12-byte signature that starts a PROXY protocol v2 header. */
export const PROXY_V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const MAX_V2_LENGTH = 16 + 2048;

export type ProxyV2Result =
  /** The first byte is not that of a v2 header (v1 starts with "PROXY "); nothing was consumed. */
  | { kind: "not-v2" }
  /** LOCAL command (the balancer's own health check) or an address family we do not map. */
  | { kind: "local" }
  | { kind: "proxy"; remoteAddress: string; remotePort: number };

/** Parses a complete v2 header (signature included). Throws on anything malformed. */
export function parseProxyV2(header: Buffer): ProxyV2Result {
  if (header.length < 16 || !header.subarray(0, 12).equals(PROXY_V2_SIGNATURE)) throw new Error("not a PROXY v2 header");
  const verCmd = header[12]!;
  if (verCmd >> 4 !== 2) throw new Error("unsupported PROXY protocol version");
  const command = verCmd & 0x0f;
  const length = header.readUInt16BE(14);
  const body = header.subarray(16, 16 + length);
  if (body.length !== length) throw new Error("truncated PROXY v2 header");
  if (command === 0x0) return { kind: "local" };
  if (command !== 0x1) throw new Error("unknown PROXY v2 command");
  const family = header[13]! >> 4;
  if (family === 0x1) {
    if (length < 12) throw new Error("short PROXY v2 IPv4 address block");
    return { kind: "proxy", remoteAddress: [...body.subarray(0, 4)].join("."), remotePort: body.readUInt16BE(8) };
  }
  if (family === 0x2) {
    if (length < 36) throw new Error("short PROXY v2 IPv6 address block");
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(body.readUInt16BE(i).toString(16));
    return { kind: "proxy", remoteAddress: groups.join(":"), remotePort: body.readUInt16BE(32) };
  }
  return { kind: "local" }; // AF_UNSPEC or AF_UNIX: keep the connection's own address
}

/**
 * Reads a PROXY v2 header from the start of `socket`, leaving what follows it unread. A socket whose
 * first byte cannot start a v2 header is handed back untouched ("not-v2"), for the v1 parser.
 */
export function readProxyV2(socket: Socket, callback: (err: Error | null, result?: ProxyV2Result) => void): void {
  let buffered = Buffer.alloc(0);
  let finished = false;
  const finish = (err: Error | null, result?: ProxyV2Result, rest?: Buffer) => {
    if (finished) return;
    finished = true;
    socket.removeListener("readable", onReadable);
    socket.removeListener("error", onError);
    socket.removeListener("close", onClose);
    socket.removeListener("end", onClose);
    if (rest?.length) socket.unshift(rest);
    if (err) {
      socket.on("error", () => {}); // a late error of a socket we are dropping must not crash the process
      socket.destroy();
    }
    // Later: removing a 'readable' listener takes effect on the next tick, and whoever reads the
    // socket next (the v1 parser, the SMTP session) must find it in its normal state.
    setImmediate(() => callback(err, result));
  };
  const onError = (err: Error) => finish(err);
  const onClose = () => finish(new Error("socket closed before the PROXY header was received"));
  const onReadable = () => {
    let chunk: Buffer | null;
    while ((chunk = socket.read() as Buffer | null) !== null) {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered[0] !== PROXY_V2_SIGNATURE[0]) return finish(null, { kind: "not-v2" }, buffered);
      const prefix = Math.min(buffered.length, 12);
      if (!buffered.subarray(0, prefix).equals(PROXY_V2_SIGNATURE.subarray(0, prefix))) return finish(new Error("invalid PROXY header"));
      if (buffered.length < 16) continue;
      const total = 16 + buffered.readUInt16BE(14);
      if (total > MAX_V2_LENGTH) return finish(new Error("PROXY v2 header too long"));
      if (buffered.length < total) continue;
      try {
        return finish(null, parseProxyV2(buffered.subarray(0, total)), buffered.subarray(total));
      } catch (err) {
        return finish(err as Error);
      }
    }
  };
  socket.on("readable", onReadable);
  socket.on("error", onError);
  socket.on("close", onClose);
  socket.on("end", onClose);
}
