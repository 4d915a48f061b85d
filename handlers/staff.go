package handlers

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"

	"policybot/roster"
)

// Record kinds of the roster and check-ins.
const (
	KindPerson     = "person"     // id: phone; index "openid", "role", "village" (town/village)
	KindPairing    = "pairing"    // id: pairing key; index "helper", "village"
	KindTask       = "task"       // id: task id; index "owner", "leader", "open" (yes|no), "due"
	KindVisit      = "visit"      // id: pairing/unixnano; index "pm" (pairing|2026-11), "helper", "msg" (hash of the reporting message)
	KindAttendance = "attendance" // id: phone/2026-11-22; index "pm" (phone|2026-11)
	KindInvite     = "invite"     // id: code; index "phone"
	KindRemindSent = "remindsent" // id: reminder key
)

// StaffPerson is a person of the roster as stored: the roster's fields
// and the WeChat binding.
type StaffPerson struct {
	roster.Person
	OpenID  string    `json:"openid,omitempty"`
	BoundAt time.Time `json:"bound_at,omitempty"`
}

// StaffTask is a task with its closing.
type StaffTask struct {
	roster.Task
	Closed   bool      `json:"closed,omitempty"`
	ClosedAt time.Time `json:"closed_at,omitempty"`
	ClosedBy string    `json:"closed_by,omitempty"`
	Note     string    `json:"note,omitempty"`
}

// Visit is one recorded household visit.
type Visit struct {
	Pairing   string    `json:"pairing"`
	Helper    string    `json:"helper"`
	Household string    `json:"household"`
	At        time.Time `json:"at"`
}

// Invite is a single-use binding code for one person.
type Invite struct {
	Code    string    `json:"code"`
	Phone   string    `json:"phone"`
	Expires time.Time `json:"expires"`
	UsedBy  string    `json:"used_by,omitempty"`
	UsedAt  time.Time `json:"used_at,omitempty"`
}

// Staff runs the roster side of the bot: binding, check-ins, tasks and
// the reminders. State is in the store.
type Staff struct {
	Store StateStore
	// Quiz, when set, receives each bound person's name, place and role,
	// so quiz figures carry them.
	Quiz   *Quiz
	Now    func() time.Time
	Loc    *time.Location
	Logger *slog.Logger
	Remind RemindConfig
	// ReachByPhone queues reminders for people who have not bound WeChat
	// too: a channel that reaches people by phone (WeCom) can send them.
	ReachByPhone bool
}

func (s *Staff) now() time.Time { return nowOr(s.Now) }

func (s *Staff) loc() *time.Location { return locOr(s.Loc) }

func (s *Staff) log() *slog.Logger { return logOr(s.Logger) }

// Person returns the person with phone.
func (s *Staff) Person(ctx context.Context, phone string) (StaffPerson, error) {
	return getJSON[StaffPerson](ctx, s.Store, KindPerson, phone)
}

// ByOpenID returns the person bound to openid, or ErrNotFound.
func (s *Staff) ByOpenID(ctx context.Context, openid string) (StaffPerson, error) {
	ids, err := s.Store.LookupRecords(ctx, KindPerson, "openid", openid)
	if err != nil {
		return StaffPerson{}, err
	}
	if len(ids) == 0 {
		return StaffPerson{}, ErrNotFound
	}
	return s.Person(ctx, ids[0])
}

// Existing is what a roster import is checked against.
func (s *Staff) Existing(ctx context.Context) (roster.Existing, error) {
	ex := roster.Existing{People: map[string]roster.Person{}, Pairings: map[string]map[string]bool{}}
	r, err := s.Export(ctx)
	if err != nil {
		return ex, err
	}
	for _, p := range r.People {
		ex.People[p.Phone] = p
	}
	for _, p := range r.Pairings {
		if ex.Pairings[p.HelperPhone] == nil {
			ex.Pairings[p.HelperPhone] = map[string]bool{}
		}
		ex.Pairings[p.HelperPhone][p.Key()] = true
	}
	return ex, nil
}

// Export returns the roster as stored, in the import format's order.
func (s *Staff) Export(ctx context.Context) (roster.Roster, error) {
	var r roster.Roster
	people, err := s.people(ctx)
	if err != nil {
		return r, err
	}
	for _, p := range people {
		r.People = append(r.People, p.Person)
	}
	pairs, err := s.pairings(ctx)
	if err != nil {
		return r, err
	}
	r.Pairings = pairs
	tasks, err := s.tasks(ctx)
	if err != nil {
		return r, err
	}
	for _, t := range tasks {
		r.Tasks = append(r.Tasks, t.Task)
	}
	return r, nil
}

