package session

import (
	"cmp"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/rtcbill/billing"
)

// Kind is what an [Event] reports.
type Kind uint8

// The kinds of events.
const (
	// Enter: User entered the room, under Scenario.
	Enter Kind = iota + 1
	// Leave: User left the room. The streams User published end for
	// everyone receiving them, as they do when User times out.
	Leave
	// Subscribe: User receives Stream of From at Resolution from At on
	// (zero for an audio-only stream); for a stream User receives already,
	// its resolution changed. Ignored unless User and From are both in the
	// room.
	Subscribe
	// Unsubscribe: User stopped receiving Stream of From.
	Unsubscribe
	// Alive: User is still in the room (a heartbeat, for Options.Timeout).
	Alive
	// Close: the room closed; every stay in it ends. User is empty.
	Close
)

// Event is one thing that happened in a room. A room is named by Account,
// App and Room together.
type Event struct {
	Account, App, Room string
	Kind               Kind
	At                 time.Time
	// User is the user the event is about: who entered or left, who
	// receives.
	User string
	// Scenario is the scenario of an Enter.
	Scenario billing.Scenario
	// From and Stream name a stream: the user who publishes it and its
	// name among theirs ("camera", "screen", "audio").
	From, Stream string
	// Resolution is the resolution a Subscribe receives Stream at: zero for
	// audio only.
	Resolution billing.Resolution
	// Seq orders the events of one instant (to the second): the host's
	// sequence number of the event, such as its log's offset. Events of
	// one second with equal Seq (zero, if the host has none) are applied
	// ends before starts: Close, Leave, Unsubscribe, then Enter,
	// Subscribe, Alive.
	Seq uint64
}

// Options configure a Meter.
type Options struct {
	// Book gives the tiering rule and the basic tier table
	// ([billing.PriceBook.Tiering], Tiers) and the scenarios, video or
	// not. Required.
	Book billing.PriceBook
	// Location is the billing time zone, where days begin; nil means
	// UTC+8, as an Engine's default.
	Location *time.Location
	// Lateness is how much older than the newest time a Meter was advanced
	// to an event may be: [Meter.Advance] applies the events before now
	// less Lateness, and later refuses older ones ([ErrLate]).
	Lateness time.Duration
	// Timeout, if not zero, takes a user out of the room Timeout after the
	// last event about them (Enter, Subscribe, Unsubscribe, Alive) if no
	// Leave or Close came before. It applies to every user: with a Timeout,
	// a host reports each user's heartbeats (Alive) at least every
	// Timeout, or their stays end early.
	Timeout time.Duration
}

// Errors of the Meter.
var (
	// ErrInvalidEvent: an event is malformed (a missing id, an unknown
	// kind or scenario, a resolution out of range, a time on no billing
	// day); it is refused.
	ErrInvalidEvent = errors.New("session: invalid event")
	// ErrLate: an event is older than the Meter's watermark (see
	// Options.Lateness); it is refused, and the usages already returned
	// stand.
	ErrLate = errors.New("session: event older than the watermark")
	// ErrOpenStay: Usages was given a stay with no end (no Leave, no
	// Close, and no Options.Timeout).
	ErrOpenStay = errors.New("session: stay without an end")
	// ErrInvalidOptions: Options are unusable.
	ErrInvalidOptions = errors.New("session: invalid options")
)

// Meter meters the events of many rooms as they come. It is not safe for
// concurrent use.
type Meter struct {
	o        Options
	loc      *time.Location
	audio    billing.Tier // the book's audio tier
	top      billing.Tier // its highest video tier
	isVideo  map[billing.Scenario]bool
	wm       time.Time // every event before it is applied
	rooms    map[roomKey]*room
	out      []billing.Usage
	areaTier map[int64]billing.Tier // the tiers of the areas met so far (see tierOf)
	video    []billing.Resolution   // retier's scratch
}

type roomKey struct{ account, app, room string }

type room struct {
	key     roomKey
	pending []Event // not applied yet (at or after the watermark), in order
	users   map[string]*user
	// due is when a user of the room next needs its time metered without
	// an event (a day of a stay ends); zero if none does.
	due time.Time
	// gone is the earliest a user of the room can time out (see expire):
	// never after the earliest last event plus Timeout; zero if no one can.
	gone time.Time
}

