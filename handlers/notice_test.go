package handlers_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"policybot/handlers"
)

type fakeMass struct {
	mu    sync.Mutex
	calls [][]string
}

func (f *fakeMass) MassSendText(_ context.Context, openids []string, text string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, append([]string(nil), openids...))
	return "1000001", nil
}

func queued(t *testing.T, st handlers.StateStore) int {
	t.Helper()
	n := 0
	for {
		if _, err := st.Claim(context.Background(), handlers.DailyQueue, time.Hour); err != nil {
			return n
		}
		n++
	}
}

func TestNotices(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			c := &clock{time.Date(2026, 11, 18, 10, 0, 0, 0, handlers.ChinaTime())}
			staff, r := newStaff(t, st, c)
			bind(t, staff, r, "oH", "13800000001")
			bind(t, staff, r, "oL", "13800000007")
			mass := &fakeMass{}
			ns := &handlers.Notices{Store: st, Staff: staff, Mass: mass, TwoPerson: true, Now: c.now}
			ns.Register(r, false)

			// two-person rule
			n, err := ns.Create(ctx, handlers.Notice{Title: "开会", Body: "明天上午九点开会", Audience: handlers.Audience{Kind: handlers.AudienceStaff, Town: "马街镇"}, Author: "wang"})
			if err != nil || n.Status != handlers.NoticePending {
				t.Fatalf("create: %+v %v", n, err)
			}
			if _, err := ns.Send(ctx, n.ID, false); err == nil {
				t.Error("sent without approval")
			}
			if _, err := ns.Approve(ctx, n.ID, "wang"); err != handlers.ErrSameApprover {
				t.Errorf("self-approval: %v", err)
			}
			if _, err := ns.Approve(ctx, n.ID, "li"); err != nil {
				t.Fatal(err)
			}
			// staff: bound ones queued, others counted; a second send changes nothing
			sent, err := ns.Send(ctx, n.ID, false)
			if err != nil || sent.Status != handlers.NoticeSent || sent.Report.Recipients != 4 || sent.Report.Queued != 2 || sent.Report.Unbound != 2 {
				t.Fatalf("send: %+v %v", sent.Report, err)
			}
			again, _ := ns.Send(ctx, n.ID, false)
			if again.Report != sent.Report || queued(t, st) != 2 {
				t.Errorf("a second send went out again")
			}
			// households: followers by mass send, within the monthly quota
			for _, u := range []string{"h1", "h2", "h3"} {
				say(t, r, u, "答题") // any message; follow them:
				r.Handle(ctx, handlers.Message{User: u, Kind: handlers.KindEvent, Event: "subscribe"})
			}
			r.Handle(ctx, handlers.Message{User: "h3", Kind: handlers.KindEvent, Event: "unsubscribe"})
			ns.TwoPerson = false
			for i := 0; i < 5; i++ {
				h, err := ns.Create(ctx, handlers.Notice{Title: "停水", Body: "周五停水", Audience: handlers.Audience{Kind: handlers.AudienceFollowers}, Author: "wang"})
				if err != nil {
					t.Fatal(err)
				}
				h, err = ns.Send(ctx, h.ID, false)
				if err != nil {
					t.Fatal(err)
				}
				if i < 4 && (h.Report.Queued != 2 || h.Report.OverQuota != 0) || i == 4 && (h.Report.Queued != 0 || h.Report.OverQuota != 2) {
					t.Errorf("broadcast %d: %+v", i+1, h.Report)
				}
			}
			if len(mass.calls) != 4 || len(mass.calls[0]) != 2 {
				t.Errorf("mass sends %v", mass.calls)
			}
			left, exhausted, _ := ns.QuotaLeft(ctx, handlers.Audience{Kind: handlers.AudienceFollowers})
			if left != 0 || exhausted != 2 {
				t.Errorf("quota left %d, exhausted %d", left, exhausted)
			}
			// scheduled
			later, _ := ns.Create(ctx, handlers.Notice{Title: "提醒", Body: "下周一检查", Audience: handlers.Audience{Kind: handlers.AudiencePhones, Phones: []string{"138 0000 0001"}},
				Author: "wang", SendAt: c.t.Add(2 * time.Hour)})
			if s, _ := ns.Send(ctx, later.ID, false); s.Status != handlers.NoticeScheduled {
				t.Errorf("future notice: %s", s.Status)
			}
			if n, _ := ns.SendDue(ctx, false); n != 0 {
				t.Errorf("sent %d before its time", n)
			}
			c.t = c.t.Add(3 * time.Hour)
			if n, _ := ns.SendDue(ctx, false); n != 1 || queued(t, st) != 1 {
				t.Errorf("due notice not sent: %d", n)
			}
			// 最新通知
			if got := say(t, r, "oH", "最新通知"); !strings.HasPrefix(got, "最近的通知：\n\n11-18 【通知】提醒\n下周一检查") {
				t.Errorf("latest for the helper: %s", got)
			}
			if got := say(t, r, "h1", "最新通知"); !strings.Contains(got, "周五停水") || strings.Contains(got, "开会") {
				t.Errorf("latest for a household: %s", got)
			}
		})
	}
}

