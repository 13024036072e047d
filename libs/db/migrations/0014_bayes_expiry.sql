-- Bayes token expiry (BayesStore.expire; docs/spam-filter.md "Expiry"): when each token was last
-- learned, so that tokens seen in one or two messages and not learned again for months can be
-- dropped, as SpamAssassin's bayes expiry does. Existing rows count as learned now.
ALTER TABLE bayes_tokens ADD COLUMN learned_at timestamptz NOT NULL DEFAULT now();
