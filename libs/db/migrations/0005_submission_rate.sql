-- Messages accepted by the submission service, one row each, for the per-account hourly limit
-- (POSTLINE_SUBMISSION_MAX_PER_HOUR). In the database so every submission pod counts the same
-- messages; rows older than an hour are of no use and are deleted now and then by the service.
CREATE TABLE submission_log (
  id            bigserial PRIMARY KEY,
  account_id    bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  mail_id       text NOT NULL,
  submitted_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX submission_log_account_time ON submission_log (account_id, submitted_at);
CREATE INDEX submission_log_time ON submission_log (submitted_at);
