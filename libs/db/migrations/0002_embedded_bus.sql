-- The embedded bus of standalone mode (libs/bus EmbeddedBus): a durable, partitioned log with
-- consumer groups, kept in the same database. Cluster mode uses Kafka and leaves these empty.

CREATE TABLE bus_topics (
  name        text PRIMARY KEY,
  partitions  integer NOT NULL CHECK (partitions > 0),
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- One row a partition; `next_offset` is the offset the next appended record gets. Producers
-- lock the row (UPDATE … RETURNING) to allocate offsets, so offsets are dense and ordered.
CREATE TABLE bus_partitions (
  topic        text NOT NULL REFERENCES bus_topics (name) ON DELETE CASCADE,
  partition    integer NOT NULL CHECK (partition >= 0),
  next_offset  bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (topic, partition)
);

CREATE TABLE bus_records (
  topic         text NOT NULL,
  partition     integer NOT NULL,
  "offset"      bigint NOT NULL,
  key           text,
  value         bytea NOT NULL,
  headers       jsonb NOT NULL DEFAULT '{}',
  timestamp_ms  bigint NOT NULL,
  PRIMARY KEY (topic, partition, "offset"),
  FOREIGN KEY (topic, partition) REFERENCES bus_partitions (topic, partition) ON DELETE CASCADE
);

-- Live members of consumer groups. A member whose heartbeat is older than its own session
-- timeout is dead; any member of the group deletes it, which releases its claims.
CREATE TABLE bus_group_members (
  group_id            text NOT NULL,
  member_id           text NOT NULL,
  topics              text NOT NULL,            -- JSON array of the subscribed topic names
  session_timeout_ms  integer NOT NULL CHECK (session_timeout_ms > 0),
  heartbeat_at        timestamptz NOT NULL DEFAULT now(),
  joined_at           timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (group_id, member_id)
);

-- Which member works on a partition. A member consumes a partition only while it holds the
-- claim, and its commits are fenced by it, so two members never commit for one partition.
CREATE TABLE bus_group_claims (
  group_id   text NOT NULL,
  topic      text NOT NULL,
  partition  integer NOT NULL,
  member_id  text NOT NULL,
  PRIMARY KEY (group_id, topic, partition),
  FOREIGN KEY (group_id, member_id) REFERENCES bus_group_members (group_id, member_id) ON DELETE CASCADE
);
CREATE INDEX bus_group_claims_member ON bus_group_claims (group_id, member_id);

-- Committed positions: `next_offset` is the offset of the next record the group will consume
-- (Kafka's convention: the last processed offset + 1).
CREATE TABLE bus_group_offsets (
  group_id      text NOT NULL,
  topic         text NOT NULL,
  partition     integer NOT NULL,
  next_offset   bigint NOT NULL CHECK (next_offset >= 0),
  committed_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (group_id, topic, partition)
);
