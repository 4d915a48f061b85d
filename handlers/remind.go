package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"policybot/quiz"
	"policybot/roster"
)

// Defaults of RemindConfig: days of the month.
const (
	DefaultVisitDay      = 20
	DefaultVisitDay2     = 25
	DefaultEscalateDay   = 28
	DefaultAttendanceDay = 20
	DefaultMinDays       = 20
)

// RemindConfig says when reminders go out (days of the month in the
// bot's time zone) and the quiet hours.
type RemindConfig struct {
	VisitDay      int    // first visit reminder from this day (default 20)
	VisitDay2     int    // second one (default 25)
	EscalateDay   int    // overdue pairings to the 第一书记 and 责任领导 (default 28)
	AttendanceDay int    // attendance check from this day (default 20)
	MinDays       int    // days in the village a month (default 20)
	DueDays       []int  // days before a task's deadline to remind (default 7, 3, 1, 0)
	Quiet         string // quiet hours (default DefaultQuiet)
}

func (c RemindConfig) withDefaults() RemindConfig {
	if c.VisitDay == 0 {
		c.VisitDay = DefaultVisitDay
	}
	if c.VisitDay2 == 0 {
		c.VisitDay2 = DefaultVisitDay2
	}
	if c.EscalateDay == 0 {
		c.EscalateDay = DefaultEscalateDay
	}
	if c.AttendanceDay == 0 {
		c.AttendanceDay = DefaultAttendanceDay
	}
	if c.MinDays == 0 {
		c.MinDays = DefaultMinDays
	}
	if c.DueDays == nil {
		c.DueDays = []int{7, 3, 1, 0}
	}
	if c.Quiet == "" {
		c.Quiet = DefaultQuiet
	}
	return c
}

// Reminder kinds.
const (
	RemindVisit      = "visit"
	RemindAttendance = "attendance"
	RemindDeadline   = "deadline"
)

// Reminder is one message a job would send.
type Reminder struct {
	Key       string    `json:"key"` // idempotency: person, item and cycle
	Kind      string    `json:"kind"`
	ToPhone   string    `json:"to_phone"`
	ToName    string    `json:"to_name"`
	OpenID    string    `json:"openid,omitempty"` // empty: not bound, cannot be sent
	Text      string    `json:"text"`
	NotBefore time.Time `json:"not_before"`
}

type staffIndex struct {
	people map[string]StaffPerson
	byRole map[string][]StaffPerson
}

func (s *Staff) index(ctx context.Context) (staffIndex, error) {
	ps, err := s.people(ctx)
	if err != nil {
		return staffIndex{}, err
	}
	ix := staffIndex{people: map[string]StaffPerson{}, byRole: map[string][]StaffPerson{}}
	for _, p := range ps {
		ix.people[p.Phone] = p
		ix.byRole[p.Role] = append(ix.byRole[p.Role], p)
	}
	return ix, nil
}

// supervisors of a village: its 第一书记 and the 责任领导 of its town (a
// leader with no village covers the town).
func (ix staffIndex) supervisors(town, village string) []StaffPerson {
	var out []StaffPerson
	for _, p := range ix.byRole[roster.RoleSecretary] {
		if p.Town == town && p.Village == village {
			out = append(out, p)
		}
	}
	for _, p := range ix.byRole[roster.RoleLeader] {
		if p.Town == town && (p.Village == "" || p.Village == village) {
			out = append(out, p)
		}
	}
	return out
}