// user is a user of a room: in it or not, and the stay it is in.
type user struct {
	id       string
	in       bool
	scenario billing.Scenario
	stay     time.Time   // when the stay began
	since    time.Time   // its time is metered up to here
	day      billing.Day // the day of since, until dayEnd
	dayEnd   time.Time
	last     time.Time // the last event about the user, for the timeout
	subs     []sub
	tiers    []billing.Tier // what each instant of since.. adds to: one tier per stream, or one
	pieces   []piece        // the stay's time per day and tier, not returned yet
}

type sub struct {
	from, stream string
	res          billing.Resolution
}

type piece struct {
	day  billing.Day
	tier billing.Tier
	d    time.Duration
	last time.Time // the end of its latest time
}

// New returns a Meter.
func New(o Options) (*Meter, error) {
	m := &Meter{o: o, loc: o.Location, isVideo: map[billing.Scenario]bool{}, areaTier: map[int64]billing.Tier{}, rooms: map[roomKey]*room{}}
	if m.loc == nil {
		m.loc = time.FixedZone("UTC+8", 8*60*60)
	}
	for _, t := range o.Book.Tiers {
		switch {
		case !t.Video && m.audio == "":
			m.audio = t.Tier
		case t.Video:
			m.top = t.Tier
		}
	}
	for _, s := range o.Book.Scenarios {
		m.isVideo[s.Scenario] = s.Video
	}
	switch {
	case o.Lateness < 0 || o.Timeout < 0:
		return nil, fmt.Errorf("%w: negative Lateness or Timeout", ErrInvalidOptions)
	case len(o.Book.Tiers) == 0:
		return nil, fmt.Errorf("%w: Book is required", ErrInvalidOptions)
	case m.audio == "" || len(m.isVideo) == 0:
		return nil, fmt.Errorf("%w: book %q has no audio tier or no scenario", ErrInvalidOptions, o.Book.ID)
	case o.Book.Tiering != billing.PerStream && o.Book.Tiering != billing.Aggregate:
		return nil, fmt.Errorf("%w: book %q has no tiering rule", ErrInvalidOptions, o.Book.ID)
	}
	return m, nil
}

// Add takes an event, its time taken to the second. It returns
// ErrInvalidEvent or ErrLate, and then keeps nothing of it.
func (m *Meter) Add(e Event) error {
	e.At = e.At.Truncate(time.Second)
	if err := m.check(&e); err != nil {
		return err
	}
	if e.At.Before(m.wm) {
		return fmt.Errorf("%w: %s at %s, the watermark is %s", ErrLate, e.Kind, e.At.Format(time.RFC3339Nano), m.wm.Format(time.RFC3339Nano))
	}
	k := roomKey{e.Account, e.App, e.Room}
	r := m.rooms[k]
	if r == nil {
		r = &room{key: k, users: map[string]*user{}}
		m.rooms[k] = r
	}
	// Events mostly come in order: then one comparison puts e in place.
	if n := len(r.pending); n == 0 || compareEvents(r.pending[n-1], e) <= 0 {
		r.pending = append(r.pending, e)
	} else {
		i, _ := slices.BinarySearchFunc(r.pending, e, compareEvents)
		r.pending = slices.Insert(r.pending, i, e)
	}
	return nil
}

// check reports what is wrong with e.
func (m *Meter) check(e *Event) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidEvent, fmt.Sprintf(format, args...))
	}
	switch {
	case e.Account == "" || e.App == "" || e.Room == "":
		return bad("no account, application or room")
	case e.Kind < Enter || e.Kind > Close:
		return bad("unknown kind %d", e.Kind)
	case e.Kind != Close && e.User == "":
		return bad("%s without a user", e.Kind)
	case e.At.IsZero():
		return bad("%s without a time", e.Kind)
	}
	if _, err := billing.DayOf(e.At, m.loc); err != nil {
		return bad("%s at %s: %v", e.Kind, e.At.Format(time.RFC3339), err)
	}
	if _, ok := m.isVideo[e.Scenario]; e.Kind == Enter && !ok {
		return bad("scenario %q is not in book %q", e.Scenario, m.o.Book.ID)
	}
	if e.Kind == Subscribe || e.Kind == Unsubscribe {
		switch {
		case e.From == "" || e.Stream == "":
			return bad("%s without a publisher or a stream", e.Kind)
		case e.From == e.User:
			return bad("%s of %q's own stream: a user's preview is not received", e.Kind, e.User)
		}
	}
	if r := e.Resolution; r != (billing.Resolution{}) &&
		(e.Kind != Subscribe || r.Width < 1 || r.Height < 1 || r.Width > billing.MaxDimension || r.Height > billing.MaxDimension) {
		return bad("resolution %dx%d of a %s", r.Width, r.Height, e.Kind)
	}
	return nil
}

