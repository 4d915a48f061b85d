package redisstore

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"policybot/handlers"
)

// TestQueueWorkerChild is a worker process for
// TestQueueExactlyOnceAcrossProcessesWithAKill; it does nothing otherwise.
// It runs two workers that claim, "deliver" (count the delivery) and ack,
// and exits when the queue has stayed empty for a while.
func TestQueueWorkerChild(t *testing.T) {
	prefix := os.Getenv("POLICYBOT_QUEUE_CHILD_PREFIX")
	if prefix == "" {
		t.Skip("run by TestQueueExactlyOnceAcrossProcessesWithAKill")
	}
	s, err := Open(Options{URL: testURL(), Prefix: prefix, Timeout: 2 * time.Second})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	var out sync.Mutex
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			idle := time.Now()
			for time.Since(idle) < 3*time.Second {
				c, err := s.Claim(ctx, "out", time.Second)
				if errors.Is(err, handlers.ErrQueueEmpty) {
					time.Sleep(20 * time.Millisecond)
					continue
				}
				if err != nil {
					fmt.Println("error", err)
					os.Exit(4)
				}
				idle = time.Now()
				s.c.Incr(ctx, prefix+"delivered:"+c.Key) // the side effect
				if err := s.Ack(ctx, "out", c.Key, c.Token); err != nil {
					if errors.Is(err, handlers.ErrLeaseLost) {
						continue
					}
					fmt.Println("error", err)
					os.Exit(4)
				}
				s.c.Incr(ctx, prefix+"acked:"+c.Key)
				out.Lock()
				fmt.Println("ack", c.Key)
				out.Unlock()
			}
		}()
	}
	wg.Wait()
}

func TestQueueExactlyOnceAcrossProcessesWithAKill(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	s := mustRedis(t, Options{})
	ctx := context.Background()
	const n = 2000
	for i := 0; i < n; i++ {
		if _, err := s.Enqueue(ctx, "out", handlers.QueueItem{Key: fmt.Sprintf("m%05d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	start := func() (*exec.Cmd, chan string) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestQueueWorkerChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "POLICYBOT_QUEUE_CHILD_PREFIX="+s.p)
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 4096)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		return cmd, lines
	}
	victim, vLines := start()
	survivor, sLines := start()
	// kill the victim once it has acknowledged a few hundred items
	acks := 0
	for l := range vLines {
		if strings.HasPrefix(l, "error") {
			t.Fatalf("victim: %s", l)
		}
		if strings.HasPrefix(l, "ack ") {
			acks++
		}
		if acks == 300 {
			victim.Process.Signal(syscall.SIGKILL)
			break
		}
	}
	victim.Wait()
	for l := range sLines {
		if strings.HasPrefix(l, "error") {
			t.Fatalf("survivor: %s", l)
		}
	}
	if err := survivor.Wait(); err != nil {
		t.Fatalf("survivor: %v", err)
	}
	// every item acknowledged exactly once, none lost
	extraDeliveries := 0
	for i := 0; i < n; i++ {
		key := fmt.Sprintf("m%05d", i)
		a, _ := strconv.Atoi(s.c.Get(ctx, s.p+"acked:"+key).Val())
		d, _ := strconv.Atoi(s.c.Get(ctx, s.p+"delivered:"+key).Val())
		if a == 0 && d >= 1 {
			// the victim may have died between a successful Ack and
			// counting it: the done marker is the proof of the Ack
			_, _, _, done := s.qkeys("out")
			if s.c.Exists(ctx, done+key).Val() == 1 {
				a = 1
			}
		}
		if a != 1 {
			t.Fatalf("%s acknowledged %d times (delivered %d)", key, a, d)
		}
		extraDeliveries += d - 1
	}
	if c, err := s.Claim(ctx, "out", time.Minute); !errors.Is(err, handlers.ErrQueueEmpty) {
		t.Fatalf("items left in the queue: %+v %v", c, err)
	}
	if dl, _ := s.DeadLetters(ctx, "out", 0); len(dl) != 0 {
		t.Fatalf("%d items dead-lettered", len(dl))
	}
	// at most the victim's in-flight items (2 workers) are delivered twice
	t.Logf("%d items, victim killed after %d acks; %d redeliveries of items in flight at the kill", n, acks, extraDeliveries)
	if extraDeliveries > 2 {
		t.Fatalf("%d redeliveries: more than the killed process had in flight", extraDeliveries)
	}
}
