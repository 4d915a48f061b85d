package handlers

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/text/unicode/norm"

	"policybot/roster"
)

// BindScenePrefix starts the QR-code scene of an invite: scanning
// "bind_123456" binds like sending 绑定 123456.
const BindScenePrefix = "bind_"

// Register adds the staff intents to r: 绑定, 解绑, 已走访, 在村, 销号,
// 我的任务, and binding through a scanned invite QR code (SCAN, and a
// follow through the code). welcome answers a follow without a code.
func (s *Staff) Register(r *Router, rec Records) {
	r.Prefix("绑定", s.BindIntent())
	r.Keyword(s.UnbindIntent(), "解绑", "解除绑定")
	r.Prefix("已走访", s.staffOnly(s.VisitIntent()))
	r.Keyword(s.staffOnly(s.PresenceIntent()), "在村", "今天在村", "已在村")
	r.Prefix("销号", s.staffOnly(s.CloseIntent()))
	tasks := s.staffOnly(s.MyTasksIntent())
	r.Keyword(tasks, "我的任务", "任务", "待办")
	help := s.HelpIntent()
	r.Keyword(help, "帮助", "菜单", "help", "?", "？")
	r.Click(ClickHelp, help)
	r.Click(ClickTasks, tasks)
	r.Event("SCAN", s.ScanIntent(RecordEventIntent(rec), nil))
	r.Event("subscribe", s.ScanIntent(nil, SubscribeIntent(rec)))
}

// ClickTasks is the menu key of 我的任务.
const ClickTasks = "MY_TASKS"

type staffCtxKey struct{}

// staffOnly lets bound staff through (the person in the context) and
// answers everyone else with TextStaffOnly.
func (s *Staff) staffOnly(i Intent) Intent {
	return IntentFunc(func(ctx context.Context, m Message) (Response, error) {
		p, err := s.ByOpenID(ctx, m.User)
		if errors.Is(err, ErrNotFound) {
			return Response{Text: TextStaffOnly, Answered: true}, nil
		}
		if err != nil {
			return Response{}, err
		}
		return i.Handle(context.WithValue(ctx, staffCtxKey{}, p), m)
	})
}

func staffOf(ctx context.Context) StaffPerson {
	p, _ := ctx.Value(staffCtxKey{}).(StaffPerson)
	return p
}

// argAfter returns the text after the command word, width-folded and
// trimmed, with its inner spaces kept ("销号 ZG-001 已补齐" → "ZG-001 已补齐").
func argAfter(text, cmd string) string {
	t := strings.TrimSpace(norm.NFKC.String(text))
	t = strings.TrimPrefix(t, cmd)
	return strings.TrimSpace(strings.TrimLeft(t, ":： \t"))
}

func (s *Staff) bindReply(ctx context.Context, openid, code string) (Response, error) {
	p, err := s.Bind(ctx, openid, code)
	switch {
	case errors.Is(err, ErrInviteUnknown):
		return Response{Text: TextBindUnknown, Answered: true}, nil
	case errors.Is(err, ErrInviteUsed):
		return Response{Text: TextBindUsed, Answered: true}, nil
	case errors.Is(err, ErrInviteExpired):
		return Response{Text: TextBindExpired, Answered: true}, nil
	case err != nil:
		return Response{}, err
	}
	place := p.Town + p.Village
	who := p.Role
	if place != "" {
		who += "，" + place
	}
	return Response{Text: fmt.Sprintf(TextBindOK, p.Name, who), Answered: true}, nil
}

// BindIntent handles "绑定 123456".
func (s *Staff) BindIntent() Intent {
	return IntentFunc(func(ctx context.Context, m Message) (Response, error) {
		code := strings.ReplaceAll(argAfter(m.Text, "绑定"), " ", "")
		if len(code) != InviteCodeDigits {
			return Response{Text: TextBindHow, Answered: true}, nil
		}
		if _, err := strconv.Atoi(code); err != nil {
			return Response{Text: TextBindHow, Answered: true}, nil
		}
		return s.bindReply(ctx, m.User, code)
	})
}

// UnbindIntent handles 解绑.
func (s *Staff) UnbindIntent() Intent {
	return IntentFunc(func(ctx context.Context, m Message) (Response, error) {
		ok, err := s.Unbind(ctx, m.User)
		if err != nil {
			return Response{}, err
		}
		if !ok {
			return Response{Text: TextNotBound, Answered: true}, nil
		}
		return Response{Text: TextUnbindOK, Answered: true}, nil
	})
}