// Advance applies the events before now less Options.Lateness, the new
// watermark (never earlier than the last), and returns the usages they
// complete: of every stay that ended before it, and of every day of an
// open stay that ended before it, in order of At, then ID.
func (m *Meter) Advance(now time.Time) []billing.Usage {
	wm := now.Add(-m.o.Lateness)
	if wm.Before(m.wm) {
		wm = m.wm
	}
	m.out = m.out[:0]
	for k, r := range m.rooms {
		if r.quiet(wm) {
			continue
		}
		m.advance(r, wm)
		if len(r.users) == 0 && len(r.pending) == 0 {
			delete(m.rooms, k)
		}
	}
	m.wm = wm
	out := slices.Clone(m.out)
	slices.SortFunc(out, func(x, y billing.Usage) int { return cmp.Or(x.At.Compare(y.At), strings.Compare(x.ID, y.ID)) })
	return out
}

// quiet reports whether nothing of room r happens before wm: no event to
// apply, no day of a stay and no Timeout ending.
func (r *room) quiet(wm time.Time) bool {
	return (len(r.pending) == 0 || !r.pending[0].At.Before(wm)) && (r.gone.IsZero() || !r.gone.Before(wm)) &&
		(r.due.IsZero() || wm.Before(r.due))
}

// Open returns how many users are in the Meter's rooms, all together, as
// far as the events before the watermark tell.
func (m *Meter) Open() int {
	n := 0
	for _, r := range m.rooms {
		for _, u := range r.users {
			if u.in {
				n++
			}
		}
	}
	return n
}

// Usages meters the events of whole rooms at once: what a Meter given
// them in any order returns once advanced past them all. Every stay must
// end (a Leave, a Close, or Options.Timeout), else it returns ErrOpenStay.
func Usages(o Options, events []Event) ([]billing.Usage, error) {
	m, err := New(o)
	if err != nil {
		return nil, err
	}
	var end time.Time
	for _, e := range events {
		if err := m.Add(e); err != nil {
			return nil, err
		}
		if e.At.After(end) {
			end = e.At
		}
	}
	us := m.Advance(end.Add(o.Timeout + o.Lateness + time.Nanosecond))
	if n := m.Open(); n > 0 {
		return nil, fmt.Errorf("%w: %d users still in a room", ErrOpenStay, n)
	}
	return us, nil
}

// advance applies the room's events before wm, meters its users' time up
// to wm where a day or a Timeout ended, and returns what is complete.
func (m *Meter) advance(r *room, wm time.Time) {
	n, moved := 0, false
	for n < len(r.pending) && r.pending[n].At.Before(wm) {
		moved = m.expire(r, r.pending[n].At) || moved
		m.apply(r, &r.pending[n])
		moved = moved || r.pending[n].Kind == Enter || r.pending[n].Kind == Leave || r.pending[n].Kind == Close
		n++
	}
	r.pending = r.pending[:copy(r.pending, r.pending[n:])] // one buffer per room, reused
	moved = m.expire(r, wm) || moved
	if !moved && !r.due.IsZero() && wm.Before(r.due) {
		return // no one came or went, no day ended: nothing complete
	}
	today, _ := billing.DayOf(wm, m.loc)
	r.due = time.Time{}
	for id, u := range r.users {
		// A user's time is metered when an event comes, and here only if
		// a day of the stay ended before wm.
		if u.in && !wm.Before(u.dayEnd) {
			m.meter(r, u, wm)
		}
		if !u.in {
			delete(r.users, id)
			continue
		}
		if r.due.IsZero() || u.dayEnd.Before(r.due) {
			r.due = u.dayEnd
		}
		// The days of the stay that ended before wm are complete.
		kept := u.pieces[:0]
		for _, p := range u.pieces {
			if p.day < today {
				m.emit(r, u, p)
			} else {
				kept = append(kept, p)
			}
		}
		u.pieces = kept
	}
}

