// Package billing bills real-time audio/video usage exactly the way Tencent
// Cloud TRTC bills it (Era 1, the "enable postpaid" era, by default): basic
// services metered in seconds and rounded up to minutes per day (or month)
// and tier,
// prepaid packages deducted by per-tier ratios in a fixed order, and the
// irreversible postpaid switch. It is a library for Go services that operate,
// resell or check such services; the host owns HTTP, authentication, payment
// collection and scheduling.
//
// The package keeps no state of its own: an [Engine] applies the billing
// rules to accounts kept in an injected [Store]. Package memstore is the
// in-memory Store for one process; a durable Store serves many processes.
// Package session turns a room's events (who entered and left, who
// received which stream at which resolution) into the usages [Engine.Record]
// takes.
//
// # Lifecycle
//
// An account is opened with [Engine.OpenAccount]. Its applications
// (SDKAppIDs) are created with it or with [Engine.CreateApp]; with the
// first, it gets the trial of the price book of its cohort (Era 1: 10,000
// minutes, ratio 1 for every tier; Era 2's book gives 10,000 free minutes
// each month instead), as Tencent grants it to "accounts that create
// applications for the first time".
// Usage is reported with [Engine.Record]: each usage is seconds of one
// application, scenario and tier at one instant, added to the meter of its
// rounding window and tier (the account's, whatever the application, under
// Eras 1 and 2; the application's under Era 3, see "Applications' own
// meters and packages"): its billing day, or its month on the monthly
// cycle (see "Billing cycles").
// The billable minutes of a meter are ceil(seconds/60), and a usage adds
// ceil(after/60) − ceil(before/60), so successive usage never pays twice
// for one started minute.
//
// Billable minutes are covered by packages, whole minute by whole minute, in
// deduction order: soonest expiry first, then earliest purchase (or grant),
// then id (Era 3 first draws its free minutes and the packages of the
// usage's application: [ComparePackages]). Each package covers as many whole minutes as its balance allows at
// its kind's ratio for the tier (universal: audio 1, SD 2, HD 4, FHD 15);
// a balance smaller than one minute's ratio is left for tiers with smaller
// ratios. No minute is ever split between packages. Minutes no package
// covers are:
//
//   - billed postpaid at list price, if the postpaid switch of the usage's
//     application is on;
//   - otherwise, if the account has bought a universal package, billed
//     postpaid as the switch goes on automatically, for every application;
//   - otherwise kept as the day's shortfall, and the application is
//     suspended from the time of that usage until a package is bought or
//     granted ([Engine.Buy], a recurring grant: either lifts every
//     application's suspension) or its postpaid is enabled ([Engine.EnablePostpaid], which also turns the
//     day's shortfall into postpaid).
//
// Usage is a fact: a report describes what already happened, so Record
// refuses only malformed input, never because of the account's state.
// Usage of a suspended application is recorded like any other (packages
// valid at its time cover what they can, the rest is shortfall), its
// receipt flagged ([Receipt].WhileSuspended). Suspension is a signal to the host:
// whether a new session may start is a separate, read-only question,
// [Engine.Admit], answered from what has been reported so far.
//
// A package bought on a day also absorbs that day's basic minutes no
// package covered (tier by tier in the price book's order, shortfall before
// postpaid within a tier), never an earlier day's (on the monthly cycle,
// the minutes the day's usage left uncovered in its month's meters,
// [Meter].Latest); value-added minutes
// already billed postpaid stay so (a decision: Tencent's documents speak of
// basic usage only). A package's remaining minutes are
// forfeited, by a ledger entry the next time the account is touched, once
// its validity and a grace for late usage reports have passed and its last
// day is settled.
//
// # Value-added services
//
// Cloud recording ([ServiceRecording]) and MixTranscoding
// ([ServiceMixTranscoding]) are recorded with [Engine.Record] too, by output
// tier, and metered the same way (seconds per day and tier, rounded up to
// minutes). Each service has its own tier table and tiering rule in a price
// book ([ValueAddedService].Tiers; [PriceBook.ServiceTiers] turns the
// streams of one instant into its tiers), so a book can tier recording by
// the aggregate resolution up to a capped 2K+ while basic services keep
// Era 1's tiers. Era 1's packages never cover them; a package kind with
// ratios for a service's tiers ([Ratio].Service) does, as Era 2's free
// minutes cover cloud recording. They need no postpaid switch: the minutes
// no package covers go on the bill. They need a basic service to go
// with them: [Engine.Admit] refuses to start one for a suspended or disabled
// application, an account in arrears, or one that could not pay for basic
// usage then. Value-added usage reported
// anyway is recorded and billed, its receipt flagged
// ([Receipt].NoBasicService).
//
// Some rules follow the application, not the account: the China site bills
// the cloud recording of applications created from 2022-07-20 per input
// stream, single-stream ([ServiceRecordingSingle]) or mixed
// ([ServiceRecordingMixed]), by tiers up to 4K, and that of earlier
// applications as before ([ServiceRecording]; domain reference §4.2). A
// book says so with [ValueAddedService].AppsFrom and AppsUntil; usage of a
// service the book does not price for its application is refused with
// [ErrNoPriceBook]. The 2022 document names no first cohort, so the new
// applications of accounts whose recording was billed under CSS rules
// (first application before 2020-07-01) are billed by it too.
//
// # Applications' own meters and packages
//
// Era 3 ([Era3USD]) rounds each application's usage of a day on its own
// ("Durations for each day are calculated in seconds for each application
// (SDKAppID)", domain reference §1.4) and sells monthly packages bound to
// one application (§2.6). A book says the first with [PriceBook].PerApp:
// its meters, receipts, ledger entries and bill lines name the application
// ([MeterKey].App, [Line].App), and two applications' 30 seconds are two
// minutes, not one. A package kind says the second with
// [PackageKind].AppBound: [Purchase].App names the application, and the
// package covers, absorbs on its purchase day and resumes that
// application only ([Engine.Admit] counts it for that application only).
// [PackageKind].NoStacking refuses a second purchase of the kind for the
// same application while the first is in its validity, used up or not
// ([ErrNotStackable]: "multiple purchases of the same monthly package
// cannot be stacked within its validity period"), unless it was refunded;
// Validity{Months: 1} is Era 3's "from 00:00:00 on the day of purchase to
// 23:59:59 on the previous day the following month". The deduction order
// is Era 3's: packages whose kind is First (its free minutes, "used
// first"), then those bound to the usage's application (the narrower
// scope), then the account's, each soonest expiry first
// ([ComparePackages], [Package].Rank); books without such kinds keep Era
// 1's order. Tencent publishes neither the sizes nor the prices of its
// monthly packages, so Era3USD sells none; a host adds the kinds it sells
// ([Era3Ratios] gives their ratios).
//
// # Billing cycles
//
// Tencent settles postpaid usage daily for accounts whose first
// application was created on or after 2020-09-01, monthly for earlier ones
// (domain reference §1.5; [Era1USD] and [Era1CNY] say so with
// [PriceBook].MonthlyCohortsUntil), and the account's [Cycle] is fixed
// with its cohort. The cycle sets the rounding window and the settlement
// period of the basic services (SPEC decision 3): a billing day on the
// daily cycle; on the monthly cycle a calendar month (from the day of the
// account's cohort in its first month, and split where a price book begins
// or ends), whose cumulative seconds per tier are rounded up to minutes
// once (the Era 1 scenario documents' "monthly cumulative seconds are
// converted to minutes"), and which is settled once, into one bill
// ([Bill].Day..Through), due at 10:00 on the first of the next month
// (Tencent: "within the first five days of the next month"). Everything
// else works per window as it does per day: packages cover the month's
// minutes as they cross, EnablePostpaid turns the window's shortfall
// postpaid, late usage of a settled month is an adjustment on the next
// bill, a package ending in a month is forfeited once the month is
// settled. Value-added services are rounded per day on every cycle (SPEC
// "Value-added services"; domain reference §4.2, §4.3), each day priced by
// its own day: on the monthly cycle their meters are the days' and the
// month's bill carries a line per day. Where this departs from the rules,
// or they are silent:
//
//   - SPEC and the domain reference (§4.1) settle value-added services
//     daily. A monthly account has one settlement period, so its
//     value-added minutes, rounded and priced per day, are billed with its
//     month, up to a month later than Tencent charges them.
//   - A purchase absorbs only the minutes its own day's usage left
//     uncovered, as on the daily cycle: a meter keeps, for its latest day,
//     the minutes of its parts used on earlier days ([Meter].Latest,
//     EarlierPostpaid, EarlierShortfall).
//   - A refund takes effect at the start of the first unsettled day, so on
//     the monthly cycle a package is refundable once its purchase month is
//     settled, and the full refund of a package bought in a month's first
//     days is out of reach (its five days pass first).
//   - A cycle changes only with the cohort, when the account's first
//     application is created after its opening under a book of another
//     rule; a bill settled before is still the bill of every day of its
//     period.
//
// # Settlement and bills
//
// [Engine.Settle] settles one period once it has ended, into an
// immutable [Bill]: a line per meter of the period (service and tier) with its
// seconds, billable minutes, how they were paid, the minutes billed, the unit
// price and the exact amount. Basic minutes are billed if postpaid (and, if
// a postpaid switch of the account is on at settlement, the day's
// shortfall); value-added minutes no package covered always. Shortfall is never dropped:
// settled while every switch is off, it is not billed then, and the first
// bill settled with one on bills it, a
// line per meter dated with its day ([Line].Deferred), at that day's list
// price. The total is rounded once, half up, to the currency's decimals.
// Settling a day again returns the same bill. Days with usage are settled in
// order; days without usage in between are closed without a bill.
//
// Usage that arrives for a day already settled is metered on its own meter and
// covered by the packages valid at its own time; the next bill settled
// carries what it added as adjustment lines dated with its day. An issued
// bill never changes. [Engine.DueDays] tells a scheduler which days are due
// (from 10:00 the next day by default, [Options].DueAfter), and
// [Engine.Bills] and [Engine.Statement] list the bills of a period and total
// a month. On the monthly cycle, read "month" for "day" throughout.
//
// # Applications and the postpaid switch
//
// The page this library starts from enables postpaid on an application
// (domain reference §3.2; SPEC decision 2 on open question 2): the switch and the service
// status belong to each application ([App]), packages to the account (Era 1
// universal packages cover "all applications under the same account",
// §2.6), and so do meters, rounding and bills (§5: usage is aggregated per
// account in Era 1). An application's switch goes on in three ways, each
// recorded in [App].Postpaid with its instant and [PostpaidWay]:
//
//   - at its creation ([AppSpec].Postpaid: the gift-package pop-up's "do
//     not suspend the service; postpaid at list price");
//   - later, by [Engine.EnablePostpaid] naming it (Application info →
//     Enable postpaid);
//   - automatically, for every application of an account that bought a
//     universal package, at the event time of the first minute no package
//     could cover, whichever application's it is (the seed's Method 2).
//
// The account has a switch too ([Account].Postpaid): on, every
// application's is on, present and future, from the later of its instant
// and the application's creation, with its way. It is the automatic
// switch, the choice made at opening ([AccountSpec].Postpaid, which thus
// becomes the default of every application created later), and
// [Engine.EnablePostpaid] naming no application. No switch ever goes off:
// there is no method for it, and an account read from the Store with switch
// fields that disagree (or an application off under an account switch
// that is on) is refused with [ErrCorrupt]. A Store wrapped with
// [GuardSwitch] also refuses a record rewritten with fewer switches on than
// it saw.
//
// Usage no package covers goes postpaid if its application's switch is
// on; else it is shortfall and suspends that application only: on a
// trial-only account, an application without postpaid stops when the
// trial runs out while another with postpaid on keeps running and bills
// postpaid. Shortfall is the account's (minutes are rounded per account,
// day and tier, so they cannot be told apart by application): a bill
// settled while any switch of the account is on bills it, and an
// EnablePostpaid call turns its window's shortfall into postpaid whichever
// application it names. A purchase lifts the suspension of every
// application.
//
// Usage names an application the account has created ([ErrUnknownApp]),
// at or after its creation ([ErrBeforeOpened]); an account has at most
// [MaxApps]. The host can disable an application ([Engine.DisableApp], the
// console's 停用应用, §3.4) and enable it again ([Engine.EnableApp]): Admit
// refuses its new sessions ([ErrAppDisabled]) meanwhile, and usage of its
// sessions is still recorded and billed (usage is a fact), flagged
// [Receipt].AppDisabled.
//
// Tencent's rules for an account follow the date its first application
// was created, not the account's ([Account.Cohort]): which price book
// prices its days ([PriceBook].CohortFrom and CohortUntil: an account of
// 2020 stays on Era 1's book after later books begin for later accounts,
// so accounts of different cohorts are billed side by side in one Engine),
// which accounts pay for cloud recording and from when MixTranscoding is
// billed ([ValueAddedService].From). An account's cohort is fixed once its
// first application is created ([Account].Cohort): an account opened
// without one gets its trial (or Era 2's free minutes), its cycle and its
// book family with its first application, by that application's creation,
// however long after the account was opened (TestCohortsByFirstApplication).
//
// An account recorded before applications existed had one switch and one
// status. A Store migrates it to the account switch it had and one
// application, [LegacyApp] (""), holding its status and suspensions: usage
// naming any application the account had not created at its time is that
// application's, as before, so its behaviour does not change. The host can
// then create its applications; usage naming one from its creation on is
// its own.
//
// # Arrears
//
// Whether an account pays its bills is the host's business; the host tells
// the Engine with [Engine.ReportOverdue] and [Engine.ReportPaid], each under
// its own reference (an overdue bill, say), so a report can be retried.
// The rules follow Tencent's notes on overdue payment (domain reference
// §3.5; the China site's 欠费停服说明 and the international "Notes for
// Overdue Payment Processing"):
//
//   - The account has ArrearsGrace, 24 hours from the first report, to pay.
//     Then it is suspended for arrears, even if its packages have balance:
//     [Engine.Admit] refuses new sessions ([ErrSuspended] and
//     [ErrInArrears]) for instants from then until the payment is reported,
//     also when asked later about such an instant.
//   - Sessions already running keep being billed: usage of the suspension
//     is recorded and billed as any other (usage is a fact), drawn from the
//     packages valid at its time, the rest postpaid or shortfall as usual;
//     its receipt says InArrears. An arrears suspension is not a
//     [Status] suspension: buying a package does not lift it, paying does.
//   - If the suspension lasts ArrearsReclaim, 60 days, the account's
//     packages are reclaimed (the China site deletes packages with the
//     account's other resources) at the start of the next billing day,
//     Arrears.Reclaim (validity ends at the start of a day, as every
//     package's does): a package bought before that instant covers no
//     usage from then on, and its balance is forfeited as at expiry
//     ([EntryForfeit], once [Options].ExpiryGrace has passed and the day
//     before is settled, so usage before the instant reported late still
//     draws from it). Package.End keeps the validity the package was sold
//     with. Usage after the instant cannot be recorded before the clock
//     passes it, by when a payment before it would be known: the order
//     reports arrive in changes nothing. Packages bought later, and the
//     postpaid switch, stay.
//   - The instants are the Engine's times of the reports, as for every
//     call; an overdue report while the account is overdue joins the same
//     arrears.
//
// # Refunds
//
// [Engine.Refund] follows the China site's refund rules for TRTC packages
// (退费说明, domain reference §2.7), for package kinds a price book marks
// Refundable (the Era 1 CNY universal package; the international site
// publishes no rule, so Era1USD's is not):
//
//   - The account's one full refund, the first asked within RefundFullDays
//     (5) calendar days of the purchase, its day the first, pays back the
//     whole price.
//   - Any other pays back the price less the minutes consumed × the unit
//     price of the band they fall into (the kind's Pricing.Bands: the
//     8-decimal per-minute prices of the refund document) × the exclusive
//     discount in force ([Refund].Discount), rounded half up once; never
//     below zero (the rest is not charged). The document's example: 16,888.00
//     − 1,589,256 × 0.00596800 = 7,403.32 yuan.
//   - Trial and other granted packages are not refundable, nor a package
//     expired, reclaimed for arrears, used up or refunded ([ErrNotRefundable]).
//
// The rules are silent on when a refund takes effect, and an amount paid
// back must not change when usage reported later turns out to have drawn
// on the package. The Engine decides: a refund takes effect at the start of
// the first unsettled billing day (Account.SettledThrough + 1), in the
// reference order before the usages of settled days sequenced there. Its
// consumption is then that of settled days, which no report can change (a
// late report of a settled day draws only from packages valid at that
// start), so the amount is final whatever order reports arrive in. The
// usage of the unsettled days the package had covered is covered again as if
// it never had: by the packages after it, else postpaid or shortfall, with
// the automatic switch or a suspension at its time as for any usage. A
// package is refundable once its purchase day is settled (the next day, when
// TRTC settles daily), so that its absorption of that day's minutes is
// final too.
//
// # Money and minutes
//
// Minutes and seconds are int64 and exact. Money is [decimal.Decimal]: list
// prices per minute keep up to 8 decimals, package prices are rounded once,
// half up, to the currency's decimals. The package never uses float64, never
// divides without a precision, and never sets decimal's package-level variables.
//
// # Time
//
// Every instant comes from [Options].Now, read once per unit of work. Billing
// days are calendar days in [Options].Location, UTC+8 by default (Tencent
// bills in Beijing time), never the server's local zone. A day lasts from
// the first instant the zone's clocks show its date to the first instant of
// the next: where midnight comes twice (clocks set back from 01:00 to
// 00:00), the day starts at the first; where clocks fall back across
// midnight, the repeated minutes stay on the day already begun; where
// midnight is skipped, the day starts when the clocks resume (see [Day]).
// Days run from 0001-01-01 to 9999-12-31 ([MinDay], [MaxDay]): a date, a
// usage's time, an instant asked about ([Engine.DueDays]) or a clock reading
// on a day outside them is refused with [ErrInvalidTime], never wrapped
// around into another day. The time an Engine
// stamps on an account's ledger never goes backwards: if the clock reads
// earlier than the account's last operation (clock skew between processes),
// the operation is stamped at that last instant.
//
// # Encodings
//
// A [Day] is text as 2006-01-02 ([Day.String], [ParseDay]; it implements
// [encoding.TextMarshaler] and [encoding.TextUnmarshaler]), also in JSON.
// The values the Engine returns (bills and their lines, receipts, purchase
// receipts, packages, accounts and overviews, and what they hold) marshal
// to JSON with snake_case field names ("postpaid_on", "unit_price"), and
// [encoding/json.Unmarshal] reads back what they write. Money is a string: an
// amount rounded to the currency ([Bill].Total, [Package].Price, a
// refund's Used and Amount in its account) has exactly the currency's
// decimals, "4.06" or "0.00" in USD, "406" in JPY ([CurrencyDecimals]: ISO
// 4217's minor units, which a price book's Decimals must equal); an exact
// amount ([Bill].Subtotal, a line's UnitPrice and Amount) has all its
// digits, "4.05783", and is never rounded. A bill and a package carry their
// currency. Times are RFC 3339 with nanoseconds; enums (services, tiers,
// ways) are their strings, a [Cycle] and an [OpKey]'s Class their numbers.
//
// # Event time and arrival order
//
// A report describes what already happened, and reports from many media
// servers arrive out of order: bills follow event time, not arrival. Every
// operation of an account has a key ([OpKey]), and the order of keys is the
// reference order: a usage is at its time, then its id; a purchase, and the
// first EnablePostpaid call, at the Engine's time of the call, after the
// usage of that instant. A meter is a rounding window (one billing day, or
// month for the basic services on the monthly cycle, service and tier): its cumulative seconds are rounded up to minutes, and
// the k-th billable minute happens at the usage, in the reference order, at
// which ceil(seconds/60) reaches k. Packages cover minutes in that order, a
// package from its purchase on (at its purchase it absorbs the minutes of
// its day still uncovered), and a suspension and the automatic switch
// happen at the time of the minute that caused them.
//
// A usage that arrives after operations later than it ([Receipt].Late) is
// applied by replaying, in memory, the account's operations from the
// checkpoint before it with it among them, and writing what changed, with
// ledger entries under its id. The Engine writes a checkpoint every
// [CheckpointEvery] operations, and one at the start of each settlement
// period (a billing day or month, settled by [Engine.Settle]). A replay never starts
// before the first unsettled period. So the same reports of unsettled
// periods in any order of arrival leave the same meters, balances, switch,
// status and suspensions, and, once their periods are settled, the same
// bills, with one exception:
//
//   - The postpaid switch never goes off, and never goes on later than it
//     did. If a late report would have left it off until later, it stays on
//     from the instant it went on, and uncovered minutes from then on are
//     postpaid. This can happen with the built-in ratios: a package bought
//     on a day absorbs that day's uncovered minutes in whole minutes, so what
//     it keeps depends on which minutes there were.
//
// Usage of a period already settled when it arrives is sequenced at the
// start of the first unsettled period, before the operations of that
// period, and among such usages by time, then id, whatever order they
// arrive in. It is metered in its own rounding window, covered by the
// packages valid both at its own time and at that start (a package that
// ended before it pays for none of it, even within its grace, so that
// applying it again after the package's remainder is forfeited gives the
// same answer), and billed as adjustments on the next bill. Shortfall is never dropped:
// minutes no package covered while postpaid was off stay on their meter
// ([Meter].Unbilled once settled) and are billed at list price on the
// first bill after postpaid goes on ([Line].Deferred).
//
// A receipt tells what its usage got at its place in the reference order
// when it was recorded; a later report, or a purchase absorbing the day's
// uncovered minutes, can change how its minutes are paid, and the ledger
// says how. [Engine.RecordBatch] applies a batch's usages in at most one
// replay per account.
//
// What a late report costs grows with what it changes, not with the size
// of its period. Its replay runs from the checkpoint before it (at most
// [CheckpointEvery] operations) past the first checkpoint after it (and
// after any purchase or EnablePostpaid call it passes). There, if the
// replayed state differs from the stored one only by the report's meter
// having more seconds, their minutes paid one way (from one package,
// postpaid, or as shortfall), and that way pays every later minute the
// shift adds while the package keeps enough that no other draw changes,
// the rest is known without replaying it: the Engine shifts the stored
// state and the later checkpoints (one per [CheckpointEvery] operations)
// and stops. Otherwise (a package runs low, the switch or a suspension
// moves, another meter changes) the replay runs on, trying again at each
// checkpoint. A month's window on the monthly cycle stays open for days:
// there the package must stay valid to the month's end, and the minutes
// must be prepaid (seconds added early move later postpaid or shortfall
// minutes to earlier days of the window, [Meter].Latest, which a shift
// does not follow). docs/PERFORMANCE.md has the figures.
//
// # Price books
//
// Tiers, prices, ratios, package kinds and the trial are data in a
// [PriceBook]; the engine has no price of its own. The default books are
// [Era1USD] (the default currency) and [Era1CNY], every figure of the Era 1
// rules (the seed's era), in force from 2019-10-11 for every account.
// [AllEras] bills each account by its cohort's era instead: [Era2USD], the
// international site's Era 2 rules, for the accounts whose first
// application was created from 2021-10-27 (aggregate tiers, 10,000 free
// minutes each month that cover recording and MixTranscoding too, Era 2's
// recording prices). [Era3USD] is Era 3's book, the international site's
// rules since 2024: per-application rounding, HD to 4K tiers, free minutes
// for the first 12 months; no document dates the cohort it begins with, so
// it is not in AllEras: an Engine given it alone bills every USD account
// by today's rules. All stay in force until a later book is configured;
// Era2USD's documentation says which later changes of Tencent's it does
// not follow, and why. Books take effect
// at billing-day boundaries: a book of the account's currency prices the
// billing days that begin while it is in force, and a usage is checked
// against the book of its day when it is recorded and billed by that same
// book when the day is settled. So a usage the Engine accepts is always
// billable, and no change of book can leave a day that cannot be settled.
// Packages keep the ratios of the book they were bought under.
//
// # Idempotency
//
// Every mutating call carries a caller-chosen id, scoped to its account: the
// account id for OpenAccount, the usage id for Record, the purchase id for
// Buy. Repeating a call with the same id and request returns the first result
// and changes nothing; the same id with another request fails with
// [ErrIdempotencyConflict]. EnablePostpaid is idempotent by nature.
//
// Record looks the usage id up before anything else, in the same unit of
// work, so a repeat gets its first result whatever has changed since (a
// package bought, say), and writes nothing.
//
// # Concurrency and persistence
//
// An Engine is safe for concurrent use, and keeps no state that could change
// a result. Each call is one unit of work on one account (Overview is two;
// [Engine.RecordBatch] one per account of the batch): the Engine reads
// through the Store's [Reader] and hands back everything the unit writes as
// one value, [Changes], which the Store applies atomically and in
// isolation. The Engine retries a unit of work when the Store reports a
// conflict or a duplicate key ([ErrConflict], [ErrExists]; up to 100
// times, then it returns the error). Recording one usage reads the
// account, its usage id, one meter and the first live packages, whatever
// the size of the account's history. See [Store] for the contract a Store
// implements, and package memstore for the reference implementation.
//
// # Operations
//
// The host schedules settlement: [Engine.SettleDue] settles every due period
// of every account (from 10:00 the next day by default), a few accounts at a
// time, reporting each account through a callback. It is idempotent (a
// settled period is never billed twice) and resumable (SettleProgress.Through
// is where every account before is done); it needs a Store that lists its
// accounts ([AccountLister]; [Engine.Accounts] pages through them), as
// memstore and the durable Stores do.
//
// Options.Logger, a *slog.Logger, hears what an operator wants to know,
// with the account, application, request and ids as attributes: units of
// work retried after a conflict (Debug), applications suspended and resumed
// and postpaid switches turned on, as found after each unit of work
// (Info), bills issued (Info) and units of work the Store failed or that
// found a record corrupt (Error; Debug when the caller's context ended).
// Refused requests are not logged: their errors go to the caller.
// Options.Observer is told of every unit of work and read (its operation,
// account, attempts, duration and error), for metrics, through an interface
// that imports no metrics library. Neither costs anything when not set; with
// them, a unit of work reads the wall clock twice. Package billingtest has a
// controllable clock (billingtest.Clock) for Options.Now in tests and
// replays.
//
// # Errors
//
// Every Engine method returns errors of type [*Error], naming the operation,
// account and request id, and wrapping one of the sentinel errors listed in
// the method's documentation. Test them with [errors.Is] and [errors.As].
// Bad input never panics and never changes the account. A message names
// the package once, at its start, then says what was wrong in the terms of
// the call: the field and the value as given, its unit, a day as a date,
// as in `billing: Settle account "acme": day 2021-03-15: day has not ended:
// billing period 2021-03-15, today is 2021-03-15`. The text may change.
//
// # Decisions where the rules are silent
//
//   - A usage is attributed whole to the billing day of its time; a host that
//     meters a session crossing midnight reports one usage per day. A usage
//     time after the Engine's clock is refused ([ErrFutureUsage]).
//   - Scenarios are labels, and applications hold only the switch and the
//     status: a day's meter is per tier across them, as Era 1 bills the
//     account's total per tier (per application too under a book that
//     rounds per application, as Era 3 does).
//   - A package is valid from 00:00 of its purchase day, so it also covers
//     usage of that day reported after the purchase.
//   - Among packages of the same expiry the trial, granted at opening, goes
//     before packages bought later.
//   - The automatic switch and the suspension are decided by usage: an
//     account whose packages expired is switched on or suspended by the next
//     usage, in the reference order, that no package covers. For an account
//     that bought a universal package, "no package can cover it" means no
//     package valid at the usage's own time, and bought before it, has a
//     whole minute's ratio left for its tier: the packages are used up or
//     expired, or hold less than one minute's ratio. Usage before the
//     purchase that armed the switch is not covered by it (reported late,
//     it is shortfall at its time).
//   - A day is priced by one price book, the one in force at its first
//     instant: a book whose dates fall inside a billing day of
//     [Options].Location (Era 1's start, 2019-10-11 00:00 UTC+8, is 16:00
//     UTC the day before, in an Engine that bills in UTC) takes effect, or
//     ends, at the next day's start. Usage of a tier or service that only a
//     later book has is refused until that book's first day
//     ([ErrUnknownTier], [ErrUnknownService]); usage of a day no book
//     prices, with [ErrNoPriceBook]. MixTranscoding of accounts whose first
//     application was created before its billing start (2020-11-01) is free
//     before their later start date, at a zero unit price; Era 1 cloud
//     recording of accounts whose first application was created before
//     2020-07-01 (billed under CSS rules) is not priced and is refused with
//     [ErrNoPriceBook].
//   - Settle issues a bill for the day it is asked for, even an empty one;
//     DueDays asks for days with usage, or for the latest due day when only
//     adjustments wait. Days skipped over are closed without a bill.
//   - A bill reflects the moment it is settled (is postpaid on? which usage
//     has arrived?): settling when DueDays says a day is due, 10:00 the next
//     day by default, reproduces TRTC's timing. [Options].DueAfter is a
//     duration after the day's end: 10:00 in zones without daylight saving.
//   - A package's remaining minutes are forfeited when the account is first
//     touched once its validity and [Options].ExpiryGrace (10 hours by
//     default: 10:00 the day after its last day, when TRTC settles that day)
//     have passed and its last day is settled. Until then, usage of its
//     validity reported late is still covered by it; usage reported after
//     the forfeit is not. A host that never settles a day never forfeits a
//     package that ends on it.
//   - EnablePostpaid turns the shortfall of its own day into postpaid, and
//     the first call does so even if the switch was on already (it went on
//     automatically earlier that day); shortfall of earlier days stays on
//     their meters, billed when their day is settled with postpaid on, or
//     else on the first bill settled after it goes on.
package billing
