package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"policybot/quiz"
)

// Record kinds and keys of the quiz.
const (
	KindQuizUser   = "quizuser"   // id: openid; index "daily" = yes|no, "village" = town/village
	KindQuizAnswer = "quizanswer" // id: day/round/index; index "day" = 2026-11-22
)

// QuizUser is what the quiz keeps per person.
type QuizUser struct {
	OpenID  string `json:"openid"`
	Name    string `json:"name,omitempty"` // from the roster, or set by the person; shown masked
	Town    string `json:"town,omitempty"`
	Village string `json:"village,omitempty"`
	Role    string `json:"role,omitempty"` // from the roster; empty means 群众
	Daily   bool   `json:"daily,omitempty"`
	// Right lists ids answered correctly at least once, so that rounds
	// prefer new questions. Figures come from the answer records, not
	// from here.
	Right []string `json:"right,omitempty"`
}

// round is a quiz in progress, kept in Sessions under "quiz:<openid>".
type round struct {
	ID      string    `json:"id"`
	QIDs    []string  `json:"q"`
	I       int       `json:"i"` // the question being asked
	Correct int       `json:"c"`
	Last    time.Time `json:"last"`
}

// Quiz runs policy quizzes in chat: rounds, the daily question, places
// and standings. All state is in the store, so any instance can take any
// message of a round.
type Quiz struct {
	Store StateStore
	// Bank returns the bank in force (a func so that an import can swap it).
	Bank func() *quiz.Bank
	// Cite returns the source line of a quote (the knowledge base's Cite).
	Cite   func(file, quote string) (string, bool)
	Places *Places
	// RoundSize is the number of questions per round (default 5).
	RoundSize int
	// Idle ends a round nobody answers for this long (default 30 min).
	Idle time.Duration
	// Loc decides days and weeks (default Asia/Shanghai, else UTC+8).
	Loc *time.Location
	// DailyAt is the time of day the daily question goes out ("09:00").
	DailyAt string
	// Quiet are quiet hours (HH:MM-HH:MM; "" or "off": none): nothing is
	// sent inside them.
	Quiet  string
	Now    func() time.Time
	Logger *slog.Logger
}

func (q *Quiz) now() time.Time { return nowOr(q.Now) }

func (q *Quiz) loc() *time.Location { return locOr(q.Loc) }

func (q *Quiz) size() int {
	if q.RoundSize > 0 {
		return q.RoundSize
	}
	return DefaultRoundSize
}

func (q *Quiz) idle() time.Duration {
	if q.Idle > 0 {
		return q.Idle
	}
	return DefaultRoundIdle
}

// Defaults of a quiz round.
const (
	DefaultRoundSize = 5
	DefaultRoundIdle = 30 * time.Minute
)

func (q *Quiz) log() *slog.Logger { return logOr(q.Logger) }

const roundKeyPrefix = "quiz:"

func (q *Quiz) loadRound(ctx context.Context, user string) (*round, error) {
	b, err := q.Store.GetSession(ctx, roundKeyPrefix+user)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("quiz: load round: %w", err)
	}
	var r round
	if err := json.Unmarshal(b, &r); err != nil || r.I >= len(r.QIDs) {
		return nil, nil // unreadable or finished: as if none
	}
	if q.now().Sub(r.Last) > q.idle() {
		return nil, nil // expired
	}
	return &r, nil
}

func (q *Quiz) saveRound(ctx context.Context, user string, r *round) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := q.Store.PutSession(ctx, roundKeyPrefix+user, b, q.idle()+time.Minute); err != nil {
		return fmt.Errorf("quiz: save round: %w", err)
	}
	return nil
}