// expire takes out of room r, in order of their times, the users whose
// Timeout passed before t (at their last event plus Timeout), and reports
// whether it took any.
func (m *Meter) expire(r *room, t time.Time) bool {
	if m.o.Timeout == 0 || r.gone.IsZero() || !r.gone.Before(t) {
		return false // no one's Timeout passed: r.gone is the earliest it can
	}
	var gone []*user
	r.gone = time.Time{}
	for _, u := range r.users {
		switch g := u.last.Add(m.o.Timeout); {
		case !u.in:
		case g.Before(t):
			gone = append(gone, u)
		case r.gone.IsZero() || g.Before(r.gone):
			r.gone = g
		}
	}
	slices.SortFunc(gone, func(x, y *user) int { return cmp.Or(x.last.Compare(y.last), strings.Compare(x.id, y.id)) })
	for _, u := range gone {
		at := u.last.Add(m.o.Timeout)
		m.meter(r, u, at)
		m.end(r, u, at)
	}
	return len(gone) > 0
}

// compareEvents orders events by time, then Seq; then ends before starts
// (Close, Leave, Unsubscribe, then Enter, Subscribe, Alive), then by
// user, stream and resolution, so that any arrival order gives one order.
func compareEvents(x, y Event) int {
	return cmp.Or(x.At.Compare(y.At), cmp.Compare(x.Seq, y.Seq), cmp.Compare(rank(x.Kind), rank(y.Kind)), strings.Compare(x.User, y.User),
		strings.Compare(x.From, y.From), strings.Compare(x.Stream, y.Stream),
		cmp.Compare(x.Resolution.Width, y.Resolution.Width), cmp.Compare(x.Resolution.Height, y.Resolution.Height),
		strings.Compare(string(x.Scenario), string(y.Scenario)))
}

func rank(k Kind) int {
	return [...]int{Close: 0, Leave: 1, Unsubscribe: 2, Enter: 3, Subscribe: 4, Alive: 5}[k]
}

// apply applies event e of room r, at its place in time.
func (m *Meter) apply(r *room, e *Event) {
	if e.Kind == Close {
		for _, u := range r.users {
			m.meter(r, u, e.At)
			m.end(r, u, e.At)
		}
		return
	}
	u := r.users[e.User]
	if u == nil {
		u = &user{id: e.User}
		r.users[e.User] = u
	}
	m.meter(r, u, e.At)
	switch e.Kind {
	case Enter:
		if !u.in {
			*u = user{id: u.id, in: true, scenario: e.Scenario, stay: e.At, since: e.At, tiers: append(u.tiers[:0], m.audio)}
			if gone := e.At.Add(m.o.Timeout); r.gone.IsZero() || gone.Before(r.gone) {
				r.gone = gone
			}
		}
	case Leave:
		m.end(r, u, e.At)
		return
	case Subscribe, Unsubscribe:
		if p := r.users[e.From]; !u.in || e.Kind == Subscribe && (p == nil || !p.in) {
			return // no one receives, or nothing is sent
		}
		i := slices.IndexFunc(u.subs, func(s sub) bool { return s.from == e.From && s.stream == e.Stream })
		switch {
		case e.Kind == Unsubscribe && i >= 0:
			u.subs = slices.Delete(u.subs, i, i+1)
		case e.Kind == Subscribe && i >= 0:
			u.subs[i].res = e.Resolution
		case e.Kind == Subscribe:
			u.subs = append(u.subs, sub{from: e.From, stream: e.Stream, res: e.Resolution})
		}
		m.retier(u)
	}
	if u.in {
		u.last = e.At
	}
}

// retier sets the tiers u's time goes to from now on: audio, unless the
// stay's scenario is a video one and u receives video, tiered by the
// book's rule: each stream by its own area, or the instant by the sum of
// theirs. Above a capped table's top bound it is the top tier, as
// Tencent's documents leave it undefined there.
func (m *Meter) retier(u *user) {
	video := m.video[:0]
	var area int64
	if m.isVideo[u.scenario] {
		for _, s := range u.subs {
			if s.res != (billing.Resolution{}) {
				video = append(video, s.res)
				area += int64(s.res.Width) * int64(s.res.Height)
			}
		}
	}
	m.video = video
	u.tiers = u.tiers[:0]
	switch {
	case len(video) == 0:
		u.tiers = append(u.tiers, m.audio)
	case m.o.Book.Tiering == billing.Aggregate:
		u.tiers = append(u.tiers, m.tierOf(area))
	default:
		for _, r := range video {
			u.tiers = append(u.tiers, m.tierOf(int64(r.Width)*int64(r.Height)))
		}
	}
}