func (s *Staff) people(ctx context.Context) ([]StaffPerson, error) {
	ids, err := s.Store.ListRecords(ctx, KindPerson, "", 0)
	if err != nil {
		return nil, err
	}
	return allJSON[StaffPerson](ctx, s.Store, KindPerson, ids)
}

func (s *Staff) pairings(ctx context.Context) ([]roster.Pairing, error) {
	ids, err := s.Store.ListRecords(ctx, KindPairing, "", 0)
	if err != nil {
		return nil, err
	}
	return allJSON[roster.Pairing](ctx, s.Store, KindPairing, ids)
}

func (s *Staff) tasks(ctx context.Context) ([]StaffTask, error) {
	ids, err := s.Store.ListRecords(ctx, KindTask, "", 0)
	if err != nil {
		return nil, err
	}
	return allJSON[StaffTask](ctx, s.Store, KindTask, ids)
}

// ImportResult counts what an import changed.
type ImportResult struct {
	People, Pairings, Tasks int
}

// KindImport keeps a roster import while it is applied (id "pending"):
// written whole before the first record changes and removed after the
// last, so an import cut short by a crash is finished by ResumeImport.
const KindImport = "rosterimport"

// Apply stores a checked roster: people keep their WeChat binding, tasks
// keep their closing, everything else is replaced by the file's values.
// Running it twice changes nothing the second time. The roster is first
// kept whole as the pending import: if the process dies part way, the next
// ResumeImport applies all of it.
func (s *Staff) Apply(ctx context.Context, r roster.Roster) (ImportResult, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return ImportResult{}, err
	}
	if err := s.Store.PutRecord(ctx, KindImport, "pending", b); err != nil {
		return ImportResult{}, fmt.Errorf("staff: keep the import: %w", err)
	}
	res, err := s.apply(ctx, r)
	if err != nil {
		return res, err // still pending: ResumeImport finishes it
	}
	return res, s.Store.DeleteRecord(ctx, KindImport, "pending")
}

// PendingImport returns the import that was being applied when the
// process stopped, or ErrNotFound.
func (s *Staff) PendingImport(ctx context.Context) (roster.Roster, error) {
	return getJSON[roster.Roster](ctx, s.Store, KindImport, "pending")
}

// ResumeImport applies a pending import whole (see Apply); resumed is
// false when there was none. serve calls it at start and every minute.
func (s *Staff) ResumeImport(ctx context.Context) (res ImportResult, resumed bool, err error) {
	r, err := s.PendingImport(ctx)
	if errors.Is(err, ErrNotFound) {
		return res, false, nil
	}
	if err != nil {
		return res, false, err
	}
	res, err = s.Apply(ctx, r)
	return res, true, err
}

func (s *Staff) apply(ctx context.Context, r roster.Roster) (ImportResult, error) {
	var res ImportResult
	for _, p := range r.People {
		sp := StaffPerson{Person: p}
		if old, err := s.Person(ctx, p.Phone); err == nil {
			sp.OpenID, sp.BoundAt = old.OpenID, old.BoundAt
		} else if !errors.Is(err, ErrNotFound) {
			return res, err
		}
		if err := s.putPerson(ctx, sp); err != nil {
			return res, err
		}
		if sp.OpenID != "" {
			s.syncQuiz(ctx, sp)
		}
		res.People++
	}
	for _, p := range r.Pairings {
		if err := putJSON(ctx, s.Store, KindPairing, p.Key(), p, IndexEntry{Name: "helper", Value: p.HelperPhone},
			IndexEntry{Name: "village", Value: p.Town + "/" + p.Village}); err != nil {
			return res, err
		}
		res.Pairings++
	}
	for _, t := range r.Tasks {
		st := StaffTask{Task: t}
		if old, err := getJSON[StaffTask](ctx, s.Store, KindTask, t.ID); err == nil {
			st.Closed, st.ClosedAt, st.ClosedBy, st.Note = old.Closed, old.ClosedAt, old.ClosedBy, old.Note
		} else if !errors.Is(err, ErrNotFound) {
			return res, err
		}
		if err := s.putTask(ctx, st); err != nil {
			return res, err
		}
		res.Tasks++
	}
	return res, nil
}

// syncQuiz gives the person's quiz record their name, place and role.
func (s *Staff) syncQuiz(ctx context.Context, p StaffPerson) {
	if s.Quiz == nil || p.OpenID == "" {
		return
	}
	u, err := s.Quiz.User(ctx, p.OpenID)
	if err != nil {
		s.log().Warn("staff: quiz record not updated", "err", err)
		return
	}
	u.Name, u.Role = p.Name, p.Role
	if p.Village != "" {
		u.Town, u.Village = p.Town, p.Village
	}
	if err := s.Quiz.PutUser(ctx, u); err != nil {
		s.log().Warn("staff: quiz record not updated", "err", err)
	}
}

