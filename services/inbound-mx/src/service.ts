import type { SMTPServerOptions } from "smtp-server";
import { antispamSchema, cachedResolver, createDnsResolver, createSessionPolicy } from "@postline/antispam";
import { parseConfig, type Env } from "@postline/config";
import type { RunningService, ServiceContext, ServiceModule } from "@postline/platform";
import { Greylist, greylistCounter } from "./greylist.ts";
import { mxMetrics } from "./metrics.ts";
import type { SessionPolicy } from "./policy.ts";
import { PregreetGate } from "./pregreet.ts";
import { RecipientCache } from "./recipients.ts";
import { cachedReverseLookup, forwardConfirmedReverse } from "./reverse-dns.ts";
import { MxServer } from "./server.ts";
import { parseMxSettings, type MxSettings } from "./settings.ts";
import { certificateFor, watchCertificateFiles } from "@postline/tls";

/** Commands an MX has no use for: no AUTH on port 25, no XCLIENT/XFORWARD, none of sendmail's jokes. */
const DISABLED_COMMANDS = ["AUTH", "XCLIENT", "XFORWARD", "WIZ", "SHELL", "KILL"];

export interface InboundMxOptions {
  /** Session-time anti-spam rules; by default @postline/antispam's, configured from the environment. */
  policy?: SessionPolicy;
}

/** The inbound MX as a service module, with the session policy it should apply. */
export function createInboundMxService(options: InboundMxOptions = {}): ServiceModule {
  return {
    name: "inbound-mx",
    start: (ctx) => startInboundMx(ctx, options),
  };
}

/** The inbound MX: SMTP on port 25 for mail to local domains (settings: ./settings.ts). */
export const inboundMxService: ServiceModule = createInboundMxService();

export async function startInboundMx(ctx: ServiceContext, options: InboundMxOptions = {}): Promise<RunningService> {
  const settings = parseMxSettings(ctx.env);
  const logger = ctx.logger;
  const metrics = mxMetrics(ctx.registry);
  const tls = await certificateFor(
    { certPath: settings.POSTLINE_TLS_CERT, keyPath: settings.POSTLINE_TLS_KEY, hostname: settings.POSTLINE_HOSTNAME, stem: "mx", expiry: { registry: ctx.registry, service: "inbound-mx", listeners: ["smtp"] } },
    ctx.config,
    logger,
  );
  const dns = parseConfig(antispamSchema, ctx.env);
  const dnsServers = dns.POSTLINE_DNS_SERVERS.length > 0 ? dns.POSTLINE_DNS_SERVERS : undefined;

  const serverOptions: SMTPServerOptions = {
    name: settings.POSTLINE_HOSTNAME,
    banner: "Postline",
    size: settings.POSTLINE_MX_MAX_SIZE,
    maxRecipients: settings.POSTLINE_MX_MAX_RECIPIENTS,
    maxClients: settings.POSTLINE_MX_MAX_CONNECTIONS,
    maxCommandLength: settings.POSTLINE_MX_MAX_LINE_LENGTH,
    socketTimeout: settings.POSTLINE_MX_IDLE_TIMEOUT_MS,
    closeTimeout: Math.max(1, settings.POSTLINE_MX_SHUTDOWN_GRACE_MS),
    useProxy: settings.POSTLINE_MX_PROXY_PROTOCOL,
    disabledCommands: DISABLED_COMMANDS,
    authOptional: true,
    hideENHANCEDSTATUSCODES: false,
    hideDSN: false,
    hidePIPELINING: false,
    hide8BITMIME: false,
    hideSMTPUTF8: false,
    disableReverseLookup: true, // our own, forward-confirmed, in onConnect
    logger: false,
    key: tls.pair.key,
    cert: tls.pair.cert,
    minVersion: "TLSv1.2",
  };
  const greylist = settings.POSTLINE_GREYLIST
    ? new Greylist(
        ctx.db,
        {
          delaySeconds: settings.POSTLINE_GREYLIST_DELAY,
          retryWindowSeconds: settings.POSTLINE_GREYLIST_RETRY_WINDOW,
          rememberSeconds: settings.POSTLINE_GREYLIST_REMEMBER,
          autoAllowAfter: settings.POSTLINE_GREYLIST_AUTO_ALLOW_AFTER,
          exemptNetworks: settings.POSTLINE_GREYLIST_EXEMPT_NETWORKS,
          exemptPrivate: settings.POSTLINE_GREYLIST_EXEMPT_PRIVATE,
          failOpen: settings.POSTLINE_GREYLIST_FAIL_OPEN,
        },
        greylistCounter(ctx.registry),
        logger,
      )
    : undefined;
  greylist?.startPruning();
  const server = new MxServer(serverOptions, {
    settings,
    db: ctx.db,
    bus: ctx.bus,
    blobs: ctx.blobs,
    logger,
    metrics,
    policy: options.policy ?? sessionPolicy(ctx.env, settings, dnsServers),
    pregreet: new PregreetGate(settings.POSTLINE_MX_GREET_DELAY_MS, settings.POSTLINE_MX_GREET_PASS_TTL_MS),
    reverseLookup: settings.POSTLINE_MX_REVERSE_DNS
      ? cachedReverseLookup(forwardConfirmedReverse({ servers: dnsServers, timeoutMs: settings.POSTLINE_MX_DNS_TIMEOUT_MS }), dns.POSTLINE_DNS_CACHE_SECONDS * 1000)
      : undefined,
    recipients: new RecipientCache(settings.POSTLINE_MX_RECIPIENT_CACHE_MS),
    greylist,
  });

  const watcher = watchCertificateFiles(tls, {
    intervalMs: settings.POSTLINE_TLS_RELOAD_INTERVAL_MS,
    logger,
    reloads: metrics.tlsReloads,
    apply: (pair) => server.updateSecureContext({ key: pair.key, cert: pair.cert }),
  });

  const address = await listen(server, settings);
  logger.info({ smtp: address, proxyProtocol: settings.POSTLINE_MX_PROXY_PROTOCOL, maxSize: settings.POSTLINE_MX_MAX_SIZE }, "inbound MX listening");
  let stopping = false;
  return {
    listening: { smtp: address },
    checks: {
      smtp: async () => {
        if (stopping || !server.server.listening) throw new Error("SMTP listener is not accepting connections");
      },
    },
    async stop(options) {
      stopping = true;
      watcher?.stop();
      greylist?.stopPruning();
      // POSTLINE_MX_SHUTDOWN_GRACE_MS when set, else the process's POSTLINE_SHUTDOWN_GRACE_SECONDS.
      const grace = ctx.env.POSTLINE_MX_SHUTDOWN_GRACE_MS === undefined && options ? options.graceMs : settings.POSTLINE_MX_SHUTDOWN_GRACE_MS;
      await server.shutdown(grace);
    },
  };
}