// tierOf returns the basic video tier of an area (a stream's, or the sum
// of an instant's under the aggregate rule): the book's
// ([billing.PriceBook.AreaTier]), asked once for each area, or the top
// tier above a capped table's top bound.
func (m *Meter) tierOf(area int64) billing.Tier {
	t, ok := m.areaTier[area]
	if !ok {
		var err error
		if t, err = m.o.Book.AreaTier(billing.ServiceBasic, area); err != nil {
			t = m.top
		}
		m.areaTier[area] = t
	}
	return t
}

// meter adds u's time from u.since to end to its pieces, day by day.
func (m *Meter) meter(r *room, u *user, end time.Time) {
	if !u.in {
		return
	}
	for u.since.Before(end) {
		if !u.since.Before(u.dayEnd) {
			u.day, _ = billing.DayOf(u.since, m.loc)
			u.dayEnd = (u.day + 1).Start(m.loc)
		}
		to := u.dayEnd
		if end.Before(to) {
			to = end
		}
		for _, tier := range u.tiers {
			u.add(u.day, tier, to)
		}
		u.since = to
	}
}

// add adds the time from u.since to end, in day d, to the piece of tier t.
func (u *user) add(d billing.Day, t billing.Tier, end time.Time) {
	for i := range u.pieces {
		if p := &u.pieces[i]; p.day == d && p.tier == t {
			p.d += end.Sub(u.since)
			p.last = end
			return
		}
	}
	u.pieces = append(u.pieces, piece{day: d, tier: t, d: end.Sub(u.since), last: end})
}

// end ends u's stay at t (metered up to t), returning its pieces; the
// streams u published end for their receivers.
func (m *Meter) end(r *room, u *user, t time.Time) {
	if !u.in {
		return
	}
	for _, p := range u.pieces {
		m.emit(r, u, p)
	}
	u.in, u.subs, u.pieces, u.last = false, u.subs[:0], u.pieces[:0], t
	for _, v := range r.users {
		if v.in && slices.ContainsFunc(v.subs, func(s sub) bool { return s.from == u.id }) {
			m.meter(r, v, t)
			v.subs = slices.DeleteFunc(v.subs, func(s sub) bool { return s.from == u.id })
			m.retier(v)
		}
	}
}

// emit returns piece p of u's stay as a usage; its time is whole seconds
// (the events' times are).
func (m *Meter) emit(r *room, u *user, p piece) {
	seconds := int64(p.d / time.Second)
	if seconds == 0 {
		return
	}
	m.out = append(m.out, billing.Usage{
		ID: usageID(r.key, u.id, u.stay, p.day, p.tier), Account: r.key.account, App: r.key.app,
		Scenario: u.scenario, Tier: p.tier, Seconds: seconds, At: p.last.Add(-time.Second),
	})
}

// usageID is the id of the usage of a stay's day and tier: "sm-" and the
// 128-bit FNV-1a hash of its room, user, stay, day and tier, each name
// preceded by its length.
func usageID(k roomKey, userID string, stay time.Time, d billing.Day, t billing.Tier) string {
	h := fnv.New128a()
	for _, s := range []string{k.account, k.app, k.room, userID, string(t)} {
		h.Write(binary.AppendUvarint(nil, uint64(len(s))))
		h.Write([]byte(s))
	}
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(stay.UnixNano()))
	binary.BigEndian.PutUint64(b[8:], uint64(d))
	h.Write(b[:])
	return "sm-" + hex.EncodeToString(h.Sum(nil))
}

// String returns the kind's name.
func (k Kind) String() string {
	if k >= Enter && k <= Close {
		return [...]string{Enter: "Enter", Leave: "Leave", Subscribe: "Subscribe", Unsubscribe: "Unsubscribe", Alive: "Alive", Close: "Close"}[k]
	}
	return fmt.Sprintf("Kind(%d)", k)
}
