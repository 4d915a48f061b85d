package handlers_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"policybot/handlers"
	"policybot/quiz"
)

// BenchmarkQuizStep measures one answer → feedback step (read the round,
// grade, mark, record the answer, update the person and the boards, save
// the round, render) on each backend, and reports its p50 and p99.
// go test ./handlers -run XXX -bench QuizStep -benchtime 5000x
func BenchmarkQuizStep(b *testing.B) {
	for name, st := range stores(b) {
		b.Run(name, func(b *testing.B) {
			c := &clock{time.Date(2026, 11, 18, 10, 0, 0, 0, handlers.ChinaTime())}
			_, r := newQuiz(b, st, c)
			_, bank := loadBank(b)
			ctx := context.Background()
			msg := func(u, text string) handlers.Response {
				resp, err := r.Handle(ctx, handlers.Message{User: u, Kind: handlers.KindText, Text: text, At: c.t})
				if err != nil {
					b.Fatal(err)
				}
				return resp
			}
			users := 50
			replies := make([]string, users)
			for u := 0; u < users; u++ {
				msg(fmt.Sprint("bench", u), "设置 马街镇金家村")
				replies[u] = msg(fmt.Sprint("bench", u), "答题").Text
			}
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				u := i % users
				user := fmt.Sprint("bench", u)
				if strings.Contains(replies[u], "本轮结束") {
					b.StopTimer()
					replies[u] = msg(user, "答题").Text
					b.StartTimer()
				}
				q := stemOf(bank, replies[u])
				start := time.Now()
				replies[u] = msg(user, q.Answer).Text
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}

func stemOf(bank *quiz.Bank, reply string) quiz.Question {
	var best quiz.Question
	at := -1
	for _, q := range bank.Questions() {
		if i := strings.LastIndex(reply, "\n"+q.Stem+"\n"); i > at {
			best, at = q, i
		}
	}
	return best
}
