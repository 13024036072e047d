-- One append to a mailbox as one statement (libs/mailstore/src/append.ts): what appendMessageTx did
-- in six statements, in the same order and under the same locks, so an append outside a transaction
-- is one round trip and is its own transaction.
--
--   1. the mailbox row, FOR UPDATE (appends to one mailbox are serialised; UIDs and modseqs come
--      from that row under its lock, unique and ascending in commit order);
--   2. with a mail id: the message already appended with it (checked under the lock, so a duplicate
--      never takes a UID) is returned with o_duplicate = true and nothing changes;
--   3. the next UID and modseq;
--   4. one more reference on the blob, its row created when it has none, a blob waiting for
--      collection referenced again, and a collected one (a tombstone, below) brought back, which
--      o_blob_collected reports: its content was deleted, so the caller must store it again;
--   5. the message row (after the blob row: its foreign key is checked per statement);
--   6. the size on the account's usage.
-- Locks are taken mailbox → blob → account, as removeMessages takes them.
--
-- Tombstones: the blob collector (libs/mailstore blob-gc.ts) no longer deletes the row of a blob it
-- deleted from the store; it stamps collected_at and deletes the row a day later. An append racing
-- the collector waits for the row's lock and then sees the stamp, so only a stamped row can mean
-- "content gone" and a new row means new content: the caller checks the store only then.
ALTER TABLE blobs ADD COLUMN collected_at timestamptz;
CREATE INDEX blobs_collected ON blobs (collected_at) WHERE collected_at IS NOT NULL;

--
-- A mailbox that does not exist for that account is not an error (raising one would abort the
-- caller's transaction, which an append inside IMAP COPY/MOVE must not do by itself): the result is
-- one row with o_found = false and every other column NULL; nothing was changed.
CREATE FUNCTION postline_append_message(
  p_account_id        bigint,
  p_mailbox_id        bigint,
  p_blob_hash         text,
  p_size              bigint,
  p_flags             text[],
  p_internal_date     timestamptz,
  p_mail_id           text,
  p_envelope          jsonb,
  p_bodystructure     jsonb,
  p_subject           text,
  p_from_addr         text,
  p_to_addr           text,
  p_cc_addr           text,
  p_bcc_addr          text,
  p_sent_date         timestamptz,
  p_header_message_id text,
  OUT o_found         boolean,
  OUT o_uid           bigint,
  OUT o_modseq        bigint,
  OUT o_message_id    bigint,
  OUT o_duplicate     boolean,
  OUT o_blob_collected boolean
) LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM mailboxes WHERE id = p_mailbox_id AND account_id = p_account_id FOR UPDATE;
  IF NOT FOUND THEN
    o_found := false;
    RETURN;
  END IF;
  o_found := true;

  IF p_mail_id IS NOT NULL THEN
    SELECT m.id, m.uid, m.modseq INTO o_message_id, o_uid, o_modseq
      FROM messages m WHERE m.mailbox_id = p_mailbox_id AND m.mail_id = p_mail_id;
    IF FOUND THEN
      o_duplicate := true;
      o_blob_collected := false;
      RETURN;
    END IF;
  END IF;
  o_duplicate := false;

  UPDATE mailboxes SET uidnext = uidnext + 1, highestmodseq = highestmodseq + 1
   WHERE id = p_mailbox_id
  RETURNING uidnext - 1, highestmodseq INTO o_uid, o_modseq;

  SELECT b.collected_at IS NOT NULL INTO o_blob_collected FROM blobs b WHERE b.hash = p_blob_hash FOR UPDATE;
  o_blob_collected := COALESCE(o_blob_collected, false);
  INSERT INTO blobs (hash, size, refcount) VALUES (p_blob_hash, p_size, 1)
  ON CONFLICT (hash) DO UPDATE
     SET refcount = CASE WHEN blobs.collected_at IS NULL THEN blobs.refcount ELSE 0 END + EXCLUDED.refcount,
         unreferenced_at = NULL, collected_at = NULL;

  INSERT INTO messages (mailbox_id, uid, modseq, flags, internal_date, size, blob_hash, mail_id, envelope, bodystructure,
                        subject, from_addr, to_addr, cc_addr, bcc_addr, sent_date, header_message_id)
  VALUES (p_mailbox_id, o_uid, o_modseq, COALESCE(p_flags, '{}'), p_internal_date, p_size, p_blob_hash, p_mail_id, p_envelope, p_bodystructure,
          p_subject, p_from_addr, p_to_addr, p_cc_addr, p_bcc_addr, p_sent_date, p_header_message_id)
  RETURNING id INTO o_message_id;

  UPDATE accounts SET used_bytes = used_bytes + p_size WHERE id = p_account_id;
END
$$;
