// The Grafana dashboards, as code. `node --import tsx test/observability/generate-dashboards.ts`
// writes them to deploy/grafana/*.json (and the Helm chart's copy); prometheus.test.ts checks the
// files are what this produces and evaluates every query on a live Prometheus.

export const SERVICES_JOB_RE = ".*(postline|inbound-mx|submission|spam-filter|delivery|imap-pop3|admin-api).*";
const F = 'instance=~"$instance"';
const RI = "$__rate_interval";

interface Target {
  expr: string;
  legendFormat: string;
  refId: string;
  instant?: boolean;
}

type Unit = "short" | "s" | "ops" | "reqps" | "bytes" | "Bps" | "percentunit" | "percent" | "dtdurations" | "none";

interface PanelSpec {
  title: string;
  description?: string;
  kind?: "timeseries" | "stat" | "table" | "bargauge";
  unit?: Unit;
  width?: number;
  stack?: boolean;
  targets: Array<[expr: string, legend: string]>;
  thresholds?: Array<[value: number | null, color: string]>;
}

interface Section {
  row: string;
  panels: PanelSpec[];
}

/** rate(<metric>{<instance filter>, extra}[$__rate_interval]) */
const rate = (metric: string, extra = "") => `rate(${metric}{${[F, extra].filter(Boolean).join(", ")}}[${RI}])`;
const sel = (metric: string, extra = "") => `${metric}{${[F, extra].filter(Boolean).join(", ")}}`;
const quantile = (q: number, histogram: string, by: string[] = [], extra = "") =>
  `histogram_quantile(${q}, sum by (${["le", ...by].join(", ")}) (${rate(`${histogram}_bucket`, extra)}))`;
const pct = (by: string[], histogram: string, extra = ""): Array<[string, string]> => {
  const label = by.map((b) => `{{${b}}} `).join("");
  return [
    [quantile(0.5, histogram, by, extra), `${label}p50`],
    [quantile(0.99, histogram, by, extra), `${label}p99`],
  ];
};

function panel(spec: PanelSpec, id: number, x: number, y: number): Record<string, unknown> {
  const kind = spec.kind ?? "timeseries";
  const width = spec.width ?? 12;
  const targets: Target[] = spec.targets.map(([expr, legendFormat], i) => ({
    datasource: { type: "prometheus", uid: "${datasource}" },
    expr,
    legendFormat,
    refId: String.fromCharCode(65 + i),
    ...(kind === "stat" || kind === "table" || kind === "bargauge" ? { instant: true, range: false } : { range: true }),
  })) as Target[];
  return {
    id,
    type: kind,
    title: spec.title,
    ...(spec.description ? { description: spec.description } : {}),
    datasource: { type: "prometheus", uid: "${datasource}" },
    gridPos: { h: kind === "stat" ? 5 : 8, w: width, x, y },
    fieldConfig: {
      defaults: {
        unit: spec.unit ?? "short",
        ...(spec.thresholds
          ? { thresholds: { mode: "absolute", steps: spec.thresholds.map(([value, color]) => ({ value, color })) } }
          : {}),
        ...(kind === "timeseries" ? { custom: { drawStyle: "line", fillOpacity: spec.stack ? 40 : 10, lineWidth: 1, showPoints: "never", stacking: { mode: spec.stack ? "normal" : "none", group: "A" } } } : {}),
      },
      overrides: [],
    },
    options:
      kind === "timeseries"
        ? { legend: { displayMode: "table", placement: "bottom", showLegend: true, calcs: ["lastNotNull", "max"] }, tooltip: { mode: "multi", sort: "desc" } }
        : kind === "stat"
          ? { reduceOptions: { calcs: ["lastNotNull"], fields: "", values: false }, colorMode: "value", graphMode: "none", textMode: "auto" }
          : kind === "bargauge"
            ? { reduceOptions: { calcs: ["lastNotNull"], fields: "", values: false }, displayMode: "basic", orientation: "horizontal", showUnfilled: true }
            : { showHeader: true },
    targets,
  };
}

