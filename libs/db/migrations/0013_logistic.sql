-- The spam filter's second statistical model (libs/antispam/src/bayes/logistic.ts): a logistic
-- regression over the same token hashes as the Bayes counts, learned online (one AdaGrad step per
-- learned message) into the global model. Its weight and squared-gradient sum live beside the
-- token's counts, so one lookup serves both models; the bias is the model row's.
ALTER TABLE bayes_tokens
  ADD COLUMN lr_weight double precision NOT NULL DEFAULT 0,
  ADD COLUMN lr_g2     double precision NOT NULL DEFAULT 0;
ALTER TABLE bayes_models ADD COLUMN lr_bias double precision NOT NULL DEFAULT 0;
