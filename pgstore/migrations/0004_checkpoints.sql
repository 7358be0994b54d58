-- The reference order: an account's Frontier (the key of its last
-- operation: time, class, id), the operations since its last checkpoint,
-- the time of its first EnablePostpaid call, and its ended suspensions.
-- An account written at version 3 had its operations applied in the order
-- they arrived, without checkpoints: its Frontier is zero, and no
-- operation since a checkpoint; if its switch went on by EnablePostpaid,
-- that call was at postpaid_since. Its suspensions are not known: none.
ALTER TABLE billing_accounts
	ADD COLUMN frontier_at      bigint           NOT NULL DEFAULT -9223372036854775808, -- the zero time
	ADD COLUMN frontier_class   smallint         NOT NULL DEFAULT 0,
	ADD COLUMN frontier_id      text COLLATE "C" NOT NULL DEFAULT '',
	ADD COLUMN since_checkpoint bigint           NOT NULL DEFAULT 0,
	ADD COLUMN enabled_at       bigint           NOT NULL DEFAULT -9223372036854775808,
	ADD COLUMN suspensions      jsonb            NOT NULL DEFAULT '[]'; -- [{"s": since, "u": until}, ...], times as nanoseconds
UPDATE billing_accounts SET enabled_at = postpaid_since WHERE postpaid_way = 'enabled';

-- An account's state at points of its reference order, by key: (at, class,
-- id) in the order of billing.OpKey.Compare (class is billing.Class, -2 to
-- 1; ids byte by byte). Reader.Checkpoints reads the latest at or before a
-- key, and those after it, from the primary key.
CREATE TABLE billing_checkpoints (
	account         text COLLATE "C" NOT NULL,
	at              bigint           NOT NULL,
	class           smallint         NOT NULL,
	id              text COLLATE "C" NOT NULL,
	postpaid_on     boolean          NOT NULL,
	postpaid_since  bigint           NOT NULL,
	postpaid_way    text             NOT NULL,
	suspended       boolean          NOT NULL,
	suspended_since bigint           NOT NULL,
	suspend_reason  text             NOT NULL,
	armed           boolean          NOT NULL,
	suspensions     bigint           NOT NULL, -- how many of the account's suspensions had ended at the key
	balances        jsonb            NOT NULL, -- [{"p": package, "b": balance}, ...] in deduction order
	meters          jsonb            NOT NULL, -- [{"d": day, "s": service, "t": tier, "n": seconds, "pre": prepaid,
	                                           --   "post": postpaid, "short": shortfall, "settled": {...}}, ...]; settled only if not zero
	PRIMARY KEY (account, at, class, id)
);

-- A receipt reports a usage that came after operations later than it in
-- the reference order (billing.Receipt.Late); usage recorded at version 3
-- was applied in the order it arrived, none of it late in that sense.
ALTER TABLE billing_usages ADD COLUMN late boolean NOT NULL DEFAULT false;
