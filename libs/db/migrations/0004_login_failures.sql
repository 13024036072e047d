-- Failed-login throttling (services/imap-pop3 src/auth). Shared by every imap-pop3 process, so a
-- password guesser cannot multiply its allowance by spreading attempts over the pods behind a
-- load balancer. One row per throttled key: an account login name, or a client address (an IPv4
-- address or an IPv6 /64).
CREATE TABLE login_failures (
  scope              text NOT NULL CHECK (scope IN ('account', 'ip')),
  key                text NOT NULL,
  -- Failures counted in the current window, which began at window_started_at.
  failures           integer NOT NULL DEFAULT 0,
  window_started_at  timestamptz NOT NULL DEFAULT now(),
  -- Lockouts in a row: each doubles the next lockout's length (reset after a quiet window).
  lockouts           integer NOT NULL DEFAULT 0,
  -- Attempts before this instant are refused without checking the password.
  locked_until       timestamptz,
  updated_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, key)
);
CREATE INDEX login_failures_updated ON login_failures (updated_at);
