package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
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
