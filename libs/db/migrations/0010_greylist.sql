-- Greylisting in inbound-mx (services/inbound-mx/src/greylist.ts), shared by every MX replica.
--
-- One row per triplet: the client network (IPv4 /24 or IPv6 /64, as text, e.g. '192.0.2.0/24'),
-- the envelope sender (lower-case, '' for the null sender) and the recipient (lower-case).
-- `first_seen` is the first attempt of the current round; a retry at least the greylist delay later
-- and before `expires_at` (first_seen + the retry window) passes: `passed_at` is set and the triplet
-- is remembered, `expires_at` moving to the last pass + the remember period on every use. A row past
-- `expires_at` counts as unknown (a new round); the MX deletes such rows now and then.
CREATE TABLE greylist_triplets (
  network     text NOT NULL,
  sender      text NOT NULL,
  recipient   text NOT NULL,
  first_seen  timestamptz NOT NULL,
  last_seen   timestamptz NOT NULL,
  passed_at   timestamptz,
  expires_at  timestamptz NOT NULL,
  attempts    integer NOT NULL DEFAULT 1,
  PRIMARY KEY (network, sender, recipient)
);
CREATE INDEX greylist_triplets_expires ON greylist_triplets (expires_at);

-- Client networks that proved they retry: `passes` counts their triplets that passed greylisting.
-- From POSTLINE_GREYLIST_AUTO_ALLOW_AFTER passes on, the network is not greylisted any more until
-- `expires_at` (the last pass + the remember period).
CREATE TABLE greylist_networks (
  network     text PRIMARY KEY,
  passes      integer NOT NULL DEFAULT 0,
  last_pass   timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL
);
CREATE INDEX greylist_networks_expires ON greylist_networks (expires_at);
