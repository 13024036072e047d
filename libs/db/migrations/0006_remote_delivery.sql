-- Remote delivery (services/delivery/src/remote): the outbound queue. A message with remote
-- recipients gets one outbound_messages row (holding one reference on its blob until every remote
-- recipient is final) and one deliveries row per remote recipient, with its destination domain.

CREATE TABLE outbound_messages (
  mail_id       text PRIMARY KEY,
  source        text NOT NULL CHECK (source IN ('inbound', 'submission', 'dsn')),
  sender        text NOT NULL,            -- envelope MAIL FROM; '' for the null sender
  blob_key      text NOT NULL,
  size          bigint NOT NULL,
  -- smtpUtf8, body, dsn {ret, envid, rcpt: {address: {notify, orcpt}}}: the envelope of mail.classified
  envelope      jsonb NOT NULL,
  received_at   timestamptz NOT NULL,
  -- After this a recipient that still fails temporarily is bounced (POSTLINE_DELIVERY_MAX_LIFETIME).
  expires_at    timestamptz NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  -- True while this row holds its reference on blob_key (blobs.refcount).
  holds_blob    boolean NOT NULL DEFAULT true
);

ALTER TABLE deliveries
  -- Remote recipients only: the destination domain (lower-case, IDNA A-label form).
  ADD COLUMN domain           text,
  -- The delivery process that owns the recipient while it waits in that process's memory or is
  -- being sent; another process takes it over once lease_expires has passed.
  ADD COLUMN lease_owner      text,
  ADD COLUMN lease_expires    timestamptz,
  -- Set when an SMTP transaction for the recipient starts, cleared with its outcome: a lease that
  -- expires with it set means the message may have been sent already (counted in resends).
  ADD COLUMN sending_since    timestamptz,
  ADD COLUMN resends          integer NOT NULL DEFAULT 0,
  ADD COLUMN remote_host      text,         -- the host (name [address]) of the last attempt
  ADD COLUMN last_attempt_at  timestamptz,
  ADD COLUMN delay_notified_at timestamptz, -- when the "delayed" DSN went out
  ADD COLUMN dsn_mail_id      text;         -- the mail id of the DSN sent for it (bounce or delay)

-- Remote recipients that are due (the sweeper) and the queue listing.
CREATE INDEX deliveries_remote_due ON deliveries (next_attempt_at) WHERE domain IS NOT NULL AND status IN ('queued', 'deferred');
CREATE INDEX deliveries_lease ON deliveries (lease_owner) WHERE lease_owner IS NOT NULL;
