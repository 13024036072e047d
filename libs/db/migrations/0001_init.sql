-- Postline metadata schema. Addresses and domain names are stored lower-cased (domains as A-labels).

CREATE TABLE domains (
  id          bigserial PRIMARY KEY,
  name        text NOT NULL UNIQUE CHECK (name = lower(name)),
  -- Address that receives mail for unknown local parts of this domain, or NULL for none.
  catch_all   text,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE accounts (
  id             bigserial PRIMARY KEY,
  domain_id      bigint NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
  local_part     text NOT NULL,
  address        text NOT NULL UNIQUE CHECK (address = lower(address)),
  password_hash  text NOT NULL,            -- argon2id, PHC string format
  quota_bytes    bigint CHECK (quota_bytes IS NULL OR quota_bytes >= 0),  -- NULL: unlimited
  used_bytes     bigint NOT NULL DEFAULT 0,
  disabled       boolean NOT NULL DEFAULT false,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (domain_id, local_part)
);

CREATE TABLE aliases (
  id           bigserial PRIMARY KEY,
  domain_id    bigint NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
  source       text NOT NULL CHECK (source = lower(source)),
  destination  text NOT NULL CHECK (destination = lower(destination)),
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (source, destination)
);
CREATE INDEX aliases_source ON aliases (source);

CREATE TABLE mailboxes (
  id             bigserial PRIMARY KEY,
  account_id     bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name           text NOT NULL,            -- full hierarchical name, '/' delimited, UTF-8
  special_use    text CHECK (special_use IN ('\All', '\Archive', '\Drafts', '\Flagged', '\Junk', '\Sent', '\Trash')),
  uidvalidity    bigint NOT NULL,
  uidnext        bigint NOT NULL DEFAULT 1,
  highestmodseq  bigint NOT NULL DEFAULT 1,
  subscribed     boolean NOT NULL DEFAULT true,
  created_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (account_id, name)
);

-- Message bodies live in the blob store under their sha256; this row counts who refers to one.
CREATE TABLE blobs (
  hash             text PRIMARY KEY CHECK (hash ~ '^[0-9a-f]{64}$'),
  size             bigint NOT NULL,
  refcount         integer NOT NULL DEFAULT 0 CHECK (refcount >= 0),
  created_at       timestamptz NOT NULL DEFAULT now(),
  -- Set when refcount reaches 0; the collector deletes blobs unreferenced for longer than a grace period.
  unreferenced_at  timestamptz
);
CREATE INDEX blobs_unreferenced ON blobs (unreferenced_at) WHERE refcount = 0;

CREATE TABLE messages (
  id              bigserial PRIMARY KEY,
  mailbox_id      bigint NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
  uid             bigint NOT NULL,
  modseq          bigint NOT NULL,
  flags           text[] NOT NULL DEFAULT '{}',
  internal_date   timestamptz NOT NULL,
  size            bigint NOT NULL,
  blob_hash       text NOT NULL REFERENCES blobs(hash),
  mail_id         text,                     -- ULID of the accepted message (event key), when it came through the bus
  envelope        jsonb,                    -- cached IMAP ENVELOPE
  bodystructure   jsonb,                    -- cached IMAP BODYSTRUCTURE
  -- Header fields SEARCH and SORT need, decoded to UTF-8.
  subject         text,
  from_addr       text,
  to_addr         text,
  cc_addr         text,
  bcc_addr        text,
  sent_date       timestamptz,
  header_message_id text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (mailbox_id, uid)
);
CREATE INDEX messages_mailbox_modseq ON messages (mailbox_id, modseq);
CREATE INDEX messages_blob ON messages (blob_hash);
-- A redelivered event never creates a second copy in the same mailbox.
CREATE UNIQUE INDEX messages_mail_id_once ON messages (mailbox_id, mail_id) WHERE mail_id IS NOT NULL;

-- One row per (accepted message, recipient): the queue's state and the idempotency key of delivery.
CREATE TABLE deliveries (
  id               bigserial PRIMARY KEY,
  mail_id          text NOT NULL,
  recipient        text NOT NULL,
  sender           text NOT NULL DEFAULT '',
  status           text NOT NULL CHECK (status IN ('queued', 'deferred', 'delivered', 'bounced', 'quarantined', 'deleted')),
  attempts         integer NOT NULL DEFAULT 0,
  last_error       text,
  next_attempt_at  timestamptz,
  remote_reply     text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (mail_id, recipient)
);
CREATE INDEX deliveries_status ON deliveries (status, next_attempt_at);

CREATE TABLE dkim_keys (
  id           bigserial PRIMARY KEY,
  domain_id    bigint NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
  selector     text NOT NULL,
  algorithm    text NOT NULL CHECK (algorithm IN ('rsa-sha256', 'ed25519-sha256')),
  private_key  text NOT NULL,              -- PKCS#8 PEM
  public_key   text NOT NULL,              -- base64 for the p= tag
  active       boolean NOT NULL DEFAULT true,
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (domain_id, selector)
);
