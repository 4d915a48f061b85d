package handlers_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"policybot/handlers"
	"policybot/knowledge"
	"policybot/quiz"
	"policybot/store/embedded"
	"policybot/store/redisstore"
)

var (
	kbOnce sync.Once
	testKB *knowledge.Base
	bank   *quiz.Bank
)

func loadBank(t testing.TB) (*knowledge.Base, *quiz.Bank) {
	kbOnce.Do(func() {
		var err error
		testKB, _, err = knowledge.Load(knowledge.Options{})
		if err != nil {
			t.Fatal(err)
		}
		qs, err := quiz.Shipped()
		if err != nil {
			t.Fatal(err)
		}
		if bank, err = quiz.NewBank(qs, testKB.FileText); err != nil {
			t.Fatal(err)
		}
	})
	return testKB, bank
}

// stores returns the backends the quiz runs on: embedded always, Redis
// when it answers (in CI it must).
func stores(t testing.TB) map[string]handlers.StateStore {
	out := map[string]handlers.StateStore{}
	e, err := embedded.Open(t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	out["embedded"] = e
	u := os.Getenv("POLICYBOT_TEST_REDIS_URL")
	if u == "" {
		u = "redis://127.0.0.1:6379/0"
	}
	var b [6]byte
	rand.Read(b[:])
	prefix := "policybot-test:quiz:" + hex.EncodeToString(b[:]) + ":"
	r, err := redisstore.Open(redisstore.Options{URL: u, Prefix: prefix})
	if err == nil {
		err = r.Ping(context.Background())
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Redis required in CI: %v", err)
		}
		t.Logf("no Redis (%v): embedded only", err)
		return out
	}
	t.Cleanup(func() {
		ctx := context.Background()
		iter := r.Client().Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			r.Client().Del(ctx, iter.Val())
		}
		r.Close()
	})
	out["redis"] = r
	return out
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newQuiz(t testing.TB, st handlers.StateStore, c *clock) (*handlers.Quiz, *handlers.Router) {
	kb, b := loadBank(t)
	places, err := handlers.NewPlaces(map[string][]string{"马街镇": {"金家村", "上谷村"}, "龙山镇": {"金家村", "石门村"}, "城关镇": {"东风村"}})
	if err != nil {
		t.Fatal(err)
	}
	q := &handlers.Quiz{Store: st, Bank: func() *quiz.Bank { return b }, Cite: kb.Cite, Places: places, Now: c.now}
	asker := &handlers.Asker{KB: func() *knowledge.Base { return kb }}
	r := handlers.DefaultRouter(asker, st)
	q.Register(r)
	return q, r
}

func say(t *testing.T, r *handlers.Router, user, text string) string {
	t.Helper()
	resp, err := r.Handle(context.Background(), handlers.Message{User: user, Kind: handlers.KindText, Text: text, At: time.Now()})
	if err != nil {
		t.Fatalf("%q: %v", text, err)
	}
	return resp.Text
}

// currentQuestion finds the question a reply is asking, by its stem.
func currentQuestion(t *testing.T, reply string) quiz.Question {
	t.Helper()
	_, b := loadBank(t)
	var best quiz.Question
	at := -1
	for _, q := range b.Questions() {
		if i := strings.LastIndex(reply, "\n"+q.Stem+"\n"); i > at {
			best, at = q, i
		}
	}
	if at < 0 {
		t.Fatalf("no question in reply:\n%s", reply)
	}
	return best
}

func wrongAnswer(q quiz.Question) string {
	if q.Kind == quiz.Judge {
		if q.Answer == quiz.True {
			return "错"
		}
		return "对"
	}
	for _, l := range "ABCDEF"[:len(q.Options)] {
		if !strings.ContainsRune(q.Answer, l) {
			if q.Kind == quiz.Multi {
				return string(l) + q.Answer[:1]
			}
			return string(l)
		}
	}
	return "?"
}

