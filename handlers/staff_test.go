package handlers_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"policybot/handlers"
	"policybot/roster"
)

func exampleRoster() roster.Roster {
	r := roster.Roster{People: []roster.Person{
		{Name: "王建国", Phone: "13800000001", Role: roster.RoleHelper, Town: "马街镇", Village: "金家村"},
		{Name: "陈晓东", Phone: "13800000004", Role: roster.RoleSecretary, Town: "马街镇", Village: "金家村"},
		{Name: "刘洋", Phone: "13800000005", Role: roster.RoleCadre, Town: "马街镇", Village: "金家村"},
		{Name: "周海", Phone: "13800000007", Role: roster.RoleLeader, Town: "马街镇"},
	}}
	for _, h := range []string{"张大山", "张小河", "李老三"} {
		r.Pairings = append(r.Pairings, roster.Pairing{HelperPhone: "13800000001", Household: h, Town: "马街镇", Village: "金家村"})
	}
	r.Tasks = []roster.Task{
		{ID: "ZG-001", Problem: "档案不规范", Measure: "补齐", OwnerPhone: "13800000004", LeaderPhone: "13800000007", Due: "2026-12-05", Town: "马街镇", Village: "金家村"},
		{ID: "ZG-002", Problem: "水质报告无结论", Measure: "重测", OwnerPhone: "13800000005", LeaderPhone: "13800000007", Due: "2026-11-28", Town: "马街镇", Village: "金家村"},
	}
	return r
}

func newStaff(t testing.TB, st handlers.StateStore, c *clock) (*handlers.Staff, *handlers.Router) {
	qz, r := newQuiz(t, st, c)
	s := &handlers.Staff{Store: st, Quiz: qz, Now: c.now}
	s.Register(r, st)
	if _, err := s.Apply(context.Background(), exampleRoster()); err != nil {
		t.Fatal(err)
	}
	return s, r
}

func bind(t *testing.T, s *handlers.Staff, r *handlers.Router, openid, phone string) {
	t.Helper()
	inv, err := s.CreateInvite(context.Background(), phone, 72*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if got := say(t, r, openid, "绑定 "+inv.Code); !strings.Contains(got, "绑定成功") {
		t.Fatalf("bind: %s", got)
	}
}

func TestInviteLifecycle(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			c := &clock{time.Date(2026, 11, 18, 10, 0, 0, 0, handlers.ChinaTime())}
			s, r := newStaff(t, st, c)
			ctx := context.Background()
			if got := say(t, r, "oX", "我的任务"); !strings.Contains(got, "只对已绑定的干部开放") {
				t.Errorf("unbound staff command: %s", got)
			}
			if got := say(t, r, "oX", "绑定 000000"); !strings.Contains(got, "绑定码不对") {
				t.Errorf("unknown code: %s", got)
			}
			if got := say(t, r, "oX", "绑定 12"); !strings.Contains(got, "六位数字") {
				t.Errorf("short code: %s", got)
			}
			inv, _ := s.CreateInvite(ctx, "13800000001", time.Hour)
			if got := say(t, r, "oHelper", "绑定 "+inv.Code); !strings.Contains(got, "绑定成功：王建国（帮扶责任人，马街镇金家村）") {
				t.Fatalf("bind: %s", got)
			}
			if got := say(t, r, "oOther", "绑定 "+inv.Code); !strings.Contains(got, "用过了") {
				t.Errorf("used code: %s", got)
			}
			if got := say(t, r, "oHelper", "绑定 "+inv.Code); !strings.Contains(got, "绑定成功") {
				t.Errorf("the same person again: %s", got)
			}
			late, _ := s.CreateInvite(ctx, "13800000005", time.Hour)
			c.t = c.t.Add(2 * time.Hour)
			if got := say(t, r, "oCadre", "绑定 "+late.Code); !strings.Contains(got, "过期") {
				t.Errorf("expired code: %s", got)
			}
			// the quiz knows the helper now
			if u, _ := s.Quiz.User(ctx, "oHelper"); u.Role != roster.RoleHelper || u.Village != "金家村" || u.Name != "王建国" {
				t.Errorf("quiz record %+v", u)
			}
			// a phone change: the roster gets the new number, the person binds again with a new code
			ex := exampleRoster()
			ex.People = append(ex.People, roster.Person{Name: "王建国", Phone: "13900000001", Role: roster.RoleHelper, Town: "马街镇", Village: "金家村"})
			if _, err := s.Apply(ctx, ex); err != nil {
				t.Fatal(err)
			}
			again, _ := s.CreateInvite(ctx, "13900000001", time.Hour)
			say(t, r, "oHelper", "绑定 "+again.Code)
			if p, err := s.ByOpenID(ctx, "oHelper"); err != nil || p.Phone != "13900000001" {
				t.Errorf("after re-binding: %+v %v", p, err)
			}
			if old, _ := s.Person(ctx, "13800000001"); old.OpenID != "" {
				t.Errorf("the old number keeps the binding: %+v", old)
			}
			// scanning a QR code with the invite scene binds too
			qr, _ := s.CreateInvite(ctx, "13800000004", time.Hour)
			resp, err := r.Handle(ctx, handlers.Message{User: "oSec", Kind: handlers.KindEvent, Event: "subscribe", EventKey: "qrscene_" + handlers.BindScenePrefix + qr.Code})
			if err != nil || !strings.Contains(resp.Text, "绑定成功：陈晓东") || !strings.Contains(resp.Text, "欢迎关注") {
				t.Errorf("follow through an invite QR code: %q %v", resp.Text, err)
			}
			if got := say(t, r, "oSec", "解绑"); !strings.Contains(got, "已解除绑定") {
				t.Errorf("unbind: %s", got)
			}
			if got := say(t, r, "oSec", "解绑"); !strings.Contains(got, "还没有绑定") {
				t.Errorf("unbind twice: %s", got)
			}
			// a re-import keeps bindings
			if _, err := s.Apply(ctx, ex); err != nil {
				t.Fatal(err)
			}
			if _, err := s.ByOpenID(ctx, "oHelper"); err != nil {
				t.Errorf("a re-import lost a binding: %v", err)
			}
		})
	}
}

