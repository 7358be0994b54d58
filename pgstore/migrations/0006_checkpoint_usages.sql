-- A checkpoint at the start of the first unsettled period lists the usages
-- of settled days sequenced there (billing.Checkpoint.Usages): their ids,
-- in the order they came in (a replay applies them by time, then id). A
-- jsonb array of strings, as the checkpoint's other lists are: a text[]
-- column would need an array of arrays to write many checkpoints in one
-- INSERT ... SELECT FROM unnest, which unnest flattens, and which cannot
-- hold lists of different lengths. No checkpoint written at version 5
-- listed usages: those read with none.
ALTER TABLE billing_checkpoints ADD COLUMN usages jsonb NOT NULL DEFAULT '[]'; -- ["id", ...] in the order they came in
