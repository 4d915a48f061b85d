package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"policybot/roster"
)

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