func TestNoticeFromChat(t *testing.T) {
	st := stores(t)["embedded"]
	ctx := context.Background()
	c := &clock{time.Date(2026, 11, 18, 10, 0, 0, 0, handlers.ChinaTime())}
	staff, r := newStaff(t, st, c)
	bind(t, staff, r, "oH", "13800000001")
	bind(t, staff, r, "oL", "13800000007")
	ns := &handlers.Notices{Store: st, Staff: staff, Now: c.now}
	ns.Register(r, false)
	if got := say(t, r, "oH", "通知 全镇帮扶干部：明天开会"); !strings.Contains(got, "只有责任领导") {
		t.Errorf("a helper sends a notice: %s", got)
	}
	if got := say(t, r, "oL", "通知 全世界：x"); !strings.Contains(got, "请这样发") {
		t.Errorf("unknown audience: %s", got)
	}
	got := say(t, r, "oL", "通知 全镇帮扶干部：明天上午九点在镇政府开会")
	if !strings.Contains(got, "将发给马街镇 帮扶责任人（1 人）") || !strings.Contains(got, "确认发送") {
		t.Fatalf("preview: %s", got)
	}
	if got := say(t, r, "oL", "确认发送"); !strings.Contains(got, "已发出：1 人收到") {
		t.Errorf("confirm: %s", got)
	}
	if got := say(t, r, "oL", "确认发送"); !strings.Contains(got, "没有待发送") {
		t.Errorf("confirm twice: %s", got)
	}
	if n := queued(t, st); n != 1 {
		t.Errorf("queued %d", n)
	}
	_ = ctx
}

func TestNoticeToATag(t *testing.T) {
	st := stores(t)["embedded"]
	ctx := context.Background()
	c := &clock{time.Date(2026, 11, 18, 10, 0, 0, 0, handlers.ChinaTime())}
	staff, r := newStaff(t, st, c)
	ro := exampleRoster()
	ro.People[0].Tags = []string{"党员"} // 王建国
	ro.People[2].Tags = []string{"网格员"}
	if _, err := staff.Apply(ctx, ro); err != nil {
		t.Fatal(err)
	}
	bind(t, staff, r, "oH", "13800000001")
	bind(t, staff, r, "oC", "13800000005")
	ns := &handlers.Notices{Store: st, Staff: staff, Now: c.now}
	n, _ := ns.Create(ctx, handlers.Notice{Title: "党课", Body: "周三学习", Audience: handlers.Audience{Kind: handlers.AudienceStaff, Tag: "党员"}, Author: "wang"})
	n, err := ns.Send(ctx, n.ID, false)
	if err != nil || n.Report.Recipients != 1 || n.Report.Queued != 1 || !strings.Contains(n.Audience.Describe(), "（党员）") {
		t.Errorf("tag audience: %+v %v", n, err)
	}
}

// WeChat's report on a mass send lands in its notice.
func TestMassSendReport(t *testing.T) {
	st := stores(t)["embedded"]
	ctx := context.Background()
	c := &clock{time.Date(2026, 11, 18, 10, 0, 0, 0, handlers.ChinaTime())}
	staff, r := newStaff(t, st, c)
	ns := &handlers.Notices{Store: st, Staff: staff, Mass: &fakeMass{}, Now: c.now}
	ns.Register(r, false)
	for _, u := range []string{"h1", "h2"} {
		r.Handle(ctx, handlers.Message{User: u, Kind: handlers.KindEvent, Event: "subscribe"})
	}
	n, _ := ns.Create(ctx, handlers.Notice{Title: "停水", Body: "周五停水", Audience: handlers.Audience{Kind: handlers.AudienceFollowers}, Author: "wang"})
	ns.Send(ctx, n.ID, false)
	r.Handle(ctx, handlers.Message{User: "gh", Kind: handlers.KindEvent, Event: "MASSSENDJOBFINISH", EventKey: "1000001:send success:2:0:2"})
	got, _ := ns.Get(ctx, n.ID)
	if got.Report.MassStatus != "send success" || got.Report.MassSent != 2 {
		t.Errorf("report %+v", got.Report)
	}
}