// ScanIntent binds when the event's scene is an invite (SCAN's key is the
// scene, a follow's is qrscene_<scene>); otherwise it passes the event to
// other (record it) or, for a follow, to follow (welcome).
func (s *Staff) ScanIntent(other, follow Intent) Intent {
	return IntentFunc(func(ctx context.Context, m Message) (Response, error) {
		scene := strings.TrimPrefix(m.EventKey, "qrscene_")
		var next Intent = other
		if follow != nil {
			next = follow
		}
		if code, ok := strings.CutPrefix(scene, BindScenePrefix); ok {
			var welcome Response
			if follow != nil { // a new follower: record the follow too
				var err error
				if welcome, err = follow.Handle(ctx, m); err != nil {
					return welcome, err
				}
			}
			resp, err := s.bindReply(ctx, m.User, code)
			if welcome.Text != "" {
				resp.Text = resp.Text + "\n\n" + welcome.Text
			}
			return resp, err
		}
		if next == nil {
			return Response{}, nil
		}
		return next.Handle(ctx, m)
	})
}

// VisitIntent: "已走访" lists the helper's households; "已走访 2" or
// "已走访 张大山" records a visit now.
func (s *Staff) VisitIntent() Intent {
	return IntentFunc(func(ctx context.Context, m Message) (Response, error) {
		me := staffOf(ctx)
		pairs, err := s.helperPairings(ctx, me.Phone)
		if err != nil {
			return Response{}, err
		}
		if len(pairs) == 0 {
			return Response{Text: TextNoPairings, Answered: true}, nil
		}
		arg := argAfter(m.Text, "已走访")
		var pick *roster.Pairing
		if n, err := strconv.Atoi(arg); err == nil && n >= 1 && n <= len(pairs) {
			pick = &pairs[n-1]
		} else if arg != "" {
			for i := range pairs {
				if pairs[i].Household == arg || pairs[i].HouseholdID == arg {
					pick = &pairs[i]
					break
				}
			}
		}
		if pick == nil {
			list, err := s.visitList(ctx, pairs)
			if err != nil {
				return Response{}, err
			}
			text := list
			if arg != "" {
				text = fmt.Sprintf(TextVisitUnknown, arg) + "\n" + list
			}
			return Response{Text: text, Answered: true}, nil
		}
		if err := s.RecordVisit(ctx, me.Phone, *pick, m.ID); err != nil {
			return Response{}, err
		}
		done, err := s.visitedCount(ctx, pairs)
		if err != nil {
			return Response{}, err
		}
		at := s.now().In(s.loc()).Format("01-02 15:04")
		return Response{Text: fmt.Sprintf(TextVisitOK, at, pick.Household, done, len(pairs)), Answered: true}, nil
	})
}

func (s *Staff) visitList(ctx context.Context, pairs []roster.Pairing) (string, error) {
	m := month(s.now().In(s.loc()))
	lines := []string{TextVisitListHead}
	for i, p := range pairs {
		ids, err := s.visitsIn(ctx, p.Key(), m)
		if err != nil {
			return "", err
		}
		state := TextVisitNotYet
		if len(ids) > 0 {
			vs, err := allJSON[Visit](ctx, s.Store, KindVisit, ids[len(ids)-1:])
			if err == nil && len(vs) == 1 {
				state = fmt.Sprintf(TextVisitDone, vs[0].At.In(s.loc()).Format("01-02"))
			}
		}
		lines = append(lines, fmt.Sprintf("%d. %s（%s）", i+1, p.Household, state))
	}
	return strings.Join(append(lines, TextVisitListFoot), "\n"), nil
}

func (s *Staff) visitedCount(ctx context.Context, pairs []roster.Pairing) (int, error) {
	m := month(s.now().In(s.loc()))
	n := 0
	for _, p := range pairs {
		ids, err := s.visitsIn(ctx, p.Key(), m)
		if err != nil {
			return 0, err
		}
		if len(ids) > 0 {
			n++
		}
	}
	return n, nil
}

// PresenceIntent: 在村 records today once, for resident cadres.
func (s *Staff) PresenceIntent() Intent {
	return IntentFunc(func(ctx context.Context, m Message) (Response, error) {
		me := staffOf(ctx)
		if me.Role != roster.RoleCadre && me.Role != roster.RoleSecretary {
			return Response{Text: TextNotCadre, Answered: true}, nil
		}
		added, days, err := s.RecordPresence(ctx, me.Phone)
		if err != nil {
			return Response{}, err
		}
		if !added {
			return Response{Text: fmt.Sprintf(TextPresenceAgain, days), Answered: true}, nil
		}
		return Response{Text: fmt.Sprintf(TextPresenceOK, days), Answered: true}, nil
	})
}