func TestCheckIns(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			c := &clock{time.Date(2026, 11, 18, 10, 0, 0, 0, handlers.ChinaTime())}
			s, r := newStaff(t, st, c)
			bind(t, s, r, "oH", "13800000001")
			bind(t, s, r, "oC", "13800000005")
			bind(t, s, r, "oS", "13800000004")
			bind(t, s, r, "oL", "13800000007")
			list := say(t, r, "oH", "已走访")
			if !strings.Contains(list, "3. 李老三（本月未走访）") || !strings.Contains(list, "已走访 序号") {
				t.Errorf("list: %s", list)
			}
			if got := say(t, r, "oH", "已走访 张大山"); !strings.Contains(got, "走访 张大山") || !strings.Contains(got, "1/3") {
				t.Errorf("by name: %s", got)
			}
			if got := say(t, r, "oH", "已走访 3"); !strings.Contains(got, "走访 李老三") || !strings.Contains(got, "2/3") {
				t.Errorf("by number: %s", got)
			}
			if got := say(t, r, "oH", "已走访 王二"); !strings.Contains(got, "没有「王二」") {
				t.Errorf("unknown household: %s", got)
			}
			if got := say(t, r, "oH", "我的任务"); !strings.Contains(got, "张小河") || strings.Contains(got, "张大山") {
				t.Errorf("helper's tasks: %s", got)
			}
			if got := say(t, r, "oH", "在村"); !strings.Contains(got, "驻村干部") {
				t.Errorf("helper says 在村: %s", got)
			}
			if got := say(t, r, "oC", "在村"); !strings.Contains(got, "本月已在村 1 天") {
				t.Errorf("presence: %s", got)
			}
			if got := say(t, r, "oC", "在村"); !strings.Contains(got, "已经记录过了") {
				t.Errorf("presence twice a day: %s", got)
			}
			c.t = c.t.AddDate(0, 0, 1)
			if got := say(t, r, "oC", "在村"); !strings.Contains(got, "本月已在村 2 天") {
				t.Errorf("next day: %s", got)
			}
			if got := say(t, r, "oC", "销号 ZG-001 完成"); !strings.Contains(got, "不是您") {
				t.Errorf("someone else's task: %s", got)
			}
			if got := say(t, r, "oC", "销号 zg-002 已重新检测"); !strings.Contains(got, "已销号：ZG-002") {
				t.Errorf("close: %s", got)
			}
			if got := say(t, r, "oC", "销号 ZG-002"); !strings.Contains(got, "已经销号") {
				t.Errorf("close twice: %s", got)
			}
			if got := say(t, r, "oC", "销号 ZG-999"); !strings.Contains(got, "没有编号为 ZG-999") {
				t.Errorf("unknown task: %s", got)
			}
			// the leader is told, once
			it, err := st.Claim(context.Background(), handlers.DailyQueue, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			var out handlers.OutboundText
			json.Unmarshal(it.Payload, &out)
			if out.To != "oL" || !strings.Contains(out.Text, "ZG-002") || !strings.Contains(out.Text, "刘洋") {
				t.Errorf("notice to the leader: %+v", out)
			}
			if got := say(t, r, "oC", "我的任务"); strings.Contains(got, "ZG-002") || !strings.Contains(got, "本月已在村 2 天") {
				t.Errorf("cadre's tasks: %s", got)
			}
			if got := say(t, r, "oS", "我的任务"); !strings.Contains(got, "ZG-001") {
				t.Errorf("secretary's tasks: %s", got)
			}
		})
	}
}

