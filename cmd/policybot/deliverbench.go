package main

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"policybot/bot"
	"policybot/handlers"
	"policybot/scheduler"
	"policybot/store/redisstore"
)

// deliverbench measures the delivery pipeline the way issue 6 asks: n
// reminders through the outbox (Redis) to a fake WeChat API that fails a
// share of calls transiently, drained by two worker processes, one of
// them SIGKILLed mid-run. It prints how many arrived, how many twice,
// how many never, and the throughput against the rate limit.
func cmdDeliverBench(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("deliverbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 10000, "reminders")
	rate := fs.Float64("rate", 400, "rate limit per worker process (messages/s)")
	failShare := fs.Float64("fail", 0.2, "share of API calls that fail transiently (HTTP 500 or errcode -1)")
	killAt := fs.Float64("kill-at", 0.3, "SIGKILL one process when this share has arrived")
	redisURL := fs.String("redis-url", envOr("POLICYBOT_REDIS_URL", "redis://127.0.0.1:6379/0"), "Redis shared by the processes")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up after")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var rb [6]byte
	crand.Read(rb[:])
	prefix := "policybot-deliverbench:" + hex.EncodeToString(rb[:]) + ":"
	st, err := redisstore.Open(redisstore.Options{URL: *redisURL, Prefix: prefix})
	if err != nil {
		fmt.Fprintln(stderr, "policybot:", err)
		return 1
	}
	defer func() {
		c := st.Client()
		iter := c.Scan(context.Background(), 0, prefix+"*", 1000).Iterator()
		for iter.Next(context.Background()) {
			c.Del(context.Background(), iter.Val())
		}
		st.Close()
	}()
	if err := st.Ping(ctx); err != nil {
		fmt.Fprintln(stderr, "policybot: deliverbench needs Redis:", err)
		return 1
	}

	// the fake WeChat API
	var calls, failures atomic.Int64
	var mu sync.Mutex
	got := make([]int, *n)
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "token") {
			io.WriteString(w, `{"access_token":"T","expires_in":7200}`)
			return
		}
		calls.Add(1)
		var m struct {
			Text struct{ Content string } `json:"text"`
		}
		json.NewDecoder(r.Body).Decode(&m)
		if rand.Float64() < *failShare {
			failures.Add(1)
			if rand.IntN(2) == 0 {
				http.Error(w, "busy", http.StatusInternalServerError)
			} else {
				io.WriteString(w, `{"errcode":-1,"errmsg":"system error"}`)
			}
			return
		}
		i, err := strconv.Atoi(strings.TrimPrefix(m.Text.Content, "reminder #"))
		if err == nil && i >= 0 && i < len(got) {
			mu.Lock()
			got[i]++
			mu.Unlock()
		}
		io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(stderr, "policybot:", err)
		return 1
	}
	srv := &http.Server{Handler: api}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()

	const queue = "bench-outbound"
	for i := 0; i < *n; i++ {
		b, _ := json.Marshal(handlers.OutboundText{To: fmt.Sprintf("o%05d", i), Text: fmt.Sprintf("reminder #%d", i), Kind: "visit"})
		if _, err := st.Enqueue(ctx, queue, handlers.QueueItem{Key: fmt.Sprintf("bench:%d", i), Payload: b, MaxAttempts: 20}); err != nil {
			fmt.Fprintln(stderr, "policybot:", err)
			return 1
		}
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(stderr, "policybot:", err)
		return 1
	}
	start := time.Now()
	var procs []*exec.Cmd
	for p := 0; p < 2; p++ {
		cmd := exec.Command(self, "deliver-worker", "--redis-url", *redisURL, "--prefix", prefix, "--queue", queue,
			"--api", base, "--rate", fmt.Sprint(*rate))
		cmd.Stderr = io.Discard
		if err := cmd.Start(); err != nil {
			fmt.Fprintln(stderr, "policybot:", err)
			return 1
		}
		procs = append(procs, cmd)
	}
	defer func() {
		for _, p := range procs {
			p.Process.Kill()
			p.Wait()
		}
	}()
	arrived := func() (unique, dup int) {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range got {
			if c > 0 {
				unique++
			}
			if c > 1 {
				dup += c - 1
			}
		}
		return
	}
	killed := false
	var killTime time.Time
	var killUnique int
	var killCalls int64
	deadline := time.Now().Add(*timeout)
	for time.Now().Before(deadline) {
		u, _ := arrived()
		if !killed && float64(u) >= *killAt*float64(*n) {
			procs[0].Process.Kill() // SIGKILL: no cleanup, its claims are abandoned
			procs[0].Wait()
			killed, killTime, killUnique, killCalls = true, time.Now(), u, calls.Load()
		}
		if u == *n {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	elapsed := time.Since(start)
	unique, dup := arrived()
	dead, _ := st.DeadLetters(ctx, queue, 0)
	before := float64(killUnique) / killTime.Sub(start).Seconds()
	after := float64(unique-killUnique) / time.Since(killTime).Seconds()
	callsBefore := float64(killCalls) / killTime.Sub(start).Seconds()
	callsAfter := float64(calls.Load()-killCalls) / time.Since(killTime).Seconds()
	fmt.Fprintf(stdout, "deliverbench: %d reminders, 2 worker processes at %.0f/s each, %.0f%% of API calls failing transiently, one process SIGKILLed at %d arrived\n",
		*n, *rate, 100**failShare, killUnique)
	fmt.Fprintf(stdout, "arrived once: %d   twice or more: %d   never: %d   dead letters: %d\n", unique-dupCount(got, &mu), dup, *n-unique, len(dead))
	fmt.Fprintf(stdout, "API calls: %d (%d failed)   elapsed: %s\n", calls.Load(), failures.Load(), elapsed.Round(time.Millisecond))
	fmt.Fprintf(stdout, "API calls/s (what the limit limits): two processes %.0f = %.0f%% of their limit %.0f; one process %.0f = %.0f%% of its limit %.0f\n",
		callsBefore, 100*callsBefore/(2**rate), 2**rate, callsAfter, 100*callsAfter/(*rate), *rate)
	fmt.Fprintf(stdout, "reminders arrived/s: two processes %.0f, one process %.0f (the rest of the calls were the failures, retried)\n", before, after)
	if unique != *n || dup > 0 {
		return 1
	}
	return 0
}

func dupCount(got []int, mu *sync.Mutex) int {
	mu.Lock()
	defer mu.Unlock()
	n := 0
	for _, c := range got {
		if c > 1 {
			n++
		}
	}
	return n
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// cmdDeliverWorker is deliverbench's worker process: a Deliverer on the
// shared Redis queue, sending to --api, until killed or the queue stays
// empty for 3 s.
func cmdDeliverWorker(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("deliver-worker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	redisURL := fs.String("redis-url", "", "")
	prefix := fs.String("prefix", "", "")
	queue := fs.String("queue", "", "")
	apiBase := fs.String("api", "", "")
	rate := fs.Float64("rate", 100, "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	st, err := redisstore.Open(redisstore.Options{URL: *redisURL, Prefix: *prefix})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer st.Close()
	configureSDK(Config{WeChatSettings: WeChatSettings{WeChatAPIBase: *apiBase}})
	api := &bot.API{Base: *apiBase, HTTP: &http.Client{Timeout: 5 * time.Second},
		Tokens: bot.NewStableTokens("wxbench", "secret", &bot.TokenCache{Store: st})}
	d := &scheduler.Deliverer{Store: st, Queue: *queue, Channels: []scheduler.Channel{&scheduler.CustomChannel{API: api}}, Workers: 16, Rate: *rate, Lease: 3 * time.Second,
		Poll: 20 * time.Millisecond, Backoff: func(int) time.Duration { return 50 * time.Millisecond },
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	// 16 senders; stop when none has found work for 3 s
	var last atomic.Int64
	last.Store(time.Now().UnixNano())
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for w := 0; w < 16; w++ {
		go func() {
			for ctx.Err() == nil {
				worked, _ := d.Once(ctx)
				if worked {
					last.Store(time.Now().UnixNano())
				} else {
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}
	for time.Since(time.Unix(0, last.Load())) < 3*time.Second {
		time.Sleep(100 * time.Millisecond)
	}
	return 0
}
