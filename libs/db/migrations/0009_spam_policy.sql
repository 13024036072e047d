-- Sender reputation, allow/block lists, reply tracking and the per-message verdict record of the
-- spam filter (services/spam-filter/src/policy/, docs/spam-filter.md "Reputation, lists and reply
-- tracking"). Lists are managed through libs/directory (admin API, `postline spam allow|block`).

-- Allow and block lists. An entry belongs either to one account (its own list) or to one local
-- domain (the list the domain's operator keeps for every account of the domain). `type` says what
-- `value` is: an address (user@example.com), a domain (example.com exactly, *.example.com for it
-- and every subdomain) or an IP network (`network`, a single address being a /32 or /128).
CREATE TABLE spam_list_entries (
  id          bigserial PRIMARY KEY,
  account_id  bigint REFERENCES accounts(id) ON DELETE CASCADE,
  domain_id   bigint REFERENCES domains(id) ON DELETE CASCADE,
  kind        text NOT NULL CHECK (kind IN ('allow', 'block')),
  type        text NOT NULL CHECK (type IN ('address', 'domain', 'ip')),
  value       text NOT NULL CHECK (value = lower(value)),
  network     cidr,
  comment     text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  CHECK ((account_id IS NULL) <> (domain_id IS NULL)),
  CHECK ((type = 'ip') = (network IS NOT NULL))
);
CREATE UNIQUE INDEX spam_list_entries_account_value ON spam_list_entries (account_id, kind, value) WHERE account_id IS NOT NULL;
CREATE UNIQUE INDEX spam_list_entries_domain_value ON spam_list_entries (domain_id, kind, value) WHERE domain_id IS NOT NULL;

-- Good and bad verdicts of inbound mail per sender key: `ip` (an IPv4 /24 or IPv6 /64 network),
-- `domain` (an authenticated sender domain: SPF-pass MAIL FROM or DMARC-pass From), `dkim` (a
-- DKIM-passing signing domain). Counts are halved when their sum reaches a cap, so old behaviour
-- fades; rows not updated for a long time are deleted.
CREATE TABLE spam_reputation (
  kind        text NOT NULL CHECK (kind IN ('ip', 'domain', 'dkim')),
  key         text NOT NULL,
  good        integer NOT NULL DEFAULT 0 CHECK (good >= 0),
  bad         integer NOT NULL DEFAULT 0 CHECK (bad >= 0),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (kind, key)
);
CREATE INDEX spam_reputation_updated ON spam_reputation (updated_at);

-- The addresses each account sent mail to (envelope recipients of its submitted mail), for
-- REPLY_TRUSTED. Bounded: the oldest beyond a per-account maximum and those older than a maximum
-- age are deleted.
CREATE TABLE spam_reply_contacts (
  account_id    bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  address       text NOT NULL CHECK (address = lower(address)),
  last_sent_at  timestamptz NOT NULL,
  PRIMARY KEY (account_id, address)
);
CREATE INDEX spam_reply_contacts_account_time ON spam_reply_contacts (account_id, last_sent_at);
CREATE INDEX spam_reply_contacts_time ON spam_reply_contacts (last_sent_at);

-- The explainable verdict of every classified message, one row per mail id (a re-classified
-- message replaces its row): the message-level verdict, its symbols with scores and details, the
-- verdict of each recipient account, and the Authentication-Results value. Deleted after
-- POSTLINE_SPAM_VERDICT_RETENTION_DAYS.
CREATE TABLE spam_verdicts (
  mail_id        text PRIMARY KEY,
  source         text NOT NULL CHECK (source IN ('inbound', 'submission')),
  action         text NOT NULL,
  score          double precision NOT NULL,
  symbols        jsonb NOT NULL,
  accounts       jsonb NOT NULL DEFAULT '[]',
  auth_results   text NOT NULL,
  mail_from      text NOT NULL,
  recipients     text[] NOT NULL,
  client_ip      text NOT NULL,
  classified_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX spam_verdicts_time ON spam_verdicts (classified_at);