func keysOf(rs []handlers.Reminder) string {
	var ks []string
	for _, r := range rs {
		ks = append(ks, r.Key)
	}
	return strings.Join(ks, " ")
}

// Reminders computed at chosen moments of an injected clock.
func TestRemindersPlan(t *testing.T) {
	st := stores(t)["embedded"]
	loc := handlers.ChinaTime()
	c := &clock{time.Date(2026, 11, 10, 8, 0, 0, 0, loc)}
	s, r := newStaff(t, st, c)
	bind(t, s, r, "oH", "13800000001")
	bind(t, s, r, "oS", "13800000004")
	bind(t, s, r, "oL", "13800000007")
	// oC (13800000005) stays unbound
	ctx := context.Background()
	plan := func(at time.Time, kinds ...string) []handlers.Reminder {
		t.Helper()
		rs, err := s.Plan(ctx, at, kinds...)
		if err != nil {
			t.Fatal(err)
		}
		return rs
	}
	day := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, loc) }

	if rs := plan(day(10, 8, 0), handlers.RemindVisit); len(rs) != 0 {
		t.Errorf("visit reminders before day 20: %s", keysOf(rs))
	}
	c.t = day(12, 9, 0)
	say(t, r, "oH", "已走访 张大山")
	rs := plan(day(20, 8, 0), handlers.RemindVisit)
	if keysOf(rs) != "visit1:13800000001/张小河:2026-11 visit1:13800000001/李老三:2026-11" {
		t.Errorf("day 20: %s", keysOf(rs))
	}
	if rs[0].OpenID != "oH" || !strings.Contains(rs[0].Text, "张小河") {
		t.Errorf("reminder %+v", rs[0])
	}
	rs = plan(day(28, 8, 0), handlers.RemindVisit)
	// issue 15.10: nothing was sent on the 20th, so the run on the 28th
	// sends each household's stronger reminder alone, not both
	want := "visit2:13800000001/张小河:2026-11 visit2:13800000001/李老三:2026-11 " +
		"visitesc:马街镇/金家村:2026-11:13800000004 visitesc:马街镇/金家村:2026-11:13800000007"
	if keysOf(rs) != want {
		t.Errorf("day 28:\n got %s\nwant %s", keysOf(rs), want)
	}
	// attendance: the cadre recorded 3 days by the 20th → on pace for 4
	for _, d := range []int{3, 4, 5} {
		c.t = day(d, 9, 0)
		s.RecordPresence(ctx, "13800000005")
	}
	for d := 1; d <= 20; d++ { // the secretary is there every day
		c.t = day(d, 9, 0)
		s.RecordPresence(ctx, "13800000004")
	}
	rs = plan(day(20, 8, 0), handlers.RemindAttendance)
	if keysOf(rs) != "att:13800000005:2026-11 attlist:马街镇/金家村:2026-11:13800000004" {
		t.Errorf("attendance: %s", keysOf(rs))
	}
	if !strings.Contains(rs[0].Text, "已在村 3 天") || !strings.Contains(rs[0].Text, "约 4 天") || rs[0].OpenID != "" {
		t.Errorf("attendance reminder %+v", rs[0])
	}
	// deadlines: ZG-002 due 11-28, ZG-001 due 12-05
	for d, want := range map[int]string{
		21: "due7:ZG-002:2026-11-28",
		25: "due3:ZG-002:2026-11-28",
		27: "due1:ZG-002:2026-11-28",
		28: "due7:ZG-001:2026-12-05 due0:ZG-002:2026-11-28",
		29: "overdue:ZG-002:2026-11-29 overdueL:13800000007:2026-W48",
		26: "",
	} {
		if got := keysOf(plan(day(d, 8, 0), handlers.RemindDeadline)); got != want {
			t.Errorf("deadlines on the %d: %s, want %s", d, got, want)
		}
	}
	// quiet hours: planned at 06:00, sent from 07:30
	if rs := plan(day(29, 6, 0), handlers.RemindDeadline); !rs[0].NotBefore.Equal(day(29, 7, 30)) {
		t.Errorf("not before %s", rs[0].NotBefore)
	}
	// sending: once per key; the unbound cadre is counted, not queued
	res, err := s.Send(ctx, day(29, 8, 0))
	if err != nil {
		t.Fatal(err)
	}
	again, _ := s.Send(ctx, day(29, 12, 0))
	if res.Queued == 0 || again.Queued != 0 || again.Unbound != res.Unbound || res.Unbound == 0 {
		t.Errorf("first run %+v, second run %+v", res, again)
	}
	if rs := plan(day(29, 12, 0)); len(rs) != res.Unbound {
		t.Errorf("after sending, the plan still holds %s", keysOf(rs))
	}
	// a closed task stops its alerts
	s.CloseTask(ctx, handlers.StaffPerson{Person: roster.Person{Phone: "13800000005"}}, "ZG-002", "")
	if got := keysOf(plan(day(30, 8, 0), handlers.RemindDeadline)); strings.Contains(got, "ZG-002") || strings.Contains(got, "overdueL") {
		t.Errorf("closed task still reminded: %s", got)
	}
	_ = errors.New
	_ = fmt.Sprint
}

