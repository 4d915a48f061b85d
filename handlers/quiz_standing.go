package handlers

import (
	"context"
	"fmt"
	"strings"

	"policybot/quiz"
)

// standingLine is the weekly standing, with a hint to set the village.
func (q *Quiz) standingLine(ctx context.Context, user string) string {
	u, err := q.User(ctx, user)
	if err != nil {
		return ""
	}
	week := quiz.ISOWeek(q.now().In(q.loc()))
	if u.Village != "" {
		if score, rank, err := q.Store.ScoreOf(ctx, "quizweek:"+week+":"+u.Town+"/"+u.Village, user); err == nil {
			return "\n" + fmt.Sprintf(TextQuizStanding, u.Village, int(score), rank)
		}
		return "\n" + TextQuizNoStanding
	}
	line := ""
	if score, rank, err := q.Store.ScoreOf(ctx, "quizweek:"+week+":all", user); err == nil {
		line = "\n" + fmt.Sprintf(TextQuizStandingAll, int(score), rank)
	}
	if !q.Places.Empty() {
		line += "\n" + TextQuizSetPlaceHint
	}
	return line
}

// ExitIntent leaves a round: 退出.
func (q *Quiz) ExitIntent() Intent {
	return IntentFunc(func(ctx context.Context, m Message) (Response, error) {
		r, err := q.loadRound(ctx, m.User)
		if err != nil {
			return Response{}, err
		}
		if r == nil {
			return Response{Text: TextQuizNoRound, Answered: true}, nil
		}
		if err := q.Store.DeleteSession(ctx, roundKeyPrefix+m.User); err != nil {
			return Response{}, fmt.Errorf("quiz: %w", err)
		}
		return Response{Text: fmt.Sprintf(TextQuizExit, r.Correct, r.I), Answered: true}, nil
	})
}

// StandingIntent shows the person's standing and their village's board.
func (q *Quiz) StandingIntent() Intent {
	return IntentFunc(func(ctx context.Context, m Message) (Response, error) {
		u, err := q.User(ctx, m.User)
		if err != nil {
			return Response{}, err
		}
		text := strings.TrimPrefix(q.standingLine(ctx, m.User), "\n")
		if text == "" {
			text = TextQuizNoStanding
		}
		if u.Village != "" {
			week := quiz.ISOWeek(q.now().In(q.loc()))
			top, err := q.Store.TopScores(ctx, "quizweek:"+week+":"+u.Town+"/"+u.Village, quiz.LeadersPerVillage)
			if err == nil && len(top) > 0 {
				lines := []string{fmt.Sprintf(TextQuizLeaderboard, u.Village)}
				for i, s := range top {
					name := ""
					if o, err := q.User(ctx, s.Member); err == nil {
						name = o.Name
					}
					lines = append(lines, fmt.Sprintf("%d. %s  %d 题", i+1, quiz.MaskName(name, s.Member), int(s.Score)))
				}
				text += "\n\n" + strings.Join(lines, "\n")
			}
		}
		return Response{Text: text, Answered: true}, nil
	})
}

// SubscribeIntent opts in to the daily question; UnsubscribeIntent out.
