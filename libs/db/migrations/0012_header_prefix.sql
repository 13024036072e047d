-- Delivery no longer writes a second blob per message. The header fields it puts on top of the
-- message as received (Return-Path, X-Postline-Spam, Authentication-Results) are kept in the message
-- row, `header_prefix`, and the blob is the received message itself: the stored message is
-- header_prefix followed by the blob's bytes, and `size` (RFC822.SIZE, the quota) counts both.
-- Readers compose the two (libs/mailstore content.ts). NULL: the blob is the whole message (IMAP
-- APPEND, and every row written before this migration).
ALTER TABLE messages ADD COLUMN header_prefix bytea;

-- postline_append_message (0011) with the prefix: p_size is still the message's size; the blob's
-- row gets the blob's own size (the message's less the prefix).
DROP FUNCTION postline_append_message(bigint, bigint, text, bigint, text[], timestamptz, text, jsonb, jsonb, text, text, text, text, text, timestamptz, text);

CREATE FUNCTION postline_append_message(
  p_account_id        bigint,
  p_mailbox_id        bigint,
  p_blob_hash         text,
  p_size              bigint,
  p_header_prefix     bytea,
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
  INSERT INTO blobs (hash, size, refcount) VALUES (p_blob_hash, p_size - COALESCE(octet_length(p_header_prefix), 0), 1)
  ON CONFLICT (hash) DO UPDATE
     SET refcount = CASE WHEN blobs.collected_at IS NULL THEN blobs.refcount ELSE 0 END + EXCLUDED.refcount,
         unreferenced_at = NULL, collected_at = NULL;

  INSERT INTO messages (mailbox_id, uid, modseq, flags, internal_date, size, blob_hash, header_prefix, mail_id, envelope, bodystructure,
                        subject, from_addr, to_addr, cc_addr, bcc_addr, sent_date, header_message_id)
  VALUES (p_mailbox_id, o_uid, o_modseq, COALESCE(p_flags, '{}'), p_internal_date, p_size, p_blob_hash, p_header_prefix, p_mail_id, p_envelope, p_bodystructure,
          p_subject, p_from_addr, p_to_addr, p_cc_addr, p_bcc_addr, p_sent_date, p_header_message_id)
  RETURNING id INTO o_message_id;

  UPDATE accounts SET used_bytes = used_bytes + p_size WHERE id = p_account_id;
END
$$;
