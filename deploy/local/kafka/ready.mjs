// Readiness probe for the local Kafka broker, with no npm dependencies: sends one Metadata
// request (v6, no topics) and succeeds when the answer lists at least one live broker, which a
// KRaft broker only does once it has registered with the controller and been unfenced.
//   node deploy/local/kafka/ready.mjs 127.0.0.1:59092
import { Buffer } from "node:buffer";
import console from "node:console";
import net from "node:net";
import process from "node:process";

const [host, port] = (process.argv[2] ?? "127.0.0.1:59092").split(":");
const clientId = Buffer.from("postline-infra-ready");

const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length + 4 + 1);
let o = 0;
o = body.writeInt16BE(3, o); // api key: Metadata
o = body.writeInt16BE(6, o); // api version
o = body.writeInt32BE(1, o); // correlation id
o = body.writeInt16BE(clientId.length, o);
o += clientId.copy(body, o);
o = body.writeInt32BE(0, o); // topics: none, brokers only
body.writeInt8(0, o); // allow_auto_topic_creation
const frame = Buffer.concat([Buffer.alloc(4), body]);
frame.writeInt32BE(body.length, 0);

const fail = (why) => {
  console.error(`kafka not ready: ${why}`);
  process.exit(1);
};
const socket = net.connect({ host, port: Number(port) });
socket.setTimeout(2000, () => fail("timeout"));
socket.on("error", (err) => fail(err.code ?? err.message));
socket.on("connect", () => socket.write(frame));
let received = Buffer.alloc(0);
socket.on("data", (chunk) => {
  received = Buffer.concat([received, chunk]);
  if (received.length < 4 || received.length < 4 + received.readInt32BE(0)) return;
  // size, correlation id, throttle_time_ms, then the brokers array length
  const brokers = received.readInt32BE(12);
  socket.destroy();
  if (brokers < 1) fail("no live broker in metadata yet");
  process.exit(0);
});
