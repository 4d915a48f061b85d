package handlers

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"policybot/roster"
)

// KindNotice holds notices (id: time-ordered; index "status").
const KindNotice = "notice"

// Notice statuses.
const (
	NoticeDraft     = "draft"
	NoticePending   = "pending_approval" // two-person rule: waiting for a second official
	NoticeScheduled = "scheduled"
	NoticeSent      = "sent"
	NoticeFailed    = "failed"
)

// Audience kinds.
const (
	AudienceStaff      = "staff"      // bound staff, optionally by role, town, village
	AudiencePhones     = "phones"     // listed staff phone numbers
	AudienceFollowers  = "followers"  // every household following the account
	AudienceHouseholds = "households" // households who set this town/village
)

// Audience says who gets a notice.
type Audience struct {
	Kind    string   `json:"kind"`
	Role    string   `json:"role,omitempty"`
	Town    string   `json:"town,omitempty"`
	Village string   `json:"village,omitempty"`
	Tag     string   `json:"tag,omitempty"` // staff carrying this roster tag
	Phones  []string `json:"phones,omitempty"`
}

// Describe is the audience in words.
func (a Audience) Describe() string {
	place := a.Town + a.Village
	switch a.Kind {
	case AudienceStaff:
		who := a.Role
		if who == "" {
			who = "全部干部"
		}
		if a.Tag != "" {
			who += "（" + a.Tag + "）"
		}
		if place == "" {
			place = "全部"
		}
		return place + " " + who
	case AudiencePhones:
		return fmt.Sprintf("指定的 %d 个手机号", len(a.Phones))
	case AudienceFollowers:
		return "全部关注的群众"
	case AudienceHouseholds:
		return place + " 的群众"
	}
	return a.Kind
}

// Notice is one notice and what became of it.
type Notice struct {
	ID       string    `json:"id"`
	Title    string    `json:"title"`
	Body     string    `json:"body"`
	Link     string    `json:"link,omitempty"`
	Audience Audience  `json:"audience"`
	Author   string    `json:"author"`
	Created  time.Time `json:"created"`
	SendAt   time.Time `json:"send_at,omitempty"`
	// Urgent notices go out inside quiet hours too; others wait for
	// their end.
	Urgent     bool         `json:"urgent,omitempty"`
	Status     string       `json:"status"`
	ApprovedBy string       `json:"approved_by,omitempty"`
	SentAt     time.Time    `json:"sent_at,omitempty"`
	Report     NoticeReport `json:"report"`
	Error      string       `json:"error,omitempty"`
}

// NoticeReport counts recipients at sending; delivery outcomes are read
// from the delivery records (keys notice:<id>:…).
type NoticeReport struct {
	Recipients   int    `json:"recipients"`
	Queued       int    `json:"queued"`
	Unbound      int    `json:"unbound"`       // staff without WeChat (and no phone channel)
	NotFollowing int    `json:"not_following"` // households who unfollowed
	OverQuota    int    `json:"over_quota"`    // households whose monthly broadcasts are used up
	MassMsgID    string `json:"mass_msg_id,omitempty"`
	// What WeChat reported when the mass send finished (MASSSENDJOBFINISH).
	MassStatus string `json:"mass_status,omitempty"`
	MassSent   int    `json:"mass_sent,omitempty"`
	MassErrors int    `json:"mass_errors,omitempty"`
}

// Text is the notice as people read it.
func (n Notice) Text() string {
	t := "【通知】" + n.Title + "\n" + n.Body
	if n.Link != "" {
		t += "\n" + n.Link
	}
	return t
}

// MassSender broadcasts one text to many households (bot.API: the mass
// send by openid list). Without one, households get the notice through
// the outbound queue like staff.
type MassSender interface {
	MassSendText(ctx context.Context, openids []string, text string) (msgID string, err error)
}

// MassQuota is how many broadcasts one household may receive a month
// (a service account's limit).
const MassQuota = 4

// Notices composes, approves, schedules and sends notices.
type Notices struct {
	Store StateStore
	Staff *Staff
	Mass  MassSender
	// TwoPerson: a notice needs a second official's approval.
	TwoPerson bool
	// Quiet are the quiet hours (HH:MM-HH:MM; "" or "off": none): a
	// notice that is not urgent and is sent inside them is scheduled for
	// their end.
	Quiet string
	Now   func() time.Time
}

// WhenSent is when a notice sent now would go out: now, or the end of the
// quiet hours for one that is not urgent.
func (s *Notices) WhenSent(n Notice) time.Time {
	if n.Urgent || s.Quiet == "" {
		return s.now()
	}
	return OutsideQuiet(s.now(), s.Quiet, ChinaTime())
}

func (s *Notices) now() time.Time { return nowOr(s.Now) }

func (s *Notices) put(ctx context.Context, n Notice) error {
	idx := []IndexEntry{{Name: "status", Value: n.Status}}
	for _, id := range strings.Split(n.Report.MassMsgID, ",") {
		if id != "" {
			idx = append(idx, IndexEntry{Name: "massmsg:" + id, Value: "1"})
		}
	}
	return putJSON(ctx, s.Store, KindNotice, n.ID, n, idx...)
}