function dashboard(uid: string, title: string, description: string, sections: Section[]): Record<string, unknown> {
  const panels: Record<string, unknown>[] = [];
  let id = 1;
  let y = 0;
  for (const section of sections) {
    panels.push({ id: id++, type: "row", title: section.row, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const spec of section.panels) {
      const w = spec.width ?? 12;
      const h = (spec.kind ?? "timeseries") === "stat" ? 5 : 8;
      if (x + w > 24) {
        x = 0;
        y += rowHeight;
        rowHeight = 0;
      }
      panels.push(panel(spec, id++, x, y));
      x += w;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight;
  }
  return {
    uid,
    title,
    description,
    tags: ["postline"],
    editable: true,
    graphTooltip: 1,
    refresh: "30s",
    schemaVersion: 39,
    version: 1,
    time: { from: "now-6h", to: "now" },
    timepicker: {},
    timezone: "browser",
    annotations: { list: [] },
    links: [{ type: "dashboards", tags: ["postline"], asDropdown: true, title: "Postline", includeVars: true, keepTime: true }],
    templating: {
      list: [
        { name: "datasource", label: "Data source", type: "datasource", query: "prometheus", current: {}, hide: 0, refresh: 1, regex: "", options: [] },
        {
          name: "instance",
          label: "Instance",
          type: "query",
          datasource: { type: "prometheus", uid: "${datasource}" },
          definition: `label_values(up{job=~"${SERVICES_JOB_RE}"}, instance)`,
          query: { query: `label_values(up{job=~"${SERVICES_JOB_RE}"}, instance)`, refId: "instance" },
          refresh: 2,
          multi: true,
          includeAll: true,
          allValue: ".+",
          current: { selected: true, text: ["All"], value: ["$__all"] },
          hide: 0,
          sort: 1,
          options: [],
          regex: "",
        },
      ],
    },
    panels,
  };
}

const up = `up{job=~"${SERVICES_JOB_RE}", ${F}}`;
const remoteRecipients = "postline_delivery_remote_recipients_total";
const queue = `max by (state) (${sel("postline_delivery_queue_recipients")})`;
const lagByGroup = `sum by (group, topic) (max by (group, topic, partition) (${sel("postline_bus_consumer_lag")}))`;
const certDays = (service: string) => `(min by (service, listener) (${sel("postline_tls_certificate_expiry_timestamp_seconds", `service=~"${service}"`)}) - time())`;

const overview = dashboard("postline-overview", "Postline / Overview", "Mail flow through the whole installation: in, classified, delivered, queued.", [
  {
    row: "Health",
    panels: [
      { title: "Service instances up", kind: "stat", width: 8, targets: [[`sum by (job) (${up})`, "{{job}}"]], thresholds: [[null, "red"], [1, "green"]] },
      { title: "Outbound queue", kind: "stat", width: 8, targets: [[`sum(${queue})`, "recipients"]], thresholds: [[null, "green"], [1000, "orange"]] },
      { title: "Consumer lag (records)", kind: "stat", width: 8, targets: [[`sum(${lagByGroup})`, "lag"]], thresholds: [[null, "green"], [1000, "orange"]] },
    ],
  },
  {
    row: "Mail flow",
    panels: [
      {
        title: "Mail in and out (messages/s)",
        unit: "ops",
        targets: [
          [`sum(${rate("postline_inbound_mx_messages_total", 'result="accepted"')})`, "received (inbound-mx)"],
          [`sum(${rate("postline_submission_messages_total", 'result="accepted"')})`, "submitted"],
          [`sum(${rate("postline_delivery_deliveries_total", 'outcome=~"inbox|junk"')})`, "delivered to mailboxes (recipients)"],
          [`sum(${rate(remoteRecipients, 'outcome="delivered"')})`, "delivered remote (recipients)"],
        ],
      },
      { title: "Spam verdicts", unit: "ops", stack: true, targets: [[`sum by (action, source) (${rate("postline_spam_filter_verdicts_total")})`, "{{source}} {{action}}"]] },
      { title: "Local delivery outcomes", unit: "ops", stack: true, targets: [[`sum by (outcome) (${rate("postline_delivery_deliveries_total")})`, "{{outcome}}"]] },
      { title: "Remote delivery outcomes", unit: "ops", stack: true, targets: [[`sum by (outcome) (${rate(remoteRecipients)})`, "{{outcome}}"]] },
      { title: "Outbound queue by state", targets: [[queue, "{{state}}"]] },
      { title: "Consumer lag by group", targets: [[lagByGroup, "{{group}} ← {{topic}}"]] },
    ],
  },
  {
    row: "Latency",
    panels: [
      {
        title: "End to end: accepted → in the mailbox",
        description: "From the message's acceptance (inbound-mx or submission) to its copy stored in a mailbox.",
        unit: "s",
        targets: [
          [quantile(0.5, "postline_delivery_latency_seconds"), "p50"],
          [quantile(0.9, "postline_delivery_latency_seconds"), "p90"],
          [quantile(0.99, "postline_delivery_latency_seconds"), "p99"],
        ],
      },
      {
        title: "End to end: accepted → accepted by the remote MX",
        unit: "s",
        targets: [
          [quantile(0.5, "postline_delivery_remote_latency_seconds"), "p50"],
          [quantile(0.9, "postline_delivery_remote_latency_seconds"), "p90"],
          [quantile(0.99, "postline_delivery_remote_latency_seconds"), "p99"],
        ],
      },
      { title: "Spam classification time", unit: "s", targets: pct(["source"], "postline_spam_filter_classify_seconds") },
      {
        title: "SMTP commit time (DATA → reply)",
        unit: "s",
        targets: [
          [quantile(0.99, "postline_inbound_mx_commit_seconds"), "inbound-mx p99"],
          [quantile(0.99, "postline_submission_commit_seconds"), "submission p99"],
        ],
      },
    ],
  },
]);

const smtp = dashboard("postline-smtp", "Postline / SMTP", "inbound-mx (port 25) and submission (587/465).", [
  {
    row: "Sessions",
    panels: [
      {
        title: "Sessions started",
        unit: "ops",
        targets: [
          [`sum by (result) (${rate("postline_inbound_mx_sessions_total")})`, "inbound-mx {{result}}"],
          [`sum(${rate("postline_submission_sessions_total")})`, "submission"],
        ],
      },
      {
        title: "Sessions open",
        targets: [
          [`sum(${sel("postline_inbound_mx_sessions_active")})`, "inbound-mx"],
          [`sum(${sel("postline_submission_sessions_active")})`, "submission"],
        ],
      },
      { title: "inbound-mx commands", unit: "ops", stack: true, targets: [[`sum by (command) (${rate("postline_inbound_mx_commands_total")})`, "{{command}}"]] },
      {
        title: "Replies by code",
        unit: "ops",
        targets: [
          [`sum by (code) (${rate("postline_inbound_mx_replies_total")})`, "inbound-mx {{code}}"],
          [`sum by (code) (${rate("postline_submission_replies_total")})`, "submission {{code}}"],
        ],
      },
    ],
  },
  {
    row: "Messages",
    panels: [
      {
        title: "Messages accepted and rejected",
        unit: "ops",
        targets: [
          [`sum by (result, reason) (${rate("postline_inbound_mx_messages_total")})`, "inbound-mx {{result}} {{reason}}"],
          [`sum by (result, reason) (${rate("postline_submission_messages_total")})`, "submission {{result}} {{reason}}"],
        ],
      },
      { title: "inbound-mx recipients (RCPT decisions)", unit: "ops", stack: true, targets: [[`sum by (result) (${rate("postline_inbound_mx_recipients_total")})`, "{{result}}"]] },
      {
        title: "Bytes accepted",
        unit: "Bps",
        targets: [
          [`sum(${rate("postline_inbound_mx_received_bytes_total")})`, "inbound-mx"],
          [`sum(${rate("postline_submission_bytes_total")})`, "submission"],
        ],
      },
      { title: "inbound-mx message size", unit: "bytes", targets: pct([], "postline_inbound_mx_message_size_bytes") },
      {
        title: "Commit time (DATA → 250)",
        unit: "s",
        targets: [
          [quantile(0.5, "postline_inbound_mx_commit_seconds"), "inbound-mx p50"],
          [quantile(0.99, "postline_inbound_mx_commit_seconds"), "inbound-mx p99"],
          [quantile(0.5, "postline_submission_commit_seconds"), "submission p50"],
          [quantile(0.99, "postline_submission_commit_seconds"), "submission p99"],
        ],
      },
      { title: "Submission DKIM signing", unit: "ops", targets: [[`sum by (result) (${rate("postline_submission_dkim_total")})`, "{{result}}"]] },
    ],
  },
  {
    row: "Authentication and TLS",
    panels: [
      { title: "Submission authentication failures", unit: "ops", targets: [[`sum by (mechanism) (${rate("postline_submission_auth_failures_total")})`, "{{mechanism}}"]] },
      {
        title: "Certificate expires in",
        kind: "bargauge",
        unit: "dtdurations",
        targets: [[certDays("inbound-mx|submission"), "{{service}} {{listener}}"]],
        thresholds: [[null, "red"], [14 * 86400, "orange"], [30 * 86400, "green"]],
      },
    ],
  },
]);

const mailboxes = dashboard("postline-imap-pop3", "Postline / IMAP and POP3", "Mailbox access: imap-pop3.", [
  {
    row: "Sessions",
    panels: [
      {
        title: "Sessions started",
        unit: "ops",
        targets: [
          [`sum by (result) (${rate("postline_imap_sessions_total")})`, "IMAP {{result}}"],
          [`sum(${rate("postline_pop3_sessions_total")})`, "POP3"],
        ],
      },
      {
        title: "Sessions open",
        targets: [
          [`sum(${sel("postline_imap_sessions_active")})`, "IMAP"],
          [`sum(${sel("postline_pop3_sessions_active")})`, "POP3"],
        ],
      },
    ],
  },
  {
    row: "Commands",
    panels: [
      { title: "IMAP commands", unit: "ops", stack: true, targets: [[`sum by (command) (${rate("postline_imap_commands_total")})`, "{{command}}"]] },
      { title: "IMAP replies by status", unit: "ops", stack: true, targets: [[`sum by (status) (${rate("postline_imap_commands_total")})`, "{{status}}"]] },
      { title: "IMAP command latency", unit: "s", targets: pct(["command"], "postline_imap_command_seconds") },
      { title: "POP3 commands", unit: "ops", stack: true, targets: [[`sum by (command) (${rate("postline_pop3_commands_total")})`, "{{command}}"]] },
      { title: "POP3 command latency", unit: "s", targets: pct(["command"], "postline_pop3_command_seconds") },
    ],
  },
  {
    row: "Authentication and TLS",
    panels: [
      {
        title: "Authentication failures",
        unit: "ops",
        targets: [
          [`sum by (reason) (${rate("postline_imap_auth_failures_total")})`, "IMAP {{reason}}"],
          [`sum by (reason) (${rate("postline_pop3_auth_failures_total")})`, "POP3 {{reason}}"],
        ],
      },
      {
        title: "Certificate expires in",
        kind: "bargauge",
        unit: "dtdurations",
        targets: [[certDays("imap-pop3"), "{{listener}}"]],
        thresholds: [[null, "red"], [14 * 86400, "orange"], [30 * 86400, "green"]],
      },
    ],
  },
]);

const delivery = dashboard("postline-delivery", "Postline / Delivery", "Local and remote delivery, the outbound queue, retries and DSNs.", [
  {
    row: "Remote delivery",
    panels: [
      { title: "Remote SMTP attempts by result", unit: "ops", stack: true, targets: [[`sum by (result) (${rate("postline_delivery_remote_attempts_total")})`, "{{result}}"]] },
      { title: "Remote recipients by outcome", unit: "ops", stack: true, targets: [[`sum by (outcome) (${rate(remoteRecipients)})`, "{{outcome}}"]] },
      {
        title: "Deferred and bounced share",
        unit: "percentunit",
        targets: [[`sum(${rate(remoteRecipients, 'outcome=~"deferred|bounced"')}) / sum(${rate(remoteRecipients)})`, "failed share"]],
      },
      {
        title: "Deferred and bounced (in range)",
        kind: "stat",
        targets: [[`sum by (outcome) (increase(${sel(remoteRecipients, 'outcome=~"deferred|bounced"')}[$__range]))`, "{{outcome}}"]],
      },
      { title: "Outbound queue by state", targets: [[queue, "{{state}}"]] },
      {
        title: "Resends (possible duplicates after a crash)",
        unit: "short",
        targets: [[`sum(increase(${sel("postline_delivery_remote_resends_total")}[$__rate_interval]))`, "resends"]],
      },
      { title: "DSNs sent, by action", unit: "ops", stack: true, targets: [[`sum by (action) (${rate("postline_delivery_dsn_total")})`, "{{action}}"]] },
      {
        title: "Message age at remote delivery",
        unit: "s",
        targets: [
          [quantile(0.5, "postline_delivery_remote_latency_seconds"), "p50"],
          [quantile(0.9, "postline_delivery_remote_latency_seconds"), "p90"],
          [quantile(0.99, "postline_delivery_remote_latency_seconds"), "p99"],
        ],
      },
    ],
  },
  {
    row: "Local delivery",
    panels: [
      { title: "Local deliveries by outcome", unit: "ops", stack: true, targets: [[`sum by (outcome) (${rate("postline_delivery_deliveries_total")})`, "{{outcome}}"]] },
      {
        title: "Message age at local delivery",
        unit: "s",
        targets: [
          [quantile(0.5, "postline_delivery_latency_seconds"), "p50"],
          [quantile(0.99, "postline_delivery_latency_seconds"), "p99"],
        ],
      },
      {
        title: "Over quota, blobs collected",
        unit: "ops",
        targets: [
          [`sum(${rate("postline_delivery_over_quota_total")})`, "stored over quota"],
          [`sum(${rate("postline_delivery_blobs_collected_total")})`, "blobs collected"],
        ],
      },
    ],
  },
]);

const infrastructure = dashboard("postline-infrastructure", "Postline / Infrastructure", "Kafka, PostgreSQL, object storage and the Node processes.", [
  {
    row: "Bus (Kafka)",
    panels: [
      { title: "Consumer lag by group and partition", targets: [[`max by (group, topic, partition) (${sel("postline_bus_consumer_lag")})`, "{{group}} {{topic}}[{{partition}}]"]] },
      { title: "Record age when handled (p99)", unit: "s", targets: [[quantile(0.99, "postline_bus_record_age_seconds", ["group", "topic"]), "{{group}} ← {{topic}}"]] },
      { title: "Produce latency", unit: "s", targets: pct(["topic"], "postline_bus_produce_seconds") },
      { title: "Handle latency", unit: "s", targets: pct(["group", "topic"], "postline_bus_handle_seconds") },
      {
        title: "Handler errors",
        description: "Zero when no handler failed (the counter only appears after the first error).",
        unit: "ops",
        targets: [[`sum by (group, topic) (${rate("postline_bus_handler_errors_total")}) or vector(0)`, "{{group}} ← {{topic}}"]],
      },
      { title: "Records handled", unit: "ops", targets: [[`sum by (group, topic) (${rate("postline_bus_handle_seconds_count")})`, "{{group}} ← {{topic}}"]] },
    ],
  },
  {
    row: "Database and object storage",
    panels: [
      { title: "Database query latency", unit: "s", targets: pct(["kind"], "postline_db_query_seconds") },
      { title: "Database pool connections", targets: [[`sum by (state) (${sel("postline_db_pool_connections")})`, "{{state}}"]] },
      { title: "Blob store operation latency", unit: "s", targets: pct(["op"], "postline_blob_op_seconds") },
      { title: "Blob store bytes", unit: "Bps", targets: [[`sum by (direction) (${rate("postline_blob_bytes_total")})`, "{{direction}}"]] },
    ],
  },
  {
    row: "Processes",
    panels: [
      { title: "Up", targets: [[up, "{{job}} {{instance}}"]] },
      { title: "CPU", unit: "percentunit", targets: [[`sum by (job, instance) (${rate("postline_process_cpu_seconds_total")})`, "{{job}} {{instance}}"]] },
      { title: "Resident memory", unit: "bytes", targets: [[`sum by (job, instance) (${sel("postline_process_resident_memory_bytes")})`, "{{job}} {{instance}}"]] },
      { title: "Heap used", unit: "bytes", targets: [[`sum by (job, instance) (${sel("postline_nodejs_heap_size_used_bytes")})`, "{{job}} {{instance}}"]] },
      { title: "Event loop lag p99", unit: "s", targets: [[`max by (job, instance) (${sel("postline_nodejs_eventloop_lag_p99_seconds")})`, "{{job}} {{instance}}"]] },
      { title: "Open file descriptors", targets: [[`sum by (job, instance) (${sel("postline_process_open_fds")})`, "{{job}} {{instance}}"]] },
    ],
  },
]);

const spam = dashboard("postline-spam", "Postline / Spam filter", "spam-filter: verdicts, the rules that fire, classification time, and what the Bayes models learn and expire.", [
  {
    row: "Verdicts",
    panels: [
      { title: "Verdicts by action", unit: "ops", stack: true, targets: [[`sum by (action, source) (${rate("postline_spam_filter_verdicts_total")})`, "{{source}} {{action}}"]] },
      {
        title: "Symbol hits (top 15)",
        description: "The rules that fire most, per second. A symbol that suddenly fires on much of the traffic is a rule (or a sender) to look at.",
        unit: "ops",
        targets: [[`topk(15, sum by (symbol) (${rate("postline_spam_filter_symbol_hits_total")}))`, "{{symbol}}"]],
      },
      { title: "Classification time", unit: "s", targets: pct(["source"], "postline_spam_filter_classify_seconds") },
      {
        title: "Rule errors and missing blobs",
        unit: "ops",
        targets: [
          [`sum by (rule) (${rate("postline_spam_filter_rule_errors_total")}) or vector(0)`, "rule error {{rule}}"],
          [`sum(${rate("postline_spam_filter_missing_blobs_total")}) or vector(0)`, "missing blob"],
        ],
      },
    ],
  },
  {
    row: "Learning",
    panels: [
      {
        title: "Autolearn (global model)",
        description: "Inbound verdicts learned into the global model: spam above POSTLINE_SPAM_AUTOLEARN_SPAM_SCORE, ham below POSTLINE_SPAM_AUTOLEARN_HAM_SCORE (Bayes symbols left out).",
        unit: "ops",
        targets: [[`sum by (class, outcome) (${rate("postline_spam_autolearn_total")}) or vector(0)`, "{{class}} {{outcome}}"]],
      },
      {
        title: "Learned from users' Junk moves",
        description: "Moves into Junk learn spam, moves out learn ham; relearned = a correction of the other class.",
        unit: "ops",
        targets: [[`sum by (model, class, outcome) (${rate("postline_spam_learner_messages_total")}) or vector(0)`, "{{model}} {{class}} {{outcome}}"]],
      },
      {
        title: "Bayes expiry (per hour)",
        description: "Rare old tokens and old learned-message records dropped (every POSTLINE_SPAM_BAYES_EXPIRE_INTERVAL_SECONDS).",
        targets: [[`sum by (kind) (increase(${sel("postline_spam_bayes_expired_total")}[1h])) or vector(0)`, "{{kind}}"]],
      },
    ],
  },
]);

/** File name (in deploy/grafana/) → dashboard JSON model. */
export function dashboards(): Record<string, Record<string, unknown>> {
  return {
    "postline-overview.json": overview,
    "postline-smtp.json": smtp,
    "postline-imap-pop3.json": mailboxes,
    "postline-delivery.json": delivery,
    "postline-spam.json": spam,
    "postline-infrastructure.json": infrastructure,
  };
}

export function renderDashboard(model: Record<string, unknown>): string {
  return `${JSON.stringify(model, null, 2)}\n`;
}