// InviteCodeDigits is the length of invite codes.
const InviteCodeDigits = 6

// CreateInvite gives phone a new single-use code valid for ttl. Earlier
// unused codes of the person stay valid until they expire.
func (s *Staff) CreateInvite(ctx context.Context, phone string, ttl time.Duration) (Invite, error) {
	if _, err := s.Person(ctx, phone); err != nil {
		return Invite{}, fmt.Errorf("invite %s: %w", phone, err)
	}
	for try := 0; try < 20; try++ {
		n, err := rand.Int(rand.Reader, big.NewInt(900000))
		if err != nil {
			return Invite{}, err
		}
		code := strconv.Itoa(int(n.Int64()) + 100000)
		// reserve the code: never hand out one that exists or was used
		first, err := s.Store.MarkSeen(ctx, "invitecode:"+code, 400*24*time.Hour)
		if err != nil {
			return Invite{}, err
		}
		if !first {
			continue
		}
		inv := Invite{Code: code, Phone: phone, Expires: s.now().Add(ttl)}
		return inv, putJSON(ctx, s.Store, KindInvite, code, inv, IndexEntry{Name: "phone", Value: phone})
	}
	return Invite{}, errors.New("invite: no free code found")
}

// Bind errors, each answered with its own text.
var (
	ErrInviteUnknown = errors.New("unknown invite code")
	ErrInviteUsed    = errors.New("invite code already used")
	ErrInviteExpired = errors.New("invite code expired")
)

// Bind binds openid to the person of code. The code works once; a person
// bound before moves to the new openid, and an openid bound to someone
// else (a phone number that changed) is moved to this person.
func (s *Staff) Bind(ctx context.Context, openid, code string) (StaffPerson, error) {
	inv, err := getJSON[Invite](ctx, s.Store, KindInvite, code)
	if errors.Is(err, ErrNotFound) {
		return StaffPerson{}, ErrInviteUnknown
	}
	if err != nil {
		return StaffPerson{}, err
	}
	if inv.UsedBy != "" {
		if inv.UsedBy == openid { // the same person again: harmless
			return s.Person(ctx, inv.Phone)
		}
		return StaffPerson{}, ErrInviteUsed
	}
	if s.now().After(inv.Expires) {
		return StaffPerson{}, ErrInviteExpired
	}
	first, err := s.Store.MarkSeen(ctx, "inviteused:"+code, 400*24*time.Hour)
	if err != nil {
		return StaffPerson{}, err
	}
	if !first {
		return StaffPerson{}, ErrInviteUsed
	}
	p, err := s.Person(ctx, inv.Phone)
	if err != nil {
		return StaffPerson{}, fmt.Errorf("bind: %w", err)
	}
	if other, err := s.ByOpenID(ctx, openid); err == nil && other.Phone != p.Phone {
		other.OpenID, other.BoundAt = "", time.Time{}
		if err := s.putPerson(ctx, other); err != nil {
			return StaffPerson{}, err
		}
	}
	p.OpenID, p.BoundAt = openid, s.now()
	if err := s.putPerson(ctx, p); err != nil {
		return StaffPerson{}, err
	}
	inv.UsedBy, inv.UsedAt = openid, s.now()
	if err := putJSON(ctx, s.Store, KindInvite, code, inv, IndexEntry{Name: "phone", Value: inv.Phone}); err != nil {
		return StaffPerson{}, err
	}
	s.syncQuiz(ctx, p)
	return p, nil
}

// Unbind removes openid's binding; false when it had none.
func (s *Staff) Unbind(ctx context.Context, openid string) (bool, error) {
	p, err := s.ByOpenID(ctx, openid)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	p.OpenID, p.BoundAt = "", time.Time{}
	return true, s.putPerson(ctx, p)
}

// helperPairings are the pairings of a helper, by household name.
func (s *Staff) helperPairings(ctx context.Context, phone string) ([]roster.Pairing, error) {
	ids, err := s.Store.LookupRecords(ctx, KindPairing, "helper", phone)
	if err != nil {
		return nil, err
	}
	ps, err := allJSON[roster.Pairing](ctx, s.Store, KindPairing, ids)
	if err != nil {
		return nil, err
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].Household < ps[j].Household })
	return ps, nil
}

func month(t time.Time) string { return t.Format("2006-01") }

// lastVisit returns the latest visit of a pairing in a month, if any.
func (s *Staff) visitsIn(ctx context.Context, pairing, m string) ([]string, error) {
	return s.Store.LookupRecords(ctx, KindVisit, "pm", pairing+"|"+m)
}