// CloseIntent: "销号 ZG-001 已补齐档案".
func (s *Staff) CloseIntent() Intent {
	return IntentFunc(func(ctx context.Context, m Message) (Response, error) {
		arg := argAfter(m.Text, "销号")
		id, note, _ := strings.Cut(arg, " ")
		id = strings.ToUpper(strings.TrimSpace(id))
		if id == "" {
			return Response{Text: TextCloseHow, Answered: true}, nil
		}
		t, closed, err := s.CloseTask(ctx, staffOf(ctx), id, strings.TrimSpace(note))
		switch {
		case errors.Is(err, ErrNotFound):
			return Response{Text: fmt.Sprintf(TextTaskUnknown, id), Answered: true}, nil
		case errors.Is(err, ErrNotYours):
			return Response{Text: fmt.Sprintf(TextTaskNotYours, id), Answered: true}, nil
		case err != nil:
			return Response{}, err
		case !closed:
			return Response{Text: fmt.Sprintf(TextTaskWasClosed, id), Answered: true}, nil
		}
		return Response{Text: fmt.Sprintf(TextTaskClosed, t.ID, t.Problem), Answered: true}, nil
	})
}

// HelpIntent lists what the bot does; bound staff also get their own
// commands (notices for those who may send them).
func (s *Staff) HelpIntent() Intent {
	return IntentFunc(func(ctx context.Context, m Message) (Response, error) {
		p, err := s.ByOpenID(ctx, m.User)
		if errors.Is(err, ErrNotFound) {
			return Response{Text: TextHelp, Answered: true}, nil
		}
		if err != nil {
			return Response{}, err
		}
		text := TextHelp + "\n\n" + fmt.Sprintf(TextStaffHelp, p.Name, p.Role)
		if p.Role == roster.RoleLeader || p.Role == roster.RoleSecretary || p.Role == roster.RoleAdmin {
			text += "\n" + TextStaffHelpNotice
		}
		return Response{Text: text, Answered: true}, nil
	})
}

// MyTasksIntent lists what is due for the person: households not visited
// this month, days in the village, open tasks.
func (s *Staff) MyTasksIntent() Intent {
	return IntentFunc(func(ctx context.Context, m Message) (Response, error) {
		me := staffOf(ctx)
		var lines []string
		pairs, err := s.helperPairings(ctx, me.Phone)
		if err != nil {
			return Response{}, err
		}
		if len(pairs) > 0 {
			var todo []string
			mo := month(s.now().In(s.loc()))
			for _, p := range pairs {
				ids, err := s.visitsIn(ctx, p.Key(), mo)
				if err != nil {
					return Response{}, err
				}
				if len(ids) == 0 {
					todo = append(todo, p.Household)
				}
			}
			if len(todo) > 0 {
				lines = append(lines, fmt.Sprintf(TextMyTasksVisits, len(pairs), len(pairs)-len(todo), strings.Join(todo, "、")))
			}
		}
		if me.Role == roster.RoleCadre || me.Role == roster.RoleSecretary {
			days, err := s.presenceDays(ctx, me.Phone, s.now())
			if err != nil {
				return Response{}, err
			}
			lines = append(lines, fmt.Sprintf(TextMyTasksPresent, days))
		}
		ids, err := s.Store.LookupRecords(ctx, KindTask, "owner", me.Phone)
		if err != nil {
			return Response{}, err
		}
		tasks, err := allJSON[StaffTask](ctx, s.Store, KindTask, ids)
		if err != nil {
			return Response{}, err
		}
		today := s.now().In(s.loc()).Format("2006-01-02")
		for _, t := range tasks {
			if t.Closed {
				continue
			}
			tag := ""
			if t.Due < today {
				tag = TextOverdueTag
			}
			lines = append(lines, fmt.Sprintf(TextMyTasksTask, t.ID, t.Problem, t.Due, tag))
		}
		// a 责任领导 oversees tasks others carry out: the open ones, the
		// overdue first
		led, err := s.Store.LookupRecords(ctx, KindTask, "leader", me.Phone)
		if err != nil {
			return Response{}, err
		}
		overseen, err := allJSON[StaffTask](ctx, s.Store, KindTask, led)
		if err != nil {
			return Response{}, err
		}
		sort.SliceStable(overseen, func(i, j int) bool { return overseen[i].Due < overseen[j].Due })
		for _, t := range overseen {
			if t.Closed || t.OwnerPhone == me.Phone {
				continue
			}
			tag := ""
			if t.Due < today {
				tag = TextOverdueTag
			}
			owner := t.OwnerPhone
			if o, err := s.Person(ctx, t.OwnerPhone); err == nil {
				owner = o.Name
			}
			lines = append(lines, fmt.Sprintf(TextMyTasksOverseen, t.ID, t.Problem, owner, t.Due, tag))
		}
		if len(lines) == 0 {
			return Response{Text: TextMyTasksNone, Answered: true}, nil
		}
		return Response{Text: strings.Join(lines, "\n"), Answered: true}, nil
	})
}