// Plan computes every reminder of kinds (all when empty) due at now and
// not sent before. It writes nothing: the dry run prints it, the jobs
// queue it (Send).
func (s *Staff) Plan(ctx context.Context, now time.Time, kinds ...string) ([]Reminder, error) {
	cfg := s.Remind.withDefaults()
	want := map[string]bool{}
	for _, k := range kinds {
		want[k] = true
	}
	all := len(kinds) == 0
	ix, err := s.index(ctx)
	if err != nil {
		return nil, err
	}
	lt := now.In(s.loc())
	notBefore := OutsideQuiet(now, cfg.Quiet, s.loc())
	var out []Reminder
	add := func(key, kind string, to StaffPerson, text string) {
		out = append(out, Reminder{Key: key, Kind: kind, ToPhone: to.Phone, ToName: to.Name, OpenID: to.OpenID, Text: text, NotBefore: notBefore})
	}
	if all || want[RemindVisit] {
		if err := s.planVisits(ctx, lt, cfg, ix, add); err != nil {
			return nil, err
		}
	}
	if all || want[RemindAttendance] {
		if err := s.planAttendance(ctx, lt, cfg, ix, add); err != nil {
			return nil, err
		}
	}
	if all || want[RemindDeadline] {
		if err := s.planDeadlines(ctx, lt, cfg, ix, add); err != nil {
			return nil, err
		}
	}
	// leave out what was sent before
	keys := make([]string, len(out))
	for i, r := range out {
		keys[i] = r.Key
	}
	sent, err := s.Store.GetRecords(ctx, KindRemindSent, keys)
	if err != nil {
		return nil, err
	}
	kept := out[:0]
	for i, r := range out {
		if sent[i] == nil {
			kept = append(kept, r)
		}
	}
	return kept, nil
}

func (s *Staff) planVisits(ctx context.Context, lt time.Time, cfg RemindConfig, ix staffIndex, add func(string, string, StaffPerson, string)) error {
	day := lt.Day()
	if day < cfg.VisitDay {
		return nil
	}
	m := month(lt)
	pairs, err := s.pairings(ctx)
	if err != nil {
		return err
	}
	overdue := map[string][]string{} // town/village → lines
	for _, p := range pairs {
		visits, err := s.visitsIn(ctx, p.Key(), m)
		if err != nil {
			return err
		}
		if len(visits) > 0 {
			continue
		}
		h, ok := ix.people[p.HelperPhone]
		if !ok {
			continue
		}
		place := p.Town + p.Village
		// one message per helper and household in a run: the stronger one
		// once its day has come (a first run late in the month sends the
		// second reminder alone, not both)
		if day >= cfg.VisitDay2 {
			add("visit2:"+p.Key()+":"+m, RemindVisit, h, fmt.Sprintf(TextRemindVisit2, p.Household, place, p.Household))
		} else {
			add("visit1:"+p.Key()+":"+m, RemindVisit, h, fmt.Sprintf(TextRemindVisit, p.Household, place, p.Household))
		}
		if day >= cfg.EscalateDay {
			k := p.Town + "/" + p.Village
			overdue[k] = append(overdue[k], fmt.Sprintf("· %s（帮扶责任人 %s %s）", p.Household, h.Name, h.Phone))
		}
	}
	for _, k := range sortedKeys(overdue) {
		town, village, _ := strings.Cut(k, "/")
		for _, sup := range ix.supervisors(town, village) {
			add("visitesc:"+k+":"+m+":"+sup.Phone, RemindVisit, sup, fmt.Sprintf(TextEscalateVisits, town+village, strings.Join(overdue[k], "\n")))
		}
	}
	return nil
}

func (s *Staff) planAttendance(ctx context.Context, lt time.Time, cfg RemindConfig, ix staffIndex, add func(string, string, StaffPerson, string)) error {
	day := lt.Day()
	if day < cfg.AttendanceDay {
		return nil
	}
	m := month(lt)
	daysInMonth := time.Date(lt.Year(), lt.Month()+1, 0, 0, 0, 0, 0, s.loc()).Day()
	short := map[string][]string{}
	cadres := append(append([]StaffPerson(nil), ix.byRole[roster.RoleCadre]...), ix.byRole[roster.RoleSecretary]...)
	for _, c := range cadres {
		d, err := s.presenceDays(ctx, c.Phone, lt)
		if err != nil {
			return err
		}
		projected := d * daysInMonth / day // at the current pace
		if projected >= cfg.MinDays {
			continue
		}
		add("att:"+c.Phone+":"+m, RemindAttendance, c, fmt.Sprintf(TextRemindAttendance, d, projected))
		k := c.Town + "/" + c.Village
		short[k] = append(short[k], fmt.Sprintf("· %s（%s）已在村 %d 天，预计 %d 天", c.Name, c.Role, d, projected))
	}
	for _, k := range sortedKeys(short) {
		town, village, _ := strings.Cut(k, "/")
		for _, lead := range ix.byRole[roster.RoleSecretary] {
			if lead.Town == town && lead.Village == village {
				add("attlist:"+k+":"+m+":"+lead.Phone, RemindAttendance, lead, fmt.Sprintf(TextAttendanceList, town+village, strings.Join(short[k], "\n")))
			}
		}
	}
	return nil
}