// Issue 15.11: a notice sent at 23:15 went out although nothing is to be
// sent 21:00–07:30. It now waits for 07:30 unless it is urgent.
func TestNoticesKeepQuietHours(t *testing.T) {
	st := stores(t)["embedded"]
	ctx := context.Background()
	c := &clock{time.Date(2026, 11, 18, 23, 15, 0, 0, handlers.ChinaTime())}
	staff, r := newStaff(t, st, c)
	bind(t, staff, r, "oH", "13800000001")
	ns := &handlers.Notices{Store: st, Staff: staff, Quiet: "21:00-07:30", Now: c.now}
	audience := handlers.Audience{Kind: handlers.AudienceStaff, Town: "马街镇"}
	n, err := ns.Create(ctx, handlers.Notice{Title: "开会", Body: "明天上午九点开会", Audience: audience, Author: "wang"})
	if err != nil {
		t.Fatal(err)
	}
	n, err = ns.Send(ctx, n.ID, false)
	morning := time.Date(2026, 11, 19, 7, 30, 0, 0, handlers.ChinaTime())
	if err != nil || n.Status != handlers.NoticeScheduled || !n.SendAt.Equal(morning) || n.Report.Queued != 0 {
		t.Fatalf("sent at 23:15: %+v %v", n, err)
	}
	if sent, _ := ns.SendDue(ctx, false); sent != 0 {
		t.Fatal("sent inside the quiet hours")
	}
	c.t = morning.Add(time.Minute)
	if sent, err := ns.SendDue(ctx, false); sent != 1 || err != nil {
		t.Fatalf("in the morning: %d %v", sent, err)
	}
	c.t = time.Date(2026, 11, 19, 23, 15, 0, 0, handlers.ChinaTime())
	u, _ := ns.Create(ctx, handlers.Notice{Title: "防汛", Body: "今晚有暴雨，请立即转移低洼处群众", Audience: audience, Author: "wang", Urgent: true})
	if u, err = ns.Send(ctx, u.ID, false); err != nil || u.Status != handlers.NoticeSent || u.Report.Queued == 0 {
		t.Fatalf("an urgent notice at night: %+v %v", u, err)
	}
}

// Issue 15.9: a 第一书记 sends to their village (全村帮扶干部), never to the
// whole town; a 责任领导 can do both.
func TestSecretaryNoticeGoesToTheVillage(t *testing.T) {
	st := stores(t)["embedded"]
	c := &clock{time.Date(2026, 11, 18, 10, 0, 0, 0, handlers.ChinaTime())}
	staff, r := newStaff(t, st, c)
	bind(t, staff, r, "oS", "13800000004") // 陈晓东, 第一书记 of 金家村
	bind(t, staff, r, "oL", "13800000007") // 周海, 责任领导 of 马街镇
	ns := &handlers.Notices{Store: st, Staff: staff, Now: c.now}
	ns.Register(r, false)
	if got := say(t, r, "oS", "通知 全村帮扶干部：周五交走访记录"); !strings.Contains(got, "将发给马街镇金家村 帮扶责任人") {
		t.Fatalf("a 第一书记 to 全村帮扶干部: %s", got)
	}
	say(t, r, "oS", "取消")
	if got := say(t, r, "oS", "通知 帮扶干部：周五交走访记录"); !strings.Contains(got, "马街镇金家村") {
		t.Errorf("a 第一书记's 帮扶干部 is not their village: %s", got)
	}
	say(t, r, "oS", "取消")
	if got := say(t, r, "oS", "通知 全镇帮扶干部：周五交走访记录"); !strings.Contains(got, "请这样发") {
		t.Errorf("a 第一书记 reached the whole town: %s", got)
	}
	if got := say(t, r, "oL", "通知 全镇帮扶干部：周五交走访记录"); !strings.Contains(got, "将发给马街镇 帮扶责任人") {
		t.Errorf("a 责任领导 to the town: %s", got)
	}
}

// Issue 15.8: 帮助 for bound staff lists their commands; 我的任务 for a
// 责任领导 shows the tasks they oversee, overdue ones marked; the visit
// count reads unambiguously.
func TestStaffHelpAndOverseenTasks(t *testing.T) {
	st := stores(t)["embedded"]
	c := &clock{time.Date(2026, 12, 10, 10, 0, 0, 0, handlers.ChinaTime())}
	staff, r := newStaff(t, st, c)
	bind(t, staff, r, "oH", "13800000001")
	bind(t, staff, r, "oL", "13800000007")
	if got := say(t, r, "oVillager", "帮助"); strings.Contains(got, "已走访") || !strings.Contains(got, "政策问答") {
		t.Errorf("help for a villager: %s", got)
	}
	got := say(t, r, "oH", "帮助")
	for _, want := range []string{"政策问答", "已走访", "在村", "我的任务", "销号", "解绑"} {
		if !strings.Contains(got, want) {
			t.Errorf("help for a helper lacks %s: %s", want, got)
		}
	}
	if strings.Contains(got, "「通知") {
		t.Errorf("a helper is told to send notices: %s", got)
	}
	if got := say(t, r, "oL", "帮助"); !strings.Contains(got, "「通知") {
		t.Errorf("help for a 责任领导 lacks notices: %s", got)
	}
	got = say(t, r, "oL", "我的任务")
	if !strings.Contains(got, "督办任务 ZG-001") || !strings.Contains(got, "督办任务 ZG-002") || !strings.Contains(got, "逾期") {
		t.Errorf("我的任务 for a 责任领导: %s", got)
	}
	say(t, r, "oH", "已走访 张大山")
	if got := say(t, r, "oH", "我的任务"); !strings.Contains(got, "本月结对户 3 户，已走访 1 户，还没走访：张小河、李老三") {
		t.Errorf("我的任务 for a helper: %s", got)
	}
}