// A full round, answered in the forms people type, with a knowledge-base
// question in the middle that does not lose the round.
func TestQuizFullRound(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			c := &clock{time.Date(2026, 11, 18, 10, 0, 0, 0, handlers.ChinaTime())}
			_, r := newQuiz(t, st, c)
			u := "user-round"
			if got := say(t, r, u, "设置 金佳村"); !strings.Contains(got, "金家村") {
				t.Errorf("typo gets no suggestion: %s", got)
			}
			if got := say(t, r, u, "设置 金家村"); !strings.Contains(got, "马街镇金家村") || !strings.Contains(got, "龙山镇金家村") {
				t.Errorf("ambiguous village: %s", got)
			}
			if got := say(t, r, u, "设置 马街镇金家村"); !strings.Contains(got, "已设置：马街镇金家村") {
				t.Fatalf("set place: %s", got)
			}
			reply := say(t, r, u, "答题")
			if !strings.Contains(reply, "共 5 题") || !strings.Contains(reply, "第 1/5 题") {
				t.Fatalf("start: %s", reply)
			}
			right := 0
			for i := 0; i < 5; i++ {
				q := currentQuestion(t, reply)
				if i == 2 { // a question for the knowledge base mid-round
					kb := say(t, r, u, "驻村干部一个月要在村里住多少天")
					if !strings.Contains(kb, "20") {
						t.Errorf("mid-round question not answered: %s", kb)
					}
				}
				ans := strings.ToLower(q.Answer)
				if q.Kind == quiz.Multi {
					ans = strings.Join(strings.Split(ans, ""), " ") // "a c"
				}
				if i == 1 {
					ans = wrongAnswer(q)
				} else {
					right++
				}
				if bad := say(t, r, u, "E"); !strings.Contains(bad, "这道题要这样答") {
					t.Errorf("letter beyond the options: %s", bad)
				}
				reply = say(t, r, u, ans)
				if i == 1 {
					if !strings.Contains(reply, "答错了") {
						t.Errorf("wrong answer %q to %s: %s", ans, q.ID, reply)
					}
				} else if !strings.Contains(reply, "答对了") {
					t.Errorf("right answer %q to %s (%s): %s", ans, q.ID, q.Answer, reply)
				}
				if !strings.Contains(reply, "解析："+q.Explanation) || !strings.Contains(reply, "出处：《") {
					t.Errorf("feedback lacks explanation or source: %s", reply)
				}
			}
			if !strings.Contains(reply, fmt.Sprintf("答对 %d/5 题", right)) || !strings.Contains(reply, "本周您在金家村答对 4 题，排第 1 名") {
				t.Errorf("end of round: %s", reply)
			}
			if got := say(t, r, u, "A"); !strings.Contains(got, "没有进行中的答题") {
				t.Errorf("answer after the round: %s", got)
			}
			if got := say(t, r, u, "排行榜"); !strings.Contains(got, "金家村本周答题排行") || !strings.Contains(got, "1. 用户") {
				t.Errorf("leaderboard: %s", got)
			}
			say(t, r, u, "设置 姓名 张三")
			if got := say(t, r, u, "排行榜"); !strings.Contains(got, "1. 张*  4 题") {
				t.Errorf("leaderboard with a name: %s", got)
			}
			// the next round avoids the four questions answered correctly
			reply = say(t, r, u, "答题")
			q := currentQuestion(t, reply)
			u2, _ := (&handlers.Quiz{Store: st}).User(context.Background(), u)
			for _, id := range u2.Right {
				if id == q.ID {
					t.Errorf("a correctly answered question came back: %s", id)
				}
			}
			if n := answerRecords(t, st); len(u2.Right) != 4 || n != 5 {
				t.Errorf("user record %+v", u2)
			}
			if got := say(t, r, u, "退出"); !strings.Contains(got, "已退出答题") {
				t.Errorf("exit: %s", got)
			}
			if got := say(t, r, u, "退出"); !strings.Contains(got, "没有进行中的答题") {
				t.Errorf("exit twice: %s", got)
			}
		})
	}
}

