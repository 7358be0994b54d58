-- Applications (billing.Account.Apps): the postpaid switch and the status
-- belong to an account's applications, a jsonb array as the account's
-- other lists are, in the order they were created:
-- [{"i": id, "c": created, "p": switch, "s": status, "su": ended
-- suspensions, "e": EnabledAt, "d": disablings}, ...], a switch being
-- {"o": on, "s": since, "w": way}, a status {"o": suspended, "s": since,
-- "r": reason}, suspensions and disablings [{"s": since, "u": until}, ...],
-- times in nanoseconds. A switch or status that is zero (off, active), and
-- a list that is empty, are left out. The account keeps its own switch
-- (postpaid_on, postpaid_since, postpaid_way: on, it turns every
-- application's on) and EnabledAt (enabled_at); its status and
-- suspensions move to its applications.
--
-- An account written at version 8 had no applications: it has one,
-- billing.LegacyApp (""), created when the account was opened, with the
-- account's switch, status and suspensions, no EnablePostpaid call of its
-- own and no disabling.
ALTER TABLE billing_accounts ADD COLUMN apps jsonb NOT NULL DEFAULT '[]';
UPDATE billing_accounts SET apps = jsonb_build_array(jsonb_strip_nulls(jsonb_build_object(
	'i', '',
	'c', opened,
	'p', CASE WHEN postpaid_on OR postpaid_since <> -9223372036854775808 OR postpaid_way <> ''
		THEN jsonb_build_object('o', postpaid_on, 's', postpaid_since, 'w', postpaid_way) END,
	's', CASE WHEN suspended OR suspended_since <> -9223372036854775808 OR suspend_reason <> ''
		THEN jsonb_build_object('o', suspended, 's', suspended_since, 'r', suspend_reason) END,
	'su', nullif(suspensions, '[]'),
	'e', -9223372036854775808)));
ALTER TABLE billing_accounts
	DROP COLUMN suspended,
	DROP COLUMN suspended_since,
	DROP COLUMN suspend_reason,
	DROP COLUMN suspensions;

-- A checkpoint's applications (billing.Checkpoint.Apps), in the order of
-- the account's: [{"p": switch, "s": status, "su": how many of its
-- suspensions had ended}, ...], the switch and status as above, left out
-- if zero, and the count if 0. A checkpoint written at version 8 has the
-- legacy application's: the checkpoint's switch (it keeps it as the
-- account's), status and count of ended suspensions.
ALTER TABLE billing_checkpoints ADD COLUMN apps jsonb NOT NULL DEFAULT '[]';
UPDATE billing_checkpoints SET apps = jsonb_build_array(jsonb_strip_nulls(jsonb_build_object(
	'p', CASE WHEN postpaid_on OR postpaid_since <> -9223372036854775808 OR postpaid_way <> ''
		THEN jsonb_build_object('o', postpaid_on, 's', postpaid_since, 'w', postpaid_way) END,
	's', CASE WHEN suspended OR suspended_since <> -9223372036854775808 OR suspend_reason <> ''
		THEN jsonb_build_object('o', suspended, 's', suspended_since, 'r', suspend_reason) END,
	'su', nullif(suspensions, 0))));
ALTER TABLE billing_checkpoints
	DROP COLUMN suspended,
	DROP COLUMN suspended_since,
	DROP COLUMN suspend_reason,
	DROP COLUMN suspensions;

-- The receipt's AppDisabled flag: no application was disabled before
-- version 9.
ALTER TABLE billing_usages ADD COLUMN app_disabled boolean NOT NULL DEFAULT false;
