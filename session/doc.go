// Package session turns what happened in TRTC rooms into the usages
// [billing.Engine.Record] takes: who was in a room, and what each user
// received, become seconds per user, billing day and tier.
//
// # The rules
//
// Tencent bills every user of a room by what they receive (domain
// reference §1.1):
//
//   - A user's stay runs from entering the room to leaving it; repeated
//     entries and exits add up. A user alone in the room is billed too.
//   - In the audio scenarios (AudioLive, AudioCall) the whole stay is audio
//     duration.
//   - In the video scenarios the time a user receives video is video
//     duration, tiered by the price book's rule ([billing.PriceBook.ServiceTiers]):
//     under [billing.PerStream] (Era 1) every stream received is tiered by
//     its own area and the durations of the streams add up; under
//     [billing.Aggregate] (Eras 2 and 3) each instant is tiered by the sum
//     of the areas of everything received then. Screen sharing is a video
//     stream like a camera's. The rest of the stay is audio duration:
//     audio = stay − time receiving video, however many audio streams are
//     received (they are not stacked).
//   - A change of resolution splits the time at the change, and a stay
//     crossing midnight in the billing time zone is split into both days.
//
// # Events
//
// A host reports events ([Event]): a user entering ([Enter], with the scenario of
// the entry, as TRTC's enterRoom takes it) and leaving ([Leave]); a user
// starting to receive a stream, or receiving it at another resolution
// ([Subscribe]; a zero Resolution is an audio-only stream), and stopping
// ([Unsubscribe]); a heartbeat ([Alive]); and the room closing ([Close]),
// which ends every stay. Times are taken to the second, as Tencent meters
// seconds; the events of one second are applied in the order of their
// [Event].Seq, then ends before starts.
//
// A subscription counts while both its receiver and its publisher
// ([Event].From) are in the room: a Subscribe of a user who is not in the
// room, or to a publisher who is not, is ignored, and a subscription ends
// when either of them leaves. A user who comes back reports their
// subscriptions again, and so do the receivers of a publisher who comes
// back. A user whose Leave never comes is taken out of the room
// [Options].Timeout after the last event about them (as TRTC's server
// removes a client whose heartbeats stopped), if a Timeout is set, and the
// events about them are then ignored until they enter again. Events that
// change nothing (an Enter while in the room, a repeated event) are
// harmless, so a host may deliver events at least once; a redelivery older
// than the watermark is refused with [ErrLate] like any late event, which
// for an event delivered before means it was taken.
//
// # Order, lateness and idempotency
//
// A [Meter] takes events in any order. It applies them in the order of
// their times (at one instant, ends before starts), once [Meter.Advance]
// has moved its watermark, now less [Options].Lateness, past them; an
// event older than the watermark is refused with [ErrLate], so the
// lateness a host allows is the one it configures. What the events
// before the watermark determine is final: the usages of a stay's day are
// returned once the day or the stay has ended before the watermark, so
// the same events give the same usages however they arrive and however
// the calls to Advance split them. [Usages] meters a whole room's events at
// once and gives the same usages.
//
// A usage's ID is derived from its room, user, stay, day and tier ("sm-"
// and 32 hexadecimal digits of a 128-bit FNV-1a hash), so metering a room
// again, after a restart, gives the same usages under the same ids, and
// [billing.Engine.Record] records each once. Its seconds are the stay's
// time in that day and tier; its At is the last second of that time, when
// its minutes had all been used (so packages cover them, and an
// application is suspended, as of then, and usages come to the Engine in
// the order of their times); its Scenario is the entry's.
//
// A Meter keeps, per open room, the state of each user in it (their
// subscriptions and the day's seconds so far) and the events not yet
// applied, those within Lateness of the newest: memory grows with the
// users and subscriptions of the open rooms and with the events of one
// Lateness, not with the rooms' history. A closed room is forgotten.
package session
