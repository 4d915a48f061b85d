package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"policybot/quiz"
)

// Record kinds written by the event intents.
const (
	KindFollower = "follower" // id: openid; index "following" = yes|no
	KindWxEvent  = "wxevent"  // id: time-ordered; index "event", "day"
)

// Follower is a user's follow state.
type Follower struct {
	OpenID    string    `json:"openid"`
	Following bool      `json:"following"`
	Changed   time.Time `json:"changed"`
	// Scene is the QR scene a follow came through (qrscene_<scene>), kept
	// for the binding feature.
	Scene string `json:"scene,omitempty"`
}

func putFollower(ctx context.Context, rec Records, f Follower) error {
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	v := "no"
	if f.Following {
		v = "yes"
	}
	if err := rec.PutRecord(ctx, KindFollower, f.OpenID, b, IndexEntry{Name: "following", Value: v}); err != nil {
		return fmt.Errorf("handlers: record follower: %w", err)
	}
	return nil
}

// SubscribeIntent records a new follower and welcomes them.
func SubscribeIntent(rec Records) Intent {
	return IntentFunc(func(ctx context.Context, m Message) (Response, error) {
		f := Follower{OpenID: m.User, Following: true, Changed: m.At, Scene: strings.TrimPrefix(m.EventKey, "qrscene_")}
		if err := putFollower(ctx, rec, f); err != nil {
			return Response{Text: TextWelcome, Answered: true}, err
		}
		return Response{Text: TextWelcome, Answered: true}, nil
	})
}

// UnsubscribeIntent marks the user as not following; nothing is sent.
func UnsubscribeIntent(rec Records) Intent {
	return IntentFunc(func(ctx context.Context, m Message) (Response, error) {
		return Response{}, putFollower(ctx, rec, Follower{OpenID: m.User, Following: false, Changed: m.At})
	})
}

// WxEvent is an event kept for reports (menu views, locations, delivery
// reports of template and mass messages).
type WxEvent struct {
	OpenID string    `json:"openid"`
	Event  string    `json:"event"`
	Key    string    `json:"key,omitempty"`
	At     time.Time `json:"at"`
}

// RecordEventIntent keeps the event; nothing is sent.
func RecordEventIntent(rec Records) Intent {
	return IntentFunc(func(ctx context.Context, m Message) (Response, error) {
		e := WxEvent{OpenID: m.User, Event: m.Event, Key: m.EventKey, At: m.At}
		b, err := json.Marshal(e)
		if err != nil {
			return Response{}, err
		}
		id := fmt.Sprintf("%019d-%s-%s", m.At.UnixNano(), m.Event, m.User)
		err = rec.PutRecord(ctx, KindWxEvent, id, b,
			IndexEntry{Name: "event", Value: strings.ToUpper(m.Event)},
			IndexEntry{Name: "day", Value: m.At.Format("2006-01-02")})
		if err != nil {
			return Response{}, fmt.Errorf("handlers: record event: %w", err)
		}
		return Response{}, nil
	})
}

// Menu click keys of the default menu.
const (
	ClickAsk  = "POLICY_QA"
	ClickHelp = "HELP"
	ClickQuiz = "QUIZ"
	ClickRank = "QUIZ_RANK"
)

// Register adds the quiz's intents to r: 答题 and the quiz button start a
// round, answers (B, AC, 对) go to the quiz, 退出, 订阅每日一题 / 退订,
// 设置 村名, 我的成绩 / 排行榜.
func (q *Quiz) Register(r *Router) {
	start := q.StartIntent()
	r.Keyword(start, "答题", "开始答题", "政策答题", "答题挑战", "做题")
	r.Click(ClickQuiz, start)
	r.Keyword(q.ExitIntent(), "退出", "退出答题", "结束答题", "不答了")
	r.Keyword(q.SubscribeIntent(true), "订阅每日一题", "订阅", "每日一题")
	r.Keyword(q.SubscribeIntent(false), "退订", "退订每日一题", "取消订阅", "取消每日一题")
	rank := q.StandingIntent()
	r.Keyword(rank, "我的成绩", "成绩", "排名", "排行榜", "我的排名")
	r.Click(ClickRank, rank)
	r.Prefix("设置", q.SetIntent())
	r.Match(quiz.LooksLikeAnswer, q.AnswerIntent(r.Fallback()))
	r.Match(isChoiceNumber, q.PickPlaceIntent(r.Fallback()))
}

// DefaultRouter wires the intents that exist today; later features add
// theirs (答题, 绑定, 已走访 ...) to the returned router.
func DefaultRouter(a *Asker, rec Records) *Router {
	r := NewRouter(AskIntent(a))
	help := TextIntent(TextHelp)
	r.Keyword(help, "帮助", "菜单", "help", "?", "？", "你好", "您好")
	r.Keyword(HumanIntent(), "人工", "转人工", "人工客服", "客服")
	r.Click(ClickHelp, help)
	r.Click(ClickAsk, TextIntent(TextEmptyQuestion))
	r.Event("subscribe", SubscribeIntent(rec))
	r.Event("unsubscribe", UnsubscribeIntent(rec))
	for _, e := range []string{"VIEW", "LOCATION", "SCAN", "TEMPLATESENDJOBFINISH", "MASSSENDJOBFINISH", "CLICK",
		"view_miniprogram", "subscribe_msg_popup_event", "subscribe_msg_change_event", "subscribe_msg_sent_event"} {
		r.Event(e, RecordEventIntent(rec))
	}
	r.Event("TEMPLATESENDJOBFINISH", TemplateFinishIntent(rec))
	r.Event(string(KindMedia), TextIntent(TextAskTyped))
	r.Event(string(KindUnknown), TextIntent(TextAskTyped))
	return r
}
