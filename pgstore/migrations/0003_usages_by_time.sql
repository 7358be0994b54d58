-- Reader.Usages lists an account's usages in the order of their times, then
-- ids (ids are COLLATE "C": byte order), reading only the range asked.
CREATE INDEX billing_usages_at ON billing_usages (account, at, id);