// User returns the person's quiz record (a new one if absent).
func (q *Quiz) User(ctx context.Context, openid string) (QuizUser, error) {
	b, err := q.Store.GetRecord(ctx, KindQuizUser, openid)
	if errors.Is(err, ErrNotFound) {
		return QuizUser{OpenID: openid}, nil
	}
	if err != nil {
		return QuizUser{}, fmt.Errorf("quiz: load user: %w", err)
	}
	var u QuizUser
	if err := json.Unmarshal(b, &u); err != nil {
		return QuizUser{}, fmt.Errorf("quiz: user record unreadable: %w", err)
	}
	u.OpenID = openid
	return u, nil
}

// PutUser stores the person's quiz record with its indexes.
func (q *Quiz) PutUser(ctx context.Context, u QuizUser) error {
	b, err := json.Marshal(u)
	if err != nil {
		return err
	}
	daily := "no"
	if u.Daily {
		daily = "yes"
	}
	idx := []IndexEntry{{Name: "daily", Value: daily}}
	if u.Village != "" {
		idx = append(idx, IndexEntry{Name: "village", Value: u.Town + "/" + u.Village})
	}
	if err := q.Store.PutRecord(ctx, KindQuizUser, u.OpenID, b, idx...); err != nil {
		return fmt.Errorf("quiz: save user: %w", err)
	}
	return nil
}

// StartIntent starts a round: 答题, the menu's quiz button.
func (q *Quiz) StartIntent() Intent {
	return IntentFunc(func(ctx context.Context, m Message) (Response, error) {
		bank := q.Bank()
		if bank == nil || bank.Len() == 0 {
			return Response{Text: TextQuizEmptyBank, Answered: true}, nil
		}
		u, err := q.User(ctx, m.User)
		if err != nil {
			return Response{}, err
		}
		done := map[string]bool{}
		for _, id := range u.Right {
			done[id] = true
		}
		now := q.now()
		seed := sha256.Sum256([]byte(m.User + now.String()))
		rnd := rand.New(rand.NewPCG(binary.LittleEndian.Uint64(seed[:8]), binary.LittleEndian.Uint64(seed[8:16])))
		audience := quiz.AudienceHousehold // a villager's round is about their own life
		if u.Role != "" {
			audience = quiz.AudienceStaff
		}
		r := &round{ID: hex.EncodeToString(seed[:8]), QIDs: quiz.PickRound(bank, done, q.size(), rnd, audience), Last: now}
		if err := q.saveRound(ctx, m.User, r); err != nil {
			return Response{}, err
		}
		text := fmt.Sprintf(TextQuizIntro, len(r.QIDs)) + "\n\n" + q.render(bank, r, 0)
		return Response{Text: text, Answered: true}, nil
	})
}

// goes to fallback (the knowledge base) and the round stays as it was.
func (q *Quiz) AnswerIntent(fallback Intent) Intent {
	return IntentFunc(func(ctx context.Context, m Message) (Response, error) {
		bank := q.Bank()
		r, err := q.loadRound(ctx, m.User)
		if err != nil {
			return Response{}, err
		}
		if r == nil {
			if quiz.IsSkip(m.Text) {
				return fallback.Handle(ctx, m) // "不知道" with no question asked
			}
			return q.answerDaily(ctx, m, bank, fallback)
		}
		qu, ok := bank.Get(r.QIDs[r.I])
		if !ok { // the bank changed under the round: skip the question
			r.I++
			return q.next(ctx, m.User, bank, r, "")
		}
		ans, err := quiz.ParseAnswer(qu, m.Text)
		if errors.Is(err, quiz.ErrNotAnswer) {
			return fallback.Handle(ctx, m)
		}
		skipped := errors.Is(err, quiz.ErrSkip) // graded wrong, the answer shown
		if err != nil && !skipped {
			return Response{Text: fmt.Sprintf(TextQuizBadAnswer, howTo(qu.Kind)), Answered: true}, nil
		}
		first, err := q.Store.MarkSeen(ctx, "quizans:"+r.ID+":"+fmt.Sprint(r.I), 48*time.Hour)
		if err != nil {
			return Response{}, fmt.Errorf("quiz: %w", err)
		}
		if !first {
			// Another copy of a message already took this question (a
			// double send handled concurrently). Move past it, so that a
			// lost save of the round can never leave the person stuck on
			// a question that no longer accepts answers.
			r.I++
			return q.next(ctx, m.User, bank, r, TextQuizAlreadyAnswered)
		}
		correct := qu.Correct(ans)
		if _, err := q.record(ctx, m.User, qu, correct, r.ID+"/"+fmt.Sprint(r.I), false); err != nil {
			q.log().Error("quiz answer not recorded", "err", err)
		}
		if correct {
			r.Correct++
		}
		r.I++
		fb := q.feedback(qu, correct)
		if skipped {
			fb = q.explain(qu, fmt.Sprintf(TextQuizReveal, rightAnswer(qu)))
		}
		return q.next(ctx, m.User, bank, r, fb)
	})
}

