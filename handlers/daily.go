package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"time"

	"policybot/quiz"
)

// DefaultDailyAt is when the daily question goes out.
const DefaultDailyAt = "09:00"

func (q *Quiz) dailyAt() string {
	if q.DailyAt != "" {
		return q.DailyAt
	}
	return DefaultDailyAt
}

// dailyDay is the day whose daily question is current at now: today's
// once its sending time has come, else yesterday's.
func (q *Quiz) dailyDay(now time.Time) time.Time {
	lt := now.In(q.loc())
	day := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, q.loc())
	at, err := ParseClock(q.dailyAt())
	if err != nil {
		at = 9 * 60
	}
	if lt.Before(day.Add(time.Duration(at) * time.Minute)) {
		day = day.AddDate(0, 0, -1)
	}
	return day
}

// answerDaily grades an answer outside a round against the current daily
// question, for subscribers, once per day.
func (q *Quiz) answerDaily(ctx context.Context, m Message, bank *quiz.Bank, fallback Intent) (Response, error) {
	u, err := q.User(ctx, m.User)
	if err != nil {
		return Response{}, err
	}
	if !u.Daily || bank == nil || bank.Len() == 0 {
		return q.noRound(ctx, m, fallback)
	}
	day := q.dailyDay(q.now())
	qu, _ := bank.Get(quiz.DailyID(bank, day))
	ans, err := quiz.ParseAnswer(qu, m.Text)
	if errors.Is(err, quiz.ErrNotAnswer) || errors.Is(err, quiz.ErrSkip) {
		return fallback.Handle(ctx, m)
	}
	if err != nil {
		return Response{Text: fmt.Sprintf(TextQuizBadAnswer, howTo(qu.Kind)) + "\n\n" + TextDailyHeader + "\n" + questionBody(qu), Answered: true}, nil
	}
	d := day.Format("2006-01-02")
	first, err := q.Store.MarkSeen(ctx, "quizdaily:"+d+":"+m.User, 48*time.Hour)
	if err != nil {
		return Response{}, fmt.Errorf("quiz: %w", err)
	}
	if !first {
		return Response{Text: TextDailyDone, Answered: true}, nil
	}
	correct := qu.Correct(ans)
	if _, err := q.record(ctx, m.User, qu, correct, "daily/"+m.User, true); err != nil {
		q.log().Error("daily answer not recorded", "err", err)
	}
	return Response{Text: TextDailyHeader + q.feedback(qu, correct) + "\n\n" + TextQuizAgain, Answered: true}, nil
}

// noRound answers an answer-shaped message when nothing is being asked.
// A single letter or 对/错 is clearly meant for a quiz; anything longer
// that merely looks like letters goes to the knowledge base.
func (q *Quiz) noRound(ctx context.Context, m Message, fallback Intent) (Response, error) {
	return Response{Text: TextQuizNoRound, Answered: true}, nil
}

// DailyResult reports one run of EnqueueDaily.
type DailyResult struct {
	Subscribers int
	Enqueued    int // new items; a rerun the same day adds none
	QuestionID  string
	NotBefore   time.Time
}

// EnqueueDaily puts today's question for every subscriber into the
// outbound queue, not before the end of quiet hours. Keys are per day and
// person, so running it twice (two instances, a restart) sends nothing
// twice.
func (q *Quiz) EnqueueDaily(ctx context.Context) (DailyResult, error) {
	now := q.now()
	bank := q.Bank()
	if bank == nil || bank.Len() == 0 {
		return DailyResult{}, errors.New("quiz: the bank is empty")
	}
	day := now.In(q.loc())
	res := DailyResult{QuestionID: quiz.DailyID(bank, day), NotBefore: OutsideQuiet(now, q.Quiet, q.loc())}
	qu, _ := bank.Get(res.QuestionID)
	text := TextDailyHeader + "\n" + questionBody(qu)
	ids, err := q.Store.LookupRecords(ctx, KindQuizUser, "daily", "yes")
	if err != nil {
		return res, fmt.Errorf("quiz: list subscribers: %w", err)
	}
	res.Subscribers = len(ids)
	d := day.Format("2006-01-02")
	for _, id := range ids {
		payload, err := json.Marshal(OutboundText{To: id, Text: text, Kind: "daily_quiz"})
		if err != nil {
			return res, err
		}
		added, err := q.Store.Enqueue(ctx, DailyQueue, QueueItem{Key: "daily:" + d + ":" + id, Payload: payload, NotBefore: res.NotBefore})
		if err != nil {
			return res, fmt.Errorf("quiz: enqueue daily question: %w", err)
		}
		if added {
			res.Enqueued++
		}
	}
	return res, nil
}