/**
 * @postline/antispam's session checks (POSTLINE_DNSBL_ZONES at connect, SPF fail + DMARC p=reject at
 * MAIL FROM), with the DNS servers of POSTLINE_DNS_SERVERS.
 */
function sessionPolicy(env: Env, settings: MxSettings, dnsServers: string[] | undefined): SessionPolicy {
  const s = parseConfig(antispamSchema, env);
  // Every message from one sender repeats the same SPF/DMARC (and DNSBL) lookups: reuse the answers
  // for POSTLINE_DNS_CACHE_SECONDS, as the spam filter does.
  const resolver = createDnsResolver(dnsServers, { timeoutMs: settings.POSTLINE_MX_DNS_TIMEOUT_MS, tries: 1 });
  return createSessionPolicy({
    dnsblZones: s.POSTLINE_DNSBL_ZONES,
    resolver: s.POSTLINE_DNS_CACHE_SECONDS > 0 ? cachedResolver(resolver, { ttlMs: s.POSTLINE_DNS_CACHE_SECONDS * 1000 }) : resolver,
    rejectDnsblAtConnect: s.POSTLINE_SESSION_REJECT_DNSBL,
    rejectSpfFailDmarcReject: s.POSTLINE_SESSION_REJECT_SPF_DMARC,
    hostname: settings.POSTLINE_HOSTNAME,
  });
}

function listen(server: MxServer, settings: MxSettings): Promise<string> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.server.once("error", onError);
    server.listen(settings.POSTLINE_MX_PORT, settings.POSTLINE_MX_HOST, () => {
      server.server.off("error", onError);
      const a = server.server.address();
      if (!a || typeof a === "string") return resolve(String(a));
      resolve(`smtp://${a.family === "IPv6" ? `[${a.address}]` : a.address}:${a.port}`);
    });
  });
}
