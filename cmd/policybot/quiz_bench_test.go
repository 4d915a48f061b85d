package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"policybot/handlers"
	"policybot/quiz"
	"policybot/store/redisstore"
)

// BenchmarkQuizReport builds the report the way `policybot quiz report
// --xlsx` does (read the answers of the period, compute, write the
// workbook) for 100,000 answers by 1,000 people over four weeks.
// go test ./cmd/policybot -run XXX -bench QuizReport -benchtime 3x
func BenchmarkQuizReport(b *testing.B) {
	for _, backend := range []string{"embedded", "redis"} {
		b.Run(backend, func(b *testing.B) {
			cfg := defaultConfig()
			cfg.DataDir = b.TempDir()
			if backend == "redis" {
				u := os.Getenv("POLICYBOT_TEST_REDIS_URL")
				if u == "" {
					u = "redis://127.0.0.1:6379/0"
				}
				var r [6]byte
				for i := range r {
					r[i] = byte(rand.Uint32())
				}
				cfg.Store, cfg.RedisURL, cfg.RedisPrefix = "redis", u, "policybot-bench:"+hex.EncodeToString(r[:])+":"
			}
			st, err := openStore(cfg)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
			if backend == "redis" {
				b.Cleanup(func() {
					c := st.(*redisstore.Store).Client()
					iter := c.Scan(context.Background(), 0, cfg.RedisPrefix+"*", 1000).Iterator()
					for iter.Next(context.Background()) {
						c.Del(context.Background(), iter.Val())
					}
				})
			}
			loc := handlers.ChinaTime()
			from := time.Date(2026, 10, 26, 0, 0, 0, 0, loc)
			to := from.AddDate(0, 0, 28)
			seed(b, st, from, 100_000, 1_000)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				answers, err := handlers.LoadAnswers(context.Background(), st, from, to.AddDate(0, 0, -1))
				if err != nil {
					b.Fatal(err)
				}
				if len(answers) != 100_000 {
					b.Fatalf("%d answers", len(answers))
				}
				rep := quiz.BuildReport(answers, from, to, "", loc, nil)
				var buf bytes.Buffer
				if err := quiz.WriteReportXLSX(&buf, rep); err != nil {
					b.Fatal(err)
				}
				if rep.Total.Participants != 1_000 {
					b.Fatalf("%d participants", rep.Total.Participants)
				}
			}
		})
	}
}

// seed writes n answers by users people over 28 days from from, with 16
// writers.
func seed(b *testing.B, st handlers.Store, from time.Time, n, people int) {
	b.Helper()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(w), 7))
			for i := w; i < n; i += 16 {
				u := i % people
				at := from.Add(time.Duration(rnd.Int64N(int64(28 * 24 * time.Hour))))
				a := quiz.AnswerRecord{User: fmt.Sprintf("o%04d", u), QID: fmt.Sprintf("Q%03d", 1+rnd.IntN(83)), Topic: "识别",
					Correct: rnd.IntN(3) > 0, At: at, Village: fmt.Sprintf("村%02d", u%40), Town: fmt.Sprintf("镇%d", u%5)}
				data, _ := json.Marshal(a)
				day := at.Format("2006-01-02")
				if err := st.PutRecord(context.Background(), handlers.KindQuizAnswer, fmt.Sprintf("%s/%08d", day, i), data,
					handlers.IndexEntry{Name: "day", Value: day}); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d answers in %s", n, time.Since(start).Round(time.Millisecond))
}