// RecordVisit records that the helper visited the pairing now. msgID is
// the chat message that reported it (Message.ID, may be empty): a message
// handled twice records one visit.
func (s *Staff) RecordVisit(ctx context.Context, helper string, p roster.Pairing, msgID string) error {
	now := s.now()
	v := Visit{Pairing: p.Key(), Helper: helper, Household: p.Household, At: now}
	id := fmt.Sprintf("%s/%d", p.Key(), now.UnixNano())
	idx := []IndexEntry{{Name: "pm", Value: p.Key() + "|" + month(now.In(s.loc()))}, {Name: "helper", Value: helper}}
	if msgID != "" {
		mk := UserHash(msgID)
		ids, err := s.Store.LookupRecords(ctx, KindVisit, "msg", mk)
		if err != nil {
			return err
		}
		if len(ids) > 0 {
			return nil
		}
		idx = append(idx, IndexEntry{Name: "msg", Value: mk})
	}
	return putJSON(ctx, s.Store, KindVisit, id, v, idx...)
}

// RecordPresence records the cadre in the village today; false when today
// was already recorded. It returns the days recorded this month.
func (s *Staff) RecordPresence(ctx context.Context, phone string) (added bool, days int, err error) {
	now := s.now().In(s.loc())
	id := phone + "/" + now.Format("2006-01-02")
	if _, err := s.Store.GetRecord(ctx, KindAttendance, id); err == nil {
		days, err := s.presenceDays(ctx, phone, now)
		return false, days, err
	} else if !errors.Is(err, ErrNotFound) {
		return false, 0, err
	}
	if err := putJSON(ctx, s.Store, KindAttendance, id, map[string]any{"phone": phone, "at": s.now()},
		IndexEntry{Name: "pm", Value: phone + "|" + month(now)}); err != nil {
		return false, 0, err
	}
	days, err = s.presenceDays(ctx, phone, now)
	return true, days, err
}

func (s *Staff) presenceDays(ctx context.Context, phone string, now time.Time) (int, error) {
	ids, err := s.Store.LookupRecords(ctx, KindAttendance, "pm", phone+"|"+month(now.In(s.loc())))
	return len(ids), err
}

// CloseTask closes a task (销号) by its owner, its leader or an admin and
// queues a notice to the leader. false when it was closed already.
func (s *Staff) CloseTask(ctx context.Context, by StaffPerson, id, note string) (StaffTask, bool, error) {
	t, err := getJSON[StaffTask](ctx, s.Store, KindTask, id)
	if err != nil {
		return t, false, err
	}
	if by.Phone != t.OwnerPhone && by.Phone != t.LeaderPhone && by.Role != roster.RoleAdmin {
		return t, false, ErrNotYours
	}
	if t.Closed {
		return t, false, nil
	}
	t.Closed, t.ClosedAt, t.ClosedBy, t.Note = true, s.now(), by.Phone, note
	if err := s.putTask(ctx, t); err != nil {
		return t, false, err
	}
	if leader, err := s.Person(ctx, t.LeaderPhone); err == nil && leader.OpenID != "" && leader.Phone != by.Phone {
		text := fmt.Sprintf(TextTaskClosedNotice, t.ID, t.Problem, by.Name, orDash(note))
		payload, _ := json.Marshal(OutboundText{To: leader.OpenID, Text: text, Kind: "task_closed", Phone: leader.Phone})
		if _, err := s.Store.Enqueue(ctx, DailyQueue, QueueItem{Key: "closed:" + t.ID, Payload: payload}); err != nil {
			s.log().Error("staff: leader not told of a closed task", "task", t.ID, "err", err)
		}
	}
	return t, true, nil
}

// ErrNotYours: the task belongs to someone else.
var ErrNotYours = errors.New("not your task")

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return s
}

func (s *Staff) putPerson(ctx context.Context, p StaffPerson) error {
	idx := []IndexEntry{{Name: "role", Value: p.Role}, {Name: "village", Value: p.Town + "/" + p.Village}, {Name: "town", Value: p.Town}}
	if p.OpenID != "" {
		idx = append(idx, IndexEntry{Name: "openid", Value: p.OpenID})
	}
	return putJSON(ctx, s.Store, KindPerson, p.Phone, p, idx...)
}

func (s *Staff) putTask(ctx context.Context, t StaffTask) error {
	open := "yes"
	if t.Closed {
		open = "no"
	}
	return putJSON(ctx, s.Store, KindTask, t.ID, t, IndexEntry{Name: "owner", Value: t.OwnerPhone},
		IndexEntry{Name: "leader", Value: t.LeaderPhone}, IndexEntry{Name: "open", Value: open}, IndexEntry{Name: "due", Value: t.Due})
}
