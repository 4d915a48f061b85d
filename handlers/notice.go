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

// Recipients resolves the audience now: staff (with openid and phone) and
// household openids.
func (s *Notices) Recipients(ctx context.Context, a Audience) (staff []StaffPerson, households []string, err error) {
	switch a.Kind {
	case AudienceStaff, AudiencePhones:
		people, err := s.Staff.people(ctx)
		if err != nil {
			return nil, nil, err
		}
		want := map[string]bool{}
		for _, p := range a.Phones {
			if ph, ok := roster.NormalizePhone(p); ok {
				want[ph] = true
			}
		}
		for _, p := range people {
			if a.Kind == AudiencePhones && !want[p.Phone] {
				continue
			}
			if a.Kind == AudienceStaff && (a.Role != "" && p.Role != a.Role || a.Town != "" && p.Town != a.Town || a.Village != "" && p.Village != a.Village || a.Tag != "" && !p.HasTag(a.Tag)) {
				continue
			}
			staff = append(staff, p)
		}
	case AudienceFollowers:
		households, err = s.Store.LookupRecords(ctx, KindFollower, "following", "yes")
	case AudienceHouseholds:
		if a.Village != "" {
			households, err = s.Store.LookupRecords(ctx, KindQuizUser, "village", a.Town+"/"+a.Village)
		} else {
			var hits []IndexHit
			hits, err = s.Store.RangeRecords(ctx, KindQuizUser, "village", a.Town+"/", a.Town+"0", 0) // "0" sorts right after "/"
			for _, h := range hits {
				households = append(households, h.ID)
			}
		}
	}
	return staff, households, err
}

// Send sends a notice now, once: a second call (a double click, a retry,
// another instance) finds it already sent. A notice with SendAt in the
// future is scheduled instead (SendDue sends it).
func (s *Notices) Send(ctx context.Context, id string, reachByPhone bool) (Notice, error) {
	n, err := s.Get(ctx, id)
	if err != nil {
		return n, err
	}
	switch n.Status {
	case NoticePending:
		return n, errors.New("这条通知还没有批准")
	case NoticeSent:
		return n, nil
	}
	if at := s.WhenSent(n); n.Status == NoticeDraft && n.SendAt.IsZero() && at.After(s.now()) {
		n.SendAt = at // quiet hours: the morning, unless urgent
	}
	if n.Status == NoticeDraft && n.SendAt.After(s.now()) {
		n.Status = NoticeScheduled
		return n, s.put(ctx, n)
	}
	first, err := s.Store.MarkSeen(ctx, "noticesend:"+id, 400*24*time.Hour)
	if err != nil {
		return n, err
	}
	if !first {
		return s.Get(ctx, id) // someone else is sending it
	}
	rep, err := s.deliver(ctx, n, reachByPhone)
	n.Report = rep
	if err != nil {
		n.Status, n.Error = NoticeFailed, err.Error()
	} else {
		n.Status, n.SentAt = NoticeSent, s.now()
	}
	if perr := s.put(ctx, n); perr != nil {
		return n, perr
	}
	return n, err
}

func (s *Notices) deliver(ctx context.Context, n Notice, reachByPhone bool) (NoticeReport, error) {
	var rep NoticeReport
	staff, households, err := s.Recipients(ctx, n.Audience)
	if err != nil {
		return rep, err
	}
	rep.Recipients = len(staff) + len(households)
	text := n.Text()
	for _, p := range staff {
		if p.OpenID == "" && !reachByPhone {
			rep.Unbound++
			continue
		}
		payload, _ := json.Marshal(OutboundText{To: p.OpenID, Phone: p.Phone, Text: text, Kind: "notice"})
		if _, err := s.Store.Enqueue(ctx, DailyQueue, QueueItem{Key: "notice:" + n.ID + ":" + p.Phone, Payload: payload}); err != nil {
			return rep, err
		}
		rep.Queued++
	}
	// households: those still following, within their monthly quota
	month := s.now().In(ChinaTime()).Format("2006-01")
	var ok []string
	for _, openid := range households {
		if b, err := s.Store.GetRecord(ctx, KindFollower, openid); err == nil {
			var f Follower
			if json.Unmarshal(b, &f) == nil && !f.Following {
				rep.NotFollowing++
				continue
			}
		}
		used, err := s.Store.Counter(ctx, "massq:"+openid+":"+month)
		if err != nil {
			return rep, err
		}
		if used >= MassQuota {
			rep.OverQuota++
			continue
		}
		ok = append(ok, openid)
	}
	if len(ok) == 0 {
		return rep, nil
	}
	if s.Mass != nil && len(ok) >= 2 { // the API wants at least two openids
		for start := 0; start < len(ok); start += 10000 {
			id, err := s.Mass.MassSendText(ctx, ok[start:min(start+10000, len(ok))], text)
			if err != nil {
				return rep, fmt.Errorf("群发失败: %w", err)
			}
			rep.MassMsgID = strings.TrimPrefix(rep.MassMsgID+","+id, ",")
		}
	} else {
		for _, openid := range ok {
			payload, _ := json.Marshal(OutboundText{To: openid, Text: text, Kind: "notice"})
			if _, err := s.Store.Enqueue(ctx, DailyQueue, QueueItem{Key: "notice:" + n.ID + ":" + openid, Payload: payload}); err != nil {
				return rep, err
			}
		}
	}
	for _, openid := range ok {
		s.Store.Incr(ctx, "massq:"+openid+":"+month, 1)
	}
	rep.Queued += len(ok)
	return rep, nil
}

// QuotaLeft is how many more broadcasts every household of the audience
// can still receive this month (the smallest), and how many households
// have none left.
func (s *Notices) QuotaLeft(ctx context.Context, a Audience) (left int, exhausted int, err error) {
	_, households, err := s.Recipients(ctx, a)
	if err != nil {
		return 0, 0, err
	}
	month := s.now().In(ChinaTime()).Format("2006-01")
	left = MassQuota
	for _, openid := range households {
		used, err := s.Store.Counter(ctx, "massq:"+openid+":"+month)
		if err != nil {
			return 0, 0, err
		}
		if int(used) >= MassQuota {
			exhausted++
		}
		left = min(left, max(MassQuota-int(used), 0))
	}
	return left, exhausted, nil
}

// SendDue sends the scheduled notices whose time has come (a job).
func (s *Notices) SendDue(ctx context.Context, reachByPhone bool) (int, error) {
	ids, err := s.Store.LookupRecords(ctx, KindNotice, "status", NoticeScheduled)
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, id := range ids {
		n, err := s.Get(ctx, id)
		if err != nil || n.SendAt.After(s.now()) {
			continue
		}
		n.Status = NoticeDraft // due now
		n.SendAt = time.Time{}
		if err := s.put(ctx, n); err != nil {
			return sent, err
		}
		if _, err := s.Send(ctx, id, reachByPhone); err != nil {
			return sent, err
		}
		sent++
	}
	return sent, nil
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
