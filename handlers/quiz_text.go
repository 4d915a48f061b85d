package handlers

import (
	"fmt"
	"strings"

	"policybot/quiz"
)

// render shows question i of a round.
func (q *Quiz) render(bank *quiz.Bank, r *round, i int) string {
	qu, ok := bank.Get(r.QIDs[i])
	if !ok {
		return ""
	}
	return fmt.Sprintf(TextQuizHeader, i+1, len(r.QIDs), kindName(qu.Kind)) + "\n" + questionBody(qu)
}

func kindName(k quiz.Kind) string {
	switch k {
	case quiz.Multi:
		return "多选"
	case quiz.Judge:
		return "判断"
	}
	return "单选"
}

func howTo(k quiz.Kind) string {
	switch k {
	case quiz.Multi:
		return TextQuizHowMulti
	case quiz.Judge:
		return TextQuizHowJudge
	}
	return TextQuizHowSingle
}

// questionBody is the stem, the options and how to answer.
func questionBody(qu quiz.Question) string {
	var b strings.Builder
	b.WriteString(qu.Stem)
	for i, o := range qu.Options {
		fmt.Fprintf(&b, "\n%c. %s", 'A'+i, o)
	}
	b.WriteString("\n" + howTo(qu.Kind))
	return b.String()
}

// rightAnswer spells out the answer: "C. 20天" or 对.
func rightAnswer(qu quiz.Question) string {
	if qu.Kind == quiz.Judge {
		return qu.Answer
	}
	var parts []string
	for _, l := range qu.Answer {
		i := int(l - 'A')
		if i >= 0 && i < len(qu.Options) {
			parts = append(parts, fmt.Sprintf("%c. %s", l, qu.Options[i]))
		}
	}
	return strings.Join(parts, "；")
}

// feedback is right/wrong, the explanation and the source.
func (q *Quiz) feedback(qu quiz.Question, correct bool) string {
	lead := TextQuizRight
	if !correct {
		lead = fmt.Sprintf(TextQuizWrong, rightAnswer(qu))
	}
	return q.explain(qu, lead)
}

// explain is lead, then the question's explanation and source.
func (q *Quiz) explain(qu quiz.Question, lead string) string {
	var b strings.Builder
	b.WriteString(lead)
	b.WriteString("\n" + TextQuizExplain + qu.Explanation)
	if q.Cite != nil {
		if c, ok := q.Cite(qu.File, qu.Quote); ok {
			b.WriteString("\n" + TextQuizSource + c)
		}
	}
	return b.String()
}

// AnswerIntent takes an answer-shaped message (see quiz.LooksLikeAnswer):
// the current round's question, else the daily question for a
// subscriber, else a hint. A message that turns out not to be an answer