// An idle round expires; the clock is injected.
func TestQuizRoundExpires(t *testing.T) {
	st := stores(t)["embedded"]
	c := &clock{time.Date(2026, 11, 18, 10, 0, 0, 0, handlers.ChinaTime())}
	_, r := newQuiz(t, st, c)
	reply := say(t, r, "u-idle", "答题")
	q := currentQuestion(t, reply)
	c.t = c.t.Add(31 * time.Minute)
	if got := say(t, r, "u-idle", q.Answer); !strings.Contains(got, "没有进行中的答题") {
		t.Errorf("answer to an expired round: %s", got)
	}
}

// Two copies of the same answer (two instances taking concurrent copies
// of a message) count once.
func TestQuizAnswerCountsOnce(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			c := &clock{time.Date(2026, 11, 18, 10, 0, 0, 0, handlers.ChinaTime())}
			qz, r := newQuiz(t, st, c)
			u := "u-twice"
			q := currentQuestion(t, say(t, r, u, "答题"))
			var wg sync.WaitGroup
			replies := make([]string, 8)
			for i := range replies {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					replies[i] = say(t, r, u, q.Answer)
				}(i)
			}
			wg.Wait()
			_ = qz
			// Each copy is graded against the question the round is at when
			// it reads it: question 1 is graded exactly once, and no
			// question twice (copies that lose the race are told so).
			graded, gradedQ1 := 0, 0
			for _, rep := range replies {
				if strings.Contains(rep, "答对了") || strings.Contains(rep, "答错了") {
					graded++
				}
				if strings.Contains(rep, q.Explanation) {
					gradedQ1++
				}
			}
			if n := answerRecords(t, st); gradedQ1 != 1 || n != graded {
				t.Errorf("question 1 graded %d times; %d graded, %d answers recorded: %q", gradedQ1, graded, n, replies)
			}
		})
	}
}

func TestDailyQuestion(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			loc := handlers.ChinaTime()
			c := &clock{time.Date(2026, 11, 18, 6, 30, 0, 0, loc)} // inside quiet hours
			qz, r := newQuiz(t, st, c)
			qz.Quiet = handlers.DefaultQuiet
			if got := say(t, r, "d1", "订阅每日一题"); !strings.Contains(got, "已订阅") {
				t.Fatalf("subscribe: %s", got)
			}
			say(t, r, "d2", "订阅每日一题")
			say(t, r, "d3", "订阅每日一题")
			say(t, r, "d3", "退订")
			res, err := qz.EnqueueDaily(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if res.Subscribers != 2 || res.Enqueued != 2 || !res.NotBefore.Equal(time.Date(2026, 11, 18, 7, 30, 0, 0, loc)) {
				t.Errorf("enqueue: %+v", res)
			}
			if again, _ := qz.EnqueueDaily(context.Background()); again.Enqueued != 0 {
				t.Errorf("a second run the same day enqueued %d", again.Enqueued)
			}
			c.t = time.Date(2026, 11, 18, 8, 0, 1, 0, loc)
			item, err := st.Claim(context.Background(), handlers.DailyQueue, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			var out handlers.OutboundText
			if err := json.Unmarshal(item.Payload, &out); err != nil || !strings.HasPrefix(out.Text, "【每日一题】") {
				t.Fatalf("payload %s: %v", item.Payload, err)
			}
			// answering it: after today's sending time it is today's question
			c.t = time.Date(2026, 11, 18, 9, 30, 0, 0, loc)
			_, b := loadBank(t)
			q, _ := b.Get(res.QuestionID)
			if got := say(t, r, "d1", q.Answer); !strings.Contains(got, "答对了") {
				t.Errorf("daily answer: %s", got)
			}
			if got := say(t, r, "d1", q.Answer); !strings.Contains(got, "已经答过") {
				t.Errorf("daily answered twice: %s", got)
			}
			if got := say(t, r, "d3", "A"); !strings.Contains(got, "没有进行中的答题") {
				t.Errorf("unsubscribed user's letter: %s", got)
			}
		})
	}
}

