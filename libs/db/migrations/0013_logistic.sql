-- The spam filter's second statistical model (libs/antispam/src/bayes/logistic.ts): a logistic
-- regression over the same token hashes as the Bayes counts, learned online (one AdaGrad step per
-- message learned into the global model). A token's weight, squared-gradient sum, moving average
-- and the model step of its last change live beside its counts, so one lookup serves both models;
-- the bias, its average and the step count are the model row's.
ALTER TABLE bayes_tokens
  ADD COLUMN lr_weight double precision NOT NULL DEFAULT 0,
  ADD COLUMN lr_g2     double precision NOT NULL DEFAULT 0,
  ADD COLUMN lr_avg    double precision NOT NULL DEFAULT 0,
  ADD COLUMN lr_last   bigint NOT NULL DEFAULT 0;
ALTER TABLE bayes_models
  ADD COLUMN lr_bias     double precision NOT NULL DEFAULT 0,
  ADD COLUMN lr_bias_avg double precision NOT NULL DEFAULT 0,
  ADD COLUMN lr_steps    bigint NOT NULL DEFAULT 0;
