-- Submitted messages as the spam filter counted them, one row per mail id, for the outbound rate
-- symbols (OUTBOUND_BURST, OUTBOUND_RATE_HIGH, OUTBOUND_RCPTS_HIGH; services/spam-filter/src/
-- outbound-rate.ts). In the database so every spam-filter replica counts the same messages; the
-- mail id as primary key makes a redelivered mail.submitted count once. `account` is the
-- authenticated user (client.authUser, lower-case), `submitted_at` the event's receivedAt.
-- Rows older than the longest window are of no use and are deleted now and then by the service.
CREATE TABLE outbound_rate_log (
  mail_id       text PRIMARY KEY,
  account       text NOT NULL,
  recipients    text[] NOT NULL,
  submitted_at  timestamptz NOT NULL
);
CREATE INDEX outbound_rate_log_account_time ON outbound_rate_log (account, submitted_at);
CREATE INDEX outbound_rate_log_time ON outbound_rate_log (submitted_at);
