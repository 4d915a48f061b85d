package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"policybot/roster"
)

// Register adds 最新通知 (everyone) and, for bound 责任领导, 第一书记 and
// 管理员, 通知 <对象>：<内容> → preview → 确认发送 / 取消.
func (s *Notices) Register(r *Router, reachByPhone bool) {
	r.Keyword(s.LatestIntent(), "最新通知", "通知", "看通知")
	r.Prefix("通知 ", s.ComposeIntent())
	r.Prefix("通知:", s.ComposeIntent())
	r.Keyword(s.ConfirmIntent(reachByPhone), "确认发送")
	r.Keyword(s.CancelIntent(), "取消", "作废")
	r.Event("MASSSENDJOBFINISH", s.MassFinishIntent())
}

// LatestIntent lists the notices that reached the person lately.
func (s *Notices) LatestIntent() Intent {
	return IntentFunc(func(ctx context.Context, m Message) (Response, error) {
		ns, err := s.LatestFor(ctx, m.User, 3)
		if err != nil {
			return Response{}, err
		}
		if len(ns) == 0 {
			return Response{Text: TextNoticeNone, Answered: true}, nil
		}
		lines := []string{TextNoticeLatestHead}
		for _, n := range ns {
			lines = append(lines, n.SentAt.In(ChinaTime()).Format("01-02")+" "+n.Text())
		}
		return Response{Text: strings.Join(lines, "\n\n"), Answered: true}, nil
	})
}

// chatAudiences maps what officials type to an audience in their place.
func chatAudience(phrase string, p StaffPerson) (Audience, bool) {
	phrase = strings.TrimSpace(phrase)
	// a 第一书记 works for a village: their notices go to it, never to
	// the whole town; "帮扶干部" alone means their own village's
	villageRole := p.Role == roster.RoleSecretary
	town := func(a Audience) (Audience, bool) {
		if villageRole {
			return Audience{}, false
		}
		a.Town = p.Town
		return a, true
	}
	village := func(a Audience) (Audience, bool) {
		if p.Village == "" {
			return Audience{}, false
		}
		a.Town, a.Village = p.Town, p.Village
		return a, true
	}
	scope := town
	if villageRole {
		scope = village
	}
	helpers := Audience{Kind: AudienceStaff, Role: roster.RoleHelper}
	cadres := Audience{Kind: AudienceStaff, Role: roster.RoleCadre}
	everyone := Audience{Kind: AudienceStaff}
	switch phrase {
	case "全镇帮扶干部", "全镇帮扶责任人":
		return town(helpers)
	case "全村帮扶干部", "本村帮扶干部", "全村帮扶责任人", "本村帮扶责任人":
		return village(helpers)
	case "帮扶干部", "帮扶责任人":
		return scope(helpers)
	case "全镇驻村干部":
		return town(cadres)
	case "全村驻村干部", "本村驻村干部", "工作队", "驻村工作队":
		return village(cadres)
	case "驻村干部":
		return scope(cadres)
	case "全镇干部", "全体干部":
		return town(everyone)
	case "全村干部", "本村干部":
		return village(everyone)
	case "本村群众", "全村群众", "村民":
		return village(Audience{Kind: AudienceHouseholds})
	case "全镇群众":
		return town(Audience{Kind: AudienceHouseholds})
	}
	return Audience{}, false
}

const noticeDraftPrefix = "noticedraft:"

// ComposeIntent: "通知 全镇帮扶干部：明天开会" → a preview.
func (s *Notices) ComposeIntent() Intent {
	return IntentFunc(func(ctx context.Context, m Message) (Response, error) {
		p, err := s.Staff.ByOpenID(ctx, m.User)
		if errors.Is(err, ErrNotFound) {
			return Response{Text: TextStaffOnly, Answered: true}, nil
		}
		if err != nil {
			return Response{}, err
		}
		if p.Role != roster.RoleLeader && p.Role != roster.RoleSecretary && p.Role != roster.RoleAdmin {
			return Response{Text: TextNoticeNotAllowed, Answered: true}, nil
		}
		rest := argAfter(m.Text, "通知")
		rest = strings.Replace(rest, "：", ":", 1)
		phrase, body, ok := strings.Cut(rest, ":")
		if !ok || strings.TrimSpace(body) == "" {
			return Response{Text: TextNoticeHow, Answered: true}, nil
		}
		a, ok := chatAudience(phrase, p)
		if !ok {
			return Response{Text: TextNoticeHow, Answered: true}, nil
		}
		n, err := s.Create(ctx, Notice{Title: p.Town + p.Village + "通知", Body: strings.TrimSpace(body), Audience: a, Author: p.Name + "(" + p.Phone + ")"})
		if err != nil {
			return Response{Text: err.Error(), Answered: true}, nil
		}
		staff, households, err := s.Recipients(ctx, a)
		if err != nil {
			return Response{}, err
		}
		if err := s.Store.PutSession(ctx, noticeDraftPrefix+m.User, []byte(n.ID), 30*time.Minute); err != nil {
			return Response{}, err
		}
		return Response{Text: fmt.Sprintf(TextNoticePreview, a.Describe(), len(staff)+len(households), n.Text()), Answered: true}, nil
	})
}

// ConfirmIntent sends the person's previewed notice, once.
func (s *Notices) ConfirmIntent(reachByPhone bool) Intent {
	return IntentFunc(func(ctx context.Context, m Message) (Response, error) {
		b, err := s.Store.GetSession(ctx, noticeDraftPrefix+m.User)
		if errors.Is(err, ErrNotFound) {
			return Response{Text: TextNoticeNoDraft, Answered: true}, nil
		}
		if err != nil {
			return Response{}, err
		}
		n, err := s.Get(ctx, string(b))
		if err != nil {
			return Response{}, err
		}
		if n.Status == NoticePending {
			return Response{Text: TextNoticePending, Answered: true}, nil
		}
		n, err = s.Send(ctx, n.ID, reachByPhone)
		if err != nil {
			return Response{Text: err.Error(), Answered: true}, nil
		}
		s.Store.DeleteSession(ctx, noticeDraftPrefix+m.User)
		Audit(ctx, s.Store, n.Author, "notice_send", "《"+n.Title+"》 → "+n.Audience.Describe(), s.now())
		if n.Status == NoticeScheduled {
			return Response{Text: fmt.Sprintf(TextNoticeWaits, n.SendAt.In(ChinaTime()).Format("01-02 15:04")), Answered: true}, nil
		}
		r := n.Report
		return Response{Text: fmt.Sprintf(TextNoticeSent, r.Queued, r.Unbound, r.NotFollowing, r.OverQuota), Answered: true}, nil
	})
}

// CancelIntent drops the previewed notice (when there is one).
func (s *Notices) CancelIntent() Intent {
	return IntentFunc(func(ctx context.Context, m Message) (Response, error) {
		if _, err := s.Store.GetSession(ctx, noticeDraftPrefix+m.User); err != nil {
			return Response{Text: TextNoticeNoDraft, Answered: true}, nil
		}
		s.Store.DeleteSession(ctx, noticeDraftPrefix+m.User)
		return Response{Text: TextNoticeCancelled, Answered: true}, nil
	})
}