// MassFinishIntent records WeChat's report on a mass send
// (MASSSENDJOBFINISH, key "msgid:status:sent:errors:total") in its
// notice, and keeps the event.
func (s *Notices) MassFinishIntent() Intent {
	record := RecordEventIntent(s.Store)
	return IntentFunc(func(ctx context.Context, m Message) (Response, error) {
		if _, err := record.Handle(ctx, m); err != nil {
			return Response{}, err
		}
		parts := strings.Split(m.EventKey, ":")
		if len(parts) < 4 || parts[0] == "" {
			return Response{}, nil
		}
		ids, err := s.Store.LookupRecords(ctx, KindNotice, "massmsg:"+parts[0], "1")
		if err != nil || len(ids) == 0 {
			return Response{}, err
		}
		n, err := s.Get(ctx, ids[0])
		if err != nil {
			return Response{}, err
		}
		sent, _ := strconv.Atoi(parts[2])
		errs, _ := strconv.Atoi(parts[3])
		n.Report.MassStatus = parts[1]
		n.Report.MassSent += sent
		n.Report.MassErrors += errs
		return Response{}, s.put(ctx, n)
	})
}

// Get returns a notice.
func (s *Notices) Get(ctx context.Context, id string) (Notice, error) {
	return getJSON[Notice](ctx, s.Store, KindNotice, id)
}

// Recent returns up to n notices, newest first.
func (s *Notices) Recent(ctx context.Context, n int) ([]Notice, error) {
	ids, err := s.Store.ListRecords(ctx, KindNotice, "", 0)
	if err != nil {
		return nil, err
	}
	if len(ids) > n {
		ids = ids[len(ids)-n:]
	}
	ns, err := allJSON[Notice](ctx, s.Store, KindNotice, ids)
	sort.Slice(ns, func(i, j int) bool { return ns[i].ID > ns[j].ID })
	return ns, err
}

// Create stores a new notice: pending approval under the two-person
// rule, else a draft ready to send.
func (s *Notices) Create(ctx context.Context, n Notice) (Notice, error) {
	if strings.TrimSpace(n.Title) == "" || strings.TrimSpace(n.Body) == "" {
		return n, errors.New("标题和正文都要填")
	}
	if len([]rune(n.Text())) > 600 {
		return n, errors.New("通知太长（最多约 600 字）")
	}
	switch n.Audience.Kind {
	case AudienceStaff, AudienceFollowers, AudienceHouseholds:
	case AudiencePhones:
		var phones []string
		for _, p := range n.Audience.Phones {
			if strings.TrimSpace(p) == "" {
				continue
			}
			ph, ok := roster.NormalizePhone(p)
			if !ok {
				return n, fmt.Errorf("%q 不是手机号", p)
			}
			phones = append(phones, ph)
		}
		if len(phones) == 0 {
			return n, errors.New("请填手机号")
		}
		n.Audience.Phones = phones
	default:
		return n, errors.New("请选择发给谁")
	}
	n.Created = s.now()
	n.ID = fmt.Sprintf("%s-%s", n.Created.Format("20060102150405"), token6())
	n.Status = NoticeDraft
	if s.TwoPerson {
		n.Status = NoticePending
	}
	return n, s.put(ctx, n)
}

func token6() string {
	b := make([]byte, 3)
	randRead(b)
	return fmt.Sprintf("%x", b)
}

// ErrSameApprover: the two-person rule needs someone else.
var ErrSameApprover = errors.New("需要另一位管理员批准")

// Approve records a second official's approval.
func (s *Notices) Approve(ctx context.Context, id, approver string) (Notice, error) {
	n, err := s.Get(ctx, id)
	if err != nil {
		return n, err
	}
	if n.Status != NoticePending {
		return n, fmt.Errorf("通知状态是 %s，不需要批准", n.Status)
	}
	if approver == n.Author {
		return n, ErrSameApprover
	}
	n.Status, n.ApprovedBy = NoticeDraft, approver
	return n, s.put(ctx, n)
}

// LatestFor returns the recent notices that reached a person: sent in the
// last 30 days to everyone, to their place, or to them as staff.
func (s *Notices) LatestFor(ctx context.Context, openid string, n int) ([]Notice, error) {
	all, err := s.Recent(ctx, 200)
	if err != nil {
		return nil, err
	}
	var town, village, phone, role string
	if s.Staff != nil {
		if p, err := s.Staff.ByOpenID(ctx, openid); err == nil {
			town, village, phone, role = p.Town, p.Village, p.Phone, p.Role
		}
	}
	if b, err := s.Store.GetRecord(ctx, KindQuizUser, openid); err == nil && town == "" {
		var u QuizUser
		if json.Unmarshal(b, &u) == nil {
			town, village = u.Town, u.Village
		}
	}
	cut := s.now().AddDate(0, 0, -30)
	sort.SliceStable(all, func(i, j int) bool { return all[i].SentAt.After(all[j].SentAt) })
	var out []Notice
	for _, no := range all {
		if no.Status != NoticeSent || no.SentAt.Before(cut) {
			continue
		}
		a := no.Audience
		match := false
		switch a.Kind {
		case AudienceFollowers:
			match = true
		case AudienceHouseholds:
			match = town != "" && a.Town == town && (a.Village == "" || a.Village == village)
		case AudienceStaff:
			match = phone != "" && (a.Role == "" || a.Role == role) && (a.Town == "" || a.Town == town) && (a.Village == "" || a.Village == village)
		case AudiencePhones:
			for _, p := range a.Phones {
				match = match || p == phone && phone != ""
			}
		}
		if match {
			out = append(out, no)
		}
		if len(out) == n {
			break
		}
	}
	return out, nil
}

func randRead(b []byte) { rand.Read(b) }