// A message handled twice (its first handler died with its process, and
// WeChat's retry was handled again) records one visit: the visit is keyed
// by the message's ID. Another message records another visit.
func TestVisitReportedTwiceByOneMessageIsOneVisit(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			c := &clock{time.Date(2026, 11, 18, 10, 0, 0, 0, handlers.ChinaTime())}
			s, r := newStaff(t, st, c)
			bind(t, s, r, "oH", "13800000001")
			ctx := context.Background()
			m := handlers.Message{User: "oH", Kind: handlers.KindText, Text: "已走访 张大山", ID: "wx:{oH}:msg:42"}
			for i := 0; i < 2; i++ {
				c.t = c.t.Add(time.Second)
				if resp, err := r.Handle(ctx, m); err != nil || !strings.Contains(resp.Text, "走访 张大山") {
					t.Fatalf("visit %d: %v %q", i, err, resp.Text)
				}
			}
			key := roster.Pairing{HelperPhone: "13800000001", Household: "张大山", Town: "马街镇", Village: "金家村"}.Key()
			ids, err := st.LookupRecords(ctx, handlers.KindVisit, "pm", key+"|2026-11")
			if err != nil || len(ids) != 1 {
				t.Fatalf("one message recorded %d visits: %v", len(ids), err)
			}
			m.ID = "wx:{oH}:msg:43"
			r.Handle(ctx, m)
			if ids, _ := st.LookupRecords(ctx, handlers.KindVisit, "pm", key+"|2026-11"); len(ids) != 2 {
				t.Fatalf("a second message recorded %d visits in all, want 2", len(ids))
			}
		})
	}
}

// dyingStore stops writing after n records, as a process killed part way
// through an import does: nothing after that point reaches the store.
type dyingStore struct {
	handlers.StateStore
	left int
}

func (d *dyingStore) PutRecord(ctx context.Context, kind, id string, data []byte, idx ...handlers.IndexEntry) error {
	if d.left <= 0 {
		return errors.New("killed")
	}
	d.left--
	return d.StateStore.PutRecord(ctx, kind, id, data, idx...)
}

// Issue 14.8: kill -9 three seconds into importing 3,000 people left 1,676
// stored. The import is kept whole before it is applied, and the next
// start finishes all of it.
func TestImportCutShortIsFinishedWhole(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			var r roster.Roster
			for i := 0; i < 3000; i++ {
				r.People = append(r.People, roster.Person{Name: fmt.Sprint("人", i), Phone: fmt.Sprintf("139%08d", i), Role: roster.RoleHelper, Town: "马街镇", Village: "金家村"})
			}
			dying := &handlers.Staff{Store: &dyingStore{StateStore: st, left: 1677}}
			if _, err := dying.Apply(ctx, r); err == nil {
				t.Fatal("the dying store took everything")
			}
			ids, _ := st.ListRecords(ctx, handlers.KindPerson, "", 0)
			if len(ids) == 0 || len(ids) >= 3000 {
				t.Fatalf("the crash left %d people; the test needs a part", len(ids))
			}
			// the restarted process
			s := &handlers.Staff{Store: st}
			if p, err := s.PendingImport(ctx); err != nil || len(p.People) != 3000 {
				t.Fatalf("pending import: %d people, %v", len(p.People), err)
			}
			res, resumed, err := s.ResumeImport(ctx)
			if err != nil || !resumed || res.People != 3000 {
				t.Fatalf("resume: %+v %v %v", res, resumed, err)
			}
			if ids, _ := st.ListRecords(ctx, handlers.KindPerson, "", 0); len(ids) != 3000 {
				t.Fatalf("after the restart %d people are stored, want 3000", len(ids))
			}
			if _, resumed, _ := s.ResumeImport(ctx); resumed {
				t.Fatal("a finished import was applied again")
			}
			if _, err := s.PendingImport(ctx); !errors.Is(err, handlers.ErrNotFound) {
				t.Fatalf("still pending after it finished: %v", err)
			}
		})
	}
}
