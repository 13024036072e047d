import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { after, before, test } from "node:test";
import { simpleMessage, smtpTransaction } from "@postline/testkit";
import { INBOUND_SERVICES, startInstallation, storedMessages, waitFor, type Installation } from "./support/installation.ts";

// One message's journey is one trace across services: inbound-mx, spam-filter and delivery each in
// their own process on the real Kafka, PostgreSQL and MinIO, exporting spans over OTLP/HTTP to a
// collector this test runs. The trace context travels only in the Kafka record headers.

interface ExportedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  attributes: Record<string, unknown>;
}

interface OtlpAnyValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}
interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: OtlpKeyValue[];
}
interface OtlpExport {
  resourceSpans?: { resource?: { attributes?: OtlpKeyValue[] }; scopeSpans?: { spans?: OtlpSpan[] }[] }[];
}

/** OTLP/JSON ids are hex in the JS exporter; the protocol spec's JSON mapping allows base64 too. */
function hexId(id: string | undefined): string {
  if (!id) return "";
  return /^[0-9a-f]+$/i.test(id) && (id.length === 32 || id.length === 16) ? id.toLowerCase() : Buffer.from(id, "base64").toString("hex");
}

function attributes(kvs: OtlpKeyValue[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of kvs) out[key] = value?.stringValue ?? value?.intValue ?? value?.doubleValue ?? value?.boolValue;
  return out;
}

/** A minimal OTLP/HTTP trace collector: every span POSTed to /v1/traces as JSON. */
function startCollector(): { server: Server; spans: ExportedSpan[]; contentTypes: Set<string> } {
  const spans: ExportedSpan[] = [];
  const contentTypes = new Set<string>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method === "POST" && req.url === "/v1/traces") {
        contentTypes.add(String(req.headers["content-type"]));
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as OtlpExport;
        for (const rs of body.resourceSpans ?? []) {
          const service = String(attributes(rs.resource?.attributes)["service.name"]);
          for (const ss of rs.scopeSpans ?? []) {
            for (const s of ss.spans ?? []) {
              spans.push({ service, traceId: hexId(s.traceId), spanId: hexId(s.spanId), parentSpanId: hexId(s.parentSpanId), name: s.name, attributes: attributes(s.attributes) });
            }
          }
        }
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  }).listen(0, "127.0.0.1");
  return { server, spans, contentTypes };
}

let collector: ReturnType<typeof startCollector>;
let install: Installation;

before(async () => {
  collector = startCollector();
  await once(collector.server, "listening");
  const port = (collector.server.address() as { port: number }).port;
  install = await startInstallation({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_BSP_SCHEDULE_DELAY: "200" } });
});
after(async () => {
  await install?.stop();
  collector?.server.close();
});

test("one message through inbound-mx → spam-filter → delivery is one trace, each consumer a child of its producer", async (ctx) => {
  const t = await smtpTransaction(install.mxPort, {
    from: "carol@good.test",
    to: ["alice@example.test"],
    helo: "sender.good.test",
    data: simpleMessage({ from: "carol@good.test", to: "alice@example.test", subject: "Traced" }),
  });
  assert.equal(t.final.code, 250, t.final.text);
  const mailId = t.queueId!;
  assert.ok(mailId, t.final.text);
  await waitFor(`message ${mailId} in alice's mailbox`, async () => (await storedMessages(install)).some((m) => m.mail_id === mailId && m.address === "alice@example.test"));

  // A graceful stop flushes every span the process ended (the SDK's shutdown exports what is batched).
  for (const name of INBOUND_SERVICES) assert.equal(await install.services.get(name)!.stop("SIGTERM"), 0, `${name} stops cleanly`);
  const spans = collector.spans;
  assert.ok([...collector.contentTypes].every((c) => c.startsWith("application/json")), [...collector.contentTypes].join());

  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const one = (what: string, match: (s: ExportedSpan) => boolean): ExportedSpan => {
    const found = spans.filter(match);
    assert.equal(found.length, 1, `one ${what}; spans: ${JSON.stringify(spans.map((s) => [s.service, s.name, s.attributes["messaging.kafka.message.key"]]))}`);
    return found[0]!;
  };
  const received = one("spam-filter span processing mail.received for the message", (s) =>
    s.service === "postline-spam-filter" && s.name === "process mail.received" && s.attributes["messaging.kafka.message.key"] === mailId,
  );
  const classified = one("delivery span processing mail.classified for the message", (s) =>
    s.service === "postline-delivery" && s.name === "process mail.classified" && s.attributes["messaging.kafka.message.key"] === mailId,
  );

  // The consumer in spam-filter is the child of inbound-mx's send span, carried in the record headers.
  const sentByMx = byId.get(received.parentSpanId);
  assert.ok(sentByMx, "the parent of spam-filter's process span was exported");
  assert.equal(sentByMx.service, "postline-inbound-mx");
  assert.equal(sentByMx.name, "send mail.received");
  assert.equal(sentByMx.attributes["messaging.destination.name"], "mail.received");

  // The consumer in delivery is the child of spam-filter's send span, itself inside the processing of mail.received.
  const sentByFilter = byId.get(classified.parentSpanId);
  assert.ok(sentByFilter, "the parent of delivery's process span was exported");
  assert.equal(sentByFilter.service, "postline-spam-filter");
  assert.equal(sentByFilter.name, "send mail.classified");
  const ancestors: ExportedSpan[] = [];
  for (let s: ExportedSpan | undefined = classified; s; s = byId.get(s.parentSpanId)) ancestors.push(s);
  assert.ok(ancestors.includes(received), `delivery's span chains back to spam-filter's: ${ancestors.map((s) => `${s.service}:${s.name}`).join(" ← ")}`);
  assert.ok(ancestors.includes(sentByMx), "and on to inbound-mx's send span");

  // One trace id for the whole journey, with spans from all three services.
  const traceId = sentByMx.traceId;
  assert.match(traceId, /^[0-9a-f]{32}$/);
  assert.notEqual(traceId, "0".repeat(32));
  for (const s of ancestors) assert.equal(s.traceId, traceId, `${s.service}:${s.name} is in the trace`);
  ctx.diagnostic(`trace ${traceId}: ${ancestors.map((s) => `${s.service}:${s.name}`).join(" ← ")}`);
  const services = new Set(spans.filter((s) => s.traceId === traceId).map((s) => s.service));
  assert.deepEqual([...services].sort(), ["postline-delivery", "postline-inbound-mx", "postline-spam-filter"]);
});