func TestOutsideQuiet(t *testing.T) {
	loc := handlers.ChinaTime()
	at := func(h, m int) time.Time { return time.Date(2026, 11, 18, h, m, 0, 0, loc) }
	cases := []struct {
		in    time.Time
		quiet string
		want  time.Time
	}{
		{at(9, 0), "21:00-08:00", at(9, 0)},
		{at(22, 0), "21:00-08:00", at(8, 0).AddDate(0, 0, 1)},
		{at(7, 59), "21:00-08:00", at(8, 0)},
		{at(8, 0), "21:00-08:00", at(8, 0)},
		{at(13, 0), "12:00-14:00", at(14, 0)},
		{at(22, 0), "off", at(22, 0)},
	}
	for _, c := range cases {
		if got := handlers.OutsideQuiet(c.in, c.quiet, loc); !got.Equal(c.want) {
			t.Errorf("%s in %s → %s, want %s", c.in.Format("15:04"), c.quiet, got, c.want)
		}
	}
}

func answerRecords(t *testing.T, st handlers.StateStore) int {
	t.Helper()
	hits, err := st.RangeRecords(context.Background(), handlers.KindQuizAnswer, "day", "", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	return len(hits)
}

// Issue 15.7: in a round, one letter to a multiple-choice question is
// graded (wrong), and 「不知道」 shows the answer and moves on instead of
// going to the knowledge base; outside a round 「不知道」 is a message like
// any other.
func TestQuizSingleLetterToMultiAndIDontKnow(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			c := &clock{time.Date(2026, 11, 18, 10, 0, 0, 0, handlers.ChinaTime())}
			qz, r := newQuiz(t, st, c)
			_ = qz
			u := "oQ7"
			reply := say(t, r, u, "答题")
			for i := 0; i < 10 && !strings.Contains(reply, "多选"); i++ {
				reply = say(t, r, u, "不知道")
				if !strings.Contains(reply, "没关系，正确答案是") {
					t.Fatalf("不知道 mid-round: %s", reply)
				}
				if strings.Contains(reply, "本轮结束") || strings.Contains(reply, "得分") {
					reply = say(t, r, u, "答题")
				}
			}
			if !strings.Contains(reply, "多选") {
				t.Skip("no multiple-choice question came up in ten")
			}
			if got := say(t, r, u, "B"); !strings.Contains(got, "答错了") && !strings.Contains(got, "答对了") {
				t.Fatalf("one letter to a multiple-choice question was not graded: %s", got)
			}
		})
	}
}

// Issue 15.6: 「设置 金家村」 (two towns have one) answered "没有找到"; it
// offers numbered choices, and the number picks one.
func TestAmbiguousPlaceIsOfferedAsNumberedChoices(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			c := &clock{time.Date(2026, 11, 18, 10, 0, 0, 0, handlers.ChinaTime())}
			q, r := newQuiz(t, st, c)
			got := say(t, r, "oP", "设置 金家村")
			if strings.Contains(got, "没有找到") || !strings.Contains(got, "有 2 个「金家村」") || !strings.Contains(got, "1. ") || !strings.Contains(got, "2. ") {
				t.Fatalf("ambiguous: %s", got)
			}
			got = say(t, r, "oP", "２")
			if !strings.Contains(got, "已设置") {
				t.Fatalf("pick: %s", got)
			}
			u, _ := q.User(context.Background(), "oP")
			if u.Village != "金家村" || u.Town == "" {
				t.Fatalf("user place %+v", u)
			}
			// a mistyped name: close names, numbered too
			if got := say(t, r, "oP", "设置 东风村村"); !strings.Contains(got, "1. 城关镇东风村") {
				t.Errorf("close names: %s", got)
			}
			// with nothing offered, a number is an ordinary message
			if got := say(t, r, "oOther", "1"); strings.Contains(got, "已设置") {
				t.Errorf("a number with nothing offered: %s", got)
			}
		})
	}
}