func (s *Staff) planDeadlines(ctx context.Context, lt time.Time, cfg RemindConfig, ix staffIndex, add func(string, string, StaffPerson, string)) error {
	tasks, err := s.tasks(ctx)
	if err != nil {
		return err
	}
	today := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, time.UTC)
	byLeader := map[string][]string{}
	for _, t := range tasks {
		if t.Closed {
			continue
		}
		due, err := time.Parse("2006-01-02", t.Due)
		if err != nil {
			continue
		}
		left := int(due.Sub(today).Hours() / 24)
		owner, ok := ix.people[t.OwnerPhone]
		if !ok {
			continue
		}
		if left >= 0 {
			for _, n := range cfg.DueDays {
				if left == n {
					when := fmt.Sprintf("还有 %d 天", n)
					switch n {
					case 0:
						when = "今天"
					case 1:
						when = "明天"
					}
					add(fmt.Sprintf("due%d:%s:%s", n, t.ID, t.Due), RemindDeadline, owner, fmt.Sprintf(TextRemindDue, t.ID, t.Problem, when, t.Due, t.ID))
				}
			}
			continue
		}
		add("overdue:"+t.ID+":"+today.Format("2006-01-02"), RemindDeadline, owner, fmt.Sprintf(TextOverdueOwner, t.ID, t.Problem, t.Due, -left, t.ID))
		byLeader[t.LeaderPhone] = append(byLeader[t.LeaderPhone], fmt.Sprintf("· %s %s（责任人 %s，期限 %s，逾期 %d 天）", t.ID, t.Problem, owner.Name, t.Due, -left))
	}
	week := quiz.ISOWeek(lt)
	for _, phone := range sortedKeys(byLeader) {
		if leader, ok := ix.people[phone]; ok {
			add("overdueL:"+phone+":"+week, RemindDeadline, leader, fmt.Sprintf(TextOverdueLeader, strings.Join(byLeader[phone], "\n")))
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// SendResult counts one run of Send. Unbound counts reminders to people
// who have not bound WeChat (queued all the same with ReachByPhone).
type SendResult struct {
	Planned, Queued, Unbound int
}

// Send queues the reminders due at now: each once per key (the queue
// deduplicates a key while it is waiting or recently done; a sent mark
// makes it permanent). A person who has not bound WeChat cannot be
// reached: counted, and planned again on the next run.
func (s *Staff) Send(ctx context.Context, now time.Time, kinds ...string) (SendResult, error) {
	rs, err := s.Plan(ctx, now, kinds...)
	if err != nil {
		return SendResult{}, err
	}
	res := SendResult{Planned: len(rs)}
	// planned for now (a job) or for another moment (the command line's
	// --at): either way they go out from the Staff's clock on, outside
	// quiet hours
	notBefore := OutsideQuiet(s.now(), s.Remind.withDefaults().Quiet, s.loc())
	for _, r := range rs {
		if r.OpenID == "" {
			res.Unbound++
			if !s.ReachByPhone {
				continue // not reachable until they bind; planned again next run
			}
		}
		payload, err := json.Marshal(OutboundText{To: r.OpenID, Text: r.Text, Kind: r.Kind, Phone: r.ToPhone})
		if err != nil {
			return res, err
		}
		if _, err := s.Store.Enqueue(ctx, DailyQueue, QueueItem{Key: r.Key, Payload: payload, NotBefore: notBefore}); err != nil {
			return res, fmt.Errorf("queue reminder: %w", err)
		}
		res.Queued++
		if err := putJSON(ctx, s.Store, KindRemindSent, r.Key, map[string]any{"at": now, "to": r.ToPhone}); err != nil {
			return res, err
		}
	}
	return res, nil
}
