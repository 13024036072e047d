-- Local delivery (services/delivery, libs/mailstore): quarantine, and the tombstones of expunged
-- messages that CONDSTORE/QRESYNC report as VANISHED.

-- Mail the spam filter's verdict kept away from the mailboxes ('quarantine', or 'reject' after the
-- message was already accepted: never a bounce to a possibly forged sender). One row a message; it
-- holds one reference on the received blob (blobs.refcount) until it is discarded, or released and
-- delivered.
CREATE TABLE quarantine (
  mail_id        text PRIMARY KEY,
  source         text NOT NULL CHECK (source IN ('inbound', 'submission')),
  sender         text NOT NULL,            -- envelope MAIL FROM; '' for the null sender
  recipients     text[] NOT NULL,          -- envelope RCPT TO
  action         text NOT NULL CHECK (action IN ('quarantine', 'reject')),
  score          double precision NOT NULL,
  verdict        jsonb NOT NULL,           -- the verdict as classified: action, score, symbols, authResults
  event          jsonb NOT NULL,           -- the whole mail.classified event, re-published on release
  blob_key       text NOT NULL,
  size           bigint NOT NULL,
  -- Header fields for listing, decoded to UTF-8 (NULL when absent).
  subject        text,
  from_addr      text,
  received_at    timestamptz NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  released_at    timestamptz,
  released_by    text,
  -- True while this row holds its reference on blob_key.
  holds_blob     boolean NOT NULL DEFAULT true
);
CREATE INDEX quarantine_held ON quarantine (mail_id) WHERE released_at IS NULL;

-- Expunged UIDs with the modseq of their expunge (RFC 7162 VANISHED (EARLIER)).
CREATE TABLE expunged_messages (
  mailbox_id  bigint NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
  uid         bigint NOT NULL,
  modseq      bigint NOT NULL,
  expunged_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (mailbox_id, uid)
);
CREATE INDEX expunged_messages_modseq ON expunged_messages (mailbox_id, modseq);
