-- The statistical (Bayes) classifier of the spam filter (libs/antispam/src/bayes). One model is
-- global (account_id NULL, created here); an account gets its own model on its first learn, and
-- it goes with the account. `version` grows with every learn/forget: classifiers compare it to
-- what they cached (an account model's is read on every classification).
CREATE TABLE bayes_models (
  id          bigserial PRIMARY KEY,
  account_id  bigint UNIQUE REFERENCES accounts(id) ON DELETE CASCADE,
  nspam       integer NOT NULL DEFAULT 0 CHECK (nspam >= 0),
  nham        integer NOT NULL DEFAULT 0 CHECK (nham >= 0),
  version     bigint NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX bayes_models_one_global ON bayes_models ((account_id IS NULL)) WHERE account_id IS NULL;
INSERT INTO bayes_models (account_id) VALUES (NULL);

-- Per model and token (a 64-bit hash of the token string): in how many learned spam / ham messages
-- it occurs. Rows whose counts both drop to 0 (unlearning) are deleted.
CREATE TABLE bayes_tokens (
  model_id  bigint NOT NULL REFERENCES bayes_models(id) ON DELETE CASCADE,
  token     bigint NOT NULL,
  nspam     integer NOT NULL DEFAULT 0 CHECK (nspam >= 0),
  nham      integer NOT NULL DEFAULT 0 CHECK (nham >= 0),
  PRIMARY KEY (model_id, token)
);

-- Every learned message of a model: its key (mail id, or sha256:<hex> of its bytes), its class,
-- and the token hashes it added (to unlearn exactly those on a correction or a forget). The
-- primary key makes a message count at most once per model.
CREATE TABLE bayes_learned (
  model_id     bigint NOT NULL REFERENCES bayes_models(id) ON DELETE CASCADE,
  message_key  text NOT NULL,
  class        text NOT NULL CHECK (class IN ('spam', 'ham')),
  tokens       bigint[] NOT NULL,
  learned_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (model_id, message_key)
);
