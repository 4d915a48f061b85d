package scheduler

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"policybot/handlers"
	"policybot/store/redisstore"
)

// tcpProxy stands between the deliverer and Redis, and can be cut.
type tcpProxy struct {
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
	addr   string
	target string
}

func (p *tcpProxy) listen(t *testing.T) {
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ {
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
}

func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ln.Close()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

type countingSender struct {
	mu   sync.Mutex
	seen map[string]int
}

func (s *countingSender) SendText(_ context.Context, to, text string) error {
	s.mu.Lock()
	s.seen[text]++
	s.mu.Unlock()
	time.Sleep(2 * time.Millisecond) // a send takes a moment, so some are in flight at the cut
	return nil
}

// Redis goes away in the middle of a delivery run and comes back: every
// message arrives exactly once. Sends that went out while the store could
// not take their record are recorded and acked when it returns, not sent
// again.
func TestDeliveryAcrossARedisOutage(t *testing.T) {
	u := os.Getenv("POLICYBOT_TEST_REDIS_URL")
	if u == "" {
		u = "redis://127.0.0.1:6379/0"
	}
	pu, _ := url.Parse(u)
	var b [6]byte
	rand.Read(b[:])
	prefix := "policybot-test:outage:" + hex.EncodeToString(b[:]) + ":"
	direct, err := redisstore.Open(redisstore.Options{URL: u, Prefix: prefix})
	if err == nil {
		err = direct.Ping(context.Background())
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Redis required in CI: %v", err)
		}
		t.Skipf("no Redis: %v", err)
	}
	defer func() {
		ctx := context.Background()
		iter := direct.Client().Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			direct.Client().Del(ctx, iter.Val())
		}
		direct.Close()
	}()
	p := &tcpProxy{addr: "127.0.0.1:0", target: pu.Host}
	p.listen(t)
	viaProxy, err := redisstore.Open(redisstore.Options{URL: "redis://" + p.addr + pu.Path, Prefix: prefix, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer viaProxy.Close()
	ctx := context.Background()
	const n = 300
	for i := 0; i < n; i++ {
		payload, _ := json.Marshal(handlers.OutboundText{To: "o", Text: fmt.Sprint("msg ", i), Kind: "test"})
		if _, err := direct.Enqueue(ctx, "out", handlers.QueueItem{Key: fmt.Sprint("k", i), Payload: payload}); err != nil {
			t.Fatal(err)
		}
	}
	sender := &countingSender{seen: map[string]int{}}
	d := &Deliverer{Store: viaProxy, Queue: "out", Channels: []Channel{&CustomChannel{API: sender}}, Workers: 4, Lease: 3 * time.Second, Poll: 20 * time.Millisecond,
		Backoff: func(int) time.Duration { return 10 * time.Millisecond }, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { d.Run(runCtx); close(done) }()
	arrived := func() int {
		sender.mu.Lock()
		defer sender.mu.Unlock()
		return len(sender.seen)
	}
	for arrived() < n/3 {
		time.Sleep(5 * time.Millisecond)
	}
	p.cut() // Redis is gone
	time.Sleep(1500 * time.Millisecond)
	p.listen(t) // and back
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if left, _ := direct.Claim(ctx, "out", time.Millisecond); left == nil && arrived() == n {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	<-done
	sender.mu.Lock()
	defer sender.mu.Unlock()
	twice := 0
	for _, c := range sender.seen {
		if c > 1 {
			twice++
		}
	}
	if len(sender.seen) != n || twice != 0 {
		t.Errorf("%d of %d messages arrived, %d more than once", len(sender.seen), n, twice)
	}
	for i := 0; i < n; i++ {
		if rec, err := handlers.GetDelivery(ctx, direct, fmt.Sprint("k", i)); err != nil || rec.Status != "sent" {
			t.Fatalf("k%d: %+v %v", i, rec, err)
		}
	}
}