// next saves the round and shows the next question, or the result.
func (q *Quiz) next(ctx context.Context, user string, bank *quiz.Bank, r *round, lead string) (Response, error) {
	r.Last = q.now()
	var parts []string
	if lead != "" {
		parts = append(parts, lead)
	}
	if r.I < len(r.QIDs) {
		if err := q.saveRound(ctx, user, r); err != nil {
			return Response{}, err
		}
		parts = append(parts, q.render(bank, r, r.I))
	} else {
		if err := q.Store.DeleteSession(ctx, roundKeyPrefix+user); err != nil {
			q.log().Warn("quiz: finished round not deleted", "err", err)
		}
		parts = append(parts, fmt.Sprintf(TextQuizDone, r.Correct, len(r.QIDs))+q.standingLine(ctx, user)+"\n"+TextQuizAgain)
	}
	return Response{Text: strings.Join(parts, "\n\n"), Answered: true}, nil
}

// record keeps one answer: the answer record (for reports), the person's
// totals and the weekly leaderboards.
func (q *Quiz) record(ctx context.Context, user string, qu quiz.Question, correct bool, key string, daily bool) (QuizUser, error) {
	u, err := q.User(ctx, user)
	if err != nil {
		return u, err
	}
	now := q.now()
	role := u.Role
	if role == "" {
		role = quiz.DefaultRole
	}
	rec := quiz.AnswerRecord{User: user, Name: u.Name, QID: qu.ID, Topic: qu.Topic, Correct: correct, At: now,
		Village: u.Village, Town: u.Town, Role: role, Daily: daily}
	b, err := json.Marshal(rec)
	if err != nil {
		return u, err
	}
	day := now.In(q.loc()).Format("2006-01-02")
	if err := q.Store.PutRecord(ctx, KindQuizAnswer, day+"/"+key, b, IndexEntry{Name: "day", Value: day}); err != nil {
		return u, fmt.Errorf("quiz: record answer: %w", err)
	}
	if correct {
		if !contains(u.Right, qu.ID) {
			u.Right = append(u.Right, qu.ID)
		}
		week := quiz.ISOWeek(now.In(q.loc()))
		if _, err := q.Store.AddScore(ctx, "quizweek:"+week+":all", user, 1); err != nil {
			return u, fmt.Errorf("quiz: leaderboard: %w", err)
		}
		if u.Village != "" {
			if _, err := q.Store.AddScore(ctx, "quizweek:"+week+":"+u.Town+"/"+u.Village, user, 1); err != nil {
				return u, fmt.Errorf("quiz: leaderboard: %w", err)
			}
		}
	}
	return u, q.PutUser(ctx, u)
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func (q *Quiz) SubscribeIntent(on bool) Intent {
	return IntentFunc(func(ctx context.Context, m Message) (Response, error) {
		u, err := q.User(ctx, m.User)
		if err != nil {
			return Response{}, err
		}
		u.Daily = on
		if err := q.PutUser(ctx, u); err != nil {
			return Response{}, err
		}
		if on {
			return Response{Text: fmt.Sprintf(TextDailyOn, q.dailyAt()), Answered: true}, nil
		}
		return Response{Text: TextDailyOff, Answered: true}, nil
	})
}
